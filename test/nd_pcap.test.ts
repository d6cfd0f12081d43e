// IPv6 Neighbor Discovery through the real daemon on net_pcap ports: frames built by scapy (an
// ND implementation that shares nothing with microarp's) go in, what each port transmitted is
// dissected by scapy again, every field of every advertisement and its checksum asserted, and
// the daemon's final counters, drops and violations compared exactly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPcap, writePcap } from './helpers/pcap';
import { REPO, TempDir, runDaemon, type DaemonResult, type StatsLine } from './helpers/daemon';

const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const ND_FRAMES = join(REPO, 'test', 'fixtures', 'nd_frames.py');

const REQUESTER = '02:00:00:00:00:01';
const REQUESTER_IP = '2001:db8::100';
const DAD_HOST = '02:00:00:00:00:03';
const ATTACKER = '02:00:00:00:00:66';
const OWNER_7 = '02:aa:00:00:00:07';
const OWNER_8_V10 = '02:aa:00:00:10:08';
const ROUTER_1 = '02:aa:00:00:00:01';

const bindings = [
  { ip: '2001:db8::7', mac: OWNER_7 },
  { ip: '2001:db8::8', mac: OWNER_8_V10, vlan: 10 },
  { ip: '2001:db8::1', mac: ROUTER_1, router: true },
  { ip: '10.0.0.7', mac: OWNER_7 },
];

// ---- scapy ------------------------------------------------------------------------------------

/** A frame for test/fixtures/nd_frames.py (see its docstring for every field). */
interface FrameSpec {
  kind: 'ns' | 'na' | 'rs' | 'ra' | 'redirect' | 'echo' | 'udp';
  eth_src: string;
  eth_dst?: string;
  vlan?: number;
  pcp?: number;
  src?: string;
  dst?: string;
  dad?: boolean;
  target?: string;
  redirect_dst?: string;
  hlim?: number;
  tc?: number;
  fl?: number;
  plen?: number;
  code?: number;
  R?: number;
  S?: number;
  O?: number;
  sllao?: string | boolean;
  tllao?: string | boolean;
  options?: string;
  bad_checksum?: boolean;
  truncate?: number;
}

interface Dissected {
  length: number;
  hex: string;
  eth: { dst: string; src: string; type: number };
  vlan: { vid: number; pcp: number; dei: number; type: number } | null;
  ipv6: { version: number; tc: number; fl: number; plen: number; nh: number; hlim: number; src: string; dst: string } | null;
  icmpv6: ({ type: number; code: number; cksum: number; cksum_expected: number; cksum_ok: boolean } & Record<string, unknown>) | null;
  options: { type: number; len: number | null; lladdr?: string; hex: string }[];
  options_hex: string | null;
}

