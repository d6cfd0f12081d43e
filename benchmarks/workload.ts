// The benchmark's workload, shared by the parent (which writes the requests) and the child
// (which loads the bindings). Binding k is a pure function of k, so the parent can draw
// request targets from the bound addresses without handing a million bindings to the child.
import { formatIPv4, formatMac } from '../src/dataplane/address';
import type { Binding, Binding6 } from '../src/dataplane/updates';
import { icmpv6Checksum } from '../src/learning/nd_frames';
import { arpFrame } from '../test/helpers/frames';

/** Binding k owns 10.0.0.1 + k (10.0.0.1 to 10.16.0.0 for a million bindings). */
const FIRST_BOUND_IP = 0x0a000001;
/** Requester i asks from 172.16.0.0 + i (mod 2^20, inside 172.16.0.0/12). */
const FIRST_SENDER_IP = 0xac100000;

function octets(prefix: number, n: number): Uint8Array {
  return Uint8Array.of(0x02, prefix, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Owners are 02:aa:…, requesters 02:00:…: never equal, so no request is the owner asking. */
export function binding(k: number): Binding {
  return { ip: FIRST_BOUND_IP + k, mac: octets(0xaa, k), vlan: 0 };
}

export function bindings(size: number): Binding[] {
  return Array.from({ length: size }, (_, k) => binding(k));
}

/** xorshift32: a seeded PRNG, so the same arguments always write the same pcap. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/**
 * `count` broadcast ARP requests of 60 bytes (the 64-byte wire frame without its FCS, which
 * pcap files do not carry) from `senders` requesters in turn (one per frame by default), each
 * for a bound address drawn uniformly from the `size` bindings, so every request is answered
 * and the lookups spread over the whole table.
 */
export function requestFrames(size: number, count: number, senders = count, seed = 1): Buffer[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) =>
    arpFrame({
      sha: formatMac(octets(0x00, (i % senders) + 1)),
      spa: formatIPv4(FIRST_SENDER_IP + ((i % senders) % (1 << 20))),
      tpa: formatIPv4(binding(next() % size).ip),
      padTo: 60,
    }),
  );
}

/** IPv6 binding k owns 2001:db8::1 + k, with binding(k)'s MAC. */
export function binding6(k: number): Binding6 {
  const ip = new Uint8Array(16);
  ip.set([0x20, 0x01, 0x0d, 0xb8]);
  const n = k + 1;
  ip.set([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], 12);
  return { ip, mac: octets(0xaa, k), vlan: 0 };
}

export function bindings6(size: number): Binding6[] {
  return Array.from({ length: size }, (_, k) => binding6(k));
}

/**
 * `count` Neighbor Solicitations of 86 bytes (NS plus source link-layer option, as a host
 * sends them) to the target's solicited-node group, from `senders` requesters in turn
 * (2001:db8:1::/64 sources), each for a bound address drawn uniformly from the `size` IPv6
 * bindings: the NS -> NA counterpart of requestFrames.
 */
export function solicitationFrames(size: number, count: number, senders = count, seed = 1): Buffer[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const sender = (i % senders) + 1;
    const mac = octets(0x00, sender);
    const target = binding6(next() % size).ip;
    const frame = new Uint8Array(86);
    const view = new DataView(frame.buffer);
    frame.set([0x33, 0x33, 0xff, target[13]!, target[14]!, target[15]!], 0);
    frame.set(mac, 6);
    view.setUint16(12, 0x86dd);
    view.setUint32(14, 0x60000000);
    view.setUint16(18, 32);
    frame[20] = 58;
    frame[21] = 255;
    frame.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, sender >>> 24, (sender >>> 16) & 0xff, (sender >>> 8) & 0xff, sender & 0xff], 22);
    frame.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13]!, target[14]!, target[15]!], 38);
    frame[54] = 135;
    frame.set(target, 62);
    frame.set([1, 1], 78);
    frame.set(mac, 80);
    view.setUint16(56, icmpv6Checksum(frame, 14, 32));
    return Buffer.from(frame);
  });
}
