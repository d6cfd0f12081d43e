// Parsing and formatting of the addresses a binding is made of. Strict on purpose: a table
// that answers for the whole segment must not guess what "10.1" or "aa:bb:cc" meant.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** The IPv4 address as an unsigned 32-bit number (host order), or null if `text` is not one. */
export function parseIPv4(text: string): number | null {
  if (!IPV4.test(text)) return null;
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** Six octets, or null if `text` is not `aa:bb:cc:dd:ee:ff` (or with dashes). */
export function parseMac(text: string): Uint8Array | null {
  if (!MAC.test(text)) return null;
  return Uint8Array.from(text.split(/[:-]/), (octet) => parseInt(octet, 16));
}

export function formatMac(octets: ArrayLike<number>): string {
  return Array.from({ length: 6 }, (_, i) => (octets[i] ?? 0).toString(16).padStart(2, '0')).join(':');
}

/** Why `mac` cannot own an IPv4 address, or null if it can. */
export function macProblem(mac: Uint8Array): string | null {
  if (mac.every((o) => o === 0)) return 'the all-zero MAC cannot own an address';
  if ((mac[0]! & 1) === 1) return 'a multicast or broadcast MAC cannot own an address';
  return null;
}

export const MAX_VLAN = 4094;
