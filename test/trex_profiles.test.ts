// The bare-metal kit without a NIC: the TRex profiles' frames (benchmarks/trex), written to pcap
// files by the pktgen generator (benchmarks/pktgen), replayed through microarp on two net_pcap
// ports with the bindings of the bindings generator (benchmarks/bare-metal); and the field-engine
// programs, the profiles' own included, checked against scapy's explicit frames.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseImport } from '../src/api/import_parser';
import { formatIPv4, formatMac, parseIPv4, parseMac } from '../src/dataplane/address';
import { REPO, TempDir, runCli, runDaemon, type DaemonResult } from './helpers/daemon';
import { decodeArp, type DecodedArp } from './helpers/frames';
import { readPcap } from './helpers/pcap';

// Debian's python3 has scapy; the first python3 on PATH may be another interpreter.
const PYTHON = '/usr/bin/python3';
const TARGETS = 64;
const SENDERS = 32;
const PROFILES = ['arp_requests', 'mixed', 'unbound'] as const;
type Profile = (typeof PROFILES)[number];
const SIDES = [0, 1] as const;

/** -B: no __pycache__ left in the repository. */
function python(script: string, args: string[]): string {
  return execFileSync(PYTHON, ['-B', join(REPO, script), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

// What benchmarks/trex/frames.py prints: per profile, per side, its streams.
interface DescribedWrite {
  field: string;
  offset: number;
  add: number;
  size: number;
}
interface DescribedStream {
  name: string;
  base: string;
  period: number;
  fix_ipv4_at: number | null;
  variables: { name: string; count: number; writes: DescribedWrite[] }[];
  frames: string[];
}
type Description = Record<Profile, Record<string, DescribedStream[]>>;

// What test/helpers/trex_stub.py records of a profile's STLStreams.
type StlInstruction =
  | { op: 'var'; name: string; min: number; max: number; size: number; step: number; kind: string }
  | { op: 'write'; var: string; offset: number; add: number }
  | { op: 'fix_ipv4'; offset: number };
interface StlStream {
  name: string;
  pkt_buffer: string;
  program: StlInstruction[];
  pps: number;
  mac_src_override_by_pkt: boolean;
  mac_dst_override_mode: string;
}

/** A field-engine program in one shape, whether it came from frames.py or from a profile. */
interface Engine {
  base: Buffer;
  variables: Map<string, { min: number; count: number }>;
  writes: { variable: string; offset: number; add: number }[];
  fixIpv4At: number | null;
}

const u32 = (n: number): number => ((n % 2 ** 32) + 2 ** 32) % 2 ** 32;

function ipv4Checksum(frame: Buffer, at: number): number {
  let sum = 0;
  for (let i = at; i < at + (frame[at]! & 0x0f) * 4; i += 2) sum += i === at + 10 ? 0 : frame.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Frame k as TRex makes it: every variable at min + k mod count, written, checksum fixed. */
function engineFrame(e: Engine, k: number): Buffer {
  const frame = Buffer.from(e.base);
  for (const w of e.writes) {
    const v = e.variables.get(w.variable)!;
    frame.writeUInt32BE(u32(v.min + (k % v.count) + w.add), w.offset);
  }
  if (e.fixIpv4At !== null) frame.writeUInt16BE(ipv4Checksum(frame, e.fixIpv4At), e.fixIpv4At + 10);
  return frame;
}

function describedEngine(s: DescribedStream): Engine {
  return {
    base: Buffer.from(s.base, 'hex'),
    variables: new Map(s.variables.map((v) => [v.name, { min: 0, count: v.count }])),
    writes: s.variables.flatMap((v) => v.writes.map((w) => ({ variable: v.name, offset: w.offset, add: w.add }))),
    fixIpv4At: s.fix_ipv4_at,
  };
}

function stlEngine(s: StlStream): Engine {
  const e: Engine = { base: Buffer.from(s.pkt_buffer, 'hex'), variables: new Map(), writes: [], fixIpv4At: null };
  for (const i of s.program) {
    if (i.op === 'var') {
      assert.deepEqual([i.size, i.step, i.kind], [4, 1, 'inc'], `${s.name}: variable ${i.name}`);
      e.variables.set(i.name, { min: i.min, count: i.max - i.min + 1 });
    } else if (i.op === 'write') {
      assert.ok(e.variables.has(i.var), `${s.name}: ${i.var} is written before it is defined`);
      // TRex keeps add_val as a signed 32-bit integer.
      assert.ok(i.add >= -(2 ** 31) && i.add < 2 ** 31, `${s.name}: add_val ${i.add} out of int32`);
      e.writes.push({ variable: i.var, offset: i.offset, add: i.add });
    } else {
      e.fixIpv4At = i.offset;
    }
  }
  return e;
}

const l3Offset = (frame: Buffer): number => (frame.readUInt16BE(12) === 0x8100 ? 18 : 14);
const lastFourOfMac = (mac: string): Buffer => Buffer.from(parseMac(mac)!.subarray(2));
const ipBytes = (ip: string): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(parseIPv4(ip)!);
  return b;
};

/** The 4 bytes a write named `field` must cover, found by decoding the frame, not by offsets. */
function fieldBytes(frame: Buffer, field: string): Buffer {
  const arp = decodeArp(frame);
  const l3 = l3Offset(frame);
  switch (field) {
    case 'eth.dst':
      return lastFourOfMac(formatMac(frame.subarray(0, 6)));
    case 'eth.src':
      return lastFourOfMac(formatMac(frame.subarray(6, 12)));
    case 'arp.sha':
      return lastFourOfMac(arp!.sha);
    case 'arp.spa':
      return ipBytes(arp!.spa);
    case 'arp.tpa':
      return ipBytes(arp!.tpa);
    case 'ipv4.src':
      assert.equal(frame.readUInt16BE(l3 - 2), 0x0800, 'an IPv4 frame');
      return frame.subarray(l3 + 12, l3 + 16);
    case 'ipv4.dst':
      assert.equal(frame.readUInt16BE(l3 - 2), 0x0800, 'an IPv4 frame');
      return frame.subarray(l3 + 16, l3 + 20);
    default:
      throw new Error(`unknown field ${field}`);
  }
}

const hexes = (frames: Buffer[]): string[] => frames.map((f) => f.toString('hex')).sort();
const isArp = (frame: Buffer): boolean => decodeArp(frame) !== null;

interface Kit {
  vlan: number | undefined;
  dir: TempDir;
  description: Description;
  bindings: { ip: string; mac: string; vlan: number }[];
}

/** Runs the three generators as a user would, for one plan. */
async function makeKit(vlan: number | undefined): Promise<Kit> {
  const dir = new TempDir();
  const plan = ['--targets', String(TARGETS), '--senders', String(SENDERS), ...(vlan ? ['--vlan', String(vlan)] : [])];
  python('benchmarks/pktgen/make_pcaps.py', [...plan, '--out', dir.path]);
  python('benchmarks/bare-metal/make_bindings.py', [...plan, '-o', dir.file('bindings.csv')]);
  const description = JSON.parse(python('benchmarks/trex/frames.py', [...plan, '--with-frames'])) as Description;
  // Through the parser of `microarp bindings import`: the file is what an import accepts.
  const parsed = await parseImport(createReadStream(dir.file('bindings.csv')), 'csv');
  assert.deepEqual(parsed.bad, [], 'every CSV line imports');
  assert.equal(parsed.count, TARGETS);
  const bindings = Array.from({ length: parsed.count }, (_, i) => ({
    ip: formatIPv4(parsed.ips[i]!),
    mac: formatMac(parsed.macs.subarray(i * 6, i * 6 + 6)),
    vlan: parsed.vlans[i]!,
  }));
  return { vlan, dir, description, bindings };
}

interface Replay {
  result: DaemonResult;
  rx: Buffer[][];
  tx: Buffer[][];
}

/** The profile's pcaps into ports p0 and p1 (one per side), the bindings in the config. */
async function replay(kit: Kit, profile: Profile): Promise<Replay> {
  const dir = new TempDir();
  dirs.push(dir);
  const rx = SIDES.map((side) => readPcap(kit.dir.file(`${profile}-port${side}.pcap`)));
  const ports = SIDES.map((side) => ({
    name: `p${side}`,
    device: `net_pcap${side},rx_pcap=${kit.dir.file(`${profile}-port${side}.pcap`)},tx_pcap=${dir.file(`tx${side}.pcap`)}`,
  }));
  const total = rx[0]!.length + rx[1]!.length;
  // As benchmarks/bare-metal/microarp.yaml: unknown targets flooded, no learning from senders.
  const result = await runDaemon(
    dir,
    { ports, bindings: kit.bindings, unknown: 'flood', learning: 'off', table: { capacity: 4096 } },
    { until: (s) => s.counters.rx_packets! >= total },
  );
  assert.equal(result.code, 0, `daemon exit code; stderr:\n${result.stderr}`);
  return { result, rx, tx: SIDES.map((side) => readPcap(dir.file(`tx${side}.pcap`))) };
}

/** Each request answered once, out its own port, with the target's bound MAC; nothing else. */
function assertAnswered(kit: Kit, requests: Buffer[], replies: Buffer[], side: number): void {
  const boundMac = new Map(kit.bindings.map((b) => [`${b.vlan}/${b.ip}`, b.mac]));
  const decoded = replies.map((f) => decodeArp(f));
  assert.equal(replies.length, requests.length, `side ${side}: one reply per request`);
  const key = (a: { target: string; requester: string; rip: string }): string => `${a.target} ${a.requester} ${a.rip}`;
  const asked = requests.map((f) => decodeArp(f)!).map((r) => key({ target: r.tpa, requester: r.sha, rip: r.spa }));
  const answered = decoded.map((r: DecodedArp | null, i) => {
    assert.ok(r, `side ${side}: frame ${i} sent back is ARP`);
    const mac = boundMac.get(`${kit.vlan ?? 0}/${r.spa}`);
    assert.ok(mac, `side ${side}: reply ${i} is for a bound target (${r.spa})`);
    assert.deepEqual(
      { op: r.op, ethSrc: r.ethSrc, sha: r.sha, ethDst: r.ethDst, vlan: r.vlan, length: r.length },
      { op: 2, ethSrc: mac, sha: mac, ethDst: r.tha, vlan: kit.vlan, length: 60 },
      `side ${side}: reply ${i} for ${r.spa}`,
    );
    return key({ target: r.spa, requester: r.tha, rip: r.tpa });
  });
  assert.deepEqual(answered.sort(), asked.sort(), `side ${side}: the replies answer exactly the requests`);
}

const dirs: TempDir[] = [];
after(() => dirs.forEach((d) => d.remove()));

for (const vlan of [undefined, 10]) {
  describe(`bare-metal kit, ${vlan ? `VLAN ${vlan}` : 'untagged'} (${TARGETS} targets, ${SENDERS} senders per port)`, () => {
    let kit: Kit;
    before(async () => {
      kit = await makeKit(vlan);
      dirs.push(kit.dir);
    });

    it("frames.py's field-engine description gives scapy's explicit frames, each write on its field", () => {
      for (const profile of PROFILES) {
        for (const side of SIDES) {
          for (const s of kit.description[profile][side]!) {
            const what = `${profile} side ${side} ${s.name}`;
            const engine = describedEngine(s);
            assert.equal(s.frames.length, s.period, what);
            assert.ok(s.period >= Math.max(...s.variables.map((v) => v.count)), `${what}: period`);
            s.frames.forEach((hex, k) => {
              const explicit = Buffer.from(hex, 'hex');
              assert.equal(engineFrame(engine, k).toString('hex'), hex, `${what}: frame ${k}`);
              assert.equal(explicit.length, 60, `${what}: frame ${k} is a 64-byte frame without FCS`);
              for (const w of s.variables.flatMap((v) => v.writes)) {
                assert.deepEqual(explicit.subarray(w.offset, w.offset + w.size), fieldBytes(explicit, w.field),
                  `${what}: frame ${k}: offset ${w.offset} holds ${w.field}`);
              }
            });
          }
        }
      }
      // What the profiles vary: every bound target and every sender of a side, in the ARP profile.
      const arp = kit.description.arp_requests['0']![0]!;
      const requests = arp.frames.map((hex) => decodeArp(Buffer.from(hex, 'hex'))!);
      assert.equal(new Set(requests.map((r) => r.tpa)).size, TARGETS);
      assert.equal(new Set(requests.map((r) => `${r.sha} ${r.spa}`)).size, SENDERS);
      assert.ok(requests.every((r) => r.ethSrc === r.sha && r.op === 1 && r.vlan === vlan));
    });

    it('the TRex profiles build that very program, from tunables and from the older key=value form', () => {
      for (const profile of PROFILES) {
        for (const side of SIDES) {
          const args = ['--targets', String(TARGETS), '--senders', String(SENDERS), ...(vlan ? ['--vlan', String(vlan)] : [])];
          const profileFile = `benchmarks/trex/${profile}.py`;
          const out = python('test/helpers/trex_stub.py', [join(REPO, profileFile), String(side), 'tunables', ...args]);
          const streams = JSON.parse(out) as StlStream[];
          const described = kit.description[profile][side]!;
          assert.deepEqual(streams.map((s) => s.name), described.map((s) => `${s.name}-${side}`), `${profile} port ${side}`);
          streams.forEach((s, i) => {
            const expected = described[i]!;
            assert.equal(s.pkt_buffer, expected.base, `${s.name}: base frame`);
            assert.deepEqual([s.pps, s.mac_src_override_by_pkt, s.mac_dst_override_mode], [1, true, 'STLStreamDstMAC_PKT']);
            const engine = stlEngine(s);
            expected.frames.forEach((hex, k) => assert.equal(engineFrame(engine, k).toString('hex'), hex, `${s.name}: frame ${k}`));
          });
          if (profile === 'mixed') {
            const old = python('test/helpers/trex_stub.py', [join(REPO, profileFile), String(side), 'keywords', ...args]);
            assert.equal(old, out, `${profile} port ${side}: -t targets=...,senders=... builds the same`);
          }
        }
      }
    });

    it("the pktgen pcaps hold the field engine's frames: every stream's period, one frame of each in turn", () => {
      for (const profile of PROFILES) {
        for (const side of SIDES) {
          const streams = kit.description[profile][side]!;
          const perStream = Math.max(...streams.map((s) => s.period));
          const expected = Array.from({ length: perStream }, (_, k) => streams.map((s) => s.frames[k % s.period]!)).flat();
          const pcap = readPcap(kit.dir.file(`${profile}-port${side}.pcap`)).map((f) => f.toString('hex'));
          assert.deepEqual(pcap, expected, `${profile}-port${side}.pcap`);
        }
      }
    });

    it('arp_requests: every request is answered with the bound MAC, out the port it came in on', async () => {
      const { result, rx, tx } = await replay(kit, 'arp_requests');
      for (const side of SIDES) assertAnswered(kit, rx[side]!, tx[side]!, side);
      const total = rx[0]!.length + rx[1]!.length;
      const c = result.final!.counters;
      assert.deepEqual([c.arp_requests, c.replies_sent, c.requests_unbound, c.flooded], [total, total, 0, 0]);
      assert.deepEqual(Object.entries(result.final!.drops).filter(([, n]) => n > 0), [], 'nothing dropped');
    });

    it('unbound: no request is answered; each is flooded, unchanged, to the other port', async () => {
      const { result, rx, tx } = await replay(kit, 'unbound');
      for (const side of SIDES) {
        assert.ok(tx[side]!.every((f) => decodeArp(f)?.op === 1), `port ${side} sends no reply`);
        assert.deepEqual(hexes(tx[side]!), hexes(rx[1 - side]!), `port ${side} carries the other port's requests`);
      }
      const total = rx[0]!.length + rx[1]!.length;
      const c = result.final!.counters;
      assert.deepEqual([c.arp_requests, c.requests_unbound, c.replies_sent, c.flooded], [total, total, 0, total]);
    });

    it('mixed: requests answered on their port, UDP between hosts switched to the other port as unicast', async () => {
      const { result, rx, tx } = await replay(kit, 'mixed');
      for (const side of SIDES) {
        assertAnswered(kit, rx[side]!.filter(isArp), tx[side]!.filter(isArp), side);
        assert.deepEqual(hexes(tx[side]!.filter((f) => !isArp(f))), hexes(rx[1 - side]!.filter((f) => !isArp(f))),
          `port ${side} carries the other port's UDP, unchanged`);
      }
      const requests = rx.flat().filter(isArp).length;
      const udp = rx.flat().length - requests;
      const c = result.final!.counters;
      assert.deepEqual([c.replies_sent, c.requests_unbound, c.ipv4_frames], [requests, 0, udp]);
      // Unicast either way: to the port the FDB learned from the other side's datagrams, or,
      // before it has, flooded as unknown unicast (on two ports: the same one port).
      assert.equal(c.forwarded_unicast! + c.unknown_unicast!, udp);
      assert.equal(result.final!.drops.same_port, 0);
    });
  });
}

it('the example bare-metal config passes check-config', async () => {
  const result = await runCli(['check-config', join(REPO, 'benchmarks', 'bare-metal', 'microarp.yaml')]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /ok \(2 port\(s\)/);
});
