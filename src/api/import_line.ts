// The common import lines, NDJSON `{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 10}`
// (or an export's line, with its extra fields) and CSV `10.0.0.1,02:00:00:00:00:01,10`, read
// from the request's bytes, without a
// string, JSON.parse or an object per line: a million-line import spends most of its parsing
// time there otherwise. A key given twice counts with its last value, as with JSON.parse.
// Anything this reader is not sure of (escapes, other value kinds, unknown keys, anything past
// ASCII, a value that would be refused) is left to the general path, which gives the verdict
// and the message; test/import_line.test.ts checks the two agree. The line is bytes[from, to)
// of a larger buffer: nothing at or past `to` is read.
import { MAX_VLAN, parseIPv4Bytes, parseMacBytes } from '../dataplane/address';
import { EXPORT_ONLY } from './binding_input';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EXPORT_ONLY_KEYS = [...EXPORT_ONLY].map((key) => Buffer.from(key, 'latin1'));

export interface FastLine {
  ip: number;
  vlan: number;
}

function skipSpaces(bytes: Uint8Array, i: number, to: number): number {
  while (i < to && (bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  return i;
}

function indexOfQuote(bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === QUOTE) return i;
  return -1;
}

function keyIs(bytes: Uint8Array, from: number, to: number, key: Uint8Array): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (bytes[from + i] !== key[i]) return false;
  return true;
}

const IP = Buffer.from('ip');
const MAC = Buffer.from('mac');
const VLAN = Buffer.from('vlan');
const NULL = Buffer.from('null');

/**
 * Reads bytes[from, to) (one line, no line break) into `line` and mac[at, at + 6) when it is a
 * plain, valid binding line; false otherwise (nothing is then known about the line: the
 * general path decides).
 */
export function readFastLine(bytes: Uint8Array, from: number, to: number, line: FastLine, mac: Uint8Array, at: number): boolean {
  let i = skipSpaces(bytes, from, to);
  if (i >= to || bytes[i] !== 0x7b) return false; // '{'
  // Where the ip and mac strings are (the last given wins, as with JSON.parse).
  let ipFrom = -1;
  let ipTo = -1;
  let macFrom = -1;
  let macTo = -1;
  let vlan = -1; // absent
  i = skipSpaces(bytes, i + 1, to);
  if (i < to && bytes[i] === 0x7d) return false; // '{}': the general path says what is missing
  for (;;) {
    // "key"
    if (i >= to || bytes[i] !== QUOTE) return false;
    const keyFrom = i + 1;
    const keyTo = indexOfQuote(bytes, keyFrom, to);
    if (keyTo < 0) return false;
    i = skipSpaces(bytes, keyTo + 1, to);
    if (i >= to || bytes[i] !== 0x3a) return false; // ':'
    i = skipSpaces(bytes, i + 1, to);
    // value: a string without escapes, an unsigned integer without leading zeros, or null
    let valueFrom = -1;
    let valueTo = -1;
    let numberValue = -1;
    const c = i < to ? bytes[i]! : -1;
    if (c === QUOTE) {
      valueFrom = i + 1;
      valueTo = indexOfQuote(bytes, valueFrom, to);
      if (valueTo < 0) return false;
      for (let k = valueFrom; k < valueTo; k++) {
        const b = bytes[k]!;
        // An escape, a control character, or anything past ASCII: the general path.
        if (b === BACKSLASH || b < 0x20 || b >= 0x80) return false;
      }
      i = valueTo + 1;
    } else if (c >= 0x30 && c <= 0x39) {
      const start = i;
      numberValue = 0;
      while (i < to && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) {
        numberValue = numberValue * 10 + (bytes[i]! - 0x30);
        i++;
      }
      if ((i - start > 1 && c === 0x30) || i - start > 15) return false;
      const after = i < to ? bytes[i] : -1;
      if (after === 0x2e || after === 0x65 || after === 0x45) return false; // a fraction or exponent
    } else if (keyIs(bytes, i, Math.min(to, i + 4), NULL)) {
      i += 4;
    } else {
      return false;
    }
    if (keyIs(bytes, keyFrom, keyTo, IP)) {
      if (valueFrom < 0) return false;
      ipFrom = valueFrom;
      ipTo = valueTo;
    } else if (keyIs(bytes, keyFrom, keyTo, MAC)) {
      if (valueFrom < 0) return false;
      macFrom = valueFrom;
      macTo = valueTo;
    } else if (keyIs(bytes, keyFrom, keyTo, VLAN)) {
      if (valueFrom >= 0) return false; // a VLAN as a string: the general path
      vlan = numberValue < 0 ? 0 : numberValue; // null means untagged
    } else if (!EXPORT_ONLY_KEYS.some((key) => keyIs(bytes, keyFrom, keyTo, key))) {
      return false; // an unknown key, or one with an escape: the general path
    }
    i = skipSpaces(bytes, i, to);
    if (i >= to) return false;
    const next = bytes[i];
    if (next === 0x7d) break; // '}'
    if (next !== 0x2c) return false; // ','
    i = skipSpaces(bytes, i + 1, to);
  }
  if (skipSpaces(bytes, i + 1, to) !== to) return false;
  if (ipFrom < 0 || macFrom < 0 || vlan > MAX_VLAN) return false;
  const address = parseIPv4Bytes(bytes, ipFrom, ipTo);
  if (address === null || !parseMacBytes(bytes, macFrom, macTo, mac, at)) return false;
  // A MAC that cannot own an address (all zero, multicast): the general path words the refusal.
  if ((mac[at]! & 1) === 1 || (mac[at]! | mac[at + 1]! | mac[at + 2]! | mac[at + 3]! | mac[at + 4]! | mac[at + 5]!) === 0) return false;
  line.ip = address;
  line.vlan = vlan < 0 ? 0 : vlan;
  return true;
}

function isCellSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/**
 * Reads the CSV line bytes[from, to), `ip,mac[,vlan]` with cells trimmed of ASCII spaces, as
 * readFastLine does an NDJSON one. A header, or anything doubtful, is the general path's.
 */
export function readFastCsvLine(bytes: Uint8Array, from: number, to: number, line: FastLine, mac: Uint8Array, at: number): boolean {
  let first = -1;
  let second = -1;
  for (let i = from; i < to; i++) {
    if (bytes[i] !== 0x2c) continue;
    if (first < 0) first = i;
    else if (second < 0) second = i;
    else return false; // a fourth cell
  }
  if (first < 0) return false;
  const cell = (start: number, end: number): [number, number] => {
    while (start < end && isCellSpace(bytes[start]!)) start++;
    while (end > start && isCellSpace(bytes[end - 1]!)) end--;
    return [start, end];
  };
  const [ipFrom, ipTo] = cell(from, first);
  const [macFrom, macTo] = cell(first + 1, second < 0 ? to : second);
  let vlan = 0;
  if (second >= 0) {
    const [vlanFrom, vlanTo] = cell(second + 1, to);
    if (vlanTo - vlanFrom > 4) return false;
    for (let i = vlanFrom; i < vlanTo; i++) {
      const b = bytes[i]!;
      if (b < 0x30 || b > 0x39) return false;
      vlan = vlan * 10 + (b - 0x30);
    }
    if (vlan > MAX_VLAN) return false;
  }
  const address = parseIPv4Bytes(bytes, ipFrom, ipTo);
  if (address === null || !parseMacBytes(bytes, macFrom, macTo, mac, at)) return false;
  if ((mac[at]! & 1) === 1 || (mac[at]! | mac[at + 1]! | mac[at + 2]! | mac[at + 3]! | mac[at + 4]! | mac[at + 5]!) === 0) return false;
  line.ip = address;
  line.vlan = vlan;
  return true;
}