function python(args: string[], input?: string): string {
  const r = spawnSync(PYTHON, [ND_FRAMES, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `nd_frames.py ${args[0]}: ${r.stderr}`);
  return r.stdout;
}

/** Builds every named frame with scapy in one run (its start-up costs half a second). */
function buildFrames<K extends string>(specs: Record<K, FrameSpec>): Record<K, Buffer> {
  const names = Object.keys(specs) as K[];
  const out = JSON.parse(python(['build'], JSON.stringify(names.map((name) => ({ name, ...specs[name] }))))) as {
    frames: { name: K; hex: string; length: number }[];
  };
  const frames = {} as Record<K, Buffer>;
  for (const f of out.frames) frames[f.name] = Buffer.from(f.hex, 'hex');
  return frames;
}

function dissect(paths: string[]): Dissected[][] {
  const out = JSON.parse(python(['dissect', ...paths])) as Record<string, Dissected[]>;
  return paths.map((p) => out[p]!);
}

// ---- the daemon -------------------------------------------------------------------------------

interface Replay {
  result: DaemonResult;
  final: StatsLine & { violations: Record<string, number> };
  /** What each port transmitted, raw and as scapy reads it. */
  tx: Buffer[][];
  seen: Dissected[][];
}

const dirs: TempDir[] = [];
after(() => dirs.forEach((d) => d.remove()));

async function replay(
  portFrames: Buffer[][],
  extra: Record<string, unknown> = {},
  portExtra: Record<string, unknown>[] = [],
): Promise<Replay> {
  const dir = new TempDir();
  dirs.push(dir);
  const ports = portFrames.map((frames, i) => {
    const rx = dir.file(`rx${i}.pcap`);
    writePcap(rx, frames);
    return { name: `p${i}`, device: `net_pcap${i},rx_pcap=${rx},tx_pcap=${dir.file(`tx${i}.pcap`)}`, ...portExtra[i] };
  });
  const total = portFrames.reduce((n, f) => n + f.length, 0);
  const result = await runDaemon(
    dir,
    // Learning off: these tests count the table exactly.
    { ports, table: { capacity: 4096 }, bindings, learning: 'off', ...extra },
    { until: (s) => s.counters.rx_packets! >= total },
  );
  assert.equal(result.code, 0, `daemon exit code; stderr:\n${result.stderr}`);
  assert.ok(result.final, `a final stats line; stderr:\n${result.stderr}`);
  const txPaths = ports.map((_, i) => dir.file(`tx${i}.pcap`));
  const tx = txPaths.map((p) => readPcap(p));
  return { result, final: result.final as Replay['final'], tx, seen: dissect(txPaths) };
}

/** The entries of a counter, drop or violation record that are not zero. */
function nonzero(values: Record<string, number>, names?: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== 0 && (!names || names.includes(k))) out[k] = v;
  return out;
}

const ND_COUNTERS = [
  'nd_solicitations',
  'nd_dad_solicitations',
  'nd_advertisements',
  'nd_router_messages',
  'nd_answers',
  'nd_dad_defended',
  'nd_unbound',
  'nd_own_address',
  'ipv6_frames',
  'flooded',
  'vlan_tagged',
] as const;

const hexes = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString('hex'));
const sortedHexes = (frames: readonly Buffer[]): string[] => hexes(frames).sort();

interface NaExpectation {
  /** The solicitor: the NA's Ethernet destination and IPv6 destination (unless to all-nodes). */
  ethDst: string;
  ipDst: string;
  target: string;
  owner: string;
  R: number;
  S: number;
  vlan?: number;
  pcp?: number;
}

/** Every field of a Neighbor Advertisement as scapy reads it, the checksum recomputed by scapy. */
function assertAdvertisement(got: Dissected | undefined, e: NaExpectation, what: string): void {
  assert.ok(got, `${what}: a frame`);
  assert.ok(got.icmpv6, `${what}: ICMPv6`);
  const tagged = e.vlan !== undefined;
  const { hex: _hex, ...fields } = got;
  assert.deepEqual(
    fields,
    {
      length: tagged ? 90 : 86,
      eth: { dst: e.ethDst, src: e.owner, type: tagged ? 0x8100 : 0x86dd },
      vlan: tagged ? { vid: e.vlan, pcp: e.pcp ?? 0, dei: 0, type: 0x86dd } : null,
      ipv6: { version: 6, tc: 0, fl: 0, plen: 32, nh: 58, hlim: 255, src: e.target, dst: e.ipDst },
      icmpv6: {
        type: 136,
        code: 0,
        cksum: got.icmpv6.cksum,
        cksum_expected: got.icmpv6.cksum_expected,
        cksum_ok: true,
        R: e.R,
        S: e.S,
        O: 1,
        res: 0,
        tgt: e.target,
      },
      options: [{ type: 2, len: 1, lladdr: e.owner, hex: `0201${e.owner.replaceAll(':', '')}` }],
      options_hex: `0201${e.owner.replaceAll(':', '')}`,
    },
    what,
  );
  assert.equal(got.icmpv6.cksum, got.icmpv6.cksum_expected, `${what}: the ICMPv6 checksum`);
}

// ---- the frames -------------------------------------------------------------------------------

