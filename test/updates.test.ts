// The packed updates the addon reads, byte by byte against the contract in
// docs/design/ipv6-nd.md ("Contracts") and native/core/update_record.h: IPv4 and FDB updates
// one 16-byte record each, IPv6 ones two (the op's, then the address).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIPv6, parseMac } from '../src/dataplane/address';
import { packUpdates, packUpserts, recordsOf, describeKey, type Update } from '../src/dataplane/updates';

const MAC = parseMac('02:aa:bb:cc:dd:ee')!;
const ADDR = parseIPv6('2001:db8::7')!;
const hex = (bytes: Uint8Array): string[] => Array.from({ length: bytes.length / 16 }, (_, i) => Buffer.from(bytes.subarray(i * 16, i * 16 + 16)).toString('hex'));

describe('packed updates', () => {
  it('IPv6 upserts and removes take two records: flags, VLAN, source and MAC, then the address', () => {
    const updates: Update[] = [
      { op: 'upsert', ip: 0x0a000007, vlan: 10, mac: MAC, source: 'learned' },
      { op: 'upsert6', ip: ADDR, vlan: 0x123, mac: MAC, source: 'static', router: true },
      { op: 'upsert6', ip: ADDR, vlan: 4094, mac: MAC },
      { op: 'remove6', ip: ADDR, vlan: 7 },
      { op: 'remove', ip: 0x0a000007, vlan: 10 },
      { op: 'fdb_add', vlan: 20, mac: MAC, port: 3 },
    ];
    assert.deepEqual(updates.map(recordsOf), [1, 2, 2, 2, 1, 1]);
    assert.deepEqual(hex(packUpdates(updates)), [
      // op, rank, vlan LE, ip BE, mac, 0 0
      '01010a000a00000702aabbccddee0000',
      // upsert6: op 5, rank 3 (static), vlan 0x123 LE, flags 1 (router), 0 0 0, mac, 0 0
      '050323010100000002aabbccddee0000',
      '20010db8000000000000000000000007',
      // no router flag, source api (2)
      '0502fe0f0000000002aabbccddee0000',
      '20010db8000000000000000000000007',
      // remove6: no rank, no flags, no MAC
      '06000700000000000000000000000000',
      '20010db8000000000000000000000007',
      '02000a000a0000070000000000000000',
      // FDB add: op 3, vlan 20, port 3 LE, mac
      '030014000300000002aabbccddee0000',
    ]);
    // A range packs only its own updates, IPv6 ones with their address.
    assert.deepEqual(hex(packUpdates(updates, 1, 2)), hex(packUpdates(updates)).slice(1, 3));
    assert.deepEqual(hex(packUpdates(updates, 3, 5)), hex(packUpdates(updates)).slice(5, 8));
  });

  it('packUpserts packs each family as packUpdates does', () => {
    const bindings = [
      { ip: 0x0a000001, vlan: 0, mac: MAC },
      { ip: ADDR, vlan: 10, mac: MAC, router: true },
      { ip: parseIPv6('fe80::1')!, vlan: 10, mac: MAC },
      { ip: 0x0a000002, vlan: 3, mac: MAC },
    ];
    const asUpdates: Update[] = bindings.map((b) =>
      typeof b.ip === 'number' ? { op: 'upsert', ip: b.ip, vlan: b.vlan, mac: b.mac, source: 'api' } : { op: 'upsert6', ip: b.ip, vlan: b.vlan, mac: b.mac, router: 'router' in b && b.router, source: 'api' },
    );
    assert.deepEqual(packUpserts(bindings, 'api'), packUpdates(asUpdates));
    assert.deepEqual(packUpserts(bindings, 'api', 1, 3), packUpdates(asUpdates, 1, 3));
    assert.equal(packUpserts(bindings, 'api').length, 6 * 16);
  });

  it('describes keys of both families', () => {
    assert.equal(describeKey({ ip: 0x0a000001, vlan: 0 }), '10.0.0.1');
    assert.equal(describeKey({ ip: ADDR, vlan: 12 }), '2001:db8::7 vlan 12');
  });
});
