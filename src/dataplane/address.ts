// Parsing and formatting of the addresses a binding is made of. Strict on purpose: a table
// that answers for the whole segment must not guess what "10.1" or "aa:bb:cc" meant.

// Both parsers walk the bytes once and allocate nothing but the result: a bulk import calls
// them a million times each, on the request's bytes. What they accept is exactly what these
// patterns match (test/address.test.ts checks the two agree):
//   IPv4: ^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$
//   MAC:  ^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$
// The string forms copy the text's characters into a scratch buffer first (a character past
// ASCII becomes 0xff, which neither parser accepts).

const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** Longer than any address text, so a longer one is refused by length alone. */
const scratch = new Uint8Array(18);

function ascii(text: string, from: number, to: number): number {
  const length = Math.min(to - from, scratch.length);
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(from + i);
    scratch[i] = c < 0x80 ? c : 0xff;
  }
  return to - from;
}

/** The IPv4 address as an unsigned 32-bit number (host order), or null if `text` is not one. */
export function parseIPv4(text: string): number | null {
  return parseIPv4In(text, 0, text.length);
}

/** parseIPv4 of text[from, to), without taking the substring. */
export function parseIPv4In(text: string, from: number, to: number): number | null {
  const length = ascii(text, from, to);
  return length > scratch.length ? null : parseIPv4Bytes(scratch, 0, length);
}

/** parseIPv4 of the ASCII bytes[from, to). */
export function parseIPv4Bytes(bytes: Uint8Array, from: number, to: number): number | null {
  if (to - from < 7 || to - from > 15) return null;
  let value = 0;
  let i = from;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (bytes[i] !== DOT) return null;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < to && i - start < 4) {
      const c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      v = v * 10 + (c - ZERO);
      i++;
    }
    const digits = i - start;
    // One to three digits, no leading zero ("0" itself is fine), at most 255.
    if (digits === 0 || digits > 3 || (digits > 1 && bytes[start] === ZERO) || v > 255) return null;
    value = value * 256 + v;
  }
  return i === to ? value : null;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** Six octets, or null if `text` is not `aa:bb:cc:dd:ee:ff` (or with dashes). */
export function parseMac(text: string): Uint8Array | null {
  const mac = new Uint8Array(6);
  return parseMacInto(text, mac, 0) ? mac : null;
}

/** parseMac into out[at, at + 6); false (out unspecified there) if `text` is not a MAC. */
export function parseMacInto(text: string, out: Uint8Array, at: number): boolean {
  return parseMacIn(text, 0, text.length, out, at);
}

/** parseMacInto of text[from, to), without taking the substring. */
export function parseMacIn(text: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  const length = ascii(text, from, to);
  return length <= scratch.length && parseMacBytes(scratch, 0, length, out, at);
}

/** parseMacInto of the ASCII bytes[from, to). */
export function parseMacBytes(bytes: Uint8Array, from: number, to: number, out: Uint8Array, at: number): boolean {
  if (to - from !== 17) return false;
  const separator = bytes[from + 2];
  if (separator !== 0x3a && separator !== 0x2d) return false; // ':' or '-'
  for (let i = 0; i < 6; i++) {
    const hi = hexValue(bytes[from + i * 3]!);
    const lo = hexValue(bytes[from + i * 3 + 1]!);
    if (hi < 0 || lo < 0 || (i < 5 && bytes[from + i * 3 + 2] !== separator)) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

export function formatMac(octets: ArrayLike<number>): string {
  return Array.from({ length: 6 }, (_, i) => (octets[i] ?? 0).toString(16).padStart(2, '0')).join(':');
}

/** Why `mac` cannot own an IPv4 address, or null if it can. */
export function macProblem(mac: Uint8Array): string | null {
  return macProblemAt(mac, 0);
}

/** The same for the MAC at bytes[at, at + 6), with no subarray (an import checks a million). */
export function macProblemAt(bytes: Uint8Array, at: number): string | null {
  if ((bytes[at]! | bytes[at + 1]! | bytes[at + 2]! | bytes[at + 3]! | bytes[at + 4]! | bytes[at + 5]!) === 0) {
    return 'the all-zero MAC cannot own an address';
  }
  if ((bytes[at]! & 1) === 1) return 'a multicast or broadcast MAC cannot own an address';
  return null;
}

export const MAX_VLAN = 4094;
