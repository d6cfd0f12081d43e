// Crafting and decoding the frames the tests send and expect.
import { formatIPv4, formatMac, parseIPv4, parseMac } from '../../src/dataplane/address';

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

export interface ArpFields {
  op?: number;
  ethSrc?: string;
  ethDst?: string;
  sha: string;
  spa: string;
  tha?: string;
  tpa: string;
  vlan?: number;
  /** 802.1Q priority bits, to check they survive. */
  pcp?: number;
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
  /** Pad the frame to this length with zeros (default 60). */
  padTo?: number;
}

function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (!m) throw new Error(`bad MAC in a test: ${text}`);
  return m;
}

function ip(text: string): number {
  const v = parseIPv4(text);
  if (v === null) throw new Error(`bad IP in a test: ${text}`);
  return v;
}

export function arpFrame(f: ArpFields): Buffer {
  const tagged = f.vlan !== undefined;
  const off = tagged ? 18 : 14;
  const frame = Buffer.alloc(Math.max(off + 28, f.padTo ?? 60));
  frame.set(mac(f.ethDst ?? BROADCAST), 0);
  frame.set(mac(f.ethSrc ?? f.sha), 6);
  if (tagged) {
    frame.writeUInt16BE(0x8100, 12);
    frame.writeUInt16BE(((f.pcp ?? 0) << 13) | f.vlan!, 14);
  }
  frame.writeUInt16BE(0x0806, off - 2);
  frame.writeUInt16BE(f.htype ?? 1, off);
  frame.writeUInt16BE(f.ptype ?? 0x0800, off + 2);
  frame.writeUInt8(f.hlen ?? 6, off + 4);
  frame.writeUInt8(f.plen ?? 4, off + 5);
  frame.writeUInt16BE(f.op ?? 1, off + 6);
  frame.set(mac(f.sha), off + 8);
  frame.writeUInt32BE(ip(f.spa), off + 14);
  frame.set(mac(f.tha ?? '00:00:00:00:00:00'), off + 18);
  frame.writeUInt32BE(ip(f.tpa), off + 24);
  return frame;
}

export function etherFrame(etherType: number, src: string, dst = BROADCAST, length = 64): Buffer {
  const frame = Buffer.alloc(length);
  frame.set(mac(dst), 0);
  frame.set(mac(src), 6);
  frame.writeUInt16BE(etherType, 12);
  for (let i = 14; i < length; i++) frame[i] = i & 0xff;
  return frame;
}

/**
 * A RARP request-reverse (RFC 903, op 3) from `src` about itself, as QEMU's self-announce after
 * a live migration sends it: broadcast, EtherType 0x8035, padded to 60 bytes.
 */
export function rarpFrame(src: string): Buffer {
  const frame = Buffer.alloc(60);
  frame.set(mac(BROADCAST), 0);
  frame.set(mac(src), 6);
  frame.writeUInt16BE(0x8035, 12);
  frame.writeUInt16BE(1, 14);
  frame.writeUInt16BE(0x0800, 16);
  frame[18] = 6;
  frame[19] = 4;
  frame.writeUInt16BE(3, 20);
  frame.set(mac(src), 22);
  frame.set(mac(src), 32);
  return frame;
}

export interface DecodedArp {
  ethDst: string;
  ethSrc: string;
  vlan?: number;
  pcp?: number;
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
  length: number;
}

export function decodeArp(frame: Uint8Array): DecodedArp | null {
  const b = Buffer.from(frame);
  if (b.length < 14) return null;
  let off = 14;
  let vlan: number | undefined;
  let pcp: number | undefined;
  let type = b.readUInt16BE(12);
  if (type === 0x8100) {
    if (b.length < 18) return null;
    vlan = b.readUInt16BE(14) & 0x0fff;
    pcp = b.readUInt16BE(14) >> 13;
    type = b.readUInt16BE(16);
    off = 18;
  }
  if (type !== 0x0806 || b.length < off + 28) return null;
  return {
    ethDst: formatMac(b.subarray(0, 6)),
    ethSrc: formatMac(b.subarray(6, 12)),
    vlan,
    pcp,
    htype: b.readUInt16BE(off),
    ptype: b.readUInt16BE(off + 2),
    hlen: b[off + 4]!,
    plen: b[off + 5]!,
    op: b.readUInt16BE(off + 6),
    sha: formatMac(b.subarray(off + 8, off + 14)),
    spa: formatIPv4(b.readUInt32BE(off + 14)),
    tha: formatMac(b.subarray(off + 18, off + 24)),
    tpa: formatIPv4(b.readUInt32BE(off + 24)),
    length: b.length,
  };
}
