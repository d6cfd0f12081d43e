// The import parser, which splits the request's bytes into lines itself and reads the common
// lines without a string, against a reference built the way it used to be: readline
// (crlfDelay Infinity), String.trim, and the general parsers on every line. Random documents of
// good, bad, blank, commented, Unicode-padded and over-long lines, with every kind of line break,
// cut into random chunks: the same bindings, the same bad line numbers and messages. IPv6
// lines (which only the general path reads) land in their own columns.
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { bindingFromObject, FieldError } from '../src/api/binding_input';
import { readFastCsvLine, type FastLine } from '../src/api/import_line';
import { parseCsvLine, parseImport, type ImportFormat } from '../src/api/import_parser';
import { formatIPv6 } from '../src/dataplane/address';
import { mutated, seededRandom } from './helpers/random';

async function reference(text: string, format: ImportFormat): Promise<unknown> {
  const rows: string[] = [];
  const rows6: string[] = [];
  const bad: { line: number; message: string }[] = [];
  let line = 0;
  for await (const raw of createInterface({ input: Readable.from([Buffer.from(text)]), crlfDelay: Infinity })) {
    line++;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.length > 4096) {
      bad.push({ line, message: 'line longer than 4096 characters' });
      continue;
    }
    try {
      const b = format === 'csv' ? parseCsvLine(t) : bindingFromObject(JSON.parse(t));
      if (b && typeof b.ip === 'number') rows.push(`${b.ip}/${b.vlan}/${[...b.mac].join(':')}`);
      else if (b) rows6.push(`${formatIPv6(b.ip as Uint8Array)}/${b.vlan}/${[...b.mac].join(':')}/${b.router === true}`);
    } catch (error) {
      bad.push({ line, message: error instanceof FieldError ? error.message : error instanceof SyntaxError ? 'line: not valid JSON' : String(error) });
    }
  }
  return { rows, rows6, bad, lines: line };
}

async function parsed(text: string, format: ImportFormat, next: () => number): Promise<unknown> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * (next() < 0.3 ? 4 : 200));
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  const p = await parseImport(Readable.from(chunks), format);
  const rows: string[] = [];
  for (let i = 0; i < p.count; i++) rows.push(`${p.ips[i]}/${p.vlans[i]}/${[...p.macs.subarray(i * 6, i * 6 + 6)].join(':')}`);
  const { v6 } = p;
  const rows6: string[] = [];
  for (let i = 0; i < v6.count; i++) {
    rows6.push(`${formatIPv6(v6.ips, i * 16)}/${v6.vlans[i]}/${[...v6.macs.subarray(i * 6, i * 6 + 6)].join(':')}/${v6.routers[i] === 1}`);
  }
  return { rows, rows6, bad: p.bad, lines: p.lines };
}

const NDJSON_LINES = [
  '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 10}',
  '{"ip":"10.0.0.2","mac":"02:00:00:00:00:02"}',
  '  {"ip":"10.0.0.3","mac":"02:00:00:00:00:03","vlan":null}\t',
  '\ufeff{"ip":"10.0.0.4","mac":"02:00:00:00:00:04"}',
  '\u00a0{"ip":"10.0.0.5","mac":"02:00:00:00:00:05"}\u3000',
  '{"ip":"10.0.0.6","mac":"02:00:00:00:00:06","port":"vm-é"}',
  '{"ip":"10.0.0.7","mac":"01:00:5e:00:00:01"}',
  '{"ip":"10.0.0.8"}',
  'not json',
  '{"ip": "10.0.0.\\u0039", "mac": "02:00:00:00:00:09"}',
  '# a comment',
  ' \u00a0# a padded comment',
  '',
  '   ',
  `{"ip":"10.0.0.10","mac":"02:00:00:00:00:0a","port":"${'x'.repeat(5000)}"}`,
  `${' '.repeat(6000)}{"ip":"10.0.0.11","mac":"02:00:00:00:00:0b"}`,
  '{"ip": "2001:db8::1", "mac": "02:00:00:00:00:61", "vlan": 10}',
  '{"ip":"2001:DB8:0:0::2","mac":"02:00:00:00:00:62","router":true}',
  '{"ip":"fe80::3","mac":"02:00:00:00:00:63","router":false,"source":"api","hits":1}',
  '{"ip":"10.0.0.12","mac":"02:00:00:00:00:0c","router":true}',
  '{"ip":"ff02::1","mac":"02:00:00:00:00:64"}',
  '{"ip":"fe80::1%eth0","mac":"02:00:00:00:00:65"}',
  '{"ip":"2001:db8::5","mac":"02:00:00:00:00:66","router":"yes"}',
];

