// VLAN tagging on real frames: access ports untagged, trunks tagged with an optional native
// VLAN; floods stay in their VLAN and get the tag each egress port wants.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readPcap, writePcap } from './helpers/pcap';
import { arpFrame, decodeArp, etherFrame } from './helpers/frames';
import { TempDir, runDaemon } from './helpers/daemon';

function tag(frame: Buffer, vlan: number): Buffer {
  const tci = Buffer.alloc(4);
  tci.writeUInt16BE(0x8100, 0);
  tci.writeUInt16BE(vlan, 2);
  return Buffer.concat([frame.subarray(0, 12), tci, frame.subarray(12)]);
}

const hexes = (frames: Buffer[]): string[] => frames.map((f) => f.toString('hex')).sort();

describe('VLAN switching on net_pcap ports', () => {
  const dir = new TempDir();
  after(() => dir.remove());

  it('pushes and pops tags per port mode, keeps VLANs apart, and drops what a port does not carry', async () => {
    const s1 = etherFrame(0x0800, '02:00:00:00:00:01'); // into a0 (access 10)
    const s2 = etherFrame(0x0800, '02:00:00:00:00:02'); // into t0 tagged 20
    const s3 = etherFrame(0x0800, '02:00:00:00:00:03'); // into t1 untagged = native 10
    const s4 = etherFrame(0x0800, '02:00:00:00:00:04'); // into t1 tagged 30: nobody else carries 30
    const bad = etherFrame(0x0800, '02:00:00:00:00:05');
    const reqAccess = arpFrame({ sha: '02:00:00:00:00:06', spa: '10.1.0.6', tpa: '10.1.0.1' });
    const reqTrunk = arpFrame({ sha: '02:00:00:00:00:07', spa: '10.1.0.7', tpa: '10.1.0.1', vlan: 10 });

    const rx: Record<string, Buffer[]> = {
      a0: [s1, tag(bad, 10), reqAccess],
      a1: [],
      t0: [tag(s2, 20), bad, tag(bad, 30), reqTrunk],
      t1: [s3, tag(s4, 30)],
    };
    const modes: Record<string, object> = {
      a0: { mode: 'access', vlan: 10 },
      a1: { mode: 'access', vlan: 20 },
      t0: { mode: 'trunk', vlans: [10, 20] },
      t1: { mode: 'trunk', vlans: [10, 30], native_vlan: 10 },
    };
    const names = Object.keys(rx);
    const ports = names.map((name, i) => {
      writePcap(dir.file(`${name}.rx.pcap`), rx[name]!);
      return { name, device: `net_pcap${i},rx_pcap=${dir.file(`${name}.rx.pcap`)},tx_pcap=${dir.file(`${name}.tx.pcap`)}`, ...modes[name] };
    });
    const total = Object.values(rx).reduce((n, f) => n + f.length, 0);
    const result = await runDaemon(
      dir,
      { ports, bindings: [{ ip: '10.1.0.1', mac: '02:10:00:00:00:01', vlan: 10 }] },
      { until: (s) => s.counters.rx_packets! >= total },
    );
    assert.equal(result.code, 0, result.stderr);
    const tx = Object.fromEntries(names.map((n) => [n, readPcap(dir.file(`${n}.tx.pcap`))]));

    const replies = (name: string): Buffer[] => tx[name]!.filter((f) => decodeArp(f)?.op === 2);
    const others = (name: string): Buffer[] => tx[name]!.filter((f) => decodeArp(f)?.op !== 2);
    assert.deepEqual(hexes(others('a0')), hexes([s3]), 'a0 (access 10): the native-VLAN frame from t1, untagged');
    assert.deepEqual(hexes(others('a1')), hexes([s2]), 'a1 (access 20): the VLAN 20 frame from t0, untagged');
    assert.deepEqual(hexes(others('t0')), hexes([tag(s1, 10), tag(s3, 10)]), 't0 (trunk 10,20): VLAN 10 frames tagged');
    assert.deepEqual(hexes(others('t1')), hexes([s1]), 't1 (trunk, native 10): VLAN 10 untagged');

    const accessReply = decodeArp(replies('a0')[0]!)!;
    assert.equal(replies('a0').length, 1);
    assert.equal(accessReply.vlan, undefined, 'reply on an access port is untagged');
    assert.equal(accessReply.sha, '02:10:00:00:00:01');
    const trunkReply = decodeArp(replies('t0')[0]!)!;
    assert.equal(replies('t0').length, 1);
    assert.equal(trunkReply.vlan, 10, 'reply on a trunk keeps the tag');
    assert.equal(trunkReply.tha, '02:00:00:00:00:07');

    const d = result.final!.drops;
    assert.equal(d.vlan_not_admitted, 3, 'tagged on access, untagged on a trunk without native, VLAN not carried');
    assert.equal(d.no_flood_port, 1, 'VLAN 30 has no other port');
    // s1 leaves tagged (t0) and untagged (t1), s3 untagged (a0) and tagged (t0): one copy each.
    assert.equal(result.final!.counters.tag_copies, 2);
    assert.equal(result.final!.counters.replies_sent, 2);
  });

  it('caps the FDB at fdb.capacity and counts what it could not learn', async () => {
    const frames = Array.from({ length: 40 }, (_, i) => etherFrame(0x0800, `02:77:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`));
    writePcap(dir.file('cap.rx.pcap'), frames);
    writePcap(dir.file('cap2.rx.pcap'), []);
    const result = await runDaemon(
      dir,
      {
        ports: [
          { name: 'p0', device: `net_pcap0,rx_pcap=${dir.file('cap.rx.pcap')},tx_pcap=${dir.file('cap.tx0.pcap')}` },
          { name: 'p1', device: `net_pcap1,rx_pcap=${dir.file('cap2.rx.pcap')},tx_pcap=${dir.file('cap.tx1.pcap')}` },
        ],
        fdb: { capacity: 16 },
      },
      { until: (s) => s.counters.rx_packets! >= 40 && (s as unknown as { fdb: { entries: number; overflow: number } }).fdb.overflow >= 24 },
    );
    assert.equal(result.code, 0, result.stderr);
    const fdb = (result.final as unknown as { fdb: { entries: number; overflow: number; learned: number } }).fdb;
    assert.equal(fdb.entries, 16);
    assert.equal(fdb.learned, 16);
    assert.equal(fdb.overflow, 24);
    assert.equal(readPcap(dir.file('cap.tx1.pcap')).length, 40, 'frames from unlearned MACs are still switched');
  });
});
