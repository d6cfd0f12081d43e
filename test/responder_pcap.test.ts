// The responder through the real addon on net_pcap ports: crafted frames in, the tx_pcap read
// back, every field of every reply asserted.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readPcap, writePcap } from './helpers/pcap';
import { arpFrame, decodeArp, etherFrame } from './helpers/frames';
import { TempDir, runDaemon, type DaemonResult } from './helpers/daemon';

const REQUESTER = '02:00:00:00:00:01';
const OWNER_7 = '02:aa:00:00:00:07';
const OWNER_8_V10 = '02:aa:00:00:10:08';
const OWNER_9 = '02:aa:00:00:00:09';

const bindings = [
  { ip: '10.0.0.7', mac: OWNER_7 },
  { ip: '10.0.0.8', mac: OWNER_8_V10, vlan: 10 },
  { ip: '10.0.0.9', mac: OWNER_9 },
];

const dirs: TempDir[] = [];
after(() => dirs.forEach((d) => d.remove()));

async function replay(
  portFrames: Buffer[][],
  extra: Record<string, unknown> = {},
): Promise<{ result: DaemonResult; tx: Buffer[][] }> {
  const dir = new TempDir();
  dirs.push(dir);
  const ports = portFrames.map((frames, i) => {
    const rx = dir.file(`rx${i}.pcap`);
    writePcap(rx, frames);
    return { name: `p${i}`, device: `net_pcap${i},rx_pcap=${rx},tx_pcap=${dir.file(`tx${i}.pcap`)}` };
  });
  const total = portFrames.reduce((n, f) => n + f.length, 0);
  const result = await runDaemon(
    dir,
    // Learning off: these tests count the table exactly.
    { ports, table: { capacity: 4096 }, bindings, learning: 'off', ...extra },
    { until: (s) => s.counters.rx_packets! >= total },
  );
  assert.equal(result.code, 0, `daemon exit code; stderr:\n${result.stderr}`);
  const tx = ports.map((_, i) => readPcap(dir.file(`tx${i}.pcap`)));
  return { result, tx };
}