const SPECS = {
  // Solicitations answered. A traffic class and flow label the NA must not keep.
  ns: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, tc: 0xb8, fl: 0x12345 },
  nsV10: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::8', sllao: true, vlan: 10, pcp: 5, fl: 0xfffff },
  nsRouter: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::1', sllao: true },
  // A unicast reachability check without SLLAO: 78 bytes, answered with 86.
  nsBare: { kind: 'ns', eth_src: REQUESTER, eth_dst: OWNER_7, src: REQUESTER_IP, dst: '2001:db8::7', target: '2001:db8::7' },
  // SLLAO and a nonce option (RFC 3971 type 14): 94 bytes, answered with 86.
  nsNonce: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, options: '0e01a1b2c3d4e5f6' },
  dadOther: { kind: 'ns', dad: true, eth_src: DAD_HOST, target: '2001:db8::7' },
  // Not answered.
  dadOwn: { kind: 'ns', dad: true, eth_src: OWNER_7, target: '2001:db8::7' },
  nsOwn: { kind: 'ns', eth_src: OWNER_7, target: '2001:db8::7', sllao: true },
  nsUnbound: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::99', sllao: true },
  nsVlan20: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, vlan: 20 },
  dadUnbound: { kind: 'ns', dad: true, eth_src: DAD_HOST, target: '2001:db8::99' },
  // Not ND.
  echo: { kind: 'echo', eth_src: REQUESTER, eth_dst: '02:00:00:00:00:99', src: REQUESTER_IP, dst: '2001:db8::99' },
  udp: { kind: 'udp', eth_src: REQUESTER, src: REQUESTER_IP, dst: 'ff02::fb' },

  // Malformed.
  plenLong: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, plen: 40 },
  frameCut: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, truncate: 80 },
  plenShort: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, plen: 16 },
  hlim64: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, hlim: 64 },
  code1: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, code: 1 },
  badSumNs: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', sllao: true, bad_checksum: true },
  badSumNa: { kind: 'na', eth_src: OWNER_7, src: '2001:db8::7', target: '2001:db8::7', S: 0, tllao: true, bad_checksum: true },
  optLen0: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', options: '0100020000000001' },
  optPastEnd: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: '2001:db8::7', options: '0102020000000001' },
  dadSllao: { kind: 'ns', dad: true, eth_src: DAD_HOST, target: '2001:db8::7', sllao: true },
  nsMcastTarget: { kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP, target: 'ff02::1', sllao: true },
  naMcastTarget: { kind: 'na', eth_src: OWNER_7, src: '2001:db8::7', target: 'ff02::1', S: 0, tllao: true },

  // Inspection.
  ra: { kind: 'ra', eth_src: ATTACKER, sllao: true },
  redirect: {
    kind: 'redirect', eth_src: ATTACKER, eth_dst: REQUESTER, dst: REQUESTER_IP,
    target: 'fe80::ff:fe00:66', redirect_dst: '2001:db8::7', tllao: true,
  },
  naLladdrMismatch: { kind: 'na', eth_src: ATTACKER, src: '2001:db8::66', target: '2001:db8::66', S: 0, tllao: '02:00:00:00:00:77' },
  naSpoofed: { kind: 'na', eth_src: ATTACKER, src: '2001:db8::7', target: '2001:db8::7', S: 0, O: 1, tllao: true },

  // A port's IPv6 allowed_subnets: 2001:db8:10::/60.
  nsInside: { kind: 'ns', eth_src: REQUESTER, src: '2001:db8:10:f::5', target: '2001:db8::7', sllao: true },
  nsOutside: { kind: 'ns', eth_src: REQUESTER, src: '2001:db8:10:10::5', target: '2001:db8::7', sllao: true },
  nsLinkLocal: { kind: 'ns', eth_src: REQUESTER, src: 'fe80::5', target: '2001:db8::7', sllao: true },
  naOutside: { kind: 'na', eth_src: REQUESTER, src: '2001:db8:20::5', target: '2001:db8:20::5', S: 0, tllao: true },
} satisfies Record<string, FrameSpec>;

