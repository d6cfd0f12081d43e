// Frames the control side sends through the dataplane: probes to a binding's owner and
// gratuitous ARP announcing where a binding now lives.
import type { PortConfig } from '../config/config';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** How a port wants a frame of `vlan`: mirrors native/core/vlan_policy.h. */
export function egressForm(port: PortConfig, vlan: number): 'none' | 'untagged' | 'tagged' {
  switch (port.mode) {
    case 'all':
      return vlan === 0 ? 'untagged' : 'tagged';
    case 'access':
      return vlan === port.vlan ? 'untagged' : 'none';
    case 'trunk':
      if (!port.vlans.includes(vlan)) return 'none';
      return vlan === port.nativeVlan ? 'untagged' : 'tagged';
  }
}

interface ArpSpec {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  op: 1 | 2;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

/** A zeroed frame of `length(l3Offset)` bytes with its Ethernet header (and 802.1Q tag when `tagVlan` is set) written; returns it and the offset of its layer 3. */
export function ethernetFrame(
  dst: Uint8Array,
  src: Uint8Array,
  tagVlan: number | null,
  etherType: number,
  length: (l3Offset: number) => number,
): { frame: Uint8Array; view: DataView; off: number } {
  const off = tagVlan === null ? 14 : 18;
  const frame = new Uint8Array(length(off));
  const view = new DataView(frame.buffer);
  frame.set(dst, 0);
  frame.set(src, 6);
  if (tagVlan !== null) {
    view.setUint16(12, 0x8100);
    view.setUint16(14, tagVlan);
  }
  view.setUint16(off - 2, etherType);
  return { frame, view, off };
}

function arpFrame(spec: ArpSpec, tagVlan: number | null): Uint8Array {
  const { frame, view, off } = ethernetFrame(spec.ethDst, spec.ethSrc, tagVlan, 0x0806, (l3) => Math.max(60, l3 + 28));
  view.setUint16(off, 1);
  view.setUint16(off + 2, 0x0800);
  frame[off + 4] = 6;
  frame[off + 5] = 4;
  view.setUint16(off + 6, spec.op);
  frame.set(spec.sha, off + 8);
  view.setUint32(off + 14, spec.spa);
  frame.set(spec.tha, off + 18);
  view.setUint32(off + 24, spec.tpa);
  return frame;
}

/** RFC 5227-style probe (sender IP 0.0.0.0) sent unicast to the owner of `ip`. */
export function probeFrame(probeMac: Uint8Array, ownerMac: Uint8Array, ip: number, tagVlan: number | null): Uint8Array {
  return arpFrame({ ethDst: ownerMac, ethSrc: probeMac, op: 1, sha: probeMac, spa: 0, tha: new Uint8Array(6), tpa: ip }, tagVlan);
}

/** Gratuitous ARP (a request with sender IP = target IP) from the binding's own MAC. */
export function garpFrame(mac: Uint8Array, ip: number, tagVlan: number | null): Uint8Array {
  return arpFrame({ ethDst: BROADCAST, ethSrc: mac, op: 1, sha: mac, spa: ip, tha: new Uint8Array(6), tpa: ip }, tagVlan);
}
