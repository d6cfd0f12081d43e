// The common NDJSON import line, `{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 10}`
// (or an export's line, with its extra fields), read without JSON.parse and without an object
// per line: a million-line import spends most of its parsing time there otherwise. A key given
// twice counts with its last value, as with JSON.parse. Anything this reader is not sure of
// (escapes, other value kinds, unknown keys, a value that would be refused) is left to the
// general path, which gives the verdict and the message;
// test/import_line.test.ts checks the two agree.
import { MAX_VLAN, parseIPv4In, parseMacIn } from '../dataplane/address';
import { EXPORT_ONLY } from './binding_input';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface FastLine {
  ip: number;
  vlan: number;
}

function skipSpaces(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

/**
 * Reads `text` into `line` and mac[at, at + 6) when it is a plain, valid binding line; false
 * otherwise (nothing is then known about the line: the general path decides).
 */
export function readFastLine(text: string, line: FastLine, mac: Uint8Array, at: number): boolean {
  let i = skipSpaces(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return false; // '{'
  // Where the ip and mac strings are in `text` (the last given wins, as with JSON.parse).
  let ipFrom = -1;
  let ipTo = -1;
  let macFrom = -1;
  let macTo = -1;
  let vlan = -1; // absent
  i = skipSpaces(text, i + 1);
  if (text.charCodeAt(i) === 0x7d) return false; // '{}': the general path says what is missing
  for (;;) {
    // "key"
    if (text.charCodeAt(i) !== QUOTE) return false;
    const keyFrom = i + 1;
    const keyTo = text.indexOf('"', keyFrom);
    if (keyTo < 0) return false;
    i = skipSpaces(text, keyTo + 1);
    if (text.charCodeAt(i) !== 0x3a) return false; // ':'
    i = skipSpaces(text, i + 1);
    // value: a string without escapes, an unsigned integer without leading zeros, or null
    let valueFrom = -1;
    let valueTo = -1;
    let numberValue = -1;
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      valueFrom = i + 1;
      valueTo = text.indexOf('"', valueFrom);
      if (valueTo < 0) return false;
      for (let k = valueFrom; k < valueTo; k++) {
        const s = text.charCodeAt(k);
        if (s === BACKSLASH || s < 0x20) return false;
      }
      i = valueTo + 1;
    } else if (c >= 0x30 && c <= 0x39) {
      const start = i;
      numberValue = 0;
      while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) {
        numberValue = numberValue * 10 + (text.charCodeAt(i) - 0x30);
        i++;
      }
      if ((i - start > 1 && c === 0x30) || i - start > 15) return false;
      const after = text.charCodeAt(i);
      if (after === 0x2e || after === 0x65 || after === 0x45) return false; // a fraction or exponent
    } else if (text.startsWith('null', i)) {
      i += 4;
    } else {
      return false;
    }
    const keyLength = keyTo - keyFrom;
    if (keyLength === 2 && text.startsWith('ip', keyFrom)) {
      if (valueFrom < 0) return false;
      ipFrom = valueFrom;
      ipTo = valueTo;
    } else if (keyLength === 3 && text.startsWith('mac', keyFrom)) {
      if (valueFrom < 0) return false;
      macFrom = valueFrom;
      macTo = valueTo;
    } else if (keyLength === 4 && text.startsWith('vlan', keyFrom)) {
      if (valueFrom >= 0) return false; // a VLAN as a string: the general path
      vlan = numberValue < 0 ? 0 : numberValue; // null means untagged
    } else if (!EXPORT_ONLY.has(text.slice(keyFrom, keyTo))) {
      return false; // an unknown key, or one with an escape: the general path
    }
    i = skipSpaces(text, i);
    const next = text.charCodeAt(i);
    if (next === 0x7d) break; // '}'
    if (next !== 0x2c) return false; // ','
    i = skipSpaces(text, i + 1);
  }
  if (skipSpaces(text, i + 1) !== text.length) return false;
  if (ipFrom < 0 || macFrom < 0 || vlan > MAX_VLAN) return false;
  const address = parseIPv4In(text, ipFrom, ipTo);
  if (address === null || !parseMacIn(text, macFrom, macTo, mac, at)) return false;
  // A MAC that cannot own an address (all zero, multicast): the general path words the refusal.
  if ((mac[at]! & 1) === 1 || (mac[at]! | mac[at + 1]! | mac[at + 2]! | mac[at + 3]! | mac[at + 4]! | mac[at + 5]!) === 0) return false;
  line.ip = address;
  line.vlan = vlan < 0 ? 0 : vlan;
  return true;
}