let F: Record<keyof typeof SPECS, Buffer>;
before(() => {
  F = buildFrames(SPECS as Record<keyof typeof SPECS, FrameSpec>);
});

// ---- the tests --------------------------------------------------------------------------------

describe('IPv6 ND responder on net_pcap', () => {
  it('answers solicitations for bound targets with a correct NA out the ingress port, and passes the rest on', async () => {
    assert.equal(F.nsBare.length, 78);
    assert.equal(F.nsNonce.length, 94);
    const sent = [F.ns, F.nsV10, F.nsRouter, F.nsBare, F.nsNonce, F.dadOther, F.dadOwn, F.nsOwn, F.nsUnbound, F.nsVlan20, F.echo, F.udp];
    const { final, tx, seen } = await replay([sent, []]);

    const solicited = { ethDst: REQUESTER, ipDst: REQUESTER_IP, S: 1 };
    const expected: [string, NaExpectation][] = [
      ['untagged NS', { ...solicited, target: '2001:db8::7', owner: OWNER_7, R: 0 }],
      ['NS on VLAN 10, priority 5', { ...solicited, target: '2001:db8::8', owner: OWNER_8_V10, R: 0, vlan: 10, pcp: 5 }],
      ['NS for a router binding', { ...solicited, target: '2001:db8::1', owner: ROUTER_1, R: 1 }],
      ['78-byte NS without SLLAO', { ...solicited, target: '2001:db8::7', owner: OWNER_7, R: 0 }],
      ['94-byte NS with SLLAO and nonce', { ...solicited, target: '2001:db8::7', owner: OWNER_7, R: 0 }],
      ['DAD for an address bound to another MAC', { ethDst: '33:33:00:00:00:01', ipDst: 'ff02::1', S: 0, target: '2001:db8::7', owner: OWNER_7, R: 0 }],
    ];
    assert.equal(seen[0]!.length, expected.length, 'one NA per answered solicitation out the ingress port');
    expected.forEach(([what, e], i) => assertAdvertisement(seen[0]![i], e, what));
    assert.deepEqual(
      hexes(tx[1]!),
      hexes([F.dadOwn, F.nsOwn, F.nsUnbound, F.nsVlan20, F.echo, F.udp]),
      'the owner\'s own DAD and NS, unbound solicitations and non-ND IPv6 reach the other port unchanged, in order',
    );

    assert.deepEqual(nonzero(final.counters, ND_COUNTERS), {
      nd_solicitations: 10,
      nd_dad_solicitations: 2,
      nd_answers: 5,
      nd_dad_defended: 1,
      nd_unbound: 2,
      nd_own_address: 2,
      ipv6_frames: 2,
      flooded: 6,
      vlan_tagged: 2,
    });
    assert.equal(final.counters.rx_packets, 12);
    assert.equal(final.counters.tx_packets, 12);
    assert.deepEqual(nonzero(final.drops), {});
    assert.deepEqual(nonzero(final.violations), {});
    assert.deepEqual(final.ports.map((p) => p.tx), [6, 6]);
    assert.equal(final.table.bindings, bindings.length);
    // replies_sent: "ARP requests answered from the table" (counters.def); the NAs are nd_answers.
    assert.equal(final.counters.replies_sent, 0, 'replies_sent counts ARP replies only');
  });

  it("drops solicitations for unbound targets under 'unknown: drop', DAD included, and still answers and switches the rest", async () => {
    const { final, tx, seen } = await replay([[F.nsUnbound, F.nsVlan20, F.dadUnbound, F.ns, F.echo], []], { unknown: 'drop' });
    assert.equal(seen[0]!.length, 1);
    assertAdvertisement(seen[0]![0], { ethDst: REQUESTER, ipDst: REQUESTER_IP, S: 1, target: '2001:db8::7', owner: OWNER_7, R: 0 }, 'bound NS');
    assert.deepEqual(hexes(tx[1]!), hexes([F.echo]));
    assert.deepEqual(nonzero(final.counters, ND_COUNTERS), {
      nd_solicitations: 4,
      nd_dad_solicitations: 1,
      nd_answers: 1,
      nd_unbound: 3,
      ipv6_frames: 1,
      flooded: 1,
      vlan_tagged: 1,
    });
    assert.deepEqual(nonzero(final.drops), { unbound_target: 3 });
  });

  it('drops malformed ND by reason and sends nothing of it anywhere', async () => {
    const bad = [
      F.plenLong, F.frameCut, F.plenShort, // nd_truncated
      F.hlim64, // nd_bad_hop_limit
      F.code1, // nd_bad_code
      F.badSumNs, F.badSumNa, // nd_bad_checksum
      F.optLen0, F.optPastEnd, F.dadSllao, // nd_bad_option
      F.nsMcastTarget, F.naMcastTarget, // nd_bad_target
    ];
    // Each is refused for the reason it is built to have, and only that one: scapy's view.
    const [built] = dissect([writeTemp('bad.pcap', bad)]);
    const sums = built!.map((f) => f.icmpv6?.cksum_ok);
    assert.deepEqual(sums.slice(3), [true, true, false, false, true, true, true, true, true]);

    const { final, tx, seen } = await replay([[...bad, F.ns], []]);
    assert.equal(seen[0]!.length, 1, 'only the good NS after the bad ones is answered');
    assertAdvertisement(seen[0]![0], { ethDst: REQUESTER, ipDst: REQUESTER_IP, S: 1, target: '2001:db8::7', owner: OWNER_7, R: 0 }, 'good NS');
    assert.equal(tx[1]!.length, 0, 'no malformed frame reaches the other port');
    assert.deepEqual(nonzero(final.drops), {
      nd_truncated: 3,
      nd_bad_hop_limit: 1,
      nd_bad_code: 1,
      nd_bad_checksum: 2,
      nd_bad_option: 3,
      nd_bad_target: 2,
    });
    assert.deepEqual(nonzero(final.counters, ND_COUNTERS), { nd_solicitations: 1, nd_answers: 1 });
    assert.equal(final.counters.rx_packets, bad.length + 1);
    assert.equal(final.counters.tx_packets, 1);
  });
});

