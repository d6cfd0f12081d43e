// The fast NDJSON line reader against the general path (JSON.parse + bindingFromObject): on
// every line it accepts, both give the same binding; every line the general path refuses, it
// leaves alone. Crafted lines, then random mutations of valid ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingFromObject } from '../src/api/binding_input';
import { readFastLine, type FastLine } from '../src/api/import_line';
import { formatIp } from '../src/dataplane/address';
import { mutated, seededRandom } from './helpers/random';

/** An IPv6 binding as its text, which the fast reader (IPv4 only) never gives. */
function general(text: string): { ip: number | string; vlan: number; mac: number[] } | null {
  try {
    const b = bindingFromObject(JSON.parse(text));
    return { ip: typeof b.ip === 'number' ? b.ip : formatIp(b.ip), vlan: b.vlan, mac: [...b.mac], ...(b.router ? { router: true } : {}) };
  } catch {
    return null;
  }
}

function fast(text: string): { ip: number; vlan: number; mac: number[] } | null {
  const line: FastLine = { ip: -1, vlan: -1 };
  const mac = new Uint8Array(6);
  // The line sits between bytes of other lines, which the reader must not look at.
  const bytes = Buffer.from(`{"ip":"9.9.9.9"}\n${text}\n:. }0`);
  const from = bytes.indexOf(0x0a) + 1;
  const to = bytes.lastIndexOf(0x0a);
  return readFastLine(bytes, from, to, line, mac, 0) ? { ip: line.ip, vlan: line.vlan, mac: [...mac] } : null;
}

function agree(text: string): boolean {
  const f = fast(text);
  if (f === null) return false; // the general path decides; nothing to compare
  assert.deepEqual(f, general(text), `line ${JSON.stringify(text)}`);
  return true;
}

describe('fast NDJSON import lines', () => {
  it('reads the common shapes, and leaves every doubtful line to the general path', () => {
    const read = [
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01"}',
      '{"ip":"10.0.0.1","mac":"02:00:00:00:00:01","vlan":10}',
      '{ "mac" : "02-AA-bb-00-00-01" , "ip" : "192.168.1.254" , "vlan" : 4094 }',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": null}',
      '{"ip":"10.9.0.1","mac":"02:00:00:00:00:02","vlan":0,"source":"api","port":null,"first_seen":"2026-01-01T00:00:00.000Z","last_seen":"x","moves":0,"hits":12,"host":"h1"}',
      '{"ip": "1.2.3.4", "ip": "10.0.0.9", "mac": "02:00:00:00:00:01"}',
    ];
    for (const line of read) assert.ok(agree(line), `read ${line}`);
    const leftAlone = [
      '{}', '[]', 'null', '{"ip": "10.0.0.1"}', '{"mac": "02:00:00:00:00:01"}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": "10"}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 4095}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 1.0}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": -1}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 01}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 1e1}',
      '{"ip": "10.0.0.1", "mac": "01:00:5e:00:00:01"}',
      '{"ip": "10.0.0.1", "mac": "00:00:00:00:00:00"}',
      '{"ip": "10.0.0.01", "mac": "02:00:00:00:00:01"}',
      '{"i\\u0070": "10.0.0.1", "mac": "02:00:00:00:00:01"}',
      '{"ip": "10.0.0.\\u0031", "mac": "02:00:00:00:00:01"}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "colour": "blue"}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "hits": true}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "port": {"a": 1}}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01"} x',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01",}',
      '{"ip": "10.0.0.1" "mac": "02:00:00:00:00:01"}',
      '{"ip": 167772161, "mac": "02:00:00:00:00:01"}',
      // IPv6, and a router flag: the general path's.
      '{"ip": "2001:db8::1", "mac": "02:00:00:00:00:01"}',
      '{"ip": "::ffff:10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 3}',
      '{"ip": "2001:db8::1", "mac": "02:00:00:00:00:01", "router": true}',
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "router": false}',
    ];
    for (const line of leftAlone) assert.equal(fast(line), null, line);
  });

  it('agrees with the general path on 200,000 random mutations of valid lines', () => {
    const next = seededRandom(3);
    const bases = [
      '{"ip": "10.0.0.1", "mac": "02:00:00:00:00:01", "vlan": 10}',
      '{"ip":"172.16.5.9","mac":"02-bb-00-00-10-01"}',
      '{"ip":"10.9.0.1","mac":"02:00:00:00:00:02","vlan":null,"source":"api","hits":3,"host":"a"}',
      '{"ip":"2001:db8::10","mac":"02:00:00:00:00:02","vlan":10,"router":false}',
    ];
    const alphabet = '{}[]":, .0123456789abcdefx-\\nulvaniphmcs\t';
    let read = 0;
    for (let n = 0; n < 200000; n++) {
      if (agree(mutated(bases[n % bases.length]!, alphabet, next))) read++;
    }
    assert.ok(read > 1000, `mutations the fast path read: ${read}`);
  });
});
