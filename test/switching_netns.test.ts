// microarp as the L2 switch between four "VMs" (network namespaces with real Linux stacks):
// vm1, vm2, vm3 in VLAN 10 and vm4 in VLAN 20, all in one IP subnet so that only the VLANs
// keep vm4 apart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../src/api/client';
import { TempDir } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { capture } from './helpers/capture';


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


describe('L2 switching between Linux VMs', () => {
  const dir = new TempDir();
  const vms = [1, 2, 3, 4].map((i) => new NetnsPeer(`10.0.10.${i}/24`));
  const [vm1, vm2, vm3, vm4] = vms as [NetnsPeer, NetnsPeer, NetnsPeer, NetnsPeer];
  let daemon: LiveDaemon;
  let api: ApiClient;

  const ping = (from: NetnsPeer, ip: string, count = 1): boolean =>
    from.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', ip]).status === 0;

  before(async () => {
    for (const vm of vms) vm.create();
    daemon = await startDaemon(dir, {
      ports: vms.map((vm, i) => ({
        name: `vm${i + 1}`,
        device: `net_af_packet${i},iface=${vm.hostIf}`,
        mode: 'access',
        vlan: i < 3 ? 10 : 20,
      })),
      table: { capacity: 1024 },
      fdb: { aging_seconds: 3 },
      bindings: [
        ...vms.slice(0, 3).map((vm, i) => ({ ip: `10.0.10.${i + 1}`, mac: vm.mac(), vlan: 10 })),
        { ip: '10.0.10.4', mac: vm4.mac(), vlan: 20 },
      ],
    });
    api = new ApiClient({ socket: daemon.socket });
  });

  after(async () => {
    assert.equal((await daemon.stop()).code, 0);
    for (const vm of vms) vm.remove();
    dir.remove();
  });

  it('VMs in the same VLAN ping each other; across VLANs they cannot', () => {
    assert.ok(ping(vm1, '10.0.10.2'), 'vm1 -> vm2 (VLAN 10)');
    assert.ok(ping(vm3, '10.0.10.1'), 'vm3 -> vm1 (VLAN 10)');
    assert.ok(!ping(vm1, '10.0.10.4'), 'vm1 (VLAN 10) -> vm4 (VLAN 20)');
    assert.ok(!ping(vm4, '10.0.10.1'), 'vm4 (VLAN 20) -> vm1 (VLAN 10)');
  });

  it('ARP for a bound target is answered and never reaches a third VM; an unbound one is flooded', async () => {
    for (const vm of vms) vm.exec('ip', ['neigh', 'flush', 'dev', vm.peerIf]);
    const frames = await capture(vm3, () => {
      assert.equal(vm1.exec('arping', ['-c', '2', '-w', '3', '-I', vm1.peerIf, '10.0.10.2']).status, 0);
      vm1.exec('arping', ['-c', '2', '-w', '2', '-I', vm1.peerIf, '10.0.10.99']);
    });
    const requests = frames.filter((f) => f.type === 0x0806 && f.arp_op === 1);
    assert.equal(requests.filter((f) => f.arp_tpa === '10.0.10.2').length, 0, 'suppressed: answered by microarp');
    assert.ok(requests.filter((f) => f.arp_tpa === '10.0.10.99').length >= 1, 'unbound target flooded');
    const vm4Frames = await capture(vm4, () => void vm1.exec('arping', ['-c', '1', '-w', '1', '-I', vm1.peerIf, '10.0.10.98']));
    assert.equal(vm4Frames.filter((f) => f.arp_tpa === '10.0.10.98').length, 0, 'floods stay inside VLAN 10');
    const stats = (await api.call('GET', '/v1/stats')).body as { counters: Record<string, number> };
    assert.ok(stats.counters.replies_sent! >= 2);
  });

  it('unicast between two VMs is not seen by the third once their MACs are learned', async () => {
    assert.ok(ping(vm1, '10.0.10.2', 2), 'warm-up: both MACs learned');
    await sleep(100);
    const frames = await capture(vm3, () => void assert.ok(ping(vm1, '10.0.10.2', 5)));
    const icmp = frames.filter((f) => f.ip_proto === 1);
    assert.deepEqual(icmp, [], 'vm3 saw none of the pings between vm1 and vm2');
    const fdb = (await api.call('GET', '/v1/fdb?vlan=10')).body as { entries: { mac: string; port: string; static: boolean }[] };
    assert.deepEqual(
      fdb.entries.filter((e) => e.mac === vm1.mac() || e.mac === vm2.mac()).map((e) => [e.mac, e.port]).sort(),
      [
        [vm1.mac(), 'vm1'],
        [vm2.mac(), 'vm2'],
      ].sort(),
    );
    const list = (await api.call('GET', `/v1/bindings?vlan=10&mac=${vm2.mac()}`)).body as { bindings: { port?: string }[] };
    assert.equal(list.bindings[0]!.port, 'vm2', 'a binding knows the port behind its MAC');
  });

  it('a port taken down stops carrying traffic, and comes back', async () => {
    const down = await api.call('PATCH', '/v1/ports/vm2', { admin: 'down' });
    assert.equal(down.status, 200);
    assert.ok(!ping(vm1, '10.0.10.2'), 'vm2 unreachable while its port is down');
    assert.equal((await api.call('PATCH', '/v1/ports/vm2', { admin: 'up' })).status, 200);
    assert.ok(ping(vm1, '10.0.10.2'), 'reachable again');
    assert.equal((await api.call('PATCH', '/v1/ports/nope', { admin: 'up' })).status, 404);
    assert.equal((await api.call('PATCH', '/v1/ports/vm2', { admin: 'sideways' })).status, 400);
  });

  it('with the responder off on a port, its ARP requests are switched and the owner answers', async () => {
    assert.equal((await api.call('PATCH', '/v1/ports/vm1', { responder: false })).status, 200);
    try {
      const before = ((await api.call('GET', '/v1/stats')).body as { counters: Record<string, number> }).counters.replies_sent!;
      const frames = await capture(vm2, () => {
        const r = vm1.exec('arping', ['-c', '2', '-w', '3', '-I', vm1.peerIf, '10.0.10.2']);
        assert.equal(r.status, 0, 'vm2 itself answers');
      });
      assert.ok(frames.some((f) => f.arp_op === 1 && f.arp_tpa === '10.0.10.2'), 'the request reached vm2');
      const afterCount = ((await api.call('GET', '/v1/stats')).body as { counters: Record<string, number> }).counters.replies_sent!;
      assert.equal(afterCount, before, 'microarp did not answer');
    } finally {
      await api.call('PATCH', '/v1/ports/vm1', { responder: true });
    }
  });

  it('a MAC seen on another port moves there, and learned entries age out', async () => {
    const mac1 = vm1.mac();
    assert.ok(ping(vm1, '10.0.10.2'));
    await sleep(200);
    // vm1 "migrates" to vm3's port: the same MAC announces the same IP from there.
    vm3.exec('ip', ['link', 'set', vm3.peerIf, 'address', mac1]);
    vm3.exec('arping', ['-c', '1', '-w', '1', '-U', '-S', '10.0.10.1', '-I', vm3.peerIf, '10.0.10.1']);
    await sleep(300);
    const fdb = (await api.call('GET', `/v1/fdb?mac=${mac1}`)).body as { entries: { port: string; moves: number }[] };
    assert.equal(fdb.entries[0]?.port, 'vm3');
    assert.ok(fdb.entries[0]!.moves >= 1);
    assert.match(daemon.logs(), new RegExp(`"msg":"mac moved","vlan":10,"mac":"${mac1}","from":"vm1","to":"vm3"`));

    // Silence: with fdb.aging_seconds 3, every learned entry is gone within a few seconds.
    let entries = 1;
    for (let i = 0; i < 20 && entries > 0; i++) {
      await sleep(500);
      entries = ((await api.call('GET', '/v1/fdb')).body as { entries: unknown[] }).entries.length;
    }
    assert.equal(entries, 0, 'learned entries aged out');
  });
});
