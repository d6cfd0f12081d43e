// The hand-written address parsers against the patterns they replace, on tricky and random
// strings: they must accept exactly the same texts and give the same values. IPv6 against
// Node's own net.isIPv6 for the verdict and the WHATWG URL serialiser (RFC 5952 compression)
// for the value and its canonical text.
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import {
  formatIPv6,
  hostBitsSet6,
  inPrefix6,
  ipv6Problem,
  parseIPv4,
  parseIPv6,
  parseIPv6Into,
  parseIPv6Prefix,
  parseMac,
  parseMacInto,
} from '../src/dataplane/address';
import { mutated, seededRandom } from './helpers/random';

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

  // net.isIPv6 also takes a zone (`fe80::1%eth0`), which names an interface, not an address.
  const referenceIPv6 = (t: string): boolean => isIPv6(t) && !t.includes('%');
  /** The URL serialiser's text (RFC 5952 compression, always hex groups) for a valid address. */
  const urlText = (t: string): string => new URL(`http://[${t}]`).hostname.slice(1, -1);
  /** Our text with an IPv4-mapped tail written as two hex groups, as the URL serialiser does. */
  const hexTail = (t: string): string =>
    t.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);

  const tricky6 = [
    '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7',
    '1::2::3', ':::', ':1::', '1::2:', ':', '', '1:', ':1', '::1:', '12345::', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
    '::ffff:1.2.3.4', '::FFFF:10.0.0.1', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1:2:3:4:5:6:1.2.3.4',
    '1.2.3.4::', '::1.2.3.04', '::1.2.3', '::1.2.3.4.5', '::256.1.1.1', '::ffff:1.2.3.4:5', '1::1.2.3.4', '::a.2.3.4',
    'fe80::1%eth0', 'fe80::%1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '02001:db8::1', '2001:db8::g',
    ' ::1', '::1 ', '[::1]', '::1/128', 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '0:0:0:0:0:0:0:0', '0000:0000:0000:0000:0000:0000:0000:0000', '::0.0.0.0', '1:2::3:4:5:6:7', '1::2:3:4:5:6:7', 'a:b:c:d:e:f:a:b',
    '\u0661::', '::\uff11', 'fe80::1\n',
  ];

  it('IPv6: the same verdict as net.isIPv6 (zones refused), on tricky, random and mutated texts', () => {
    const next = seededRandom(17);
    const alphabet = '0123456789abcdefABCDEF::::...%g';
    const random = Array.from({ length: 50000 }, () =>
      Array.from({ length: Math.floor(next() * 46) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
    );
    const valid = Array.from({ length: 3000 }, () => formatIPv6(randomAddress(next)));
    const bases = [...valid.slice(0, 100), '::ffff:10.0.0.1', '2001:db8:0:1:2:3:4:5', '1:2:3:4:5:6:1.2.3.4', 'fe80::1'];
    const mutations = Array.from({ length: 50000 }, (_, i) => mutated(bases[i % bases.length]!, '0123456789abcdef:.%fF', next));
    let accepted = 0;
    for (const t of [...tricky6, ...random, ...valid, ...mutations]) {
      const want = referenceIPv6(t);
      const got = parseIPv6(t);
      assert.equal(got !== null, want, JSON.stringify(t));
      if (got) {
        accepted++;
        // The value: our canonical text is the URL serialiser's, up to the mixed notation.
        assert.equal(hexTail(formatIPv6(got)), urlText(t), JSON.stringify(t));
      }
    }
    assert.ok(accepted > 5000, `${accepted} valid texts`);
  });

  it('IPv6: writes in place, and a text survives format then parse unchanged', () => {
    const next = seededRandom(23);
    const out = new Uint8Array(40);
    for (let n = 0; n < 20000; n++) {
      const bytes = randomAddress(next);
      const text = formatIPv6(bytes);
      assert.ok(parseIPv6Into(text, out, 7), text);
      assert.deepEqual(out.subarray(7, 23), bytes, text);
      assert.equal(formatIPv6(out, 7), text);
      assert.equal(text, text.toLowerCase());
      assert.doesNotMatch(text, /(^|:)0[0-9a-f]/, `no leading zeros in ${text}`);
      assert.ok(text.split('::').length <= 2, text);
    }
  });

  it('IPv6: RFC 5952 canonical text', () => {
    const vectors: [string, string][] = [
      // Section 4.1: no leading zeros. 4.2.1: '::' as long as possible. 4.2.2: not for one group.
      ['2001:0db8::0001', '2001:db8::1'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8:0000:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      // 4.2.3: the longest run; the first of equal runs.
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      // 4.3: lowercase.
      ['2001:DB8::AAAA:0:0:1', '2001:db8::aaaa:0:0:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
      // Section 5: an IPv4-mapped address in mixed notation, however it was written.
      ['::ffff:c000:0201', '::ffff:192.0.2.1'],
      ['0:0:0:0:0:FFFF:10.0.0.1', '::ffff:10.0.0.1'],
      // Not IPv4-mapped: hex groups.
      ['::1.2.3.4', '::102:304'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [given, canonical] of vectors) assert.equal(formatIPv6(parseIPv6(given)!), canonical, given);
  });

  it('IPv6: what cannot be bound, prefixes, host bits and membership', () => {
    assert.match(ipv6Problem(parseIPv6('ff02::1')!)!, /multicast/);
    assert.match(ipv6Problem(parseIPv6('::')!)!, /unspecified/);
    for (const ok of ['::1', 'fe80::1', '2001:db8::7', 'ff::1', '::ffff:10.0.0.1']) assert.equal(ipv6Problem(parseIPv6(ok)!), null, ok);

    assert.deepEqual(parseIPv6Prefix('2001:db8::/32'), { network: parseIPv6('2001:db8::'), length: 32 });
    for (const bad of ['2001:db8::', '2001:db8::/129', '2001:db8::/032', '2001:db8::/-1', '2001:db8::/', '10.0.0.0/8', 'fe80::%1/64', '2001:db8::/3 ']) {
      assert.equal(parseIPv6Prefix(bad), null, bad);
    }
    assert.equal(hostBitsSet6(parseIPv6('2001:db8::')!, 32), false);
    assert.equal(hostBitsSet6(parseIPv6('2001:db8::1')!, 64), true);
    assert.equal(hostBitsSet6(parseIPv6('2001:db8:8000::')!, 33), false);
    assert.equal(hostBitsSet6(parseIPv6('2001:db8:4000::')!, 33), true);
    assert.equal(hostBitsSet6(parseIPv6('::1')!, 128), false);
    assert.equal(hostBitsSet6(parseIPv6('::1')!, 0), true);

    const next = seededRandom(29);
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(next() * 129);
      const address = randomAddress(next);
      const network = Uint8Array.from(address, (b, i) => b & maskByte(length, i));
      const inside = inPrefix6(address, 0, { network, length });
      assert.ok(inside, `${formatIPv6(address)} in ${formatIPv6(network)}/${length}`);
      assert.equal(hostBitsSet6(network, length), false);
      if (length > 0) {
        // Flip one bit of the prefix: outside.
        const bit = Math.floor(next() * length);
        const other = Uint8Array.from(address);
        other[bit >>> 3]! ^= 0x80 >>> (bit & 7);
        assert.equal(inPrefix6(other, 0, { network, length }), false);
      }
    }
  });
});

function maskByte(length: number, i: number): number {
  const bits = Math.max(0, Math.min(8, length - 8 * i));
  return (0xff << (8 - bits)) & 0xff;
}

/** 16 random bytes, with runs of zero groups and IPv4-mapped addresses more often than chance. */
function randomAddress(next: () => number): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let g = 0; g < 8; g++) {
    const kind = next();
    const value = kind < 0.45 ? 0 : kind < 0.6 ? Math.floor(next() * 16) : Math.floor(next() * 65536);
    bytes[2 * g] = value >>> 8;
    bytes[2 * g + 1] = value & 0xff;
  }
  if (next() < 0.05) {
    bytes.fill(0, 0, 10);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
  }
  return bytes;
}
