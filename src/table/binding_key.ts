// The keys the control side names a binding by, one number per binding so that Maps, Sets and
// sorting need no object per key:
//   IPv4: vlan * 2^32 + ip, a double (exact: below 2^44);
//   IPv6: vlan * 2^128 + address (its 16 bytes read as one big-endian integer), a bigint.
// Both order bindings by (VLAN, address); `typeof key` tells the family, and mixing the two in
// arithmetic throws rather than giving a wrong address.
import { formatIPv4, formatIPv6 } from '../dataplane/address';

export type TableKey = number | bigint;

const TWO32 = 2 ** 32;

export const keyOf = (vlan: number, ip: number): number => vlan * TWO32 + ip;

/** The key of the IPv6 address at ip[at, at + 16) in `vlan`. */
export function key6Of(vlan: number, ip: Uint8Array, at = 0): bigint {
  return key6OfWords(vlan, wordAt(ip, at), wordAt(ip, at + 4), wordAt(ip, at + 8), wordAt(ip, at + 12));
}

/** The key of an IPv6 address given as four 32-bit words, most significant first. */
export function key6OfWords(vlan: number, w0: number, w1: number, w2: number, w3: number): bigint {
  return (BigInt(vlan) << 128n) | (BigInt(w0) << 96n) | (BigInt(w1) << 64n) | (BigInt(w2) << 32n) | BigInt(w3);
}

/** The four 32-bit words of an IPv6 key's address, most significant first. */
export function wordsOfKey6(key: bigint): [number, number, number, number] {
  return [
    Number(BigInt.asUintN(32, key >> 96n)),
    Number(BigInt.asUintN(32, key >> 64n)),
    Number(BigInt.asUintN(32, key >> 32n)),
    Number(BigInt.asUintN(32, key)),
  ];
}

export const vlanOfKey = (key: TableKey): number => (typeof key === 'bigint' ? Number(key >> 128n) : Math.floor(key / TWO32));

/** The 16 address bytes of an IPv6 key. */
export function addressOfKey6(key: bigint): Uint8Array {
  const out = new Uint8Array(16);
  wordsOfKey6(key).forEach((w, i) => putWord(out, 4 * i, w));
  return out;
}

/** The address of a key as text (RFC 5952 for IPv6). */
export function formatKeyAddress(key: TableKey): string {
  return typeof key === 'bigint' ? formatIPv6(addressOfKey6(key)) : formatIPv4(key % TWO32);
}

/** `10.0.0.7 vlan 10`, `2001:db8::7` (untagged). */
export function describeTableKey(key: TableKey): string {
  const vlan = vlanOfKey(key);
  return vlan ? `${formatKeyAddress(key)} vlan ${vlan}` : formatKeyAddress(key);
}

/** The big-endian 32-bit word at bytes[at, at + 4), unsigned. */
export function wordAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function putWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word >>> 24;
  bytes[at + 1] = (word >>> 16) & 0xff;
  bytes[at + 2] = (word >>> 8) & 0xff;
  bytes[at + 3] = word & 0xff;
}