describe('IPv6 ND inspection on net_pcap', () => {
  // p0 untrusted, p1 untrusted but router: true, p2 trusted, p3 only listens.
  const attack = (): Buffer[] => [F.ra, F.redirect, F.naLladdrMismatch, F.naSpoofed];
  const portExtra = [{}, { router: true }, { trusted: true }, {}];
  const violations = { ra_guard: 2, nd_lladdr_mismatch: 1, nd_spoofed_binding: 1 };

  it('enforce: RA guard, link-layer address and spoofed-binding violations dropped on an untrusted port; a router port and a trusted port pass them', async () => {
    const { final, tx } = await replay([attack(), [F.ra], attack(), []], {}, portExtra);
    assert.deepEqual(nonzero(final.violations), violations);
    assert.deepEqual(nonzero(final.drops), { nd_inspection: 4 });
    // From p1 the RA, from p2 all four: each to every other port. Nothing from p0.
    assert.deepEqual(sortedHexes(tx[0]!), sortedHexes([F.ra, ...attack()]));
    assert.deepEqual(sortedHexes(tx[1]!), sortedHexes(attack()));
    assert.deepEqual(sortedHexes(tx[2]!), sortedHexes([F.ra]));
    assert.deepEqual(sortedHexes(tx[3]!), sortedHexes([F.ra, ...attack()]));
    assert.deepEqual(nonzero(final.counters, ND_COUNTERS), {
      nd_router_messages: 5,
      nd_advertisements: 4,
      flooded: 5,
    });
  });

  it('observe: the same violations counted, every frame forwarded', async () => {
    const { final, tx } = await replay([attack(), [F.ra], attack(), []], { enforce: 'observe' }, portExtra);
    assert.deepEqual(nonzero(final.violations), violations);
    assert.deepEqual(nonzero(final.drops), {});
    assert.deepEqual(sortedHexes(tx[0]!), sortedHexes([F.ra, ...attack()]));
    assert.deepEqual(sortedHexes(tx[1]!), sortedHexes([...attack(), ...attack()]));
    assert.deepEqual(sortedHexes(tx[2]!), sortedHexes([F.ra, ...attack()]));
    assert.deepEqual(sortedHexes(tx[3]!), sortedHexes([F.ra, ...attack(), ...attack()]));
    assert.deepEqual(nonzero(final.counters, ND_COUNTERS), {
      nd_router_messages: 5,
      nd_advertisements: 4,
      flooded: 9,
    });
  });
});

