// IPv6 Neighbor Discovery frames the control side sends through the dataplane: unsolicited
// advertisements announcing where an address now lives (migration), and the unicast
// solicitation that probes a learned binding's owner before it ages out.
import { ethernetFrame } from './frames';

const ALL_NODES = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const ALL_NODES_MAC = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);
const NA_ROUTER = 0x80;
const NA_OVERRIDE = 0x20;

interface NdSpec {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  type: 135 | 136;
  flags: number;
  target: Uint8Array;
  /** Option type 1 (source) or 2 (target link-layer address), with this MAC. */
  option: 1 | 2;
  optionMac: Uint8Array;
}

/** Every ND message here is 24 bytes plus one 8-byte link-layer address option. */
function ndFrame(spec: NdSpec, tagVlan: number | null): Uint8Array {
  const { frame, view, off } = ethernetFrame(spec.ethDst, spec.ethSrc, tagVlan, 0x86dd, (l3) => l3 + 40 + 32);
  view.setUint32(off, 0x60000000);
  view.setUint16(off + 4, 32);
  frame[off + 6] = 58;
  frame[off + 7] = 255;
  frame.set(spec.src, off + 8);
  frame.set(spec.dst, off + 24);
  const msg = off + 40;
  frame[msg] = spec.type;
  frame[msg + 4] = spec.flags;
  frame.set(spec.target, msg + 8);
  frame[msg + 24] = spec.option;
  frame[msg + 25] = 1;
  frame.set(spec.optionMac, msg + 26);
  view.setUint16(msg + 2, icmpv6Checksum(frame, off, 32));
  return frame;
}

/** RFC 4443 section 2.3: the one's complement sum over the pseudo-header and the message. */
export function icmpv6Checksum(frame: Uint8Array, ipOffset: number, length: number): number {
  let sum = 0;
  const word = (at: number): number => (frame[at]! << 8) | (frame[at + 1] ?? 0);
  for (let at = ipOffset + 8; at < ipOffset + 40; at += 2) sum += word(at);
  sum += (length >>> 16) + (length & 0xffff) + 58;
  const msg = ipOffset + 40;
  for (let at = msg; at < msg + length; at += 2) if (at !== msg + 2) sum += word(at);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 appendix A). */
export function linkLocalOf(mac: Uint8Array): Uint8Array {
  return new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!]);
}

/**
 * An unsolicited Neighbor Advertisement from the binding's own MAC to all-nodes, override
 * set (RFC 4861 7.2.6): every neighbour's cache entry for `addr` moves to `mac` at once.
 */
export function unsolicitedNaFrame(mac: Uint8Array, addr: Uint8Array, router: boolean, tagVlan: number | null): Uint8Array {
  return ndFrame(
    { ethDst: ALL_NODES_MAC, ethSrc: mac, src: addr, dst: ALL_NODES, type: 136, flags: NA_OVERRIDE | (router ? NA_ROUTER : 0), target: addr, option: 2, optionMac: mac },
    tagVlan,
  );
}

/**
 * A unicast Neighbor Solicitation to the owner of `addr` (RFC 4861 7.3.3's unicast probe),
 * from microarp's probe MAC and its link-local address, with its source link-layer option so
 * that the owner answers straight to the probe MAC, where the workers take the answer in.
 */
export function probeNsFrame(probeMac: Uint8Array, ownerMac: Uint8Array, addr: Uint8Array, tagVlan: number | null): Uint8Array {
  return ndFrame(
    { ethDst: ownerMac, ethSrc: probeMac, src: linkLocalOf(probeMac), dst: addr, type: 135, flags: 0, target: addr, option: 1, optionMac: probeMac },
    tagVlan,
  );
}
