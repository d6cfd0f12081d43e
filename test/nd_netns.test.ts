// IPv6 Neighbor Discovery with Linux kernels as the hosts (issue 12): VMs A, B and C, each in
// its own network namespace with IPv6 on, on three microarp ports; an attacker M that forges ND
// with scapy (test/fixtures/forge_nd.py) on an untrusted port; and R, a port marked
// `router: true`, whose router advertisements RA guard lets in. A and B have static IPv6
// bindings for their real MACs; the VMs have no link-local addresses (NetnsPeer's ipv6 option),
// so that every ND frame on the segment is one a test caused.
import { readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client';
import { REPO, TempDir } from './helpers/daemon';
import { startDaemonRetrying, type LiveDaemon } from './helpers/live_daemon';
import { addAddress6, neigh6, NetnsPeer } from './helpers/netns';
import { captureAll, received, type CapturedFrame } from './helpers/capture';
import { forgeNdSession, type ForgedNd } from './helpers/forge';
import { sleep, waitFor } from './helpers/wait';

const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const FORGE_ND = join(REPO, 'test/fixtures/forge_nd.py');

const A6 = '2001:db8:60::1';
const B6 = '2001:db8:60::2';
/** Bound to C's own MAC: C's duplicate address detection for it succeeds. */
const C_OWN = '2001:db8:60::3';
/** Bound (through the API) to A's MAC: C's duplicate address detection for it fails. */
const TAKEN = '2001:db8:60::10';
/** Bound to nobody and outside the learning subnet: C's duplicate address detection for it succeeds. */
const FREE = '2001:db8:60::130';
/** Learning takes addresses from here only (FREE stays unbound when C uses it). */
const LEARNING_SUBNET = '2001:db8:60::/120';
/** C's, learned from C's own advertisement. */
const LEARNED = '2001:db8:60::31';
const UNBOUND = '2001:db8:60::99';
/** Outside LEARNING_SUBNET and bound to nobody: what the attacker floods advertisements for. */
const FLOODED = '2001:db8:60::f10';
/** Outside LEARNING_SUBNET: bound through the API to the attacker's MAC, then to another. */
const CHANGED = '2001:db8:60::f20';
/** A gateway binding marked router: its advertisements carry R. */
const GW6 = '2001:db8:60::fe';
const GW_MAC = '02:00:5e:60:00:fe';
const ALL_NODES_MAC = '33:33:00:00:00:01';
const NS = 135;
const NA = 136;
const RA = 134;
const [R_FLAG, S_FLAG, O_FLAG] = [0x80, 0x40, 0x20];

interface Stats {
  counters: Record<string, number>;
  drops: Record<string, number>;
  violations: Record<string, number>;
}

/** Sends the frames from `vm`'s interface with one start of scapy. */
function forgeNd(vm: NetnsPeer, frames: ForgedNd[]): void {
  const r = spawnSync('ip', ['netns', 'exec', vm.ns, PYTHON, FORGE_ND, vm.peerIf, '--stdin'], {
    input: frames.map((f) => JSON.stringify(f)).join('\n') + '\n',
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(r.status, 0, `forge_nd.py failed: ${r.stderr}`);
  assert.equal(r.stdout.trim().split('\n').length, frames.length, `forge_nd.py sent: ${r.stdout}`);
}

/** `ip -6 addr show` for one address: its line (flags included), or undefined. */
function addressLine(vm: NetnsPeer, ip: string): string | undefined {
  const out = vm.exec('ip', ['-6', 'addr', 'show', 'dev', vm.peerIf]).stdout;
  return out.split('\n').find((l) => l.includes(`inet6 ${ip}/`));
}

/** What reached each VM while `during` ran. */
const captureOn = (vms: NetnsPeer[], during: () => Promise<void> | void): Promise<CapturedFrame[][]> => captureAll(vms.map(received), during);

const solicitationsFor = (frames: CapturedFrame[], target: string): CapturedFrame[] =>
  frames.filter((f) => f.icmp6_type === NS && f.nd_target === target);

describe('IPv6 Neighbor Discovery with Linux VMs as the hosts', () => {
  const dir = new TempDir();
  const A = new NetnsPeer('10.0.60.1/24', { ipv6: true });
  const B = new NetnsPeer('10.0.60.2/24', { ipv6: true });
  const C = new NetnsPeer('10.0.60.3/24', { ipv6: true });
  const M = new NetnsPeer('10.0.60.66/24'); // the attacker: scapy needs no IPv6 of its kernel
  const R = new NetnsPeer('10.0.60.77/24'); // behind the router port
  const vms = { A, B, C, M, R };
  let daemon: LiveDaemon | undefined;
  let api: ApiClient;

  const stats = async (): Promise<Stats> => (await api.call('GET', '/v1/stats')).body as Stats;
  const delta = (now: Stats, was: Stats, group: keyof Stats, name: string): number => {
    assert.equal(typeof now[group][name], 'number', `${group}.${name} in /v1/stats`);
    return now[group][name]! - was[group][name]!;
  };

  before(async () => {
    for (const vm of Object.values(vms)) vm.create();
    addAddress6(A, A6, false);
    addAddress6(B, B6, false);
    daemon = await startDaemonRetrying(dir, {
      ports: Object.entries(vms).map(([name, vm], i) => ({
        name,
        device: `net_af_packet${i},iface=${vm.hostIf}`,
        ...(name === 'R' ? { router: true } : {}),
      })),
      table: { capacity: 1024 },
      learning: { subnets: { '0': [LEARNING_SUBNET] } },
      bindings: [
        { ip: A6, mac: A.mac() },
        { ip: B6, mac: B.mac() },
        { ip: C_OWN, mac: C.mac() },
        { ip: GW6, mac: GW_MAC, router: true },
      ],
    });
    api = new ApiClient({ socket: daemon.socket });
  });

  after(async () => {
    try {
      if (daemon) assert.equal((await daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const vm of Object.values(vms)) vm.remove();
      dir.remove();
    }
  });

  it("ndisc6 from A gets B's MAC in microarp's advertisement; neither B nor C sees the solicitation", async () => {
    const was = await stats();
    let out = '';
    const [onA, onB, onC] = await captureOn([A, B, C], () => {
      const r = A.exec('ndisc6', ['-1', '-n', '-q', '-r', '3', '-w', '1000', B6, A.peerIf]);
      assert.equal(r.status, 0, `ndisc6 ${B6}: ${r.stdout}${r.stderr}`);
      out = r.stdout.trim();
    });
    assert.equal(out.toLowerCase(), B.mac(), "ndisc6 printed B's MAC");
    const now = await stats();
    assert.ok(delta(now, was, 'counters', 'nd_answers') >= 1, 'microarp answered');
    assert.deepEqual(solicitationsFor(onB!, B6), [], 'B never received the solicitation for its address');
    assert.deepEqual(solicitationsFor(onC!, B6), [], 'C never saw the solicitation for a bound target');

    const answers = onA!.filter((f) => f.icmp6_type === NA && f.nd_target === B6);
    assert.ok(answers.length >= 1, `A received the advertisement: ${JSON.stringify(onA)}`);
    for (const na of answers) {
      assert.deepEqual(
        { dst: na.dst, src: na.src, ip6_src: na.ip6_src, ip6_dst: na.ip6_dst, hlim: na.ip6_hlim, flags: na.nd_flags },
        { dst: A.mac(), src: B.mac(), ip6_src: B6, ip6_dst: A6, hlim: 255, flags: S_FLAG | O_FLAG },
        'a solicited, overriding advertisement from the target to the solicitor, R clear',
      );
    }

    // A binding marked router: the same answer with R set.
    const [toA] = await captureOn([A], () => {
      const r = A.exec('ndisc6', ['-1', '-n', '-q', '-r', '3', '-w', '1000', GW6, A.peerIf]);
      assert.equal(r.stdout.trim().toLowerCase(), GW_MAC, `ndisc6 ${GW6}: ${r.stdout}${r.stderr}`);
    });
    const gw = toA!.filter((f) => f.icmp6_type === NA && f.nd_target === GW6);
    assert.ok(gw.length >= 1 && gw.every((f) => f.nd_flags === (R_FLAG | S_FLAG | O_FLAG)), `R, S and O set: ${JSON.stringify(gw)}`);
  });

  it('a solicitation for an unbound target is flooded (C sees it) and nobody answers', async () => {
    const was = await stats();
    const [onC] = await captureOn([C], () => {
      const r = A.exec('ndisc6', ['-1', '-n', '-q', '-r', '1', '-w', '500', UNBOUND, A.peerIf]);
      assert.notEqual(r.status, 0, `no answer for ${UNBOUND}: ${r.stdout}`);
    });
    const now = await stats();
    assert.ok(delta(now, was, 'counters', 'nd_unbound') >= 1, 'counted as unbound');
    assert.equal(delta(now, was, 'counters', 'nd_answers'), 0, 'not answered');
    assert.ok(solicitationsFor(onC!, UNBOUND).length >= 1, `C's capture sees a flooded solicitation: ${JSON.stringify(onC)}`);
  });

  it("ping -6 from A to B works, and both kernels' neighbour entries hold the bound MACs resolved by microarp", async () => {
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
    B.exec('ip', ['-6', 'neigh', 'flush', 'dev', B.peerIf]);
    const was = await stats();
    const [onB, onC] = await captureOn([B, C], () => {
      const r = A.exec('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', B6]);
      assert.equal(r.status, 0, `ping -6 ${B6}: ${r.stdout}${r.stderr}`);
    });
    const now = await stats();
    const onA = neigh6(A, B6);
    assert.equal(onA.mac, B.mac(), `A's neighbour entry for B: ${onA.line}`);
    assert.match(onA.state ?? '', /^(REACHABLE|STALE|DELAY|PROBE)$/, onA.line);
    const onBEntry = neigh6(B, A6);
    assert.equal(onBEntry.mac, A.mac(), `B's neighbour entry for A: ${onBEntry.line}`);
    assert.ok(delta(now, was, 'counters', 'nd_answers') >= 2, "microarp answered A's and B's solicitations");
    assert.deepEqual(solicitationsFor(onB!, B6), [], 'B never received a solicitation for its address');
    assert.deepEqual([...solicitationsFor(onC!, B6), ...solicitationsFor(onC!, A6)], [], 'C saw neither solicitation');
  });

  it('duplicate address detection in C fails for an address bound to A, and succeeds for its own and for an unbound one', async () => {
    const put = await api.call('PUT', `/v1/bindings/${TAKEN}`, { mac: A.mac() });
    assert.ok(put.status < 300, `PUT ${TAKEN}: ${put.status} ${JSON.stringify(put.body)}`);
    const was = await stats();
    const settled = (ip: string): boolean => !/tentative/.test(addressLine(C, ip) ?? 'tentative') || /dadfailed/.test(addressLine(C, ip)!);
    const [onA, onC] = await captureOn([A, C], async () => {
      for (const ip of [TAKEN, C_OWN, FREE]) addAddress6(C, ip, true);
      // The kernel waits up to a second (rtr_solicit_delay), solicits once, then a second more.
      await waitFor('C to finish duplicate address detection', () => [TAKEN, C_OWN, FREE].every(settled), 6000, 100);
    });
    const now = await stats();
    assert.match(addressLine(C, TAKEN)!, /dadfailed/, `C's address ${TAKEN}: ${addressLine(C, TAKEN)}`);
    for (const ip of [C_OWN, FREE]) {
      assert.doesNotMatch(addressLine(C, ip)!, /tentative|dadfailed/, `C's address ${ip}: ${addressLine(C, ip)}`);
    }
    assert.ok(delta(now, was, 'counters', 'nd_dad_solicitations') >= 3, 'three DAD solicitations seen');
    assert.ok(delta(now, was, 'counters', 'nd_dad_defended') >= 1, 'the taken address defended');
    assert.ok(delta(now, was, 'counters', 'nd_own_address') >= 1, "C's own binding left unanswered");
    assert.ok(delta(now, was, 'counters', 'nd_unbound') >= 1, 'the unbound one left unanswered');

    const defence = onC!.filter((f) => f.icmp6_type === NA && f.nd_target === TAKEN);
    assert.ok(defence.length >= 1, `C received the defending advertisement: ${JSON.stringify(onC)}`);
    for (const na of defence) {
      assert.deepEqual(
        { dst: na.dst, src: na.src, ip6_src: na.ip6_src, ip6_dst: na.ip6_dst, hlim: na.ip6_hlim, flags: na.nd_flags },
        { dst: ALL_NODES_MAC, src: A.mac(), ip6_src: TAKEN, ip6_dst: 'ff02::1', hlim: 255, flags: O_FLAG },
        'an advertisement to all nodes from the owner, override set, solicited clear',
      );
    }
    assert.deepEqual(solicitationsFor(onA!, TAKEN), [], "the DAD solicitation for A's address never reached A");
    assert.ok(solicitationsFor(onA!, FREE).length >= 1, 'the one for an unbound address was flooded');
    assert.ok(solicitationsFor(onA!, C_OWN).length >= 1, "the one for C's own binding was passed on");
  });

  it("a forged advertisement claiming B's address with the attacker's MAC is dropped; A keeps B's MAC", async () => {
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
    assert.equal(A.exec('ping', ['-6', '-c', '1', '-W', '2', B6]).status, 0, 'A pings B');
    assert.equal(neigh6(A, B6).mac, B.mac());
    const m = M.mac();
    const forged: ForgedNd[] = [
      { kind: 'na', src: m, dst: A.mac(), ip6_src: B6, ip6_dst: A6, target: B6, flags: 'SO', lladdr: m },
      { kind: 'na', src: m, ip6_src: B6, target: B6, flags: 'O', lladdr: m }, // to all nodes
    ];
    const was = await stats();
    const [onA] = await captureOn([A], async () => {
      forgeNd(M, forged);
      await waitFor('two nd_spoofed_binding violations', async () => delta(await stats(), was, 'violations', 'nd_spoofed_binding') >= 2, 3000);
      await sleep(100);
    });
    const now = await stats();
    assert.equal(delta(now, was, 'violations', 'nd_spoofed_binding'), 2, 'each forged advertisement is a violation');
    assert.equal(delta(now, was, 'drops', 'nd_inspection'), 2, 'each is dropped');
    assert.equal(delta(now, was, 'violations', 'nd_lladdr_mismatch'), 0);
    assert.deepEqual(onA!.filter((f) => f.src === m), [], 'no forged frame reached A');
    const entry = neigh6(A, B6);
    assert.equal(entry.mac, B.mac(), `A's neighbour entry for B still holds B's MAC: ${entry.line}`);
    assert.equal(A.exec('ping', ['-6', '-c', '1', '-W', '2', B6]).status, 0, 'A still reaches B');
  });

  it('the same forged advertisement for an address nobody binds does reach A and overwrites its entry (what inspection prevents)', async () => {
    // FREE is C's (the DAD test gave it to C) and unbound: A resolves it from C itself.
    if (!addressLine(C, FREE)) addAddress6(C, FREE, false);
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
    assert.equal(A.exec('ping', ['-6', '-c', '1', '-W', '2', FREE]).status, 0, `A pings ${FREE} on C`);
    assert.equal(neigh6(A, FREE).mac, C.mac(), "A's entry holds C's MAC");
    const m = M.mac();
    const was = await stats();
    forgeNd(M, [{ kind: 'na', src: m, dst: A.mac(), ip6_src: FREE, ip6_dst: A6, target: FREE, flags: 'SO', lladdr: m }]);
    await waitFor("A's entry to hold the attacker's MAC", () => neigh6(A, FREE).mac === m, 3000, 50);
    const now = await stats();
    assert.equal(delta(now, was, 'violations', 'nd_spoofed_binding'), 0, 'no binding, no violation');
    assert.equal(delta(now, was, 'drops', 'nd_inspection'), 0);
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
  });

  it("an address learned from C's own advertisement is protected like a bound one", async () => {
    if (!addressLine(C, LEARNED)) addAddress6(C, LEARNED, false);
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
    // A's solicitation is flooded (unbound); C's solicited advertisement carries its MAC.
    assert.equal(A.exec('ping', ['-6', '-c', '1', '-W', '2', LEARNED]).status, 0, `A pings ${LEARNED} on C`);
    await waitFor(`${LEARNED} learned`, async () => {
      const r = await api.call('GET', `/v1/bindings/${encodeURIComponent(LEARNED)}`);
      const b = r.body as { mac?: string; source?: string };
      return r.status === 200 && b.mac === C.mac() && b.source === 'learned';
    }, 3000, 50);
    const was = await stats();
    const m = M.mac();
    forgeNd(M, [{ kind: 'na', src: m, dst: A.mac(), ip6_src: LEARNED, ip6_dst: A6, target: LEARNED, flags: 'SO', lladdr: m }]);
    await waitFor('the forged advertisement counted', async () => delta(await stats(), was, 'violations', 'nd_spoofed_binding') === 1, 3000, 50);
    assert.equal(neigh6(A, LEARNED).mac, C.mac(), "A's entry still holds C's MAC");
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
  });

  it("a rogue router advertisement is dropped (RA guard); the same from the port marked router reaches A", async () => {
    const r = A.exec('sysctl', ['-qw', `net.ipv6.conf.${A.peerIf}.accept_ra=1`]);
    assert.equal(r.status, 0, r.stderr);
    const defaultRoute = (): string => A.exec('ip', ['-6', 'route', 'show', 'default', 'dev', A.peerIf]).stdout.trim();
    const slaac = (prefix: string): string | undefined =>
      A.exec('ip', ['-6', 'addr', 'show', 'dev', A.peerIf]).stdout.split('\n').find((l) => l.includes(`inet6 ${prefix}`));
    assert.equal(defaultRoute(), '', 'A starts without a default route');

    const rogue: ForgedNd = { kind: 'ra', src: M.mac(), ip6_src: 'fe80::66', prefix: '2001:db8:bad::/64' };
    const was = await stats();
    const [onA] = await captureOn([A], async () => {
      forgeNd(M, [rogue]);
      await waitFor('an ra_guard violation', async () => delta(await stats(), was, 'violations', 'ra_guard') >= 1, 3000);
      await sleep(300);
    });
    let now = await stats();
    assert.equal(delta(now, was, 'violations', 'ra_guard'), 1, 'the rogue advertisement is an ra_guard violation');
    assert.equal(delta(now, was, 'drops', 'nd_inspection'), 1, 'and is dropped');
    assert.deepEqual(onA!.filter((f) => f.icmp6_type === RA), [], 'no advertisement reached A');
    assert.equal(defaultRoute(), '', 'A got no default route from it');
    assert.equal(slaac('2001:db8:bad:'), undefined, 'nor an address');

    const legit: ForgedNd = { kind: 'ra', src: R.mac(), ip6_src: 'fe80::77', prefix: '2001:db8:600::/64' };
    const before = await stats();
    forgeNd(R, [legit]);
    await waitFor("microarp to see the router port's advertisement", async () => delta(await stats(), before, 'counters', 'nd_router_messages') >= 1, 3000);
    now = await stats();
    assert.equal(delta(now, before, 'violations', 'ra_guard'), 0, 'RA guard lets the port marked router in');
    assert.equal(delta(now, before, 'drops', 'nd_inspection'), 0);
    const route = await waitFor('A to take a default route from the router port', () => defaultRoute() || undefined, 3000, 50);
    assert.match(route, /via fe80::77/, route);
    await waitFor('A to configure an address from the advertised prefix', () => slaac('2001:db8:600:'), 3000, 50);
  });

  it("a binding changed under an address the workers have just checked: the very next advertisement is judged by the new binding", async () => {
    const m = M.mac();
    const claim: ForgedNd = { kind: 'na', src: m, ip6_src: CHANGED, target: CHANGED, flags: 'O', lladdr: m };
    const forger = forgeNdSession(M);
    const path = `/v1/bindings/${encodeURIComponent(CHANGED)}`;
    try {
      for (let round = 0; round < 3; round++) {
        assert.ok((await api.call('PUT', path, { mac: m })).status < 300, 'bound to the attacker itself');
        const was = await stats();
        await forger.send(claim);
        await waitFor('the first advertisement seen', async () => delta(await stats(), was, 'counters', 'nd_advertisements') === 1, 3000, 20);
        await forger.send({ ...claim, count: 3 });
        await waitFor('the repeats seen', async () => delta(await stats(), was, 'counters', 'nd_advertisements') === 4, 3000, 20);
        let now = await stats();
        assert.equal(delta(now, was, 'violations', 'nd_spoofed_binding'), 0, "the attacker's own binding: no violation");
        // Resolves once no worker can answer from the old binding any more.
        assert.equal((await api.call('PUT', path, { mac: GW_MAC })).status, 200);
        const changed = await stats();
        await forger.send(claim);
        await waitFor('the first advertisement after the change counted as spoofed', async () => delta(await stats(), changed, 'violations', 'nd_spoofed_binding') === 1, 3000, 20);
        now = await stats();
        assert.equal(delta(now, changed, 'drops', 'nd_inspection'), 1, 'and dropped');
      }
    } finally {
      await forger.close();
      await api.call('DELETE', path);
    }
  });

  it("nd_rate set by a live reload limits the attacker's ND and nothing else; reloaded away, it limits nothing", async () => {
    // 100 advertisements at once for an address outside learning.subnets (not learned, bound to
    // nobody: they pass inspection), while A's own ND keeps working.
    const flood: ForgedNd = { kind: 'na', src: M.mac(), ip6_src: FLOODED, target: FLOODED, flags: 'O', count: 100 };
    const file = JSON.parse(readFileSync(daemon!.file, 'utf8')) as { ports: Record<string, unknown>[] };
    const reloadWith = async (ndRate: unknown): Promise<string[]> => {
      file.ports.find((p) => p.name === 'M')!.nd_rate = ndRate;
      writeFileSync(daemon!.file, JSON.stringify(file));
      const r = await api.call('POST', '/v1/reload');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body as { applied: string[] }).applied;
    };
    const seenAll = (was: Stats) => async (): Promise<boolean> => delta(await stats(), was, 'counters', 'nd_advertisements') >= 100;

    assert.deepEqual(await reloadWith({ pps: 10, burst: 10 }), ['ports.M.nd_rate: {"pps":0,"burst":0} -> {"pps":10,"burst":10}']);
    let was = await stats();
    forgeNd(M, [flood]);
    await waitFor('the 100 advertisements to reach microarp', seenAll(was), 5000, 50);
    let now = await stats();
    const limited = delta(now, was, 'violations', 'nd_rate_limited');
    // The burst of 10, plus 10 a second for as long as scapy takes to send them.
    assert.ok(limited >= 70 && limited <= 90, `100 advertisements at 10/s with a burst of 10: ${limited} over the rate`);
    assert.equal(delta(now, was, 'drops', 'nd_inspection'), limited, 'each dropped');
    A.exec('ip', ['-6', 'neigh', 'flush', 'dev', A.peerIf]);
    assert.equal(A.exec('ping', ['-6', '-c', '1', '-W', '2', B6]).status, 0, "A's port has no limit: A still resolves and reaches B");

    await reloadWith('off');
    was = await stats();
    forgeNd(M, [flood]);
    await waitFor('the 100 advertisements to reach microarp', seenAll(was), 5000, 50);
    now = await stats();
    assert.equal(delta(now, was, 'violations', 'nd_rate_limited'), 0, 'no limit once it is gone from the file');
    assert.equal(delta(now, was, 'drops', 'nd_inspection'), 0);
  });
});