const CSV_LINES = [
  'ip,mac,vlan',
  '10.0.0.1,02:00:00:00:00:01,10',
  ' 10.0.0.2 , 02:00:00:00:00:02 ',
  '10.0.0.3,02:00:00:00:00:03,',
  '10.0.0.4,02:00:00:00:00:04,0010',
  '10.0.0.5,02:00:00:00:00:05,4095',
  '10.0.0.6,02:00:00:00:00:06,1,2',
  '10.0.0.7;02:00:00:00:00:07',
  '\u00a010.0.0.8,02:00:00:00:00:08',
  '10.0.0.9,\u00a002:00:00:00:00:09',
  '10.0.0.10,01:00:00:00:00:0a',
  '# comment',
  '',
  '2001:db8::1,02:00:00:00:00:61,10',
  '2001:db8::2,02:00:00:00:00:62,0,true',
  ' ::ffff:10.0.0.3 , 02:00:00:00:00:63 ,, false',
  '2001:db8::4,02:00:00:00:00:64,,',
  '10.0.0.11,02:00:00:00:00:0b,0,true',
  '2001:db8::5,02:00:00:00:00:65,0,yes',
  '2001:db8::6,02:00:00:00:00:66,0,true,x',
  '::,02:00:00:00:00:67',
];

const BREAKS = ['\n', '\r\n', '\r', '\n\n', '\r\r\n'];

describe('bulk import parser', () => {
  for (const [format, lines] of [['ndjson', NDJSON_LINES], ['csv', CSV_LINES]] as const) {
    it(`${format}: the same rows, bad lines and line count as readline and the general parsers`, async () => {
      const next = seededRandom(format === 'csv' ? 5 : 6);
      for (let doc = 0; doc < 300; doc++) {
        let text = '';
        const count = Math.floor(next() * 12);
        for (let i = 0; i < count; i++) text += lines[Math.floor(next() * lines.length)]! + BREAKS[Math.floor(next() * BREAKS.length)]!;
        if (next() < 0.5) text += lines[Math.floor(next() * lines.length)]!; // a last line with no break
        assert.deepEqual(await parsed(text, format, next), await reference(text, format), JSON.stringify(text.slice(0, 300)));
      }
    });
  }

  it('a line past 64 KiB is refused without being kept, and the lines after it are read', async () => {
    const huge = `{"ip":"10.0.0.1","mac":"02:00:00:00:00:01","port":"${'x'.repeat(10_000_000)}"}`;
    const text = `${huge}\r\n{"ip":"10.0.0.2","mac":"02:00:00:00:00:02"}\n${huge}`;
    const p = await parseImport(Readable.from([Buffer.from(text)].flatMap((b) => Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536)))), 'ndjson');
    assert.equal(p.count, 1);
    assert.equal(p.ips[0], 0x0a000002);
    assert.deepEqual(p.bad, [{ line: 1, message: 'line longer than 4096 characters' }, { line: 3, message: 'line longer than 4096 characters' }]);
    assert.equal(p.lines, 3);
  });

  it('csv: the fast line reader agrees with the general one on 100,000 random mutations', () => {
    const next = seededRandom(9);
    const bases = ['10.0.0.1,02:00:00:00:00:01,10', ' 172.16.5.9 , 02-bb-00-00-10-01 ', '10.1.2.3,02:00:00:00:00:02,'];
    const alphabet = ',. 0123456789abcdefx-:\t';
    let read = 0;
    for (let n = 0; n < 100000; n++) {
      const text = mutated(bases[n % bases.length]!, alphabet, next).trim();
      const line: FastLine = { ip: -1, vlan: -1 };
      const mac = new Uint8Array(6);
      const bytes = Buffer.from(`x,y\n${text}\n,9,`);
      if (!readFastCsvLine(bytes, 4, 4 + bytes.length - 8, line, mac, 0)) continue;
      read++;
      let general: unknown;
      try {
        const b = parseCsvLine(text);
        general = b && { ip: b.ip, vlan: b.vlan, mac: [...b.mac] };
      } catch (error) {
        general = (error as Error).message;
      }
      assert.deepEqual({ ip: line.ip, vlan: line.vlan, mac: [...mac] }, general, JSON.stringify(text));
    }
    assert.ok(read > 1000, `mutations the fast path read: ${read}`);
  });
});
