// VMs on vhost-user ports: DPDK virtio-user guests (dpdk-testpmd, the vhost-user protocol QEMU
// speaks) replaying crafted frames into microarp and recording what comes back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../src/api/client';
import { arpFrame, decodeArp, etherFrame, rarpFrame } from './helpers/frames';
import { TempDir, runCli } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { VirtioGuest } from './helpers/virtio_guest';
import { outageAround, startPing } from './helpers/ping';
import { NetnsPeer } from './helpers/netns';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (n: number): string => n.toString(16).padStart(2, '0');
const OWNER_7 = '02:aa:00:00:00:07';
const OWNER_8 = '02:aa:00:00:00:08';
const OWNER_20 = '02:aa:00:00:20:09';
const BURST = 200;

interface PortView {
  name: string;
  link: { up: boolean };
  linkUps: number;
  linkDowns: number;
}

describe('VMs on vhost-user ports (virtio-user guests)', () => {
  const dir = new TempDir();
  const sockets = { a: dir.file('vm-a.sock'), b: dir.file('vm-b.sock'), c: dir.file('vm-c.sock'), d: dir.file('vm-d.sock'), e: dir.file('vm-e.sock') };
  const pinger = new NetnsPeer('10.10.0.2/24');
  let daemon: LiveDaemon;
  let api: ApiClient;
  const stats = async (): Promise<{ counters: Record<string, number>; drops: Record<string, number> }> =>
    (await api.call('GET', '/v1/stats')).body as { counters: Record<string, number>; drops: Record<string, number> };
  const port = async (name: string): Promise<PortView> =>
    ((await api.call('GET', '/v1/ports')).body as { ports: PortView[] }).ports.find((p) => p.name === name)!;
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> => {
    const t0 = Date.now();
    while (!(await check())) {
      if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  const guest = async (name: string, socket: string, options: ConstructorParameters<typeof VirtioGuest>[3] = {}): Promise<VirtioGuest> => {
    const g = new VirtioGuest(name, socket, dir, options);
    await g.connect();
    return g;
  };

  before(async () => {
    // A stale socket file where vm-c's will be, as a killed backend leaves it (Python does not
    // unlink a bound Unix socket when it exits): removed at start.
    const made = spawnSync('/usr/bin/python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(sockets.c)})`]);
    assert.equal(made.status, 0, made.stderr?.toString());
    assert.ok(existsSync(sockets.c), 'a stale socket file is there before the start');
    pinger.create();
    daemon = await startDaemon(dir, {
      ports: [
        { name: 'vm-a', device: `net_vhost0,iface=${sockets.a}`, mode: 'access', vlan: 10 },
        { name: 'vm-b', device: `net_vhost1,iface=${sockets.b}`, mode: 'access', vlan: 10 },
        { name: 'vm-c', device: `net_vhost2,iface=${sockets.c}`, mode: 'access', vlan: 20 },
        { name: 'vm-d', device: `net_vhost3,iface=${sockets.d}`, mode: 'access', vlan: 10 },
        // Client mode: the guest listens, microarp connects and reconnects.
        { name: 'vm-e', device: `net_vhost4,iface=${sockets.e},client=1`, mode: 'access', vlan: 10 },
        // A Linux VM (netns) that pings the migrating guest.
        { name: 'pinger', device: `net_af_packet0,iface=${pinger.hostIf}`, mode: 'access', vlan: 10 },
      ],
      bindings: [
        { ip: '10.10.0.7', mac: OWNER_7, vlan: 10 },
        { ip: '10.10.0.8', mac: OWNER_8, vlan: 10 },
        { ip: '10.10.0.9', mac: OWNER_20, vlan: 20 },
      ],
      table: { capacity: 16384 },
      metrics: { listen: '127.0.0.1:0' },
    });
    api = new ApiClient({ socket: daemon.socket });
    // microarp's worker polls CPU 1 and its control side runs on CPU 0; this test process and
    // its guests (pinned to CPU 0 by the helper) stay off the worker's CPU too, as a hypervisor
    // keeps a vswitch's polling cores to themselves. (After the daemon started: it must not
    // inherit the restriction.)
    spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);
  });

  after(async () => {
    if (process.env.MICROARP_TEST_LOGS && daemon) writeFileSync(`${process.env.MICROARP_TEST_LOGS}-vhost.log`, daemon.logs());
    await daemon?.stop();
    pinger.remove();
    dir.remove();
  });

  it('removes a stale socket file at start and names it in the log', () => {
    assert.match(daemon.logs(), new RegExp(`removed a stale vhost-user socket.*${sockets.c.replace(/[.]/g, '\\.')}`));
  });

  it('answers a burst of requests from a guest exactly, from its first frame', async () => {
    const before = await stats();
    // One VM: it announces itself, then resolves two neighbours back to back. (BURST frames fit
    // the guest's ring with room to spare; bursts of thousands are measured by the benchmark.)
    const vmMac = '02:01:00:00:00:01';
    const requests = [
      arpFrame({ sha: vmMac, spa: '10.10.0.1', tpa: '10.10.0.1' }),
      ...Array.from({ length: BURST }, (_, i) => arpFrame({ sha: vmMac, spa: '10.10.0.1', tpa: i % 2 ? '10.10.0.7' : '10.10.0.8' })),
    ];
    const vm = await guest('burst', sockets.a, { mac: vmMac, frames: requests });
    await vm.start();
    await waitFor(`${BURST} replies`, async () => (await stats()).counters.replies_sent! - (before.counters.replies_sent ?? 0) >= BURST);
    await sleep(100);
    const result = await vm.stop();
    assert.equal(result.txDropped, 0, 'the guest never found its TX ring full');
    assert.equal(result.sent, BURST + 1);
    const replies = result.received.map((f) => decodeArp(f)).filter((a) => a?.op === 2);
    assert.equal(replies.length, BURST, `replies the guest received (frames: ${result.received.length})`);
    replies.forEach((r, i) => assert.equal(r!.sha, i % 2 ? OWNER_7 : OWNER_8));
    const after = await stats();
    assert.equal((after.drops.tx_full ?? 0) - (before.drops.tx_full ?? 0), 0);
    // One VM is reported to the control side a few times, not once per request.
    const delta = (name: string): number => (after.counters[name] ?? 0) - (before.counters[name] ?? 0);
    assert.ok(delta('arp_events') <= 5, `reports: ${delta('arp_events')}`);
    assert.ok(delta('sender_reports_skipped') >= BURST - 5, `skipped: ${delta('sender_reports_skipped')}`);
  });

  it('a new guest costs the polling worker few page faults: the memory it uses is mapped at connect', async () => {
    // Lazily mapped memory faults once per page on first touch, in the worker, under the burst:
    // the guest's buffers, and (without hugepages) the table and FDB pages of new senders.
    const workerFaults = (): number => {
      const tasks = readdirSync(`/proc/${daemon.child.pid}/task`);
      const worker = tasks.find((t) => readFileSync(`/proc/${daemon.child.pid}/task/${t}/comm`, 'utf8').startsWith('rte-worker'));
      assert.ok(worker, 'the worker thread');
      return Number(readFileSync(`/proc/${daemon.child.pid}/task/${worker}/stat`, 'utf8').split(') ')[1]!.split(' ')[7]);
    };
    const before = await stats();
    const senders = Array.from({ length: BURST }, (_, i) =>
      arpFrame({ sha: `02:0f:00:00:${hex(i >> 8)}:${hex(i & 255)}`, spa: `10.10.${100 + (i >> 8)}.${i & 255}`, tpa: '10.10.0.7' }));
    const vm = await guest('faults', sockets.b, { frames: senders });
    const faultsBefore = workerFaults();
    await vm.start();
    await waitFor(`${BURST} replies`, async () => (await stats()).counters.replies_sent! - (before.counters.replies_sent ?? 0) >= BURST);
    const faults = workerFaults() - faultsBefore;
    const result = await vm.stop();
    assert.equal(result.received.filter((f) => decodeArp(f)?.op === 2).length, BURST);
    // 76 here without mapping anything ahead. Mapping the guest memory the guest had already
    // used at connect leaves ~29: pages of buffers it had never touched, which microarp does not
    // allocate on its behalf, and the worker's own first use of its stack and rings.
    assert.ok(faults <= 45, `page faults in the worker during the burst: ${faults}`);
  });

  it('keeps VLANs apart: a guest in VLAN 10 neither resolves nor hears VLAN 20', async () => {
    const listener = await guest('vlan20', sockets.c);
    await listener.start();
    const asker = await guest('vlan10', sockets.a, {
      frames: [
        arpFrame({ sha: '02:01:00:00:10:01', spa: '10.10.0.1', tpa: '10.10.0.9' }), // bound only in VLAN 20
        etherFrame(0x88b5, '02:01:00:00:10:01'), // a broadcast of an experimental EtherType
      ],
    });
    await asker.start();
    await sleep(300);
    const heard = await asker.stop();
    const other = await listener.stop();
    assert.equal(heard.received.filter((f) => decodeArp(f)?.op === 2).length, 0, 'no answer from VLAN 20');
    assert.equal(other.received.length, 0, 'nothing of VLAN 10 reached VLAN 20');
  });

  it('carries unicast between two guests through microarp', async () => {
    const macB = '02:0b:00:00:00:0b';
    // B announces itself (its MAC is learned on vm-b), then records what reaches it.
    const b = await guest('b', sockets.b, { mac: macB, frames: [arpFrame({ sha: macB, spa: '10.10.0.11', tpa: '10.10.0.11' })] });
    await b.start();
    await sleep(200);
    const unicast = Array.from({ length: 200 }, () => etherFrame(0x0800, '02:0a:00:00:00:0a', macB, 98));
    const a = await guest('a', sockets.a, { mac: '02:0a:00:00:00:0a', frames: unicast });
    await a.start();
    await sleep(500);
    const fromA = await a.stop();
    const atB = await b.stop();
    assert.equal(fromA.sent, 200);
    assert.equal(atB.received.filter((f) => f.readUInt16BE(12) === 0x0800).length, 200, 'every unicast frame reached B');
    const s = await stats();
    assert.ok((s.counters.forwarded_unicast ?? 0) >= 200, JSON.stringify(s.counters));
  });

  it('a guest that goes away and comes back: link down/up counted and logged, frames to it dropped as link_down, bindings untouched', async () => {
    const macB = '02:0b:00:00:00:0b';
    const b = await guest('b-gone', sockets.b, { mac: macB, frames: [arpFrame({ sha: macB, spa: '10.10.0.11', tpa: '10.10.0.11' })] });
    await b.start();
    await waitFor('vm-b up', async () => (await port('vm-b')).link.up);
    const ups = (await port('vm-b')).linkUps;
    const downs = (await port('vm-b')).linkDowns;
    await b.kill(); // a QEMU that crashed: no goodbye
    await waitFor('vm-b down', async () => !(await port('vm-b')).link.up);
    const before = await stats();
    const a = await guest('a-to-gone', sockets.a, { frames: Array.from({ length: 100 }, () => etherFrame(0x0800, '02:0a:00:00:00:0a', macB, 98)) });
    await a.start();
    await sleep(300);
    await a.stop();
    const after = await stats();
    assert.equal((after.drops.link_down ?? 0) - (before.drops.link_down ?? 0), 100, `drops: ${JSON.stringify(after.drops)}`);
    assert.equal((after.drops.tx_full ?? 0) - (before.drops.tx_full ?? 0), 0, 'not mistaken for a full queue');
    // Back again: the same guest reconnects and is answered.
    const again = await guest('b-again', sockets.b, { mac: macB, frames: [arpFrame({ sha: macB, spa: '10.10.0.11', tpa: '10.10.0.7' })] });
    await again.start();
    await sleep(300);
    const r = await again.stop();
    assert.equal(r.received.map((f) => decodeArp(f)).filter((x) => x?.op === 2 && x.sha === OWNER_7).length, 1);
    const p = await port('vm-b');
    assert.ok(p.linkUps >= ups + 1 && p.linkDowns >= downs + 2, JSON.stringify(p));
    assert.match(daemon.logs(), /"msg":"link changed","port":"vm-b","up":false/);
    const metrics = await (await fetch(daemon.started.metrics!)).text();
    assert.match(metrics, /microarp_port_link_downs_total\{port="vm-b"\} [1-9]/);
    assert.match(metrics, /microarp_dropped_frames_total\{lcore="1",reason="link_down"\} [1-9]/);
    assert.equal(((await api.call('GET', '/v1/bindings/10.10.0.7?vlan=10')).body as { mac: string }).mac, OWNER_7, 'bindings untouched');
  });

  it('a RARP from a MAC on another port moves it: FDB, bindings, GARP burst; the RARP is flooded, never answered', async () => {
    const mac = '02:05:00:00:00:50';
    // The VM lives on vm-a and announces itself: learned there.
    const onA = await guest('rarp-a', sockets.a, { mac, frames: [arpFrame({ sha: mac, spa: '10.10.0.50', tpa: '10.10.0.50' })] });
    await onA.start();
    await waitFor('10.10.0.50 learned on vm-a', async () => ((await api.call('GET', '/v1/bindings/10.10.0.50?vlan=10')).body as { port?: string }).port === 'vm-a');
    await onA.stop();
    // It reappears on vm-b and announces itself with three RARPs; vm-d listens.
    const listener = await guest('rarp-d', sockets.d);
    await listener.start();
    const onB = await guest('rarp-b', sockets.b, { mac, frames: [rarpFrame(mac), rarpFrame(mac), rarpFrame(mac)] });
    await onB.start();
    await waitFor('the binding to follow its MAC to vm-b', async () => ((await api.call('GET', '/v1/bindings/10.10.0.50?vlan=10')).body as { port?: string }).port === 'vm-b');
    await sleep(400); // the GARP burst: 3 x 100 ms
    const atB = await onB.stop();
    const heard = await listener.stop();
    assert.equal(heard.received.filter((f) => f.readUInt16BE(12) === 0x8035).length, 3, 'the RARPs are flooded like any broadcast');
    const garps = heard.received.map((f) => decodeArp(f)).filter((a) => a && a.sha === mac && a.spa === '10.10.0.50' && a.tpa === '10.10.0.50');
    assert.ok(garps.length >= 3, `GARP burst for the moved binding on vm-d: ${garps.length}`);
    assert.equal(atB.received.filter((f) => f.readUInt16BE(12) === 0x8035).length, 0, 'no RARP answered or echoed back');
    const fdb = (await api.call('GET', `/v1/fdb?mac=${mac}`)).body as { entries: { port: string }[] };
    assert.equal(fdb.entries[0]?.port, 'vm-b');
    assert.match(daemon.logs(), /"msg":"moved","ip":"10\.10\.0\.50".*"from":"vm-a","to":"vm-b"/);
  });

  it('client mode: microarp connects to a guest that listens, and reconnects when it restarts', async () => {
    const ask = (): Buffer => arpFrame({ sha: '02:0e:00:00:00:01', spa: '10.10.0.21', tpa: '10.10.0.7' });
    for (const round of [1, 2]) {
      const vm = new VirtioGuest(`client-${round}`, sockets.e, dir, { server: true, mac: '02:0e:00:00:00:01', frames: [ask()] });
      await vm.connect();
      await waitFor(`microarp to connect to the guest (round ${round})`, async () => (await port('vm-e')).link.up, 10000);
      await vm.start();
      await sleep(300);
      const r = await vm.stop();
      assert.equal(r.received.map((f) => decodeArp(f)).filter((a) => a?.op === 2 && a.sha === OWNER_7).length, 1, `answered in round ${round}`);
      await waitFor('vm-e down after the guest left', async () => !(await port('vm-e')).link.up, 10000);
    }
  });

  it('live migration between vhost-user ports: a VM pinging the guest every 10 ms sees a gap under 1 s', async (t) => {
    const mac = '02:06:00:00:00:60';
    // The source: the guest on vm-a announces itself and answers pings (testpmd icmpecho).
    const source = await guest('mig-src', sockets.a, { mac, mode: 'icmpecho', frames: [arpFrame({ sha: mac, spa: '10.10.0.60', tpa: '10.10.0.60' })] });
    await source.start();
    await waitFor('10.10.0.60 learned on vm-a', async () => ((await api.call('GET', '/v1/bindings/10.10.0.60?vlan=10')).body as { port?: string }).port === 'vm-a');
    assert.equal(pinger.exec('ping', ['-c', '1', '-W', '2', '10.10.0.60']).status, 0, 'the VM answers before the migration');
    // The destination is up and waiting (QEMU's -incoming) before the switch-over.
    const destination = await guest('mig-dst', sockets.b, { mac, mode: 'icmpecho', frames: [rarpFrame(mac), rarpFrame(mac), rarpFrame(mac)] });
    const ping = startPing(pinger, '10.10.0.60');
    let switched = 0;
    let pinged: Awaited<ReturnType<typeof ping.stop>> | undefined;
    try {
      await sleep(1000);
      switched = Date.now();
      // As QEMU does it: the source VM stops (its vhost-user connection stays until the source
      // QEMU exits, after the migration), the destination runs and announces itself.
      source.pause();
      await destination.start(); // RARPs from the destination, then it answers pings
      await sleep(2000);
    } finally {
      pinged = await ping.stop();
      await source.kill(); // the source QEMU exits
      await destination.stop();
    }
    const { replies, output } = pinged!;
    const gap = outageAround(replies, switched);
    assert.ok(gap !== undefined, `replies before and after the switch-over:\n${output.slice(-500)}`);
    t.diagnostic(`vhost-user live migration: last reply from vm-a to first from vm-b ${gap.toFixed(1)} ms (${replies.length} replies)`);
    assert.ok(gap < 1000, `no replies for ${gap.toFixed(0)} ms`);
    assert.equal(((await api.call('GET', '/v1/bindings/10.10.0.60?vlan=10')).body as { port?: string }).port, 'vm-b');
  });

  it('refuses a socket another backend listens on, naming the port and the path', async () => {
    const other = new TempDir();
    try {
      const file = other.file('c.yaml');
      writeFileSync(file, JSON.stringify({ ports: [{ name: 'dup', device: `net_vhost0,iface=${sockets.a}` }], state_dir: 'off', api: { socket: other.file('api.sock') }, metrics: 'off' }));
      const r = await runCli(['run', '--config', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`port 'dup': vhost-user socket ${sockets.a.replace(/[.]/g, '\\.')} is in use: another vhost-user backend listens on it`));
      // An unwritable directory is named too.
      writeFileSync(file, JSON.stringify({ ports: [{ name: 'ro', device: 'net_vhost0,iface=/proc/microarp/vm.sock' }], state_dir: 'off', api: { socket: other.file('api.sock') }, metrics: 'off' }));
      const ro = await runCli(['run', '--config', file]);
      assert.equal(ro.code, 1, ro.stderr);
      assert.match(ro.stderr, /port 'ro': vhost-user socket \/proc\/microarp\/vm\.sock: its directory \/proc\/microarp cannot be created or written/);
    } finally {
      other.remove();
    }
  });
});
