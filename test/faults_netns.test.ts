// Faults the dataplane must ride out (issue 11): an interface under a net_af_packet port losing
// carrier, deleted, and created again under the same name; an update ring too small for an
// import; a control side stalled for seconds. Each time the other ports keep answering real
// ARP from Linux VMs, nothing crashes, and the fault is counted and logged.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ApiClient, readResponse } from '../src/api/client';
import { TempDir } from './helpers/daemon';
import { startDaemonRetrying, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { sleep, waitFor } from './helpers/wait';



interface PortView {
  name: string;
  link: { up: boolean };
  kernelLink?: string;
}

describe('faults: the workers keep answering, each fault is counted and logged', () => {
  const ips = { a: '10.0.10.1', b: '10.0.10.2', c: '10.0.10.3' } as const;
  const names = Object.keys(ips) as (keyof typeof ips)[];
  const vms = new Map(names.map((n) => [n, new NetnsPeer(`${ips[n]}/24`)]));
  const vm = (n: keyof typeof ips): NetnsPeer => vms.get(n)!;
  const dir = new TempDir();
  let daemon: LiveDaemon;
  let api: ApiClient;

  /** How many of `count` ARP requests from a to b were answered (arping in a's namespace, async). */
  const arpingAtoB = (count: number, intervalSeconds: number): Promise<number> =>
    new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', vm('a').ns, 'arping', '-c', String(count), '-W', String(intervalSeconds), '-w', '5', '-I', vm('a').peerIf, ips.b], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', () => resolve((out.match(/bytes from/g) ?? []).length));
    });
  const port = async (name: string): Promise<PortView> =>
    ((await api.call('GET', '/v1/ports')).body as { ports: PortView[] }).ports.find((p) => p.name === name)!;
  const linkLogged = (kernelLink: string): boolean =>
    daemon.logs().split('\n').some((l) => l.includes('"msg":"link changed"') && l.includes('"port":"c"') && l.includes(`"kernel_link":"${kernelLink}"`));

  before(async () => {
    for (const v of vms.values()) v.create();
    daemon = await startDaemonRetrying(
      dir,
      {
        ports: names.map((n, i) => ({ name: n, device: `net_af_packet${i},iface=${vm(n).hostIf}`, mode: 'access', vlan: 10 })),
        bindings: names.map((n) => ({ ip: ips[n], mac: vm(n).mac(), vlan: 10 })),
        // Far smaller than an import: the writers must wait for room.
        table: { capacity: 300_000, update_ring: 1024 },
        state_dir: 'off',
      },
      { MICROARP_FAULT_INJECTION: '1' },
    );
    api = new ApiClient({ socket: daemon.socket });
  });
  after(async () => {
    try {
      if (daemon) assert.equal((await daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const v of vms.values()) {
        try {
          v.remove();
        } catch {
          // c's veth may be the test's own recreation: removed with its namespace
        }
      }
      dir.remove();
    }
  });

  it('an interface that loses carrier, is deleted, and is created again: each change logged, the other ports answered, the port reattached', async () => {
    assert.equal((await port('c')).kernelLink, 'up');
    vm('c').link(false);
    await waitFor('c to show no carrier', async () => (await port('c')).kernelLink === 'no_carrier' && !(await port('c')).link.up);
    await waitFor('the carrier loss to be logged', () => linkLogged('no_carrier'));
    assert.equal(await arpingAtoB(3, 0.1), 3, 'a and b are still answered');
    vm('c').link(true);
    await waitFor('c to be up again', async () => (await port('c')).link.up);

    const macOfC = vm('c').mac(); // the VM keeps its MAC; only its host-side interface is new
    execFileSync('ip', ['link', 'del', vm('c').hostIf]);
    await waitFor('c to show its interface gone', async () => (await port('c')).kernelLink === 'gone');
    await waitFor('the loss of the interface to be logged', () => linkLogged('gone'));
    assert.equal(await arpingAtoB(3, 0.1), 3);

    // The same names again, as a hypervisor recreating a VM's tap would.
    execFileSync('ip', ['link', 'add', vm('c').hostIf, 'type', 'veth', 'peer', 'name', vm('c').peerIf]);
    execFileSync('ip', ['link', 'set', vm('c').peerIf, 'netns', vm('c').ns]);
    execFileSync('ip', ['link', 'set', vm('c').hostIf, 'up']);
    vm('c').exec('ip', ['link', 'set', vm('c').peerIf, 'address', macOfC]);
    vm('c').exec('ip', ['addr', 'add', `${ips.c}/24`, 'dev', vm('c').peerIf]);
    vm('c').exec('ip', ['link', 'set', vm('c').peerIf, 'up']);
    await waitFor('the replacement to be logged', () => linkLogged('replaced'));
    await waitFor('the port to be opened on the new interface', () => /"msg":"port reattached to its interface, which was deleted and created again","port":"c"/.test(daemon.logs()));
    await waitFor('c to be up on its new interface', async () => (await port('c')).kernelLink === 'up' && (await port('c')).link.up);
    // The VM behind the new interface is answered, and reaches the others.
    const fromC = vm('c').exec('arping', ['-c', '3', '-w', '3', '-I', vm('c').peerIf, ips.a]).stdout;
    assert.equal((fromC.match(/bytes from/g) ?? []).length, 3, `c's requests answered after the reattach:\n${fromC}`);
    assert.equal(vm('c').exec('ping', ['-c', '2', '-W', '2', ips.b]).status, 0, 'c reaches b through the reattached port');
    assert.equal(await arpingAtoB(3, 0.1), 3);
    assert.equal(daemon.child.exitCode, null, 'still running');
  });

  it('an update ring far smaller than an import: writes wait for room, none is lost, replies go on', async () => {
    let body = '';
    for (let k = 0; k < 200_000; k++) body += `10.${100 + (k >> 16)}.${(k >> 8) & 255}.${k & 255},02:aa:00:${(k >> 16) & 255}:${(k >> 8) & 255}:${k & 255}\n`.replace(/:(\d+)/g, (_, n: string) => `:${Number(n).toString(16).padStart(2, '0')}`);
    const answered = arpingAtoB(20, 0.05);
    const res = await readResponse(await api.raw('POST', '/v1/bindings/import?format=csv', Readable.from([Buffer.from(body)])));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((res.body as { added: number }).added, 200_000, 'every binding imported');
    assert.equal(await answered, 20, 'every request during the import answered');
    const stats = (await api.call('GET', '/v1/stats')).body as { table: { bindings: number; ringFullWaits: number } };
    assert.equal(stats.table.bindings, 200_003);
    assert.ok(stats.table.ringFullWaits > 0, `the ring was full at times: ${stats.table.ringFullWaits} waits`);
    await waitFor('the waits to be logged', () => /"msg":"fault counters rose".*"update_ring_full_waits":\d+/.test(daemon.logs()), 3000);
  });

  it('a control side stalled for 2.5 s: the workers keep answering, and the stall is counted and logged', async () => {
    const answered = arpingAtoB(30, 0.1);
    await sleep(300);
    const stall = await api.call('POST', '/v1/debug/stall?ms=2500');
    assert.equal(stall.status, 200);
    assert.equal(await answered, 30, 'all 30 requests over the 3 s answered, the stall included');
    await waitFor('the stall to be counted', async () => ((await api.call('GET', '/v1/stats')).body as { faults: { control_stalls: number } }).faults.control_stalls >= 1);
    const logged = daemon.logs().split('\n').find((l) => l.includes('control side stalled'));
    assert.ok(logged && (JSON.parse(logged) as { ms: number }).ms >= 2000, `logged with its length: ${logged}`);
    const metrics = (await api.call('GET', '/v1/stats')).body as { faults: { control_stalled_seconds: number } };
    assert.ok(metrics.faults.control_stalled_seconds >= 2);
  });

  it('the stall route does not exist without MICROARP_FAULT_INJECTION=1', async () => {
    const plain = new TempDir();
    const other = await startDaemonRetrying(plain, { ports: [{ name: 'n', device: 'net_null0' }], state_dir: 'off' });
    try {
      assert.equal((await new ApiClient({ socket: other.socket }).call('POST', '/v1/debug/stall?ms=10')).status, 404);
    } finally {
      assert.equal((await other.stop()).code, 0);
      plain.remove();
    }
  });
});
