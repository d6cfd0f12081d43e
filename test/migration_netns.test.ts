// Live migration with Linux kernels as the VMs and their peers (issue 5). A VM that moves is
// two namespaces, one behind each port: its IP and MAC live on port A's interface; to migrate,
// A's interface goes down and B's, given the same IP and MAC, comes up with arp_notify so that
// its kernel sends a gratuitous ARP, as a hypervisor's resumed guest does. microarp must move
// the MAC in its FDB, announce the binding with its own gratuitous ARP burst, freeze a MAC
// that flaps, and decide between a replaced VM and an impostor by probing the owner.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client';
import { REPO, TempDir } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { EventStream } from './helpers/event_stream';
import type { MicroarpEvent } from '../src/learning/event_hub';
import { capture } from './helpers/capture';
import { sleep, waitFor } from './helpers/wait';

interface FdbEntry {
  vlan: number;
  mac: string;
  port: string;
  static: boolean;
  moves: number;
}

interface BindingBody {
  ip: string;
  mac: string;
  vlan: number;
  source: string;
  port?: string;
  moves: number;
}

/** A locally administered unicast MAC, different on every run. */
const randomMac = (): string => ['02', ...Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, '0'))].join(':');

/** `ping -D` output: each echo reply's arrival time (ms) and sequence number, and the totals. */
function parsePing(out: string): { replies: { t: number; seq: number }[]; transmitted: number; received: number; duplicates: number } {
  const replies: { t: number; seq: number }[] = [];
  let duplicates = 0;
  for (const line of out.split('\n')) {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from [\d.]+: icmp_seq=(\d+)/.exec(line);
    if (!m) continue;
    if (line.includes('DUP!')) {
      duplicates++;
      continue;
    }
    replies.push({ t: Number(m[1]) * 1000, seq: Number(m[2]) });
  }
  const totals = /(\d+) packets transmitted, (\d+) received/.exec(out);
  assert.ok(totals, `no ping summary in:\n${out.slice(-500)}`);
  return { replies, transmitted: Number(totals[1]), received: Number(totals[2]), duplicates };
}

/** The three-port topology of a migration: a peer, and the VM's two possible homes. */
function migrationTopology(migration: Record<string, unknown>) {
  const vmIp = '10.0.10.5';
  const vmMac = randomMac();
  const peer = new NetnsPeer('10.0.10.1/24');
  const vmA = new NetnsPeer(`${vmIp}/24`);
  const vmB = new NetnsPeer(`${vmIp}/24`);
  const dir = new TempDir();
  const t = {
    vmIp,
    vmMac,
    peer,
    vmA,
    vmB,
    dir,
    daemon: undefined as unknown as LiveDaemon,
    api: undefined as unknown as ApiClient,

    async setUp(extra: Record<string, unknown> = {}): Promise<void> {
      for (const vm of [peer, vmA, vmB]) vm.create();
      // The VM runs on A; B's interface waits, down, with the VM's address and MAC.
      vmA.setMac(vmMac);
      vmB.link(false);
      vmB.setMac(vmMac);
      vmA.arpNotify();
      vmB.arpNotify();
      t.daemon = await startDaemon(dir, {
        ports: [
          { name: 'peer', device: `net_af_packet0,iface=${peer.hostIf}`, mode: 'access', vlan: 10 },
          { name: 'vmA', device: `net_af_packet1,iface=${vmA.hostIf}`, mode: 'access', vlan: 10 },
          { name: 'vmB', device: `net_af_packet2,iface=${vmB.hostIf}`, mode: 'access', vlan: 10 },
        ],
        table: { capacity: 1024 },
        bindings: [
          { ip: '10.0.10.1', mac: peer.mac(), vlan: 10 },
          { ip: vmIp, mac: vmMac, vlan: 10 },
        ],
        migration,
        ...extra,
      });
      t.api = new ApiClient({ socket: t.daemon.socket });
    },

    async tearDown(): Promise<void> {
      if (t.daemon) assert.equal((await t.daemon.stop()).code, 0);
      for (const vm of [peer, vmA, vmB]) vm.remove();
      dir.remove();
    },

    /** The migration itself: the VM stops on `from` and resumes on `to`. */
    move(from: NetnsPeer, to: NetnsPeer): void {
      from.link(false);
      to.link(true);
    },

    async fdbEntry(): Promise<FdbEntry | undefined> {
      const r = await t.api.call('GET', `/v1/fdb?mac=${vmMac}&vlan=10`);
      assert.equal(r.status, 200);
      return (r.body as { entries: FdbEntry[] }).entries[0];
    },

    async binding(): Promise<BindingBody> {
      const r = await t.api.call('GET', `/v1/bindings/${vmIp}?vlan=10`);
      assert.equal(r.status, 200);
      return r.body as BindingBody;
    },

    async waitFdbPort(port: string): Promise<FdbEntry> {
      return waitFor(`the FDB to put ${vmMac} on ${port}`, async () => {
        const e = await t.fdbEntry();
        return e?.port === port ? e : undefined;
      });
    },

    ping(count = 1): boolean {
      return peer.exec('ping', ['-c', String(count), '-i', '0.2', '-W', '1', vmIp]).status === 0;
    },
  };
  return t;
}

