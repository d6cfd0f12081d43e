// Parses a bulk import (NDJSON or CSV) line by line into compact columns, collecting every bad
// line with its number. Nothing is applied here: the caller decides whether bad lines stop
// the whole import. IPv4 lines go to the main columns, mostly through the fast byte readers
// (import_line.ts); IPv6 lines, which those leave alone, to `v6`, through the general path.
import type { Readable } from 'node:stream';
import type { BindingColumns6 } from '../table/binding_table';
import { bindingFromObject, FieldError, ipField, macField, routerField, vlanField, type BindingInput } from './binding_input';
import { readFastCsvLine, readFastLine, type FastLine } from './import_line';

export type ImportFormat = 'ndjson' | 'csv';

export interface BadLine {
  line: number;
  message: string;
}

export interface ParsedImport {
  /** The IPv4 bindings. */
  count: number;
  ips: Uint32Array;
  vlans: Uint16Array;
  /** 6 bytes per binding. */
  macs: Uint8Array;
  /** The IPv6 bindings. */
  v6: BindingColumns6;
  bad: BadLine[];
  badCount: number;
  lines: number;
}

/** Bad lines reported in full; past this only counted. */
export const MAX_REPORTED_BAD_LINES = 1000;
const MAX_LINE = 4096;
/** Bytes of one line kept while its end has not arrived; past this it is refused as too long. */
const MAX_LINE_BYTES = 65536;

class Columns {
  count = 0;
  ips = new Uint32Array(1024);
  vlans = new Uint16Array(1024);
  macs = new Uint8Array(1024 * 6);

  push(ip: number, vlan: number, mac: Uint8Array): void {
    this.reserve();
    this.ips[this.count] = ip;
    this.vlans[this.count] = vlan;
    this.macs.set(mac, this.count * 6);
    this.count++;
  }

  /** Room for one more row at `count`, for a reader that writes the MAC in place. */
  reserve(): void {
    if (this.count === this.ips.length) {
      const grow = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, n: number): T => {
        const b = new (a.constructor as new (n: number) => T)(n);
        b.set(a);
        return b;
      };
      this.ips = grow(this.ips, this.ips.length * 2);
      this.vlans = grow(this.vlans, this.vlans.length * 2);
      this.macs = grow(this.macs, this.macs.length * 2);
    }
  }
}

/** The IPv6 rows of an import, growing as lines come. */
class Columns6 {
  count = 0;
  ips = new Uint8Array(0);
  vlans = new Uint16Array(0);
  macs = new Uint8Array(0);
  routers = new Uint8Array(0);
  before = new Uint32Array(0);

  /** `before`: the IPv4 rows read so far. */
  push(b: BindingInput & { ip: Uint8Array }, before: number): void {
    if (this.count === this.vlans.length) {
      const rows = Math.max(64, this.count * 2);
      const grow = <T extends Uint8Array | Uint16Array | Uint32Array>(a: T, n: number): T => {
        const bigger = new (a.constructor as new (n: number) => T)(n);
        bigger.set(a);
        return bigger;
      };
      this.ips = grow(this.ips, rows * 16);
      this.vlans = grow(this.vlans, rows);
      this.macs = grow(this.macs, rows * 6);
      this.routers = grow(this.routers, rows);
      this.before = grow(this.before, rows);
    }
    this.ips.set(b.ip, this.count * 16);
    this.vlans[this.count] = b.vlan;
    this.macs.set(b.mac, this.count * 6);
    this.routers[this.count] = b.router ? 1 : 0;
    this.before[this.count] = before;
    this.count++;
  }

  done(): BindingColumns6 {
    const n = this.count;
    const { ips, vlans, macs, routers, before } = this;
    return { count: n, ips: ips.subarray(0, n * 16), vlans: vlans.subarray(0, n), macs: macs.subarray(0, n * 6), routers: routers.subarray(0, n), before: before.subarray(0, n) };
  }
}

/**
 * `ip,mac[,vlan[,router]]`, cells trimmed; null for the header line. Finds the commas rather
 * than splitting. `router` (IPv6 only): true, false or empty.
 */
export function parseCsvLine(text: string): BindingInput | null {
  const first = text.indexOf(',');
  const second = first < 0 ? -1 : text.indexOf(',', first + 1);
  const third = second < 0 ? -1 : text.indexOf(',', second + 1);
  if (first < 0 || (third >= 0 && text.indexOf(',', third + 1) >= 0)) {
    throw new FieldError('line', 'a CSV line is ip,mac[,vlan[,router]]');
  }
  const ipText = text.slice(0, first).trim();
  if (ipText === 'ip') return null; // header
  const mac = text.slice(first + 1, second < 0 ? text.length : second).trim();
  const vlan = second < 0 ? undefined : text.slice(second + 1, third < 0 ? text.length : third).trim();
  const ip = ipField(ipText);
  const binding: BindingInput = { ip, mac: macField(mac), vlan: vlanField(vlan) };
  const routerText = third < 0 ? '' : text.slice(third + 1).trim();
  if (routerText !== '') {
    const router = routerText === 'true' ? true : routerText === 'false' ? false : routerText;
    if (routerField(router, ip)) binding.router = true;
  }
  return binding;
}