describe("a port's IPv6 allowed_subnets", () => {
  it('solicitations and advertisements speaking for an address outside them are dropped; link-local always passes', async () => {
    const frames = [F.nsInside, F.nsOutside, F.nsLinkLocal, F.naOutside];
    const { final, tx } = await replay([frames, []], {}, [{ allowed_subnets: ['10.0.0.0/8', '2001:db8:10::/60'] }]);
    assert.deepEqual(nonzero(final.violations), { sender_outside_subnet: 2 });
    assert.deepEqual(nonzero(final.drops), { nd_inspection: 2 });
    // The two solicitations that pass are answered; nothing reaches the other port.
    assert.equal(final.counters.nd_answers, 2);
    assert.equal(tx[0]!.length, 2);
    assert.deepEqual(tx[1], []);
  });
});

describe("a port's nd_rate", () => {
  // p0 untrusted with nd_rate, p1 trusted with the same nd_rate, p2 untrusted with only an
  // arp_rate, p3 untrusted with no limit. Each sends ten solicitations at once (a pcap replays
  // them within microseconds, far under the one token a second refills) and non-ND IPv6.
  const tenNs = (): Buffer[] => Array.from({ length: 10 }, () => F.ns);
  const frames = (): Buffer[][] => [[...tenNs(), F.echo], tenNs(), tenNs(), tenNs()];
  const portExtra = [
    { nd_rate: { pps: 1, burst: 4 } },
    { trusted: true, nd_rate: { pps: 1, burst: 4 } },
    { arp_rate: { pps: 1, burst: 1 } },
    {},
  ];

  it('enforce: an untrusted port gets its burst answered and the rest dropped as nd_rate_limited; trusted ports, arp_rate and non-ND IPv6 are not touched', async () => {
    const { final, tx, seen } = await replay(frames(), {}, portExtra);
    assert.deepEqual(nonzero(final.violations), { nd_rate_limited: 6 });
    assert.deepEqual(nonzero(final.drops), { nd_inspection: 6 });
    assert.equal(final.counters.nd_solicitations, 40);
    assert.equal(final.counters.nd_answers, 4 + 10 + 10 + 10);
    assert.deepEqual(seen.map((port) => port.filter((f) => f.icmpv6?.type === 136).length), [4, 10, 10, 10], 'NAs out each ingress port');
    // The echo (IPv6, not ND) from p0 is flooded to the three others.
    for (const i of [1, 2, 3]) assert.deepEqual(hexes(tx[i]!.filter((f) => f.equals(F.echo))), hexes([F.echo]), `p${i} got p0's echo`);
  });

  it('observe: the excess is counted, and every solicitation still answered', async () => {
    const { final } = await replay(frames(), { enforce: 'observe' }, portExtra);
    assert.deepEqual(nonzero(final.violations), { nd_rate_limited: 6 });
    assert.deepEqual(nonzero(final.drops), {});
    assert.equal(final.counters.nd_answers, 40);
  });
});

function writeTemp(name: string, frames: Buffer[]): string {
  const dir = new TempDir();
  dirs.push(dir);
  writePcap(dir.file(name), frames);
  return dir.file(name);
}
