// ARP inspection against a real attacker (issue 5): Linux VMs in network namespaces on
// microarp's ports, and an attacker namespace that forges ARP with scapy
// (test/fixtures/forge_arp.py). Every VM is in VLAN 10 and 10.0.10.0/24, with its binding in
// the config; learning stays on, so that a forged claim that got past inspection would show
// up as a new or changed binding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client';
import { REPO, TempDir } from './helpers/daemon';
import { startDaemonRetrying, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { capture } from './helpers/capture';
import { forgeSession, type ForgedArp } from './helpers/forge';
import { sleep, waitFor } from './helpers/wait';

const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const FORGE = join(REPO, 'test/fixtures/forge_arp.py');
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
/** A MAC no VM has: what forged frames claim as sender hardware address or Ethernet source. */
const FAKE_MAC = '02:00:5e:10:00:99';
const FAKE_SRC = '02:00:5e:10:00:98';
const VIOLATIONS = ['sha_mismatch', 'bad_sender_ip', 'reply_dst_mismatch', 'sender_outside_subnet', 'spoofed_binding', 'rate_limited'] as const;


interface Stats {
  counters: Record<string, number>;
  drops: Record<string, number>;
  violations: Record<string, number>;
}

interface ViolationEvent {
  type: string;
  reason: string;
  port: string;
  vlan: number;
  ip: string;
  mac: string;
  eth_src: string;
  dropped: boolean;
}

type Forgery = ForgedArp;


function forgeArgs(vm: NetnsPeer, f: Forgery): string[] {
  const args = [FORGE, vm.peerIf, '--op', f.op, '--src', f.src, '--sha', f.sha, '--spa', f.spa, '--tpa', f.tpa];
  if (f.dst) args.push('--dst', f.dst);
  if (f.tha) args.push('--tha', f.tha);
  if (f.count) args.push('--count', String(f.count));
  return args;
}

/** Sends forged ARP from `vm`'s interface; returns how long sending took. */
function forge(vm: NetnsPeer, f: Forgery): { sent: number; seconds: number } {
  const r = vm.exec(PYTHON, forgeArgs(vm, f));
  assert.equal(r.status, 0, `forge_arp.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { sent: number; seconds: number };
}



/** The control API's violation events, as they stream. */
async function subscribeViolations(api: ApiClient): Promise<{ events: ViolationEvent[]; close(): void }> {
  const res: IncomingMessage = await api.raw('GET', '/v1/events?type=violation');
  assert.equal(res.statusCode, 200);
  const events: ViolationEvent[] = [];
  createInterface({ input: res }).on('line', (l) => {
    const e = JSON.parse(l) as ViolationEvent;
    if (e.type === 'violation') events.push(e);
  });
  return { events, close: () => res.destroy() };
}

function logLines(daemon: LiveDaemon, msg: string): Record<string, unknown>[] {
  return daemon
    .logs()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Five forged frames, one per inspection reason but spoofed_binding; each claims an IP nobody has. */
function violationCases(attacker: NetnsPeer, peer: NetnsPeer, victim: NetnsPeer): { reason: string; frame: Forgery }[] {
  const a = attacker.mac();
  const p = peer.mac();
  return [
    // A reply whose ARP sender is not the Ethernet source.
    { reason: 'sha_mismatch', frame: { op: 'reply', src: a, dst: p, sha: FAKE_MAC, spa: '10.0.10.51', tha: p, tpa: '10.0.10.2' } },
    // A reply sent to the peer that says it answers the victim.
    { reason: 'reply_dst_mismatch', frame: { op: 'reply', src: a, dst: p, sha: a, spa: '10.0.10.52', tha: victim.mac(), tpa: '10.0.10.2' } },
    // A gratuitous claim from outside the port's allowed subnet.
    { reason: 'sender_outside_subnet', frame: { op: 'request', src: a, sha: a, spa: '10.0.20.5', tpa: '10.0.20.5' } },
    // Multicast and broadcast sender IPs (the request's target is unbound, so it is flooded).
    { reason: 'bad_sender_ip', frame: { op: 'request', src: a, sha: a, spa: '224.0.0.1', tpa: '10.0.10.99' } },
    { reason: 'bad_sender_ip', frame: { op: 'request', src: a, sha: a, spa: '255.255.255.255', tpa: '255.255.255.255' } },
  ];
}

/** The gratuitous ARP in which the attacker claims the victim's IP with its own MAC. */
function spoofedGarp(attacker: NetnsPeer, count = 1): Forgery {
  const a = attacker.mac();
  return { op: 'request', src: a, dst: BROADCAST, sha: a, spa: '10.0.10.1', tpa: '10.0.10.1', count };
}

/** The MACs that answered an arping (Debian's arping prints "60 bytes from MAC (IP)"; iputils' "[MAC]"). */
function arpingMacs(stdout: string): string[] {
  return [...stdout.matchAll(/(?:bytes from |\[)([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/g)].map((m) => m[1]!.toLowerCase());
}

function neighMac(vm: NetnsPeer, ip: string): string | undefined {
  const out = vm.exec('ip', ['neigh', 'show', ip, 'dev', vm.peerIf]).stdout;
  return /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
}

/** Pings the victim from `peer` so that its kernel holds a neighbour entry for it. */
function resolveVictim(peer: NetnsPeer, victim: NetnsPeer): void {
  peer.exec('ip', ['neigh', 'flush', 'dev', peer.peerIf]);
  assert.equal(peer.exec('ping', ['-c', '1', '-W', '2', '10.0.10.1']).status, 0, 'peer pings the victim');
  assert.equal(neighMac(peer, '10.0.10.1'), victim.mac(), "the peer's kernel resolved the victim");
}


function setup(enforce: 'enforce' | 'observe', names: string[], portExtras: Record<string, Record<string, unknown>>) {
  const ips: Record<string, string> = { victim: '10.0.10.1', peer: '10.0.10.2', attacker: '10.0.10.66', uplink: '10.0.10.77', flooder: '10.0.10.88' };
  const dir = new TempDir();
  const vms = new Map(names.map((n) => [n, new NetnsPeer(`${ips[n]}/24`)]));
  const state = { dir, vms, daemon: undefined as LiveDaemon | undefined, api: undefined as ApiClient | undefined };
  before(async () => {
    for (const vm of vms.values()) vm.create();
    state.daemon = await startDaemonRetrying(dir, {
      enforce,
      ports: names.map((n, i) => ({
        name: n,
        device: `net_af_packet${i},iface=${vms.get(n)!.hostIf}`,
        mode: 'access',
        vlan: 10,
        allowed_subnets: ['10.0.10.0/24'],
        ...portExtras[n],
      })),
      table: { capacity: 1024 },
      bindings: names.map((n) => ({ ip: ips[n], mac: vms.get(n)!.mac(), vlan: 10 })),
    });
    state.api = new ApiClient({ socket: state.daemon.socket });
  });
  after(async () => {
    try {
      if (state.daemon) assert.equal((await state.daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const vm of vms.values()) vm.remove();
      dir.remove();
    }
  });
  return state;
}

describe('ARP inspection (enforce) against a forging attacker', () => {
  const s = setup('enforce', ['victim', 'peer', 'attacker', 'uplink', 'flooder'], {
    uplink: { trusted: true },
    flooder: { arp_rate: { pps: 50, burst: 50 } },
  });
  const vm = (n: string): NetnsPeer => s.vms.get(n)!;
  const stats = async (): Promise<Stats> => (await s.api!.call('GET', '/v1/stats')).body as Stats;
  const binding = async (ip: string): Promise<{ status: number; mac?: string }> => {
    const r = await s.api!.call('GET', `/v1/bindings/${ip}?vlan=10`);
    return { status: r.status, mac: (r.body as { mac?: string }).mac };
  };

  it("a forged gratuitous ARP for the victim's IP is dropped, and the peer still resolves the victim", async () => {
    const [victim, peer, attacker] = [vm('victim'), vm('peer'), vm('attacker')];
    resolveVictim(peer, victim);
    const before = await stats();
    const frames = await capture(peer, async () => {
      forge(attacker, spoofedGarp(attacker, 3));
      await waitFor('3 spoofed_binding violations', async () => (await stats()).violations.spoofed_binding! - before.violations.spoofed_binding! >= 3);
    });
    const now = await stats();
    assert.equal(now.violations.spoofed_binding! - before.violations.spoofed_binding!, 3, 'each forged GARP is a spoofed_binding violation');
    assert.equal(now.drops.arp_inspection! - before.drops.arp_inspection!, 3, 'each is dropped');
    const claims = frames.filter((f) => f.src === attacker.mac() || (f.arp_spa === '10.0.10.1' && f.arp_sha !== victim.mac()));
    assert.deepEqual(claims, [], 'the forged GARP never reached the peer');

    assert.deepEqual(await binding('10.0.10.1'), { status: 200, mac: victim.mac() }, 'the binding is unchanged');
    assert.equal(neighMac(peer, '10.0.10.1'), victim.mac(), "the peer's neighbour entry still holds the victim's MAC");
    const arping = peer.exec('arping', ['-c', '2', '-w', '3', '-I', peer.peerIf, '10.0.10.1']);
    assert.equal(arping.status, 0, `arping answered: ${arping.stdout}`);
    const macs = arpingMacs(arping.stdout);
    assert.ok(macs.length >= 1 && macs.every((m) => m === victim.mac()), `arping got the victim's MAC only: ${arping.stdout}`);
    peer.exec('ip', ['neigh', 'flush', 'dev', peer.peerIf]);
    assert.equal(peer.exec('ping', ['-c', '1', '-W', '2', '10.0.10.1']).status, 0);
    assert.equal(neighMac(peer, '10.0.10.1'), victim.mac(), "the kernel's own resolution gives the victim's MAC");
  });

  it('each forged frame is counted under its reason, dropped, reported on /v1/events and logged; no binding changes', async () => {
    const [victim, peer, attacker] = [vm('victim'), vm('peer'), vm('attacker')];
    const cases = violationCases(attacker, peer, victim);
    const bindingsBefore = ((await s.api!.call('GET', '/v1/bindings?vlan=10')).body as { total: number }).total;
    const start = await stats();
    const sub = await subscribeViolations(s.api!);
    try {
      const frames = await capture(peer, async () => {
        for (const c of cases) {
          const before = await stats();
          forge(attacker, c.frame);
          await waitFor(`a ${c.reason} violation`, async () => (await stats()).violations[c.reason]! > before.violations[c.reason]!);
          await sleep(100);
          const now = await stats();
          for (const reason of VIOLATIONS) {
            assert.equal(now.violations[reason]! - before.violations[reason]!, reason === c.reason ? 1 : 0, `${c.frame.spa}: ${reason}`);
          }
          assert.equal(now.drops.arp_inspection! - before.drops.arp_inspection!, 1, `${c.reason} (${c.frame.spa}) dropped`);
        }
      });
      assert.deepEqual(frames.filter((f) => f.src === attacker.mac()), [], 'no forged frame reached the peer');
      const end = await stats();
      assert.equal(end.drops.arp_inspection! - start.drops.arp_inspection!, cases.length);

      await waitFor('one violation event per frame', () => sub.events.length >= cases.length);
      for (const c of cases) {
        const match = (e: { reason?: unknown; ip?: unknown }): boolean => e.reason === c.reason && e.ip === c.frame.spa;
        const event = sub.events.find(match);
        assert.ok(event, `a ${c.reason} event for ${c.frame.spa} on /v1/events`);
        assert.deepEqual(
          { port: event.port, vlan: event.vlan, ip: event.ip, mac: event.mac, reason: event.reason, eth_src: event.eth_src, dropped: event.dropped },
          { port: 'attacker', vlan: 10, ip: c.frame.spa, mac: c.frame.sha, reason: c.reason, eth_src: attacker.mac(), dropped: true },
        );
        const logged = logLines(s.daemon!, 'violation').find(match);
        assert.ok(logged, `a "violation" log line for ${c.reason} ${c.frame.spa}`);
        assert.equal(logged.level, 'warn');
        assert.deepEqual([logged.port, logged.vlan, logged.mac], ['attacker', 10, c.frame.sha]);
      }
    } finally {
      sub.close();
    }

    for (const c of cases) assert.equal((await binding(c.frame.spa)).status, 404, `nothing learned for ${c.frame.spa}`);
    assert.deepEqual(await binding('10.0.10.1'), { status: 200, mac: victim.mac() });
    assert.deepEqual(await binding('10.0.10.66'), { status: 200, mac: attacker.mac() });
    const bindingsAfter = ((await s.api!.call('GET', '/v1/bindings?vlan=10')).body as { total: number }).total;
    assert.equal(bindingsAfter, bindingsBefore, 'no binding added');
  });

  it('a trusted port is not inspected: the same forged reply passes there, and not from the attacker', async () => {
    const [peer, attacker, uplink] = [vm('peer'), vm('attacker'), vm('uplink')];
    const p = peer.mac();
    // Ethernet source differs from the ARP sender: sha_mismatch, from each port.
    const fromUplink: Forgery = { op: 'reply', src: FAKE_SRC, dst: p, sha: uplink.mac(), spa: '10.0.10.77', tha: p, tpa: '10.0.10.2' };
    const fromAttacker: Forgery = { ...fromUplink, sha: attacker.mac(), spa: '10.0.10.66' };
    const before = await stats();
    const frames = await capture(peer, async () => {
      forge(uplink, fromUplink);
      forge(attacker, fromAttacker);
      await waitFor('the attacker\'s sha_mismatch', async () => (await stats()).violations.sha_mismatch! > before.violations.sha_mismatch!);
    });
    const now = await stats();
    for (const reason of VIOLATIONS) {
      assert.equal(now.violations[reason]! - before.violations[reason]!, reason === 'sha_mismatch' ? 1 : 0, `${reason}: only the attacker's frame counted`);
    }
    assert.equal(now.drops.arp_inspection! - before.drops.arp_inspection!, 1, "only the attacker's frame dropped");
    const arrived = frames.filter((f) => f.src === FAKE_SRC && f.arp_op === 2);
    assert.deepEqual(arrived.map((f) => f.arp_spa), ['10.0.10.77'], "the trusted port's reply reached the peer, the attacker's did not");
  });

  /**
   * Floods from `flooder` (forge_arp.py with `extra` arguments) while sampling the ARP request
   * counter every 50 ms, so that the span over which microarp processed the flood is known to
   * within a sample each side, however loaded the machine.
   */
  const sampledFlood = async (flooder: NetnsPeer, extra: string[]) => {
    const f = flooder.mac();
    const frame: Forgery = { op: 'request', src: f, sha: f, spa: '10.0.10.88', tpa: '10.0.10.1' };
    const before = await stats();
    const child = spawn('ip', ['netns', 'exec', flooder.ns, PYTHON, ...forgeArgs(flooder, frame), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let running = true;
    void exited.then(() => (running = false));
    const samples: { t: number; requests: number }[] = [];
    const sample = async (): Promise<void> => {
      samples.push({ t: Date.now(), requests: (await stats()).counters.arp_requests! - before.counters.arp_requests! });
    };
    while (running) {
      await sample();
      await sleep(50);
    }
    assert.equal(await exited, 0, 'forge_arp.py ran');
    // Until the counter has been still for 300 ms: the worker has processed the whole flood.
    do {
      await sleep(50);
      await sample();
    } while (samples.length < 6 || samples[samples.length - 1]!.requests !== samples[samples.length - 7]?.requests);
    const now = await stats();
    const total = samples[samples.length - 1]!.requests;
    const firstSeen = samples.findIndex((x) => x.requests > 0);
    const allSeen = samples.findIndex((x) => x.requests === total);
    assert.ok(firstSeen > 0 && allSeen >= firstSeen, 'the flood began after the first sample');
    return {
      sent: JSON.parse(out.trim()) as { sent: number; seconds: number },
      total,
      limited: now.violations.rate_limited! - before.violations.rate_limited!,
      answered: now.counters.replies_sent! - before.counters.replies_sent!,
      dropped: now.drops.arp_inspection! - before.drops.arp_inspection!,
      /** Seconds between the first and the last request processed: at least, at most. */
      shortest: (samples[allSeen - 1]!.t - samples[firstSeen]!.t) / 1000,
      longest: (samples[allSeen]!.t - samples[firstSeen - 1]!.t) / 1000,
    };
  };

  it('an ARP flood over the port rate limit is cut to the rate, and the port keeps working', async () => {
    const [victim, flooder] = [vm('victim'), vm('flooder')];
    // Legitimate-looking requests (the flooder's own MAC and IP) for a bound target: what passes
    // the limit (pps 50, burst 50) is answered, the rest is rate_limited and dropped.
    const r = await sampledFlood(flooder, ['--count', '500']);
    assert.ok(r.sent.seconds < 0.5, `500 frames sent in ${r.sent.seconds}s`);
    assert.ok(r.total >= 490 && r.total <= 500, `the flood reached microarp: ${r.total} of 500 requests`);
    assert.equal(r.limited + r.answered, r.total, `rate_limited ${r.limited} + answered ${r.answered}`);
    // The burst of 50, plus what 50 pps refilled while the flood was processed.
    const admitted = { least: 50, most: 50 + Math.ceil(50 * r.longest) };
    assert.ok(
      r.answered >= admitted.least && r.answered <= admitted.most,
      `${r.answered} let through, expected ${admitted.least}-${admitted.most} (processed over at most ${r.longest.toFixed(2)} s)`,
    );
    assert.ok(r.limited >= r.total - admitted.most, `rate_limited ${r.limited}: roughly the excess over the burst`);
    assert.equal(r.dropped, r.limited, 'every rate-limited frame was dropped');

    await sleep(1200); // the bucket refills
    const before = (await stats()).violations.rate_limited!;
    const arping = flooder.exec('arping', ['-c', '2', '-w', '3', '-I', flooder.peerIf, '10.0.10.1']);
    assert.equal(arping.status, 0, `the flooder's port is answered again: ${arping.stdout}`);
    const macs = arpingMacs(arping.stdout);
    assert.ok(macs.length >= 1 && macs.every((m) => m === victim.mac()), `the victim's MAC: ${arping.stdout}`);
    assert.equal((await stats()).violations.rate_limited, before, 'no legitimate request was rate limited');
  });

  it('under a sustained flood the port still gets its configured rate, no less and no more', async () => {
    await sleep(1500); // idle for over a second: the bucket is full again (burst 50 = one second)
    const r = await sampledFlood(vm('flooder'), ['--seconds', '2.5']);
    assert.equal(r.limited + r.answered, r.total, 'every request was either rate limited or answered');
    assert.ok(r.total > 20000, `a real flood: ${r.total} requests of ${r.sent.sent} sent reached microarp`);
    const refilled = r.answered - 50; // beyond the full bucket it started with
    assert.ok(
      refilled >= Math.floor(50 * r.shortest) - 2 && refilled <= Math.ceil(50 * r.longest) + 2,
      `${refilled} requests let through beyond the burst while the flood lasted ${r.shortest.toFixed(2)}-${r.longest.toFixed(2)} s ` +
        `at 50 pps (${r.total} requests, ${r.limited} rate limited)`,
    );
  });

  // Each worker remembers the senders it checked (native/dp/source_cache.h) for as long as
  // neither table has changed. The frames below come milliseconds after each change, well
  // within the second a remembered check could otherwise outlive it.
  it('a binding changed under a sender it was checked for: the very next frame is judged by the new binding', async () => {
    const attacker = vm('attacker');
    const sender = forgeSession(attacker);
    try {
      const a = attacker.mac();
      const claim: Forgery = { op: 'request', src: a, sha: a, spa: '10.0.10.70', tpa: '10.0.10.2' };
      for (let round = 0; round < 3; round++) {
        assert.equal((await s.api!.call('PUT', '/v1/bindings/10.0.10.70', { mac: a, vlan: 10 })).status < 300, true);
        const was = await stats();
        const before = was.violations.spoofed_binding!;
        await sender.send({ ...claim, count: 5 });
        // All five judged before the binding changes (under load they can sit in the port's
        // ring for longer than any fixed pause).
        await waitFor('the five claims seen', async () => (await stats()).counters.arp_requests! >= was.counters.arp_requests! + 5, 3000, 20);
        assert.equal((await stats()).violations.spoofed_binding, before, "the sender's own binding: no violation");
        // Resolves once no worker can answer from the old binding any more.
        assert.equal((await s.api!.call('PUT', '/v1/bindings/10.0.10.70', { mac: FAKE_MAC, vlan: 10 })).status, 200);
        await sender.send({ ...claim, count: 1 });
        await waitFor('the first claim after the change counted as spoofed', async () => (await stats()).violations.spoofed_binding === before + 1, 3000);
      }
    } finally {
      sender.close();
      await s.api!.call('DELETE', '/v1/bindings/10.0.10.70?vlan=10');
    }
  });

  it('a MAC removed from the FDB is learned again from its very next frame', async () => {
    const attacker = vm('attacker');
    const sender = forgeSession(attacker);
    const a = attacker.mac();
    const onItsPort = async (): Promise<boolean> => {
      const entries = ((await s.api!.call('GET', `/v1/fdb?mac=${a}`)).body as { entries: { port: string }[] }).entries;
      return entries.length === 1 && entries[0]!.port === 'attacker';
    };
    try {
      for (let round = 0; round < 3; round++) {
        await sender.send({ op: 'request', src: a, sha: a, spa: '10.0.10.66', tpa: '10.0.10.2', count: 5 });
        await waitFor('the FDB to hold the attacker on its port', onItsPort, 3000);
        // 200: the dataplane's FDB no longer has it (the control side's copy follows its events).
        assert.equal((await s.api!.call('DELETE', `/v1/fdb/${a}?vlan=10`)).status, 200);
        assert.equal(await onItsPort(), false, 'the removal shows in /v1/fdb at once');
        await sender.send({ op: 'request', src: a, sha: a, spa: '10.0.10.66', tpa: '10.0.10.2', count: 1 });
        await waitFor('the one frame after the removal to put the attacker back in the FDB', onItsPort, 3000);
      }
    } finally {
      sender.close();
    }
  });
});

describe('ARP inspection in observe mode: counted, not dropped', () => {
  const s = setup('observe', ['victim', 'peer', 'attacker'], {});
  const vm = (n: string): NetnsPeer => s.vms.get(n)!;
  const stats = async (): Promise<Stats> => (await s.api!.call('GET', '/v1/stats')).body as Stats;

  it('the same forged frames are counted under the same reasons and all reach the peer', async () => {
    const [victim, peer, attacker] = [vm('victim'), vm('peer'), vm('attacker')];
    const cases = [{ reason: 'spoofed_binding', frame: spoofedGarp(attacker) }, ...violationCases(attacker, peer, victim)];
    resolveVictim(peer, victim);
    const sub = await subscribeViolations(s.api!);
    const before = await stats();
    try {
      const frames = await capture(peer, async () => {
        for (const c of cases) {
          const was = await stats();
          forge(attacker, c.frame);
          await waitFor(`a ${c.reason} violation`, async () => (await stats()).violations[c.reason]! > was.violations[c.reason]!);
          await sleep(100);
          const now = await stats();
          for (const reason of VIOLATIONS) {
            assert.equal(now.violations[reason]! - was.violations[reason]!, reason === c.reason ? 1 : 0, `${c.frame.spa}: ${reason}`);
          }
        }
      });
      const now = await stats();
      assert.equal(now.drops.arp_inspection, 0, 'observe mode drops nothing');
      for (const reason of VIOLATIONS) {
        const expected = cases.filter((c) => c.reason === reason).length;
        assert.equal(now.violations[reason]! - before.violations[reason]!, expected, `${reason} counted as in enforce mode`);
      }
      const forged = frames.filter((f) => f.src === attacker.mac() && f.type === 0x0806);
      assert.deepEqual(
        forged.map((f) => f.arp_spa),
        cases.map((c) => c.frame.spa),
        'every forged frame, the spoofed GARP included, reached the peer',
      );
      // What enforce mode prevents: the GARP overwrote the peer's neighbour entry for the victim.
      assert.equal(neighMac(peer, '10.0.10.1'), attacker.mac(), "the peer's ARP cache is poisoned");

      await waitFor('one violation event per frame', () => sub.events.length >= cases.length);
      for (const c of cases) {
        const e = sub.events.find((x) => x.reason === c.reason && x.ip === c.frame.spa);
        assert.ok(e, `${c.reason} event for ${c.frame.spa}`);
        assert.deepEqual([e.port, e.vlan, e.mac, e.dropped], ['attacker', 10, c.frame.sha, false]);
      }
    } finally {
      sub.close();
    }
    const victimBinding = await s.api!.call('GET', '/v1/bindings/10.0.10.1?vlan=10');
    assert.equal((victimBinding.body as { mac: string }).mac, victim.mac(), 'the configured binding stands');
    for (const c of cases.slice(1)) {
      const r = await s.api!.call('GET', `/v1/bindings/${c.frame.spa}?vlan=10`);
      assert.equal(r.status, 404, `${c.frame.spa}: a frame that failed inspection is let through in observe mode, never learned`);
    }
  });
});
