// Writes the seed corpora of the fuzz targets (native/fuzz/) into test/fuzz/corpus/<target>/:
// every frame the pcap tests and the benchmarks send (built with the same helpers and the same
// generators), the edge cases the targets are about, and the regression input of every bug the
// fuzzers found. Each target reads "header + frame" (see the comment at the top of its source);
// this file writes the headers.
//
//   node dist/test/fuzz/make_corpus.js [--out DIR]      (default: test/fuzz/corpus)
//
// test/fuzz.test.ts checks that the committed corpus is exactly what this writes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindings as workloadBindings, requestFrames } from '../../benchmarks/workload';
import { parseIPv6, parseMac } from '../../src/dataplane/address';
import { packUpdates, packUpserts, type Update } from '../../src/dataplane/updates';
import { arpFrame, etherFrame, rarpFrame } from '../helpers/frames';
import { readPcap } from '../helpers/pcap';

const REPO = join(__dirname, '..', '..', '..');
export const CORPUS_DIR = join(REPO, 'test', 'fuzz', 'corpus');
export const TARGETS = ['classify_frame', 'arp_inspection', 'arp_reply', 'vlan_tag', 'update_record', 'nd_frame'] as const;
export type Target = (typeof TARGETS)[number];

interface Seed {
  name: string;
  frame: Buffer;
}

const REQUESTER = '02:00:00:00:00:01';
const OWNER_7 = '02:aa:00:00:00:07';
const OWNER_9 = '02:aa:00:00:00:09';

function mac(text: string): Buffer {
  return Buffer.from(parseMac(text)!);
}

/** As test/switching_pcap.test.ts's tag(): an 802.1Q tag with `tci` after the MACs. */
function tag(frame: Buffer, tci: number): Buffer {
  const t = Buffer.alloc(4);
  t.writeUInt16BE(0x8100, 0);
  t.writeUInt16BE(tci, 2);
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}

