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

// IPv6 (RFC 4291 section 2.2): eight groups of 1-4 hex digits separated by ':', one '::'
// standing for one or more groups of zeros, and the last 32 bits possibly written as an IPv4
// address (`::ffff:10.0.0.1`). A zone (`fe80::1%eth0`) names an interface of the host that
// reads it, not an address, and is refused. test/address.test.ts checks the parser against
// net.isIPv6 and the formatter against the WHATWG URL serialiser.

/** The longest IPv6 text: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. */
const IPV6_MAX_TEXT = 45;
const groups = new Uint16Array(8);

/** The 16 bytes (network order) of the IPv6 address `text`, or null if it is not one. */
export function parseIPv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return parseIPv6Into(text, out, 0) ? out : null;
}

/** parseIPv6 into out[at, at + 16); false (out unspecified there) if `text` is not an IPv6 address. */
export function parseIPv6Into(text: string, out: Uint8Array, at: number): boolean {
  const n = text.length;
  if (n < 2 || n > IPV6_MAX_TEXT) return false;
  let count = 0; // groups read
  let gap = -1; // where '::' stands among them
  let i = 0;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let value = 0;
    let digit: number;
    while (i < n && (digit = hexValue(text.charCodeAt(i))) >= 0) {
      value = value * 16 + digit;
      i++;
    }
    if (i < n && text.charCodeAt(i) === DOT) {
      // The last 32 bits as an IPv4 address: it ends the text and takes two groups.
      if (count > 6) return false;
      const v4 = parseIPv4In(text, start, n);
      if (v4 === null) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (i === start || i - start > 4 || count === 8) return false;
    groups[count++] = value;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) return false; // a single ':' at the end
  }
  // Without '::' the groups are all there; with it, it stands for at least one.
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const tail = gap < 0 ? count : count - gap;
  const head = count - tail;
  out.fill(0, at, at + 16);
  for (let g = 0; g < head; g++) {
    out[at + 2 * g] = groups[g]! >>> 8;
    out[at + 2 * g + 1] = groups[g]! & 0xff;
  }
  for (let g = 0; g < tail; g++) {
    const to = 8 - tail + g;
    out[at + 2 * to] = groups[head + g]! >>> 8;
    out[at + 2 * to + 1] = groups[head + g]! & 0xff;
  }
  return true;
}

/**
 * bytes[at, at + 16) in RFC 5952's canonical text: lowercase, no leading zeros, the longest
 * run of two or more zero groups (the first of equal ones) as '::', and an IPv4-mapped address
 * (::ffff:0:0/96) in mixed notation, `::ffff:10.0.0.1` (section 5).
 */
export function formatIPv6(bytes: ArrayLike<number>, at = 0): string {
  const group = (g: number): number => (bytes[at + 2 * g]! << 8) | bytes[at + 2 * g + 1]!;
  let mapped = group(5) === 0xffff;
  for (let g = 0; g < 5 && mapped; g++) mapped = group(g) === 0;
  if (mapped) return `::ffff:${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let g = 0; g < 8; ) {
    if (group(g) !== 0) {
      g++;
      continue;
    }
    const start = g;
    while (g < 8 && group(g) === 0) g++;
    if (g - start > bestLength) {
      bestStart = start;
      bestLength = g - start;
    }
  }
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      text += '::';
      g += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += group(g).toString(16);
  }
  return text;
}

/** An address of either family as text: an IPv4 number dotted, IPv6 bytes in RFC 5952 form. */
export function formatIp(ip: number | ArrayLike<number>): string {
  return typeof ip === 'number' ? formatIPv4(ip) : formatIPv6(ip);
}

/** Why the IPv6 address at bytes[at, at + 16) cannot be bound, or null if it can. */
export function ipv6Problem(bytes: Uint8Array, at = 0): string | null {
  if (bytes[at] === 0xff) return 'a multicast address (ff00::/8) cannot be bound';
  let any = 0;
  for (let i = 0; i < 16; i++) any |= bytes[at + i]!;
  return any === 0 ? 'the unspecified address :: cannot be bound' : null;
}

/** An IPv6 prefix: the network's 16 bytes and the prefix length, 0 to 128. */
export interface Prefix6 {
  network: Uint8Array;
  length: number;
}

/**
 * `ADDRESS/LENGTH` with an IPv6 address and a length of 0 to 128 (no leading zeros), or null.
 * Host bits are not checked here: see hostBitsSet6.
 */
export function parseIPv6Prefix(text: string): Prefix6 | null {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return null;
  const bits = text.slice(slash + 1);
  if (!/^(12[0-8]|1[01]\d|[1-9]?\d)$/.test(bits)) return null;
  const network = parseIPv6(text.slice(0, slash));
  return network === null ? null : { network, length: Number(bits) };
}

/** Whether `network` has bits set past its first `length`. */
export function hostBitsSet6(network: Uint8Array, length: number): boolean {
  for (let bit = length; bit < 128; bit++) if ((network[bit >>> 3]! >>> (7 - (bit & 7))) & 1) return true;
  return false;
}

/** Whether the IPv6 address at bytes[at, at + 16) is inside `prefix`. */
export function inPrefix6(bytes: Uint8Array, at: number, prefix: Prefix6): boolean {
  const whole = prefix.length >>> 3;
  for (let i = 0; i < whole; i++) if (bytes[at + i] !== prefix.network[i]) return false;
  const rest = prefix.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[at + whole]! & mask) === prefix.network[whole];
}

export const MAX_VLAN = 4094;