describe('live migration of a VM between two ports', () => {
  const GARP_COUNT = 4;
  const GARP_INTERVAL_MS = 50;
  const INTERVAL_MS = 10;
  const topo = migrationTopology({ garp_count: GARP_COUNT, garp_interval_ms: GARP_INTERVAL_MS });
  const { vmIp, vmMac, peer, vmA, vmB } = topo;

  before(async () => {
    await topo.setUp({ metrics: { listen: '127.0.0.1:0' } });
    // The peer resolves the VM (answered by microarp) and the VM's reply puts its MAC on vmA.
    assert.ok(topo.ping(), 'the peer reaches the VM on A');
    assert.equal((await topo.waitFdbPort('vmA')).static, false);
  });

  after(() => topo.tearDown());

  const garpsSentMetric = async (): Promise<number> => {
    const url = topo.daemon.started.metrics;
    assert.ok(url, 'metrics are served');
    const text = await (await fetch(url)).text();
    const m = /^microarp_garps_sent_total(?:\{[^}]*\})? (\d+)$/m.exec(text);
    assert.ok(m, 'microarp_garps_sent_total is exported');
    return Number(m[1]);
  };
  const counters = async (): Promise<Record<string, number>> =>
    ((await topo.api.call('GET', '/v1/stats')).body as { counters: Record<string, number> }).counters;

  it('converges in well under a second while a peer pings the VM every 10 ms', async (t) => {
    const child = spawn('ip', ['netns', 'exec', peer.ns, 'ping', '-D', '-i', String(INTERVAL_MS / 1000), '-W', '1', vmIp], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    let down: number;
    let up: number;
    try {
      await sleep(1000); // steady state: ~100 replies from A
      down = Date.now();
      topo.move(vmA, vmB);
      up = Date.now();
      await sleep(2000);
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    const ping = parsePing(out);
    const lost = ping.transmitted - ping.received;
    let gap = 0;
    for (let i = 1; i < ping.replies.length; i++) gap = Math.max(gap, ping.replies[i]!.t - ping.replies[i - 1]!.t);
    const lastBefore = ping.replies.filter((r) => r.t < down).at(-1);
    const firstAfter = ping.replies.find((r) => r.t >= up);
    assert.ok(lastBefore, 'replies before the move');
    assert.ok(firstAfter, `replies after the move:\n${out.slice(-800)}`);
    const outage = firstAfter.t - lastBefore.t;
    const first = ping.replies[0]!;
    const last = ping.replies.at(-1)!;
    const actualInterval = (last.t - first.t) / Math.max(1, last.seq - first.seq);
    t.diagnostic(
      `migration: ${ping.transmitted} echo requests every ${INTERVAL_MS} ms (${actualInterval.toFixed(1)} ms actually), ${ping.received} replies, ` +
        `${lost} lost (${lost * INTERVAL_MS} ms of traffic), ${ping.duplicates} duplicates; ` +
        `longest gap between replies ${gap.toFixed(1)} ms; last reply from A to first from B ${outage.toFixed(1)} ms; ` +
        `link down on A to up on B took ${up - down} ms; B up to its first reply ${(firstAfter.t - up).toFixed(1)} ms`,
    );
    assert.ok(lost * INTERVAL_MS < 1000, `lost ${lost} replies (${lost * INTERVAL_MS} ms)`);
    // The outage around the move (it includes the ~10-50 ms the test takes to switch the links).
    // The longest gap overall is only reported: on a busy machine ping itself can stall.
    assert.ok(outage < 1000, `no replies for ${outage} ms around the move`);
    // Once back, nothing more is lost: every echo request after the first answer from B is answered.
    const fromB = ping.replies.filter((r) => r.seq >= firstAfter.seq);
    assert.ok(fromB.length >= 50, `${fromB.length} replies from B`);
    assert.equal(fromB.at(-1)!.seq - firstAfter.seq + 1, fromB.length, 'no loss after convergence');

    // The VM kept its IP and MAC.
    assert.equal(vmB.mac(), vmMac);
    assert.match(vmB.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', vmB.peerIf]).stdout, new RegExp(`inet ${vmIp.replace(/\./g, '\\.')}/24`));
    // The peer's neighbour entry still names the same MAC, and works.
    const neigh = peer.exec('ip', ['neigh', 'show', vmIp, 'dev', peer.peerIf]).stdout;
    assert.match(neigh, new RegExp(`lladdr ${vmMac} (REACHABLE|STALE|DELAY|PROBE)`), neigh);
    assert.ok(topo.ping(3), 'the peer pings the VM on B');
    // microarp: the MAC is on B in the FDB, and the binding follows it.
    const fdb = await topo.fdbEntry();
    assert.equal(fdb?.port, 'vmB');
    assert.ok(fdb.moves >= 1);
    const binding = await topo.binding();
    assert.equal(binding.mac, vmMac);
    assert.equal(binding.port, 'vmB');
    assert.ok(binding.moves >= 1, `moves ${binding.moves}`);
    assert.match(topo.daemon.logs(), new RegExp(`"msg":"mac moved","vlan":10,"mac":"${vmMac}","from":"vmA","to":"vmB"`));
  });

  it(`announces the move with a burst of gratuitous ARP beyond the VM's own`, async (t) => {
    const metricBefore = await garpsSentMetric();
    const injectedBefore = (await counters()).injected ?? 0;
    // Back from B to A, watched from the peer.
    const frames = await capture(peer, async () => {
      topo.move(vmB, vmA);
      await topo.waitFdbPort('vmA');
      await sleep(GARP_COUNT * GARP_INTERVAL_MS + 200);
    });
    const garps = frames.filter(
      (f) => f.type === 0x0806 && f.arp_spa === vmIp && f.arp_tpa === vmIp && f.arp_sha === vmMac && f.src === vmMac && f.dst === 'ff:ff:ff:ff:ff:ff',
    );
    // The VM's kernel sends a bare 42-byte frame (flooded unchanged); microarp's own are
    // padded to the 60-byte Ethernet minimum.
    const own = garps.filter((f) => f.len === 60);
    const kernel = garps.filter((f) => f.len === 42);
    t.diagnostic(`gratuitous ARPs for ${vmIp} seen by the peer: ${garps.length} (${own.length} from microarp, ${kernel.length} from the VM's kernel; lengths ${garps.map((f) => f.len).join(',')})`);
    assert.ok(kernel.length >= 1, "the VM's kernel announced itself (arp_notify), flooded to the peer");
    assert.ok(own.length >= GARP_COUNT, `microarp sent ${own.length} of its ${GARP_COUNT}`);
    assert.ok(garps.length >= GARP_COUNT + 1);

    const sent = (await garpsSentMetric()) - metricBefore;
    const injected = ((await counters()).injected ?? 0) - injectedBefore;
    t.diagnostic(`microarp_garps_sent_total +${sent}, injected +${injected} (to the peer and to B)`);
    assert.ok(sent >= GARP_COUNT, `microarp_garps_sent_total +${sent}`);
    assert.ok(injected >= GARP_COUNT, `injected +${injected}`);
    assert.match(topo.daemon.logs(), new RegExp(`"msg":"announced","ips":\\["${vmIp.replace(/\./g, '\\.')}"\\],"vlan":10,"mac":"${vmMac}","garps":${GARP_COUNT}`));

    assert.equal((await topo.binding()).port, 'vmA');
    assert.ok(topo.ping(2), 'the peer reaches the VM back on A');
  });
});

describe('a MAC that flaps between ports is frozen', () => {
  const FREEZE_MOVES = 3;
  const topo = migrationTopology({ freeze_moves: FREEZE_MOVES, freeze_window_seconds: 60, freeze_seconds: 120, garp_count: 1 });
  const { vmMac, vmA, vmB } = topo;
  let events: EventStream;

  before(async () => {
    await topo.setUp();
    assert.ok(topo.ping(), 'the peer reaches the VM on A');
    await topo.waitFdbPort('vmA');
    events = await new EventStream().open(topo.api);
  });

  after(async () => {
    events?.close();
    await topo.tearDown();
  });

  it(`after ${FREEZE_MOVES} moves in the window the MAC is pinned and a further move does not move it`, async () => {
    const homes = [vmA, vmB];
    const names = ['vmA', 'vmB'];
    // Moves 1..FREEZE_MOVES: A→B, B→A, A→B; each waits for the FDB to follow.
    let at = 0;
    for (let move = 1; move <= FREEZE_MOVES; move++) {
      const to = 1 - at;
      topo.move(homes[at]!, homes[to]!);
      await topo.waitFdbPort(names[to]!);
      at = to;
    }
    const frozen = await events.wait('frozen', 0, (e) => e.type === 'frozen' && e.mac === vmMac);
    assert.equal(frozen.port, names[at]);
    assert.equal(frozen.ip, topo.vmIp);
    assert.equal(frozen.vlan, 10);
    assert.ok((frozen.moves as number) >= FREEZE_MOVES);
    assert.equal(events.events.filter((e) => e.type === 'moved' && e.mac === vmMac).length, FREEZE_MOVES);
    assert.match(topo.daemon.logs(), new RegExp(`"msg":"frozen","ip":"${topo.vmIp.replace(/\./g, '\\.')}","vlan":10,"mac":"${vmMac}","port":"${names[at]}"`));
    const pinned = await waitFor('the static pin', async () => {
      const e = await topo.fdbEntry();
      return e?.static ? e : undefined;
    });
    assert.equal(pinned.port, names[at]);

    // One more flap: the VM's kernel announces itself from the other port, which is ignored.
    const mark = events.events.length;
    topo.move(homes[at]!, homes[1 - at]!);
    await sleep(1000);
    const later = await topo.fdbEntry();
    assert.ok(later);
    assert.equal(later.port, names[at], 'the MAC stays on the port it was frozen on');
    assert.equal(later.static, true);
    assert.equal(events.find(mark, (e) => e.type === 'moved' && e.mac === vmMac), undefined, 'no further move');
    assert.equal((await topo.binding()).port, names[at]);
    assert.equal(events.events.filter((e) => e.type === 'frozen').length, 1);
  });
});

describe('a VM replaced by another claiming its IP, or an impostor', () => {
  const PROBE_MS = 400;
  const dir = new TempDir();
  // Port a: the VM that goes away; b: the new VM (and the impostor); c: an observer that also
  // owns 10.0.20.3; d: a VM replaced on the same port.
  const vmA = new NetnsPeer('10.0.20.7/24');
  const vmB = new NetnsPeer('10.0.20.7/24');
  const vmC = new NetnsPeer('10.0.20.3/24');
  const vmD = new NetnsPeer('10.0.20.8/24');
  const vms = [vmA, vmB, vmC, vmD];
  let daemon: LiveDaemon;
  let api: ApiClient;
  let events: EventStream;

  const binding = async (ip: string): Promise<BindingBody | undefined> => {
    const r = await api.call('GET', `/v1/bindings/${ip}`);
    return r.status === 200 ? (r.body as BindingBody) : undefined;
  };
  const garp = (vm: NetnsPeer, ip: string): void => {
    vm.exec('arping', ['-c', '1', '-w', '0.1', '-U', '-S', ip, '-i', vm.peerIf, ip]);
  };
  const learn = async (vm: NetnsPeer, ip: string, port: string): Promise<BindingBody> => {
    garp(vm, ip);
    const b = await waitFor(`${ip} learned`, () => binding(ip));
    assert.equal(b.mac, vm.mac());
    assert.equal(b.source, 'learned');
    assert.equal(b.port, port);
    return b;
  };
  /** The conflict for `ip` from index `from`, and what ended it. */
  const outcome = async (from: number, ip: string, type: 'replaced' | 'claim_refused'): Promise<{ conflict: MicroarpEvent; end: MicroarpEvent }> => {
    const conflict = await events.wait(`conflict for ${ip}`, from, (e) => e.type === 'conflict' && e.ip === ip);
    const end = await events.wait(`${type} for ${ip}`, from, (e) => e.type === type && e.ip === ip, PROBE_MS + 5000);
    return { conflict, end };
  };

  before(async () => {
    for (const vm of vms) vm.create();
    vmB.link(false); // the new VM is not there yet
    daemon = await startDaemon(dir, {
      ports: vms.map((vm, i) => ({ name: 'abcd'[i], device: `net_af_packet${i},iface=${vm.hostIf}` })),
      table: { capacity: 1024 },
      learning: { enabled: true },
      migration: { conflict_probe_ms: PROBE_MS },
    });
    api = new ApiClient({ socket: daemon.socket });
    events = await new EventStream().open(api);
  });

  after(async () => {
    events?.close();
    if (daemon) assert.equal((await daemon.stop()).code, 0);
    for (const vm of vms) vm.remove();
    dir.remove();
  });

  it('a silent owner: the new VM on another port gets the IP after conflict_probe_ms', async () => {
    const ip = '10.0.20.7';
    await learn(vmA, ip, 'a');
    // A's VM is gone; a new one (another MAC) comes up on b and claims the address.
    vmA.link(false);
    vmB.link(true);
    const mark = events.events.length;
    garp(vmB, ip);
    const violation = await events.wait('violation', mark, (e) => e.type === 'violation' && e.ip === ip);
    assert.equal(violation.reason, 'spoofed_binding');
    assert.equal(violation.port, 'b');
    assert.equal(violation.mac, vmB.mac());
    assert.equal(violation.dropped, true, 'ARP inspection drops the claim (enforce)');
    const { conflict, end } = await outcome(mark, ip, 'replaced');
    assert.equal(conflict.owner, vmA.mac());
    assert.equal(conflict.claimed_by, vmB.mac());
    assert.equal(end.mac, vmB.mac());
    assert.equal(end.port, 'b');
    const waited = Date.parse(end.time) - Date.parse(conflict.time);
    assert.ok(waited >= PROBE_MS - 1, `replaced after ${waited} ms, before conflict_probe_ms`);
    const b = await binding(ip);
    assert.equal(b?.mac, vmB.mac());
    assert.equal(b.port, 'b');
    assert.equal(b.source, 'learned');
    assert.equal(events.find(mark, (e) => e.type === 'claim_refused' && e.ip === ip), undefined);
    // A third VM asking for the address now gets the new VM's MAC, answered by microarp.
    vmC.exec('ip', ['neigh', 'flush', 'dev', vmC.peerIf]);
    const r = vmC.exec('arping', ['-c', '1', '-w', '2', '-i', vmC.peerIf, ip]);
    assert.match(r.stdout, new RegExp(`from ${vmB.mac()} \\(${ip.replace(/\./g, '\\.')}\\)`), r.stdout);
    assert.equal(vmC.exec('ping', ['-c', '1', '-W', '1', ip]).status, 0, 'and reaches it');
  });

  it('a silent owner: a new VM on the same port (another MAC) gets the IP', async () => {
    const ip = '10.0.20.8';
    const oldMac = vmD.mac();
    await learn(vmD, ip, 'd');
    // The VM behind port d is replaced by one with another MAC and the same address.
    const newMac = randomMac();
    vmD.link(false);
    vmD.setMac(newMac);
    vmD.link(true);
    const mark = events.events.length;
    garp(vmD, ip);
    const { conflict, end } = await outcome(mark, ip, 'replaced');
    assert.equal(conflict.owner, oldMac);
    assert.equal(conflict.claimed_by, newMac);
    assert.equal(end.mac, newMac);
    assert.equal(end.port, 'd');
    assert.ok(Date.parse(end.time) - Date.parse(conflict.time) >= PROBE_MS - 1);
    const b = await binding(ip);
    assert.equal(b?.mac, newMac);
    assert.equal(b.port, 'd');
  });

  it('a live owner: the claim is refused and the binding stays', async () => {
    const ip = '10.0.20.3';
    const before = await learn(vmC, ip, 'c');
    // vmB (up since the first test) claims vmC's address while vmC is alive.
    const mark = events.events.length;
    garp(vmB, ip);
    const { conflict, end } = await outcome(mark, ip, 'claim_refused');
    assert.equal(conflict.owner, vmC.mac());
    assert.equal(conflict.claimed_by, vmB.mac());
    assert.equal(end.reason, 'the owner answered our probe');
    assert.equal(end.owner, vmC.mac());
    assert.equal(end.claimed_by, vmB.mac());
    assert.equal(end.port, 'b');
    await sleep(PROBE_MS + 300);
    assert.equal(events.find(mark, (e) => e.type === 'replaced' && e.ip === ip), undefined, 'not replaced');
    const b = await binding(ip);
    assert.equal(b?.mac, before.mac);
    assert.equal(b.port, 'c');
    assert.match(daemon.logs(), new RegExp(`"msg":"claim refused","ip":"${ip.replace(/\./g, '\\.')}"[^\\n]*"reason":"the owner answered our probe"`));
  });
});