describe('responder on net_pcap', () => {
  it('answers bound requests with a correct reply out the ingress port, every field', async () => {
    const requests = [
      arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' }),
      arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.8', vlan: 10, pcp: 3 }),
      // Unpadded 42-byte request: the reply must still be a 60-byte frame.
      arpFrame({ sha: '02:00:00:00:00:02', spa: '10.0.0.2', tpa: '10.0.0.9', padTo: 42 }),
      // RFC 5227 probe for an address bound to another MAC: answered, to the prober.
      arpFrame({ sha: '02:00:00:00:00:03', spa: '0.0.0.0', tpa: '10.0.0.7' }),
    ];
    const { result, tx } = await replay([requests]);
    const replies = tx[0]!.map((f) => decodeArp(f));
    assert.equal(replies.length, 4);

    const expected = [
      { requester: REQUESTER, rip: '10.0.0.1', target: '10.0.0.7', owner: OWNER_7, vlan: undefined, pcp: undefined },
      { requester: REQUESTER, rip: '10.0.0.1', target: '10.0.0.8', owner: OWNER_8_V10, vlan: 10, pcp: 3 },
      { requester: '02:00:00:00:00:02', rip: '10.0.0.2', target: '10.0.0.9', owner: OWNER_9, vlan: undefined, pcp: undefined },
      { requester: '02:00:00:00:00:03', rip: '0.0.0.0', target: '10.0.0.7', owner: OWNER_7, vlan: undefined, pcp: undefined },
    ];
    expected.forEach((e, i) => {
      const r = replies[i];
      assert.ok(r, `reply ${i} is ARP`);
      assert.deepEqual(
        { ...r },
        {
          ethDst: e.requester,
          ethSrc: e.owner,
          vlan: e.vlan,
          pcp: e.pcp,
          htype: 1,
          ptype: 0x0800,
          hlen: 6,
          plen: 4,
          op: 2,
          sha: e.owner,
          spa: e.target,
          tha: e.requester,
          tpa: e.rip,
          length: e.vlan === undefined ? 60 : 60,
        },
        `reply ${i}`,
      );
    });
    const c = result.final!.counters;
    assert.equal(c.rx_packets, 4);
    assert.equal(c.arp_requests, 4);
    assert.equal(c.arp_probes, 1);
    assert.equal(c.replies_sent, 4);
    assert.equal(c.vlan_tagged, 1);
    assert.equal(result.final!.ports[0]!.tx, 4);
    assert.equal(result.final!.table.bindings, 3);
  });

  it('does not answer unbound targets, gratuitous ARP, replies or a host checking its own address', async () => {
    const frames = [
      arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.99' }), // unbound
      arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 20 }), // bound only untagged
      arpFrame({ sha: OWNER_7, spa: '10.0.0.7', tpa: '10.0.0.7' }), // GARP request
      arpFrame({ op: 2, sha: OWNER_7, spa: '10.0.0.7', tpa: '10.0.0.7' }), // GARP reply
      arpFrame({ op: 2, sha: OWNER_9, spa: '10.0.0.9', tha: REQUESTER, tpa: '10.0.0.1', ethDst: REQUESTER }),
      arpFrame({ sha: OWNER_7, spa: '10.0.0.70', tpa: '10.0.0.7' }), // owner asks for itself
      arpFrame({ sha: OWNER_7, spa: '0.0.0.0', tpa: '10.0.0.7' }), // owner probes its own address
    ];
    const { result, tx } = await replay([frames]);
    assert.equal(tx[0]!.length, 0, 'nothing is sent back');
    const c = result.final!.counters;
    const d = result.final!.drops;
    assert.equal(c.replies_sent, 0);
    assert.equal(c.requests_unbound, 2);
    assert.equal(c.arp_gratuitous, 2);
    assert.equal(c.arp_replies_seen, 1);
    assert.equal(c.requests_own_address, 2);
    // With one port there is nowhere to flood: every frame is a counted drop.
    assert.equal(d.no_flood_port, 7);
  });

  it('drops malformed frames by reason, never forwards them', async () => {
    const good = { sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' };
    const frames = [
      Buffer.alloc(10, 0xff), // shorter than Ethernet
      Buffer.from([...Buffer.alloc(12, 0xff), 0x81, 0x00, 0x00]), // tag cut short
      arpFrame(good).subarray(0, 30), // ARP body cut short
      arpFrame({ ...good, htype: 6 }),
      arpFrame({ ...good, ptype: 0x86dd }),
      arpFrame({ ...good, hlen: 8 }),
      arpFrame({ ...good, plen: 16 }),
      arpFrame({ ...good, op: 3 }),
      arpFrame({ ...good, op: 0 }),
      arpFrame(good), // one good request after the bad ones is still answered
    ];
    const { result, tx } = await replay([frames, []]);
    const d = result.final!.drops;
    assert.deepEqual(
      [d.truncated, d.arp_truncated, d.arp_bad_htype, d.arp_bad_ptype, d.arp_bad_hlen, d.arp_bad_plen, d.arp_bad_opcode],
      [2, 1, 1, 1, 1, 1, 2],
    );
    assert.equal(tx[0]!.length, 1, 'only the good request is answered');
    assert.equal(decodeArp(tx[0]![0]!)!.sha, OWNER_7);
    assert.equal(tx[1]!.length, 0, 'no malformed frame reaches the other port');
    assert.equal(result.final!.counters.flooded, 0);
  });

  it('floods what it does not answer to every other port, unchanged and in order', async () => {
    const unbound = arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.99', vlan: 30 });
    const garp = arpFrame({ sha: OWNER_9, spa: '10.0.0.9', tpa: '10.0.0.9' });
    const ipv4 = etherFrame(0x0800, REQUESTER, '02:00:00:00:00:99');
    const ipv6 = etherFrame(0x86dd, REQUESTER, '33:33:00:00:00:01');
    const lldp = etherFrame(0x88cc, REQUESTER, '01:80:c2:00:00:0e');
    const answered = arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' });
    const { result, tx } = await replay([[unbound, garp, answered, ipv4, ipv6, lldp], [], []]);

    assert.equal(tx[0]!.length, 1, 'the ingress port gets only the reply');
    assert.equal(decodeArp(tx[0]![0]!)!.op, 2);
    for (const p of [1, 2]) {
      assert.deepEqual(
        tx[p]!.map((f) => f.toString('hex')),
        [unbound, garp, ipv4, ipv6, lldp].map((f) => f.toString('hex')),
        `port p${p} receives every unanswered frame byte for byte (VLAN tag kept)`,
      );
    }
    const c = result.final!.counters;
    assert.equal(c.flooded, 5);
    assert.equal(c.ipv4_frames, 1);
    assert.equal(c.ipv6_frames, 1);
    assert.equal(c.other_frames, 1);
    assert.equal(c.tx_packets, 11);
  });

  it("drops requests for unbound targets under 'unknown: drop' and still floods the rest", async () => {
    const unbound = arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.99' });
    const ipv4 = etherFrame(0x0800, REQUESTER);
    const { result, tx } = await replay([[unbound, ipv4], []], { unknown: 'drop' });
    assert.deepEqual(tx[1]!.map((f) => f.toString('hex')), [ipv4.toString('hex')]);
    assert.equal(result.final!.drops.unbound_target, 1);
    assert.equal(result.final!.counters.requests_unbound, 1);
  });

  it('answers from the very first frame: config bindings are loaded before workers start', async () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: `10.0.0.${7 + (i % 3)}`, vlan: i % 3 === 1 ? 10 : undefined }),
    );
    const { result, tx } = await replay([many]);
    assert.equal(tx[0]!.length, 500);
    assert.equal(decodeArp(tx[0]![0]!)!.sha, OWNER_7);
    assert.equal(result.final!.counters.replies_sent, 500);
    assert.equal(result.final!.counters.requests_unbound, 0);
  });

  it("reports where each worker's time goes: busy and idle cycles, and cycles per frame", async () => {
    const frames = Array.from({ length: 300 }, () => arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' }));
    const { result } = await replay([frames]);
    const lcore = result.final!.lcores[0] as unknown as Record<string, number>;
    // The replay takes a few milliseconds; the rest of the run the worker polls an empty port.
    assert.ok(lcore.busy_cycles! > 0, `busy cycles: ${lcore.busy_cycles}`);
    assert.ok(lcore.idle_cycles! > lcore.busy_cycles!, `idle ${lcore.idle_cycles} vs busy ${lcore.busy_cycles}`);
    assert.ok(lcore.busy_share! > 0 && lcore.busy_share! < 0.5, `busy share: ${lcore.busy_share}`);
    assert.equal(lcore.rx_packets, 300);
    assert.equal(lcore.cycles_per_frame, Math.round(lcore.busy_cycles! / 300));
  });

  it("judges every sender by its own binding while the worker's source cache churns", async () => {
    // 6,000 bound senders on an untrusted port, each asking twice, in two shuffled rounds: the
    // second round's senders are partly still in the worker's source cache and partly evicted,
    // and the two kinds meet in the same cache sets within a burst or two. A frame must be
    // judged by its own sender's binding, never by another one's that took its cache entry.
    const SENDERS = 6000;
    const mac = (i: number): string => `02:5c:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
    const senders = Array.from({ length: SENDERS }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 0xff}`, mac: mac(i) }))
      .filter((b) => !b.ip.endsWith('.0') && !b.ip.endsWith('.255'));
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const shuffled = <T>(xs: T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    const ask = (b: { ip: string; mac: string }): Buffer => arpFrame({ sha: b.mac, spa: b.ip, tpa: '10.0.0.7' });
    const frames = [...shuffled(senders).map(ask), ...shuffled(senders).map(ask)];
    // Their MACs are static FDB entries: no learning changes the FDB (which would make every
    // cache entry stale) while the frames go through.
    const fdb = { static: senders.map((b) => ({ mac: b.mac, port: 'p0' })) };
    const { result, tx } = await replay([frames], { bindings: [...bindings, ...senders], table: { capacity: 16384 }, fdb });
    const final = result.final!;
    assert.deepEqual(Object.entries(final.violations).filter(([, n]) => n !== 0), [], 'no sender judged by another binding');
    assert.equal(final.counters.replies_sent, frames.length, 'every request answered');
    assert.equal(tx[0]!.length, frames.length);
    assert.ok(final.counters.sources_cached! > 0, `some second asks served from the cache: ${final.counters.sources_cached}`);
  });
});
