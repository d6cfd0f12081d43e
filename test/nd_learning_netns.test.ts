// IPv6 learning, aging and migration with Linux kernels as the hosts (issue 12): microarp
// learns a VM's address from its Neighbor Solicitation (source link-layer option) and from its
// unsolicited Neighbor Advertisement, only inside learning.subnets; keeps a learned binding
// whose owner answers the unicast NS probe sent before expiry, and ages out one whose owner is
// gone; and announces a VM that moves to another port with unsolicited NAs from its MAC, so
// that the other VMs reach it at its new port at once. The VMs have no link-local addresses
// (NetnsPeer's ipv6 option): every ND frame on the segment is one a test caused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ApiClient } from '../src/api/client';
import { TempDir } from './helpers/daemon';
import { startDaemonRetrying, type LiveDaemon } from './helpers/live_daemon';
import { addAddress6, neigh6, NetnsPeer } from './helpers/netns';
import { EventStream } from './helpers/event_stream';
import type { MicroarpEvent } from '../src/learning/event_hub';
import { captureAll, received, sent, type CapturedFrame } from './helpers/capture';
import { outageAround, startPing } from './helpers/ping';
import { sleep, waitFor } from './helpers/wait';

const NS = 135;
const NA = 136;
const [R_FLAG, S_FLAG, O_FLAG] = [0x80, 0x40, 0x20];
const ALL_NODES_MAC = '33:33:00:00:00:01';
/** learning.probe_mac, and its modified EUI-64 link-local address, the probes' source. */
const PROBE_MAC = '02:6d:61:72:70:01';
const PROBE_LINK_LOCAL = 'fe80::6d:61ff:fe72:7001';

interface BindingBody {
  ip: string;
  mac: string;
  vlan: number;
  source: string;
  port?: string;
  hits: number;
  moves: number;
}

interface FdbEntry {
  vlan: number;
  mac: string;
  port: string;
}

/** A locally administered unicast MAC, different on every run. */
const randomMac = (): string => ['02', ...Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, '0'))].join(':');

/** Succeeds when any of `count` echo requests is answered. */
function ping6(from: NetnsPeer, ip: string, count = 1): { ok: boolean; out: string } {
  const r = from.exec('ping', ['-6', '-c', String(count), '-i', '0.2', '-W', '1', ip]);
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}


/** The fields an ND test looks at, in one object for deepEqual. */
const ndFields = (f: CapturedFrame) => ({
  dst: f.dst, src: f.src, ip6_src: f.ip6_src, ip6_dst: f.ip6_dst, hlim: f.ip6_hlim, type: f.icmp6_type, target: f.nd_target, flags: f.nd_flags,
});

/** A metric's value (the sum of its series) from microarp's /metrics. */
async function metric(daemon: LiveDaemon, name: string): Promise<number> {
  const url = daemon.started.metrics;
  assert.ok(url, 'metrics are served');
  const text = await (await fetch(url)).text();
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  assert.ok(values.length > 0, `${name} is exported`);
  return values.reduce((a, b) => a + b, 0);
}

