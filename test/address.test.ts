// The hand-written address parsers against the patterns they replace, on tricky and random
// strings: they must accept exactly the same texts and give the same values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIPv4, parseMac, parseMacInto } from '../src/dataplane/address';
import { seededRandom } from './helpers/random';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

const referenceIPv4 = (t: string): number | null => (IPV4.test(t) ? t.split('.').reduce((a, o) => a * 256 + Number(o), 0) : null);
const referenceMac = (t: string): number[] | null => (MAC.test(t) ? t.split(/[:-]/).map((o) => parseInt(o, 16)) : null);

describe('address parsers', () => {
  it('IPv4: the same verdict and value as the pattern', () => {
    const tricky = [
      '0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3.4', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3', '1.2.3.4.5',
      '1..2.3', '.1.2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '+1.2.3.4', '1.2.3.-4', '1.2.3.a', '', '1234.1.1.1',
      '249.250.251.252', '199.200.201.209', '1.2.3.4x', '00.0.0.0', '0.0.0.00', '300.300.300.300', '1e2.1.1.1',
    ];
    const next = seededRandom(7);
    const alphabet = '0123456789.. 1x-';
    const generated = Array.from({ length: 50000 }, () =>
      Array.from({ length: 1 + Math.floor(next() * 16) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
    );
    const valid = Array.from({ length: 5000 }, () => Array.from({ length: 4 }, () => Math.floor(next() * 256)).join('.'));
    for (const t of [...tricky, ...generated, ...valid]) assert.equal(parseIPv4(t), referenceIPv4(t), JSON.stringify(t));
  });

  it('MAC: the same verdict and octets as the pattern, into a fresh array or in place', () => {
    const tricky = [
      '02:00:00:00:00:01', '02-00-00-00-00-01', 'AA:bb:CC:dd:EE:ff', '02:00-00:00:00:01', '02:00:00:00:00', '02:00:00:00:00:01:02',
      '2:00:00:00:00:01', '02:00:00:00:00:0g', '02.00.00.00.00.01', '0200.0000.0001', '', '02:00:00:00:00:01 ', 'gg:00:00:00:00:01',
      '02:00:00:00:00:1', '02::00:00:00:001', '@2:00:00:00:00:01', '02:00:00:00:00:0`', '02:00:00:00:00:0G', '02:00:00:00:00:0/',
    ];
    const next = seededRandom(11);
    const alphabet = '0123456789abcdefABCDEFgG:-:-';
    const generated = Array.from({ length: 50000 }, () =>
      Array.from({ length: 15 + Math.floor(next() * 4) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
    );
    const hexDigits = '0123456789abcdefABCDEF';
    const valid = Array.from({ length: 5000 }, () => {
      const separator = next() < 0.5 ? ':' : '-';
      return Array.from({ length: 6 }, () => hexDigits[Math.floor(next() * 22)]! + hexDigits[Math.floor(next() * 22)]!).join(separator);
    });
    const out = new Uint8Array(12);
    for (const t of [...tricky, ...generated, ...valid]) {
      const want = referenceMac(t);
      const got = parseMac(t);
      assert.deepEqual(got === null ? null : [...got], want, JSON.stringify(t));
      assert.equal(parseMacInto(t, out, 6), want !== null);
      if (want) assert.deepEqual([...out.subarray(6)], want);
    }
  });
});
