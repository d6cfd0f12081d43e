// The benchmark's workload, shared by the parent (which writes the requests) and the child
// (which loads the bindings). Binding k is a pure function of k, so the parent can draw
// request targets from the bound addresses without handing a million bindings to the child.
import { formatIPv4, formatMac } from '../src/dataplane/address';
import type { Binding } from '../src/dataplane/updates';
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