/** test/responder_pcap.test.ts, every frame of every case. */
function responderFrames(): Seed[] {
  const good = { sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' };
  return [
    ['request-untagged', arpFrame(good)],
    ['request-vlan10-pcp3', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.8', vlan: 10, pcp: 3 })],
    ['request-42-bytes', arpFrame({ sha: '02:00:00:00:00:02', spa: '10.0.0.2', tpa: '10.0.0.9', padTo: 42 })],
    ['probe', arpFrame({ sha: '02:00:00:00:00:03', spa: '0.0.0.0', tpa: '10.0.0.7' })],
    ['request-unbound', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.99' })],
    ['request-vlan20', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 20 })],
    ['garp-request', arpFrame({ sha: OWNER_7, spa: '10.0.0.7', tpa: '10.0.0.7' })],
    ['garp-reply', arpFrame({ op: 2, sha: OWNER_7, spa: '10.0.0.7', tpa: '10.0.0.7' })],
    ['reply', arpFrame({ op: 2, sha: OWNER_9, spa: '10.0.0.9', tha: REQUESTER, tpa: '10.0.0.1', ethDst: REQUESTER })],
    ['request-by-owner', arpFrame({ sha: OWNER_7, spa: '10.0.0.70', tpa: '10.0.0.7' })],
    ['probe-by-owner', arpFrame({ sha: OWNER_7, spa: '0.0.0.0', tpa: '10.0.0.7' })],
    ['shorter-than-ethernet', Buffer.alloc(10, 0xff)],
    ['tag-cut-short', Buffer.from([...Buffer.alloc(12, 0xff), 0x81, 0x00, 0x00])],
    ['arp-body-cut-short', arpFrame(good).subarray(0, 30)],
    ['bad-htype', arpFrame({ ...good, htype: 6 })],
    ['bad-ptype', arpFrame({ ...good, ptype: 0x86dd })],
    ['bad-hlen', arpFrame({ ...good, hlen: 8 })],
    ['bad-plen', arpFrame({ ...good, plen: 16 })],
    ['bad-op-3', arpFrame({ ...good, op: 3 })],
    ['bad-op-0', arpFrame({ ...good, op: 0 })],
    ['request-unbound-vlan30', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.99', vlan: 30 })],
    ['garp-9', arpFrame({ sha: OWNER_9, spa: '10.0.0.9', tpa: '10.0.0.9' })],
    ['ipv4', etherFrame(0x0800, REQUESTER, '02:00:00:00:00:99')],
    ['ipv6', etherFrame(0x86dd, REQUESTER, '33:33:00:00:00:01')],
    ['lldp', etherFrame(0x88cc, REQUESTER, '01:80:c2:00:00:0e')],
    ['ipv4-broadcast', etherFrame(0x0800, REQUESTER)],
  ].map(([name, frame]) => ({ name: `responder-${name as string}`, frame: frame as Buffer }));
}

/** test/switching_pcap.test.ts. */
function switchingFrames(): Seed[] {
  const s1 = etherFrame(0x0800, '02:00:00:00:00:01');
  const s2 = etherFrame(0x0800, '02:00:00:00:00:02');
  const s4 = etherFrame(0x0800, '02:00:00:00:00:04');
  const bad = etherFrame(0x0800, '02:00:00:00:00:05');
  return [
    ['s1', s1],
    ['s2-vlan20', tag(s2, 20)],
    ['s4-vlan30', tag(s4, 30)],
    ['bad-vlan10', tag(bad, 10)],
    ['bad-vlan30', tag(bad, 30)],
    ['request-access', arpFrame({ sha: '02:00:00:00:00:06', spa: '10.1.0.6', tpa: '10.1.0.1' })],
    ['request-trunk', arpFrame({ sha: '02:00:00:00:00:07', spa: '10.1.0.7', tpa: '10.1.0.1', vlan: 10 })],
    ['fdb-cap', etherFrame(0x0800, '02:77:00:00:00:01')],
  ].map(([name, frame]) => ({ name: `switching-${name as string}`, frame: frame as Buffer }));
}

/**
 * test/trex_profiles.test.ts: the TRex profiles' frames through benchmarks/pktgen/make_pcaps.py,
 * untagged and in VLAN 10 as the test runs them, on a smaller address plan (the same streams and
 * shapes, fewer addresses).
 */
function trexFrames(): Seed[] {
  const dir = mkdtempSync(join(tmpdir(), 'microarp-corpus-'));
  try {
    const seeds: Seed[] = [];
    for (const vlan of [undefined, 10]) {
      const out = join(dir, vlan ? `v${vlan}` : 'untagged');
      execFileSync('/usr/bin/python3', ['-B', join(REPO, 'benchmarks/pktgen/make_pcaps.py'), '--targets', '4', '--senders', '2',
        ...(vlan ? ['--vlan', String(vlan)] : []), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
      for (const file of readdirSync(out).sort()) {
        readPcap(join(out, file)).forEach((frame, i) =>
          seeds.push({ name: `trex-${file.replace('.pcap', '')}${vlan ? `-v${vlan}` : ''}-${i}`, frame: Buffer.from(frame) }));
      }
    }
    return seeds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** benchmarks/workload.ts's requests, and test/helpers/frames.ts's RARP announce. */
function workloadFrames(): Seed[] {
  return [
    ...requestFrames(4, 4).map((frame, i) => ({ name: `workload-request-${i}`, frame })),
    { name: 'helpers-rarp-announce', frame: rarpFrame('02:00:00:00:00:42') },
  ];
}

/** What the targets are about beyond what the tests send. */
function edgeFrames(): Seed[] {
  const request = arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7' });
  const ipv4 = etherFrame(0x0800, REQUESTER, '02:00:00:00:00:99');
  const ieee8021ad = Buffer.concat([request.subarray(0, 12), Buffer.from([0x88, 0xa8, 0x00, 0x64]), request.subarray(12)]);
  return [
    ['empty', Buffer.alloc(0)],
    ['13-bytes', Buffer.alloc(13, 0x02)],
    ['ethernet-header-only', etherFrame(0x0806, REQUESTER, undefined, 14)],
    // One byte short of a whole tag.
    ['tag-17-bytes', tag(etherFrame(0x0806, REQUESTER, undefined, 14), 10).subarray(0, 17)],
    ['tag-header-only', tag(etherFrame(0x0806, REQUESTER, undefined, 14), 10)],
    ['request-tagged-46-bytes', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 10, padTo: 46 })],
    ['request-qinq', tag(arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 10 }), 100)],
    ['request-8021ad', ieee8021ad],
    ['request-with-trailer', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', padTo: 128 })],
    ['request-vlan4095', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 4095, pcp: 7 })],
    ['request-multicast-sender', arpFrame({ sha: REQUESTER, spa: '224.0.0.5', tpa: '10.0.0.7' })],
    ['request-sha-mismatch', arpFrame({ sha: REQUESTER, ethSrc: '02:00:00:00:00:66', spa: '10.0.0.1', tpa: '10.0.0.7' })],
    ['ipv4-1514-bytes', etherFrame(0x0800, REQUESTER, '02:00:00:00:00:99', 1514)],
    // Regression (vlan_tag found it): a priority-tagged frame (VLAN id 0, PCP 5) admitted into
    // an access or native VLAN left a trunk with id 0 instead of its VLAN's.
    ['priority-tagged-ipv4', tag(ipv4, 5 << 13)],
    ['priority-tagged-request', arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa: '10.0.0.7', vlan: 0, pcp: 5 })],
  ].map(([name, frame]) => ({ name: `edge-${name as string}`, frame: frame as Buffer }));
}

