// Parses a bulk import (NDJSON or CSV) line by line into compact columns, collecting every bad
// line with its number. Nothing is applied here: the caller decides whether bad lines stop
// the whole import.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { bindingFromObject, FieldError, ipField, macField, vlanField } from './binding_input';
import { readFastLine, type FastLine } from './import_line';

export type ImportFormat = 'ndjson' | 'csv';

export interface BadLine {
  line: number;
  message: string;
}

export interface ParsedImport {
  count: number;
  ips: Uint32Array;
  vlans: Uint16Array;
  /** 6 bytes per binding. */
  macs: Uint8Array;
  bad: BadLine[];
  badCount: number;
  lines: number;
}

/** Bad lines reported in full; past this only counted. */
export const MAX_REPORTED_BAD_LINES = 1000;
const MAX_LINE = 4096;

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

/** `ip,mac[,vlan]`, cells trimmed; null for the header line. Finds the commas rather than splitting. */
function parseCsvLine(text: string): { ip: number; mac: Uint8Array; vlan: number } | null {
  const first = text.indexOf(',');
  const second = first < 0 ? -1 : text.indexOf(',', first + 1);
  if (first < 0 || (second >= 0 && text.indexOf(',', second + 1) >= 0)) {
    throw new FieldError('line', 'a CSV line is ip,mac[,vlan]');
  }
  const ip = text.slice(0, first).trim();
  if (ip === 'ip') return null; // header
  const mac = text.slice(first + 1, second < 0 ? text.length : second).trim();
  const vlan = second < 0 ? undefined : text.slice(second + 1).trim();
  return { ip: ipField(ip), mac: macField(mac), vlan: vlanField(vlan) };
}

export async function parseImport(input: Readable, format: ImportFormat): Promise<ParsedImport> {
  const columns = new Columns();
  const bad: BadLine[] = [];
  let badCount = 0;
  let line = 0;
  const fast: FastLine = { ip: 0, vlan: 0 };
  const reject = (message: string): void => {
    badCount++;
    if (bad.length < MAX_REPORTED_BAD_LINES) bad.push({ line, message });
  };
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (text.length > MAX_LINE) {
      reject(`line longer than ${MAX_LINE} characters`);
      continue;
    }
    try {
      if (format === 'csv') {
        const b = parseCsvLine(text);
        if (b) columns.push(b.ip, b.vlan, b.mac);
      } else {
        columns.reserve();
        if (readFastLine(text, fast, columns.macs, columns.count * 6)) {
          columns.ips[columns.count] = fast.ip;
          columns.vlans[columns.count] = fast.vlan;
          columns.count++;
          continue;
        }
        let o: unknown;
        try {
          o = JSON.parse(text);
        } catch {
          throw new FieldError('line', 'not valid JSON');
        }
        const b = bindingFromObject(o);
        columns.push(b.ip, b.vlan, b.mac);
      }
    } catch (error) {
      reject(error instanceof FieldError ? error.message : String(error));
    }
  }
  return {
    count: columns.count,
    ips: columns.ips.subarray(0, columns.count),
    vlans: columns.vlans.subarray(0, columns.count),
    macs: columns.macs.subarray(0, columns.count * 6),
    bad,
    badCount,
    lines: line,
  };
}