describe('IPv6 learning and aging with Linux VMs as the hosts', () => {
  const SUBNET = '2001:db8:61::/64';
  const A6 = '2001:db8:61::1';
  const B6 = '2001:db8:61::2';
  /** C's, announced by C's kernel after duplicate address detection (ndisc_notify). */
  const C6 = '2001:db8:61::3';
  /** C's too, announced the same way, outside learning.subnets. */
  const OUTSIDE6 = '2001:db8:99::3';
  const AGING_SECONDS = 3;
  const PROBE_BEFORE_SECONDS = 2;
  const dir = new TempDir();
  const A = new NetnsPeer('10.0.61.1/24', { ipv6: true });
  const B = new NetnsPeer('10.0.61.2/24', { ipv6: true });
  const C = new NetnsPeer('10.0.61.3/24', { ipv6: true });
  const vms = { A, B, C };
  let daemon: LiveDaemon | undefined;
  let api: ApiClient;
  let events: EventStream | undefined;

  const binding = async (ip: string): Promise<BindingBody | undefined> => {
    const r = await api.call('GET', `/v1/bindings/${encodeURIComponent(ip)}`);
    return r.status === 200 ? (r.body as BindingBody) : undefined;
  };
  const counters = async (): Promise<Record<string, number>> =>
    ((await api.call('GET', '/v1/stats')).body as { counters: Record<string, number> }).counters;
  const learnedEvent = (from: number, ip: string): Promise<MicroarpEvent> =>
    events!.wait(`learned ${ip}`, from, (e) => e.type === 'learned' && e.ip === ip, 4000);

  before(async () => {
    for (const vm of Object.values(vms)) vm.create();
    addAddress6(A, A6, false);
    addAddress6(B, B6, false);
    daemon = await startDaemonRetrying(dir, {
      ports: Object.entries(vms).map(([name, vm], i) => ({ name, device: `net_af_packet${i},iface=${vm.hostIf}` })),
      table: { capacity: 1024 },
      metrics: { listen: '127.0.0.1:0' },
      learning: { subnets: { '0': [SUBNET] }, aging_seconds: AGING_SECONDS, probe_before_seconds: PROBE_BEFORE_SECONDS, probe_mac: PROBE_MAC },
      bindings: [{ ip: B6, mac: B.mac() }],
    });
    api = new ApiClient({ socket: daemon.socket });
    events = await new EventStream().open(api);
  });

  after(async () => {
    events?.close();
    try {
      if (daemon) assert.equal((await daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const vm of Object.values(vms)) vm.remove();
      dir.remove();
    }
  });

  it("learns a VM's address from its solicitation's source link-layer option, and then answers for it", async () => {
    assert.equal(await binding(A6), undefined);
    const mark = events!.events.length;
    // A resolves B (a static binding, answered by microarp): its NS comes from A6 with A's MAC.
    const p = ping6(A, B6);
    assert.ok(p.ok, `A pings B: ${p.out}`);
    const e = await learnedEvent(mark, A6);
    assert.deepEqual(
      { mac: e.mac, vlan: e.vlan, port: e.port, from: e.from },
      { mac: A.mac(), vlan: 0, port: 'A', from: 'ns' },
      `the learned event: ${JSON.stringify(e)}`,
    );
    const learned = await binding(A6);
    assert.ok(learned, `${A6} is in /v1/bindings`);
    assert.deepEqual({ mac: learned.mac, source: learned.source, port: learned.port }, { mac: A.mac(), source: 'learned', port: 'A' });
    assert.match(daemon!.logs(), new RegExp(`"msg":"learned","ip":"${A6}","mac":"${A.mac()}","vlan":0,"port":"A","from":"ns"`));

    // Now microarp answers for A6: B's ndisc6 gets A's MAC, and A never sees the solicitation.
    const was = await counters();
    let out = '';
    const [onA] = await captureAll([received(A)], () => {
      const r = B.exec('ndisc6', ['-1', '-n', '-q', '-r', '3', '-w', '1000', A6, B.peerIf]);
      out = `${r.stdout}${r.stderr}`.trim();
    });
    assert.equal(out.toLowerCase(), A.mac(), `ndisc6 ${A6} from B: ${out}`);
    assert.ok((await counters()).nd_answers! > was.nd_answers!, 'microarp answered');
    assert.deepEqual(onA!.filter((f) => f.icmp6_type === NS && f.nd_target === A6), [], 'A never received the solicitation');
  });

  it("learns from a VM's unsolicited advertisement (the kernel's ndisc_notify), but not outside learning.subnets", async () => {
    const r = C.exec('sysctl', ['-qw', `net.ipv6.conf.${C.peerIf}.ndisc_notify=1`]);
    assert.equal(r.status, 0, r.stderr);
    const outsideBefore = await metric(daemon!, 'microarp_learn_outside_subnet_total');
    const mark = events!.events.length;
    // With duplicate address detection: once it succeeds, C's kernel announces each address
    // with an unsolicited NA (override set, solicited clear) to all nodes.
    const outsideCounted = async (): Promise<boolean> => (await metric(daemon!, 'microarp_learn_outside_subnet_total')) > outsideBefore;
    const [onA] = await captureAll([received(A)], async () => {
      addAddress6(C, C6, true);
      addAddress6(C, OUTSIDE6, true);
      await learnedEvent(mark, C6);
      await waitFor('the advertisement from outside learning.subnets counted', outsideCounted, 3000, 50);
    });
    for (const ip of [C6, OUTSIDE6]) {
      const announced = onA!.filter((f) => f.icmp6_type === NA && f.nd_target === ip);
      assert.ok(announced.length >= 1, `C's unsolicited NA for ${ip} was flooded to A: ${JSON.stringify(onA)}`);
      assert.deepEqual(ndFields(announced[0]!), {
        dst: ALL_NODES_MAC, src: C.mac(), ip6_src: ip, ip6_dst: 'ff02::1', hlim: 255, type: NA, target: ip, flags: O_FLAG,
      });
    }
    const e = events!.find(mark, (x) => x.type === 'learned' && x.ip === C6)!;
    assert.deepEqual({ mac: e.mac, port: e.port, from: e.from }, { mac: C.mac(), port: 'C', from: 'na' }, JSON.stringify(e));
    const learned = await binding(C6);
    assert.deepEqual({ mac: learned?.mac, source: learned?.source, port: learned?.port }, { mac: C.mac(), source: 'learned', port: 'C' });

    assert.equal(await binding(OUTSIDE6), undefined, `${OUTSIDE6} (outside ${SUBNET}) not learned`);
    assert.equal(events!.find(mark, (x) => x.type === 'learned' && x.ip === OUTSIDE6), undefined, 'no learned event for it');
  });

  it('probes a learned owner with a unicast NS before expiry and keeps it when it answers; ages out one that is gone', async () => {
    assert.ok(await binding(A6), 'A6 still learned (A has answered every probe so far)');
    assert.ok(await binding(C6), 'C6 learned');
    const hitsBefore = (await binding(A6))!.hits;
    const repliesBefore = (await counters()).probe_replies!;
    const mark = events!.events.length;
    const [toA, fromA, toB, toC] = await captureAll([received(A), sent(A), received(B), received(C)], async () => {
      // C6 goes from C only once every capture runs: C answers any probe sent before (which
      // renews C6), so the probes that age it out are all sent while C's capture watches.
      // (Deleting it first let a slow start of four captures miss them.) A keeps A6.
      assert.equal(C.exec('ip', ['-6', 'addr', 'del', `${C6}/64`, 'dev', C.peerIf]).status, 0);
      await events!.wait(`aged ${C6}`, mark, (e) => e.type === 'aged' && e.ip === C6, (AGING_SECONDS + 3) * 1000);
    });
    const aged = events!.find(mark, (e) => e.type === 'aged' && e.ip === C6)!;
    assert.equal(aged.mac, C.mac());
    assert.equal(await binding(C6), undefined, `${C6} aged out`);
    assert.match(daemon!.logs(), new RegExp(`"msg":"aged","ip":"${C6}"`));

    // What went over A's wire: microarp's unicast NS from the probe MAC, A's NA back to it
    // (solicited; Linux sets override and adds the target link-layer option only when the
    // solicitation was multicast, RFC 4861 7.2.4's "SHOULD" for a unicast one aside).
    const probes = toA!.filter((f) => f.icmp6_type === NS && f.nd_target === A6);
    assert.ok(probes.length >= 1, `A received a probe: ${JSON.stringify(toA)}`);
    for (const ns of probes) {
      assert.deepEqual(ndFields(ns), { dst: A.mac(), src: PROBE_MAC, ip6_src: PROBE_LINK_LOCAL, ip6_dst: A6, hlim: 255, type: NS, target: A6, flags: undefined });
    }
    const answers = fromA!.filter((f) => f.icmp6_type === NA && f.nd_target === A6);
    assert.ok(answers.length >= 1, `A answered: ${JSON.stringify(fromA)}`);
    for (const na of answers) {
      assert.deepEqual(ndFields(na), { dst: PROBE_MAC, src: A.mac(), ip6_src: A6, ip6_dst: PROBE_LINK_LOCAL, hlim: 255, type: NA, target: A6, flags: S_FLAG });
    }
    // C was probed too, and stayed silent.
    assert.ok(toC!.some((f) => f.icmp6_type === NS && f.nd_target === C6 && f.src === PROBE_MAC && f.dst === C.mac()), `C was probed for ${C6}`);
    // microarp consumed A's answers: not flooded as frames to an unknown MAC.
    assert.deepEqual(toB!.filter((f) => f.dst === PROBE_MAC), [], 'the answers to the probe reached no other VM');
    assert.ok((await counters()).probe_replies! >= repliesBefore + answers.length, 'each answer counted as a probe reply');

    const kept = await binding(A6);
    assert.ok(kept, `${A6} kept: its owner answered`);
    assert.ok(kept.hits > hitsBefore, `the answers counted as hits (${hitsBefore} -> ${kept.hits})`);
    assert.equal(events!.find(0, (e) => e.type === 'aged' && e.ip === A6), undefined, `${A6} never aged`);
  });
});

describe('an IPv6 VM that moves to another port', () => {
  const GARP_COUNT = 3;
  const GARP_INTERVAL_MS = 50;
  const P6 = '2001:db8:62::1';
  const X6 = '2001:db8:62::2';
  const V6 = '2001:db8:62::5';
  /** Also the VM's, bound through the API as a router's: announced with R set. */
  const ROUTER6 = '2001:db8:62::fe';
  const vmMac = randomMac();
  const dir = new TempDir();
  /** P pings the VM throughout; X has never talked to it. */
  const P = new NetnsPeer('10.0.62.1/24', { ipv6: true });
  const X = new NetnsPeer('10.0.62.2/24', { ipv6: true });
  /** The VM's two homes: its address and MAC on both; it runs on vA, vB waits with its link down. */
  const vA = new NetnsPeer('10.0.62.5/24', { ipv6: true });
  const vB = new NetnsPeer('10.0.62.5/24', { ipv6: true });
  const vms = { P, X, vA, vB };
  let daemon: LiveDaemon | undefined;
  let api: ApiClient;
  let events: EventStream | undefined;

  const binding = async (): Promise<BindingBody> => {
    const r = await api.call('GET', `/v1/bindings/${encodeURIComponent(V6)}`);
    assert.equal(r.status, 200, `${V6} is bound`);
    return r.body as BindingBody;
  };
  const fdbPort = async (): Promise<string | undefined> => {
    const r = await api.call('GET', `/v1/fdb?mac=${vmMac}`);
    return (r.body as { entries: FdbEntry[] }).entries[0]?.port;
  };

  before(async () => {
    for (const vm of Object.values(vms)) vm.create();
    addAddress6(P, P6, false);
    addAddress6(X, X6, false);
    vA.setMac(vmMac);
    addAddress6(vA, V6, false);
    vB.link(false);
    vB.setMac(vmMac);
    addAddress6(vB, V6, false); // kept while the link is down, in use once it comes up
    daemon = await startDaemonRetrying(dir, {
      ports: Object.entries(vms).map(([name, vm], i) => ({ name, device: `net_af_packet${i},iface=${vm.hostIf}` })),
      table: { capacity: 1024 },
      learning: { subnets: { '0': ['2001:db8:62::/64'] } },
      migration: { garp_count: GARP_COUNT, garp_interval_ms: GARP_INTERVAL_MS },
    });
    api = new ApiClient({ socket: daemon.socket });
    events = await new EventStream().open(api);
    // P's solicitation for V6 is flooded (unbound); the VM's solicited NA teaches microarp V6.
    const p = ping6(P, V6);
    assert.ok(p.ok, `P reaches the VM on vA: ${p.out}`);
    const b = await waitFor(`${V6} learned`, async () => {
      const r = await api.call('GET', `/v1/bindings/${encodeURIComponent(V6)}`);
      return r.status === 200 ? (r.body as BindingBody) : undefined;
    });
    assert.deepEqual({ mac: b.mac, source: b.source, port: b.port }, { mac: vmMac, source: 'learned', port: 'vA' });
    await waitFor('the FDB to put the VM on vA', async () => (await fdbPort()) === 'vA');
    const put = await api.call('PUT', `/v1/bindings/${encodeURIComponent(ROUTER6)}`, { mac: vmMac, router: true });
    assert.ok(put.status < 300, `PUT ${ROUTER6}: ${put.status} ${JSON.stringify(put.body)}`);
  });

  after(async () => {
    events?.close();
    try {
      if (daemon) assert.equal((await daemon.stop()).code, 0, 'the daemon stops cleanly');
    } finally {
      for (const vm of Object.values(vms)) vm.remove();
      dir.remove();
    }
  });

  it('is announced with unsolicited NAs from its MAC on the other ports, and reached at its new port at once', async (t) => {
    const mark = events!.events.length;
    const running = startPing(P, V6, 0.02);
    let moveAt = 0;
    let onP: CapturedFrame[] = [];
    let onX: CapturedFrame[] = [];
    let onVB: CapturedFrame[] = [];
    let ping: Awaited<ReturnType<typeof running.stop>> | undefined;
    try {
      await sleep(400); // steady state: replies from vA
      [onP, onX, onVB] = (await captureAll([received(P), received(X), received(vB)], async () => {
        moveAt = Date.now();
        // The VM stops on vA and resumes on vB; vB's kernel does not announce it (no
        // ndisc_notify): any NA for V6 on the segment is microarp's. Its first frames (MLD
        // reports) show the FDB the MAC on vB.
        vA.link(false);
        vB.link(true);
        await waitFor('the FDB to put the VM on vB', async () => (await fdbPort()) === 'vB', 3000);
        await sleep(GARP_COUNT * GARP_INTERVAL_MS + 200);
      })) as [CapturedFrame[], CapturedFrame[], CapturedFrame[]];
    } finally {
      ping = await running.stop();
    }
    const { replies, output } = ping;

    for (const ip of [V6, ROUTER6]) {
      const moved = await events!.wait(`moved ${ip}`, mark, (e) => e.type === 'moved' && e.ip === ip);
      assert.deepEqual({ mac: moved.mac, from: moved.from, to: moved.to }, { mac: vmMac, from: 'vA', to: 'vB' }, ip);
    }
    const announced = await events!.wait('announced', mark, (e) => e.type === 'announced' && (e.ips as string[]).includes(V6));
    assert.deepEqual(
      { ips: [...(announced.ips as string[])].sort(), mac: announced.mac, garps: announced.garps },
      { ips: [V6, ROUTER6].sort(), mac: vmMac, garps: GARP_COUNT },
      'one burst for both of its addresses',
    );

    // The VM's kernel sends no unsolicited NA (no ndisc_notify on vB): those on the segment are
    // microarp's. (It does send P a solicited one as it comes up: P's solicitation for V6,
    // flooded to vB in before() while its link was down, is held by the net_af_packet port,
    // in its TX ring as far as we can tell, and delivered when the link comes back.)
    for (const [name, frames] of [['P', onP], ['X', onX]] as const) {
      const all = frames.filter((f) => f.icmp6_type === NA && f.nd_target === V6);
      t.diagnostic(`${name} received ${all.length} NAs for ${V6}: ${all.map((f) => `to ${f.dst}, ${f.len} bytes, flags 0x${f.nd_flags!.toString(16)}`).join('; ')}`);
      const nas = all.filter((f) => (f.nd_flags! & S_FLAG) === 0);
      assert.equal(nas.length, GARP_COUNT, `${name} received microarp's ${GARP_COUNT} unsolicited NAs: ${JSON.stringify(frames)}`);
      for (const na of nas) {
        assert.deepEqual(
          { ...ndFields(na), len: na.len },
          { dst: ALL_NODES_MAC, src: vmMac, ip6_src: V6, ip6_dst: 'ff02::1', hlim: 255, type: NA, target: V6, flags: O_FLAG, len: 86 },
          `${name}: an unsolicited NA from the VM's MAC to all nodes, override set, solicited and router clear`,
        );
      }
      const routerNas = frames.filter((f) => f.icmp6_type === NA && f.nd_target === ROUTER6);
      assert.equal(routerNas.length, GARP_COUNT, `${name} received ${GARP_COUNT} NAs for ${ROUTER6}`);
      for (const na of routerNas) {
        assert.deepEqual(
          { ...ndFields(na), len: na.len },
          { dst: ALL_NODES_MAC, src: vmMac, ip6_src: ROUTER6, ip6_dst: 'ff02::1', hlim: 255, type: NA, target: ROUTER6, flags: R_FLAG | O_FLAG, len: 86 },
          `${name}: the router binding's NA has R set`,
        );
      }
    }

    // (vB may receive the VM's own solicited NA to P from before(), flooded while P's MAC was
    // not yet in the FDB and held as P's solicitation was.)
    const toVm = onVB.filter((f) => f.icmp6_type === NA && (f.nd_target === V6 || f.nd_target === ROUTER6) && (f.nd_flags! & S_FLAG) === 0);
    assert.deepEqual(toVm, [], 'none of them went to the port the VM now lives on');

    const b = await binding();
    assert.deepEqual({ mac: b.mac, source: b.source, port: b.port }, { mac: vmMac, source: 'learned', port: 'vB' });
    assert.ok(b.moves >= 1, `moves ${b.moves}`);
    const r = (await api.call('GET', `/v1/bindings/${encodeURIComponent(ROUTER6)}`)).body as BindingBody;
    assert.deepEqual({ source: r.source, port: r.port }, { source: 'api', port: 'vB' }, 'the API binding followed the MAC too');

    // P's echo requests reached the VM at vB as soon as the FDB moved.
    const outage = outageAround(replies, moveAt);
    t.diagnostic(`P pinging every 20 ms: ${replies.length} replies, last before the move to first after ${outage?.toFixed(1)} ms`);
    assert.ok(outage !== undefined, `replies before and after the move:\n${output.slice(-600)}`);
    assert.ok(outage < 1000, `no replies for ${outage} ms around the move`);
    const onPEntry = neigh6(P, V6);
    assert.equal(onPEntry.mac, vmMac, `P's neighbour entry: ${onPEntry.line}`);
    // X, which never talked to the VM, resolves it (microarp answers) and reaches it on vB.
    assert.equal(neigh6(X, V6).mac, undefined, 'X had no entry for the VM');
    const p = ping6(X, V6, 3); // any of three answered: on two CPUs shared with busy-polling daemons, one may be late
    assert.ok(p.ok, `X reaches the VM on vB: ${p.out}`);
    const onXEntry = neigh6(X, V6);
    assert.equal(onXEntry.mac, vmMac, `X's neighbour entry: ${onXEntry.line}`);
    assert.match(onXEntry.state ?? '', /^(REACHABLE|STALE|DELAY|PROBE)$/, onXEntry.line);
  });
});