/**
 * Splits a byte stream into lines as readline does with crlfDelay Infinity: "\n", "\r\n" and a
 * lone "\r" each end a line, a "\r\n" split across chunks included, and a last line needs no
 * break. Calls `onLine(bytes, from, to)` with the line's bytes, the break excluded, or
 * `onLine(null, 0, 0)` for a line longer than MAX_LINE_BYTES, whose bytes are not kept.
 */
async function forEachLine(input: Readable, onLine: (bytes: Uint8Array | null, from: number, to: number) => void): Promise<void> {
  const none = Buffer.alloc(0);
  let carry: Buffer = none; // the start of a line that the next chunk ends
  let overlong = false; // the current line passed MAX_LINE_BYTES: skip to its end
  let skipLineFeed = false; // the previous chunk ended in "\r"
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    let from = skipLineFeed && bytes.length > 0 && bytes[0] === 0x0a ? 1 : 0;
    skipLineFeed = false;
    // Most imports end their lines in "\n" alone: then memchr (indexOf) finds each one.
    const onlyLineFeeds = bytes.indexOf(0x0d, from) < 0;
    for (let i = from; i < bytes.length; i++) {
      if (onlyLineFeeds) {
        i = bytes.indexOf(0x0a, i);
        if (i < 0) break;
      }
      const b = bytes[i]!;
      if (b !== 0x0a && b !== 0x0d) continue;
      if (overlong) onLine(null, 0, 0);
      else if (carry.length > 0) {
        // Only a line split between chunks is copied; the rest is read where it lies.
        const line = Buffer.concat([carry, bytes.subarray(from, i)]);
        onLine(line, 0, line.length);
      } else onLine(bytes, from, i);
      carry = none;
      overlong = false;
      if (b === 0x0d) {
        if (i + 1 === bytes.length) skipLineFeed = true;
        else if (bytes[i + 1] === 0x0a) i++;
      }
      from = i + 1;
    }
    if (from < bytes.length && !overlong) {
      carry = Buffer.concat([carry, bytes.subarray(from)]);
      if (carry.length > MAX_LINE_BYTES) {
        overlong = true;
        carry = none;
      }
    }
  }
  if (overlong) onLine(null, 0, 0);
  else if (carry.length > 0) onLine(carry, 0, carry.length);
}

function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

export async function parseImport(input: Readable, format: ImportFormat): Promise<ParsedImport> {
  const columns = new Columns();
  const columns6 = new Columns6();
  const push = (b: BindingInput): void => {
    if (typeof b.ip === 'number') columns.push(b.ip, b.vlan, b.mac);
    else columns6.push(b as BindingInput & { ip: Uint8Array }, columns.count);
  };
  const bad: BadLine[] = [];
  let badCount = 0;
  let line = 0;
  const fast: FastLine = { ip: 0, vlan: 0 };
  const reject = (message: string): void => {
    badCount++;
    if (bad.length < MAX_REPORTED_BAD_LINES) bad.push({ line, message });
  };
  // The general path: the line as text, trimmed as String.trim does (Unicode spaces and a
  // byte-order mark included), with its exact error messages.
  const general = (text: string): void => {
    if (text === '' || text.startsWith('#')) return;
    if (text.length > MAX_LINE) {
      reject(`line longer than ${MAX_LINE} characters`);
      return;
    }
    try {
      if (format === 'csv') {
        const b = parseCsvLine(text);
        if (b) push(b);
        return;
      }
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        throw new FieldError('line', 'not valid JSON');
      }
      push(bindingFromObject(o));
    } catch (error) {
      reject(error instanceof FieldError ? error.message : String(error));
    }
  };
  await forEachLine(input, (bytes, from, to) => {
    line++;
    if (bytes === null) {
      reject(`line longer than ${MAX_LINE} characters`);
      return;
    }
    // ASCII spaces trimmed here; a line with anything else around it goes the general way.
    while (from < to && isSpace(bytes[from]!)) from++;
    while (to > from && isSpace(bytes[to - 1]!)) to--;
    if (from === to || bytes[from] === 0x23) return; // empty, or a '#' comment
    if (to - from <= MAX_LINE) {
      columns.reserve();
      const read = format === 'csv' ? readFastCsvLine : readFastLine;
      if (read(bytes, from, to, fast, columns.macs, columns.count * 6)) {
        columns.ips[columns.count] = fast.ip;
        columns.vlans[columns.count] = fast.vlan;
        columns.count++;
        return;
      }
    }
    general(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8').trim());
  });
  return {
    count: columns.count,
    ips: columns.ips.subarray(0, columns.count),
    vlans: columns.vlans.subarray(0, columns.count),
    macs: columns.macs.subarray(0, columns.count * 6),
    v6: columns6.done(),
    bad,
    badCount,
    lines: line,
  };
}
