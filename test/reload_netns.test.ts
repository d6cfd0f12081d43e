// Live reload of the config file (issue 11): SIGHUP, `microarp reload` and POST /v1/reload, on a
// daemon whose ports are Linux VMs in network namespaces. Each change is checked on real frames:
// the peers' own ARP (arping, the kernel's neighbour table), and forged frames from an attacker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../src/api/client';
import { runCli, TempDir, withTestDefaults } from './helpers/daemon';
import { forgeSession, type ForgeSession } from './helpers/forge';
import { startDaemonRetrying, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { sleep, waitFor } from './helpers/wait';

const NEW_MAC = '02:00:5e:10:00:77';


/** The MACs that answered an arping (Debian's arping prints "60 bytes from MAC (IP)"). */
function arpingMacs(stdout: string): string[] {
  return [...stdout.matchAll(/bytes from ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/g)].map((m) => m[1]!.toLowerCase());
}

describe('live reload of the config file', () => {
  const ips = { victim: '10.0.10.1', peer: '10.0.10.2', attacker: '10.0.10.66' } as const;
  const names = Object.keys(ips) as (keyof typeof ips)[];
  const vms = new Map(names.map((n) => [n, new NetnsPeer(`${ips[n]}/24`)]));
  const vm = (n: keyof typeof ips): NetnsPeer => vms.get(n)!;
  const dir = new TempDir();
  let daemon: LiveDaemon;
  let api: ApiClient;
  let attacker: ForgeSession;

  /** The config as the test wants it now; `write()` puts it in the daemon's file. */
  const config = (): Record<string, unknown> & { ports: Record<string, unknown>[]; bindings: Record<string, unknown>[] } => ({
    enforce: 'enforce',
    learning: { enabled: true },
    ports: names.map((n, i) => ({
      name: n,
      device: `net_af_packet${i},iface=${vm(n).hostIf}`,
      mode: 'access',
      vlan: 10,
      allowed_subnets: ['10.0.10.0/24'],
    })),
    table: { capacity: 1024 },
    bindings: names.map((n) => ({ ip: ips[n], mac: vm(n).mac(), vlan: 10 })),
  });
  const write = (c: Record<string, unknown>): void => writeFileSync(daemon.file, JSON.stringify(withTestDefaults(dir, c)));
  const reload = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await api.call('POST', '/v1/reload');
    return { status: r.status, body: r.body as Record<string, unknown> };
  };
  const stats = async (): Promise<{ counters: Record<string, number>; drops: Record<string, number>; violations: Record<string, number>; table: { capacity: number } }> =>
    (await api.call('GET', '/v1/stats')).body as never;
  const arping = (from: keyof typeof ips, target: string, count = 2): string[] =>
    arpingMacs(vm(from).exec('arping', ['-c', String(count), '-w', '3', '-I', vm(from).peerIf, target]).stdout);
  /** A gratuitous ARP from the attacker claiming the victim's address. */
  const spoof = (): Promise<void> => attacker.send({ op: 'request', src: vm('attacker').mac(), sha: vm('attacker').mac(), spa: ips.victim, tpa: ips.victim });

  before(async () => {
    for (const v of vms.values()) v.create();
    daemon = await startDaemonRetrying(dir, config());
    api = new ApiClient({ socket: daemon.socket });
    attacker = forgeSession(vm('attacker'));
  });
  after(async () => {
    try {
      attacker?.close();
      if (daemon) assert.equal((await daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const v of vms.values()) v.remove();
      dir.remove();
    }
  });

  it('SIGHUP with the file unchanged: the daemon keeps serving and reports that nothing changed', async () => {
    const logged = (): number => daemon.logs().split('\n').filter((l) => l.includes('"msg":"config reloaded"')).length;
    const before = logged();
    daemon.child.kill('SIGHUP');
    await waitFor('the reload to be logged', () => logged() === before + 1);
    const line = JSON.parse(daemon.logs().split('\n').filter((l) => l.includes('"msg":"config reloaded"')).pop()!) as { applied: string[]; needs_restart: string[] };
    assert.deepEqual(line.applied, []);
    assert.deepEqual(line.needs_restart, []);
    assert.equal(daemon.child.exitCode, null, 'still running');
    assert.deepEqual(arping('peer', ips.victim), [vm('victim').mac(), vm('victim').mac()], 'the victim is still answered for');
  });

  it('a file that does not validate changes nothing, names every problem, and the daemon keeps serving', async () => {
    const bad = config();
    bad.bindings.push({ ip: '10.0.10.77', mac: NEW_MAC, vlan: 10 }); // would be applied, if the file were good
    bad.ports[0]!.vlan = 5000;
    (bad.learning as Record<string, unknown>).max_per_port = -1;
    write(bad);
    const r = await reload();
    assert.equal(r.status, 400);
    assert.equal((r.body.error as { code: string }).code, 'CONFIG_INVALID');
    const problems = (r.body.problems as { path: string }[]).map((p) => p.path);
    assert.ok(problems.includes('ports[0].vlan') && problems.some((p) => p.startsWith('learning.max_per_port')), JSON.stringify(problems));
    const refused = daemon.logs().split('\n').filter((l) => l.includes('"msg":"config reload refused: nothing was changed"')).pop();
    assert.ok(refused && refused.includes('ports[0].vlan') && refused.includes('learning.max_per_port'), `logged with every problem: ${refused}`);
    assert.equal((await api.call('GET', '/v1/bindings/10.0.10.77?vlan=10')).status, 404, 'the good part of the bad file was not applied either');
    // The CLI says the same, and exits as a usage error.
    const cli = await runCli(['reload', '--socket', daemon.socket]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /ports\[0\]\.vlan/);
    // A file that is not even YAML, by SIGHUP: logged, and still serving.
    writeFileSync(daemon.file, 'ports: [\n  - name: {');
    daemon.child.kill('SIGHUP');
    await waitFor('the refusal to be logged', () => daemon.logs().split('\n').filter((l) => l.includes('config reload refused')).length >= 2);
    assert.equal(daemon.child.exitCode, null, 'still running');
    assert.deepEqual(arping('peer', ips.victim), [vm('victim').mac(), vm('victim').mac()]);
    write(config());
  });

  it('static bindings added and removed live; a binding written through the API stays', async () => {
    assert.equal((await api.call('PUT', '/v1/bindings/10.0.10.50', { mac: '02:00:5e:10:00:50', vlan: 10 })).status, 201);
    const c = config();
    c.bindings.push({ ip: '10.0.10.77', mac: NEW_MAC, vlan: 10 });
    write(c);
    const cli = await runCli(['reload', '--socket', daemon.socket]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /bindings: 1 added or changed \(10\.0\.10\.77 vlan 10\)/);
    assert.deepEqual(arping('peer', '10.0.10.77'), [NEW_MAC, NEW_MAC], 'the new static binding is answered');
    write(config());
    const r = await reload();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.applied, ['bindings: 1 removed (10.0.10.77 vlan 10)']);
    assert.deepEqual(arping('peer', '10.0.10.77'), [], 'nobody answers for the removed binding');
    assert.equal((await api.call('GET', '/v1/bindings/10.0.10.50?vlan=10')).status, 200, 'the API binding is still there');
  });

  it('trusted, enforce and the ARP rate change for the very next frame', async () => {
    const before = await stats();
    await spoof();
    await waitFor('the spoof to be counted and dropped', async () => {
      const s = await stats();
      return s.violations.spoofed_binding === before.violations.spoofed_binding! + 1 && s.drops.arp_inspection === before.drops.arp_inspection! + 1;
    });

    const trusted = config();
    trusted.ports[2]!.trusted = true;
    write(trusted);
    assert.deepEqual((await reload()).body.applied, ['ports.attacker.trusted: false -> true']);
    const t = await stats();
    await spoof();
    await sleep(300);
    assert.equal((await stats()).violations.spoofed_binding, t.violations.spoofed_binding, 'a trusted port is not inspected');

    const observe = config();
    observe.enforce = 'observe';
    write(observe);
    assert.deepEqual((await reload()).body.applied, ['enforce: enforce -> observe', 'ports.attacker.trusted: true -> false']);
    const o = await stats();
    await spoof();
    await waitFor('the spoof to be counted', async () => (await stats()).violations.spoofed_binding === o.violations.spoofed_binding! + 1);
    assert.equal((await stats()).drops.arp_inspection, o.drops.arp_inspection, 'observe mode counts without dropping');

    const limited = config();
    limited.ports[2]!.arp_rate = { pps: 10, burst: 10 };
    write(limited);
    assert.equal((await reload()).status, 200);
    const l = await stats();
    await attacker.send({ op: 'request', src: vm('attacker').mac(), sha: vm('attacker').mac(), spa: ips.attacker, tpa: ips.peer, count: 100 });
    await waitFor('the 100 requests seen', async () => (await stats()).counters.arp_requests! >= l.counters.arp_requests! + 100, 5000, 50);
    const limitedCount = (await stats()).violations.rate_limited! - l.violations.rate_limited!;
    assert.ok(limitedCount >= 80 && limitedCount <= 90, `100 requests at 10 pps with a burst of 10: ${limitedCount} rate limited`);

    write(config());
    assert.equal((await reload()).status, 200);
    const u = await stats();
    await attacker.send({ op: 'request', src: vm('attacker').mac(), sha: vm('attacker').mac(), spa: ips.attacker, tpa: ips.peer, count: 100 });
    await waitFor('the 100 requests seen', async () => (await stats()).counters.arp_requests! >= u.counters.arp_requests! + 100, 5000, 50);
    assert.equal((await stats()).violations.rate_limited, u.violations.rate_limited, 'no limit once it is gone from the file');
  });

  it('admin from the file; a change made through the API survives a reload of a file that did not change it', async () => {
    const down = config();
    down.ports[1]!.admin = 'down';
    write(down);
    assert.deepEqual((await reload()).body.applied, ['ports.peer.admin: down']);
    assert.deepEqual(arping('peer', ips.victim), [], 'a port taken down from the file drops its frames');
    write(config());
    assert.equal((await reload()).status, 200);
    assert.deepEqual(arping('peer', ips.victim), [vm('victim').mac(), vm('victim').mac()]);

    assert.equal((await api.call('PATCH', '/v1/ports/peer', { admin: 'down' })).status, 200);
    assert.deepEqual((await reload()).body.applied, []);
    const ports = ((await api.call('GET', '/v1/ports')).body as { ports: { name: string; admin_up?: boolean; adminUp?: boolean }[] }).ports;
    const peer = ports.find((p) => p.name === 'peer')!;
    assert.equal(peer.admin_up ?? peer.adminUp, false, 'still down, as the operator left it');
    assert.equal((await api.call('PATCH', '/v1/ports/peer', { admin: 'up' })).status, 200);
  });

  it('learning switched off and on live', async () => {
    const off = config();
    (off.learning as Record<string, unknown>).enabled = false;
    write(off);
    assert.deepEqual((await reload()).body.applied, ['learning']);
    const claim = { op: 'request' as const, src: vm('attacker').mac(), sha: vm('attacker').mac(), spa: '10.0.10.90', tpa: '10.0.10.90' };
    await attacker.send(claim);
    await sleep(500);
    assert.equal((await api.call('GET', '/v1/bindings/10.0.10.90?vlan=10')).status, 404, 'not learned while learning is off');
    write(config());
    assert.deepEqual((await reload()).body.applied, ['learning']);
    // The claim again until it is learned: a worker reports a sender it has just reported (the
    // claim above, within the same second) only once the second is over, as it would a host
    // that keeps sending.
    await waitFor('the address to be learned', async () => {
      await attacker.send(claim);
      return (await api.call('GET', '/v1/bindings/10.0.10.90?vlan=10')).status === 200;
    }, 5000, 250);
  });

  it('what needs a restart is reported and left as it runs', async () => {
    const c = config();
    c.table = { capacity: 2048 };
    c.workers = 2;
    c.ports.push({ name: 'extra', device: 'net_null9' });
    write(c);
    const r = await reload();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.needs_restart, ['workers', 'table', 'ports (a port added or removed)']);
    assert.equal((await stats()).table.capacity, 1024, 'the table keeps the capacity it runs with');
    assert.match(daemon.logs(), /config changes that need a restart were left as they run/);
    write(config());
  });

  it('no frame is lost while reloads replace a port\'s settings under traffic', async () => {
    // The peer resolves the victim 40 times, 50 ms apart, while the attacker's port settings
    // are replaced back and forth (each replacement waits for every worker's quiescent state).
    const pinger = spawn('ip', ['netns', 'exec', vm('peer').ns, 'arping', '-c', '40', '-W', '0.05', '-w', '5', '-I', vm('peer').peerIf, ips.victim], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    pinger.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => pinger.once('exit', () => resolve()));
    let reloads = 0;
    for (let i = 0; pinger.exitCode === null && i < 50; i++) {
      const c = config();
      c.ports[2]!.arp_rate = { pps: 100 + (i % 2), burst: 100 };
      write(c);
      if ((await reload()).status === 200) reloads++;
      await sleep(20);
    }
    await exited;
    assert.ok(reloads >= 5, `reloads during the run: ${reloads}`);
    assert.equal(arpingMacs(out).length, 40, `every request answered:\n${out}`);
    write(config());
    assert.equal((await reload()).status, 200);
  });
});