interface NdFields {
  type: number;
  ethSrc: string;
  ethDst: string;
  src: string;
  dst: string;
  /** NS, NA, redirect. */
  target?: string;
  vlan?: number;
  pcp?: number;
  options?: Buffer[];
  /** NA: R 0x80, S 0x40, O 0x20. */
  naFlags?: number;
  hopLimit?: number;
  code?: number;
  nextHeader?: number;
  badChecksum?: boolean;
  padTo?: number;
}

function ipv6(text: string): Buffer {
  const bytes = parseIPv6(text);
  if (!bytes) throw new Error(`bad IPv6 address in the corpus: ${text}`);
  return Buffer.from(bytes);
}

/** The ICMPv6 checksum (RFC 4443 2.3) of `message` (its checksum field zero) after the IPv6 header `ip`. */
function icmpv6Checksum(ip: Buffer, message: Buffer): number {
  let sum = (message.length >>> 16) + (message.length & 0xffff) + 58;
  for (let i = 8; i < 40; i += 2) sum += ip.readUInt16BE(i);
  for (let i = 0; i + 1 < message.length; i += 2) sum += message.readUInt16BE(i);
  if (message.length % 2 === 1) sum += message[message.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An ICMPv6 (by default Neighbor Discovery, RFC 4861) frame, with its checksum. */
function ndFrame(f: NdFields): Buffer {
  const fixed = ({ 133: 8, 134: 16, 135: 24, 136: 24, 137: 40 } as Record<number, number>)[f.type] ?? 8;
  const head = Buffer.alloc(fixed);
  head[0] = f.type;
  head[1] = f.code ?? 0;
  if (f.target) ipv6(f.target).copy(head, 8);
  if (f.type === 136) head[4] = f.naFlags ?? 0;
  if (f.type === 134) {
    head[4] = 64; // current hop limit
    head.writeUInt16BE(1800, 6); // router lifetime
  }
  if (f.type === 137) ipv6('2001:db8:1::99').copy(head, 24); // the redirected destination
  const message = Buffer.concat([head, ...(f.options ?? [])]);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(message.length, 4);
  ip[6] = f.nextHeader ?? 58;
  ip[7] = f.hopLimit ?? 255;
  ipv6(f.src).copy(ip, 8);
  ipv6(f.dst).copy(ip, 24);
  message.writeUInt16BE(f.badChecksum ? 0xdead : icmpv6Checksum(ip, message), 2);
  const eth = Buffer.alloc(14);
  mac(f.ethDst).copy(eth, 0);
  mac(f.ethSrc).copy(eth, 6);
  eth.writeUInt16BE(0x86dd, 12);
  let frame: Buffer = Buffer.concat([eth, ip, message]);
  if (f.vlan !== undefined) frame = tag(frame, ((f.pcp ?? 0) << 13) | f.vlan);
  return f.padTo && frame.length < f.padTo ? Buffer.concat([frame, Buffer.alloc(f.padTo - frame.length)]) : frame;
}

function llOption(type: 1 | 2, text: string): Buffer {
  return Buffer.concat([Buffer.from([type, 1]), mac(text)]);
}

/**
 * Neighbor Discovery (issue 12): every message type, tagged and untagged, with and without its
 * link-layer address option, and one frame per check the classifier makes.
 */
function ndFrames(): Seed[] {
  const HOST = '2001:db8::1';
  const TARGET = '2001:db8::7';
  const SOLICITED = 'ff02::1:ff00:7';
  const SOLICITED_MAC = '33:33:ff:00:00:07';
  const ALL_NODES_MAC = '33:33:00:00:00:01';
  const ROUTER = '02:aa:00:00:00:fe';
  const sllao = llOption(1, REQUESTER);
  const nonce = Buffer.from([14, 1, 1, 2, 3, 4, 5, 6]);
  const prefix = Buffer.alloc(32);
  prefix.set([3, 4, 64, 0xc0], 0);
  ipv6('2001:db8::').copy(prefix, 16);
  const mtu = Buffer.from([5, 1, 0, 0, 0, 0, 0x05, 0xdc]);
  const redirected = Buffer.concat([Buffer.from([4, 6, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40, 0x60)]);
  const ns: NdFields = { type: 135, ethSrc: REQUESTER, ethDst: SOLICITED_MAC, src: HOST, dst: SOLICITED, target: TARGET, options: [sllao] };
  const dad: NdFields = { ...ns, src: '::', options: [] };
  const na: NdFields = { type: 136, ethSrc: OWNER_7, ethDst: REQUESTER, src: TARGET, dst: HOST, target: TARGET, naFlags: 0x60, options: [llOption(2, OWNER_7)] };
  const rs: NdFields = { type: 133, ethSrc: REQUESTER, ethDst: ALL_NODES_MAC, src: 'fe80::1', dst: 'ff02::2', options: [sllao] };
  const ra: NdFields = { type: 134, ethSrc: ROUTER, ethDst: ALL_NODES_MAC, src: 'fe80::fe', dst: 'ff02::1', options: [prefix, mtu, llOption(1, ROUTER)] };
  const redirect: NdFields = { type: 137, ethSrc: ROUTER, ethDst: REQUESTER, src: 'fe80::fe', dst: HOST, target: 'fe80::fd', options: [llOption(2, OWNER_9), redirected] };
  const whole = ndFrame(ns);
  return [
    ['ns', ndFrame(ns)],
    ['ns-vlan10-pcp3', ndFrame({ ...ns, vlan: 10, pcp: 3 })],
    ['ns-no-option', ndFrame({ ...ns, options: [] })],
    ['ns-no-option-vlan20', ndFrame({ ...ns, options: [], vlan: 20 })],
    ['ns-nonce-sllao', ndFrame({ ...ns, options: [nonce, sllao] })],
    ['ns-by-owner', ndFrame({ ...ns, ethSrc: OWNER_7, options: [llOption(1, OWNER_7)] })],
    ['ns-with-trailer', ndFrame({ ...ns, padTo: 128 })],
    ['dad', ndFrame(dad)],
    ['dad-vlan20', ndFrame({ ...dad, vlan: 20 })],
    ['dad-nonce', ndFrame({ ...dad, options: [nonce] })],
    ['na-solicited', ndFrame(na)],
    ['na-unsolicited-vlan10', ndFrame({ ...na, vlan: 10, ethDst: ALL_NODES_MAC, dst: 'ff02::1', naFlags: 0x20 })],
    ['na-router-no-option', ndFrame({ ...na, naFlags: 0xe0, options: [] })],
    ['rs', ndFrame(rs)],
    ['rs-unspecified-vlan10', ndFrame({ ...rs, src: '::', options: [], vlan: 10 })],
    ['ra', ndFrame(ra)],
    ['ra-vlan30', ndFrame({ ...ra, vlan: 30 })],
    ['redirect', ndFrame(redirect)],
    ['redirect-vlan30', ndFrame({ ...redirect, vlan: 30 })],
    ['bad-hop-limit', ndFrame({ ...ns, hopLimit: 64 })],
    ['bad-code', ndFrame({ ...ns, code: 1 })],
    ['bad-checksum', ndFrame({ ...ns, badChecksum: true })],
    ['option-length-0', ndFrame({ ...ns, options: [Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])] })],
    ['option-past-end', ndFrame({ ...ns, options: [Buffer.from([1, 2, 2, 0, 0, 0, 0, 1])] })],
    ['option-trailing-byte', ndFrame({ ...ns, options: [sllao, Buffer.from([1])] })],
    ['dad-sllao', ndFrame({ ...dad, options: [sllao] })],
    // Two faults: the option is checked first (the order nd_frame.h documents).
    ['dad-sllao-multicast-target', ndFrame({ ...dad, options: [sllao], target: SOLICITED })],
    ['multicast-target', ndFrame({ ...ns, target: SOLICITED })],
    ['truncated', whole.subarray(0, whole.length - 4)],
    ['echo-request', ndFrame({ type: 128, ethSrc: REQUESTER, ethDst: OWNER_7, src: HOST, dst: TARGET, hopLimit: 64, options: [nonce] })],
    ['udp', ndFrame({ ...ns, nextHeader: 17 })],
  ].map(([name, frame]) => ({ name: `nd-${name as string}`, frame: frame as Buffer }));
}

/** nd_frame's 16-byte header: headroom, tailroom, flags (see nd_frame_fuzz.cc), source, two MACs. */
function ndHeader(headroom: number, tailroom: number, flags: number, target: string, claimed: string): Buffer {
  return Buffer.concat([Buffer.from([headroom, tailroom, flags, 3]), mac(target), mac(claimed)]);
}

/** Every frame once (the first name wins), in a stable order. */
function allFrames(): Seed[] {
  const seen = new Set<string>();
  return [...responderFrames(), ...switchingFrames(), ...trexFrames(), ...workloadFrames(), ...edgeFrames()].filter((s) => {
    const key = s.frame.toString('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isArp(frame: Buffer): boolean {
  if (frame.length < 14) return false;
  const type = frame.readUInt16BE(12);
  return type === 0x0806 || (type === 0x8100 && frame.length >= 18 && frame.readUInt16BE(16) === 0x0806);
}

/** arp_inspection's 48-byte header: binding flag and subnet count, the bound MAC, 8 subnets. */
function inspectionHeader(bound: string | null, subnets: [string, number][]): Buffer {
  const h = Buffer.alloc(48);
  h[0] = (bound ? 1 : 0) | (subnets.length << 1);
  if (bound) mac(bound).copy(h, 1);
  subnets.forEach(([net, length], i) => {
    net.split('.').forEach((octet, k) => (h[7 + i * 5 + k] = Number(octet)));
    h[7 + i * 5 + 4] = length;
  });
  return h;
}

/** arp_reply's 8-byte header: headroom, tailroom, the owner's MAC. */
function replyHeader(headroom: number, tailroom: number, owner: string): Buffer {
  return Buffer.concat([Buffer.from([headroom, tailroom]), mac(owner)]);
}

interface Port {
  mode: 'all' | 'access' | 'trunk';
  /** access: its VLAN; trunk: its native VLAN (0 = none). */
  a?: number;
  /** trunk: the two VLANs it carries. */
  vlans?: [number, number];
}

// The ports of test/switching_pcap.test.ts, and a port with no mode.
const A0: Port = { mode: 'access', a: 10 };
const A1: Port = { mode: 'access', a: 20 };
const T0: Port = { mode: 'trunk', vlans: [10, 20] };
const T1: Port = { mode: 'trunk', a: 10, vlans: [10, 30] };
const ALL: Port = { mode: 'all' };
const PORT_PAIRS: [Port, Port][] = [[A0, T0], [T0, A0], [T1, T0], [T0, T1], [ALL, ALL], [A0, T1], [T0, A1]];

/** vlan_tag's 18-byte header: headroom, tailroom, the VLAN id to push, ingress and egress port. */
function vlanHeader(headroom: number, tailroom: number, pushVlan: number, ingress: Port, egress: Port): Buffer {
  const h = Buffer.alloc(18);
  h[0] = headroom;
  h[1] = tailroom;
  h.writeUInt16BE(pushVlan, 2);
  [ingress, egress].forEach((p, i) => {
    const at = 4 + i * 7;
    h[at] = { all: 0, access: 1, trunk: 2 }[p.mode];
    h.writeUInt16BE(p.a ?? 0, at + 1);
    // The target carries 1 + (value % 4094).
    h.writeUInt16BE((p.vlans?.[0] ?? 1) - 1, at + 3);
    h.writeUInt16BE((p.vlans?.[1] ?? 1) - 1, at + 5);
  });
  return h;
}

function updateSeeds(): Seed[] {
  const m = (text: string): Uint8Array => parseMac(text)!;
  const upsert: Update = { op: 'upsert', ip: 0x0a000007, mac: m(OWNER_7), vlan: 0 };
  const updates: [string, Update[]][] = [
    ['upsert-api', [upsert]],
    ['upsert-learned-vlan10', [{ op: 'upsert', source: 'learned', ip: 0x0a000008, mac: m('02:aa:00:00:10:08'), vlan: 10 }]],
    ['upsert-static-vlan4094', [{ op: 'upsert', source: 'static', ip: 0xc0a80001, mac: m(OWNER_9), vlan: 4094 }]],
    ['remove', [{ op: 'remove', ip: 0x0a000007, vlan: 0 }]],
    ['fdb-add', [{ op: 'fdb_add', vlan: 20, mac: m('02:00:00:00:00:02'), port: 3 }]],
    ['fdb-remove', [{ op: 'fdb_remove', vlan: 20, mac: m('02:00:00:00:00:02') }]],
    ['batch', [upsert, { op: 'remove', ip: 0x0a000009, vlan: 30 }, { op: 'fdb_add', vlan: 0, mac: m(REQUESTER), port: 65535 }]],
  ];
  return [
    ...updates.map(([name, u]) => ({ name: `updates-${name}`, frame: Buffer.from(packUpdates(u)) })),
    { name: 'updates-workload-upserts', frame: Buffer.from(packUpserts(workloadBindings(4), 'api')) },
  ];
}

/** The seeds of every target, as file name -> contents. */
export function corpus(): Map<Target, Map<string, Buffer>> {
  const frames = allFrames();
  const out = new Map<Target, Map<string, Buffer>>(TARGETS.map((t) => [t, new Map()]));
  for (const s of frames) out.get('classify_frame')!.set(s.name, s.frame);

  const arp = frames.filter((s) => isArp(s.frame));
  const subnets: [string, number][] = [['10.0.0.0', 8], ['172.16.0.0', 12]];
  arp.forEach((s, i) => {
    const sha = s.frame.subarray(s.frame.readUInt16BE(12) === 0x8100 ? 26 : 22).subarray(0, 6);
    const variants = [
      inspectionHeader(null, []),
      inspectionHeader([...sha].map((b) => b.toString(16).padStart(2, '0')).join(':'), subnets),
      inspectionHeader(OWNER_9, subnets),
    ];
    out.get('arp_inspection')!.set(s.name, Buffer.concat([variants[i % 3]!, s.frame]));
  });

  // Typical mbufs, none at all, and exactly (or one byte short of) the room a short request
  // needs to be padded to 60 bytes.
  arp.forEach((s, i) => {
    const short = Math.max(0, 60 - s.frame.length);
    const layouts = [[128, 128], [0, 0], [0, short], [2, Math.max(0, short - 1)]] as const;
    const [headroom, tailroom] = layouts[i % layouts.length]!;
    out.get('arp_reply')!.set(s.name, Buffer.concat([replyHeader(headroom, tailroom, OWNER_7), s.frame]));
  });
  const short42 = frames.find((s) => s.name === 'responder-request-42-bytes')!.frame;
  out.get('arp_reply')!.set('edge-42-bytes-pad-room-exact', Buffer.concat([replyHeader(0, 18, OWNER_7), short42]));
  out.get('arp_reply')!.set('edge-42-bytes-pad-room-one-short', Buffer.concat([replyHeader(0, 17, OWNER_7), short42]));

  frames.filter((s) => s.frame.length >= 14).forEach((s, i) => {
    const [ingress, egress] = PORT_PAIRS[i % PORT_PAIRS.length]!;
    const headroom = i % 5 === 4 ? 3 : 128;  // a few without room for a tag
    out.get('vlan_tag')!.set(s.name, Buffer.concat([vlanHeader(headroom, 64, 10 + (i % 3), ingress, egress), s.frame]));
  });
  // The priority-tag regression on the ports it crossed wrongly: access 10 -> trunk 10,20, and a
  // trunk's native VLAN -> another trunk.
  for (const s of frames.filter((f) => f.name.startsWith('edge-priority-tagged'))) {
    out.get('vlan_tag')!.set(`${s.name}-access-to-trunk`, Buffer.concat([vlanHeader(128, 64, 10, A0, T0), s.frame]));
    out.get('vlan_tag')!.set(`${s.name}-native-to-trunk`, Buffer.concat([vlanHeader(128, 64, 10, T1, T0), s.frame]));
  }

  for (const s of updateSeeds()) out.get('update_record')!.set(s.name, s.frame);

  // Bound to another MAC (answered), the target bound with the router bit, no room to grow
  // (an NS without options), exactly the room, the solicitor's own binding, unbound; the
  // claimed address bound to the message's own MAC or to another one; a router port; and half
  // of them with the checksum written by the target (flag 0x40), so that mutations get past it.
  const layouts: [number, number, number, string, string][] = [
    [128, 128, 0x01 | 0x08 | 0x10, OWNER_7, OWNER_7],
    [0, 0, 0x01 | 0x04, OWNER_7, OWNER_9],
    [0, 8, 0x01 | 0x08 | 0x20, OWNER_9, OWNER_9],
    [2, 7, 0x01 | 0x02 | 0x08 | 0x10, OWNER_7, OWNER_7],
    [128, 128, 0x08 | 0x20, OWNER_7, OWNER_9],
  ];
  ndFrames().forEach((s, i) => {
    out.get('classify_frame')!.set(s.name, s.frame);
    const [headroom, tailroom, flags, target, claimed] = layouts[i % layouts.length]!;
    const header = ndHeader(headroom, tailroom, flags | (i % 2 === 0 ? 0x40 : 0), target, claimed);
    out.get('nd_frame')!.set(s.name, Buffer.concat([header, s.frame]));
  });
  return out;
}

/** Writes the corpus into `dir` (its target folders are replaced). */
export function writeCorpus(dir: string): number {
  let files = 0;
  for (const [target, seeds] of corpus()) {
    const at = join(dir, target);
    rmSync(at, { recursive: true, force: true });
    mkdirSync(at, { recursive: true });
    for (const [name, bytes] of seeds) {
      writeFileSync(join(at, name), bytes);
      files++;
    }
  }
  return files;
}

if (require.main === module) {
  const i = process.argv.indexOf('--out');
  const dir = i >= 0 ? process.argv[i + 1]! : CORPUS_DIR;
  const files = writeCorpus(dir);
  console.log(`make_corpus: ${files} seed files in ${dir}`);
}
