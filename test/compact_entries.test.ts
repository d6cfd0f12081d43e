// The typed-column store under the control side's table, against a Map doing the same work:
// random adds, overwrites and removals (which move the last slot and shift probe runs), with
// clustered keys that make long probe runs, and every field read back. The same for the IPv6
// store, keyed by bigints, addresses crowded into one /64 and a few VLANs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BindingSource } from '../src/dataplane/updates';
import { CompactEntries, CompactEntries6, type Entry } from '../src/table/compact_entries';
import { addressOfKey6, key6Of, vlanOfKey } from '../src/table/binding_key';
import { formatIPv6, parseIPv6, parseIPv6Prefix } from '../src/dataplane/address';
import { seededRandom } from './helpers/random';

const TWO32 = 2 ** 32;
const SOURCES: BindingSource[] = ['static', 'api', 'learned', 'remote'];

function randomEntry(next: () => number): Entry {
  const entry: Entry = {
    mac: Math.floor(next() * 2 ** 47) * 2, // unicast, up to 48 bits
    source: SOURCES[Math.floor(next() * SOURCES.length)]!,
    firstSeen: 1.7e12 + Math.floor(next() * 1e9),
    lastSeen: 1.7e12 + Math.floor(next() * 1e9),
    moves: Math.floor(next() * 5),
    hits: Math.floor(next() * 2 ** 40), // past 32 bits
  };
  if (next() < 0.5) entry.port = `port${Math.floor(next() * 4)}`;
  if (next() < 0.3) entry.host = `host-${Math.floor(next() * 3)}`;
  if (next() < 0.7) entry.seq = Math.floor(next() * 100);
  if (next() < 0.4) entry.storedSeen = entry.lastSeen - 1000;
  return entry;
}

describe('CompactEntries', () => {
  it('holds exactly what a Map holds through 200,000 random changes', () => {
    const next = seededRandom(11);
    const table = new CompactEntries();
    const model = new Map<number, Entry>();
    // Few VLANs and a narrow address range: many hits on existing keys, long probe runs.
    const randomKey = (): [number, number] => {
      const vlan = [0, 1, 4094][Math.floor(next() * 3)]!;
      const ip = next() < 0.5 ? 0x0a000000 + Math.floor(next() * 20000) : Math.floor(next() * TWO32);
      return [vlan, ip];
    };
    for (let step = 0; step < 200_000; step++) {
      const [vlan, ip] = randomKey();
      const key = vlan * TWO32 + ip;
      const roll = next();
      if (roll < 0.55) {
        const entry = randomEntry(next);
        table.set(vlan, ip, entry);
        model.set(key, entry);
      } else if (roll < 0.9) {
        assert.equal(table.delete(vlan, ip), model.delete(key), `delete ${key} at step ${step}`);
      } else {
        assert.deepEqual(table.get(vlan, ip), model.get(key), `get ${key} at step ${step}`);
      }
      assert.equal(table.size, model.size);
    }
    assert.ok(model.size > 5000, 'the run should leave a sizeable table');
    for (const [key, entry] of model) assert.deepEqual(table.get(Math.floor(key / TWO32), key % TWO32), entry);
    const scanned = new Set<number>();
    for (const cursor of table.scan()) {
      const expected = model.get(cursor.key)!;
      assert.ok(expected, `scan found ${cursor.key}, which is not in the table`);
      assert.equal(cursor.vlan * TWO32 + cursor.ip, cursor.key);
      assert.equal(cursor.mac, expected.mac);
      assert.equal(cursor.source, expected.source);
      assert.equal(cursor.port, expected.port);
      assert.equal(cursor.host, expected.host);
      assert.equal(cursor.seq, expected.seq);
      assert.equal(cursor.lastSeen, expected.lastSeen);
      scanned.add(cursor.key);
    }
    assert.equal(scanned.size, model.size, 'the scan visits every binding once');
    assert.deepEqual([...table.keys()].sort(), [...model.keys()].sort());
  });

  it('a snapshot is the caller\'s: changing it does not change the table', () => {
    const table = new CompactEntries();
    table.set(5, 0x0a000001, { mac: 0x020000000001, source: 'learned', firstSeen: 1, lastSeen: 2, moves: 0, hits: 0 });
    const snapshot = table.get(5, 0x0a000001)!;
    snapshot.moves = 99;
    snapshot.port = 'elsewhere';
    assert.equal(table.get(5, 0x0a000001)!.moves, 0);
    assert.equal(table.get(5, 0x0a000001)!.port, undefined);
  });

  it('in-place changes reach only their own binding, also after the slot moved', () => {
    const table = new CompactEntries();
    const base = { source: 'learned' as const, firstSeen: 1, lastSeen: 2, moves: 0, hits: 0 };
    for (let i = 0; i < 3; i++) table.set(0, 100 + i, { ...base, mac: 2 + i * 2 });
    // Removing the first binding moves the last one into its slot.
    table.delete(0, 100);
    const slot = table.slotOf(0, 102);
    assert.equal(slot, 0);
    table.addMove(slot);
    table.addHit(slot);
    table.setPort(slot, 'vm2');
    assert.deepEqual(table.get(0, 102), { ...base, mac: 6, moves: 1, hits: 1, port: 'vm2' });
    assert.deepEqual(table.get(0, 101), { ...base, mac: 4 });
    assert.equal(table.get(0, 100), undefined);
  });

  it('IPv6: holds exactly what a Map holds through 200,000 random changes, looked up by address or key', () => {
    const next = seededRandom(13);
    const table = new CompactEntries6();
    const model = new Map<bigint, Entry>();
    const base = parseIPv6('2001:db8:0:1::')!;
    // One /64, a narrow range of interface ids, and a few elsewhere: many repeats, long probe runs.
    const randomKey = (): [number, Uint8Array] => {
      const vlan = [0, 1, 4094][Math.floor(next() * 3)]!;
      const ip = Uint8Array.from(base);
      if (next() < 0.7) {
        const id = Math.floor(next() * 20000);
        ip[14] = id >>> 8;
        ip[15] = id & 0xff;
      } else for (let i = 0; i < 16; i++) ip[i] = Math.floor(next() * 256);
      return [vlan, ip];
    };
    for (let step = 0; step < 200_000; step++) {
      const [vlan, ip] = randomKey();
      const key = key6Of(vlan, ip);
      const roll = next();
      if (roll < 0.55) {
        const entry = randomEntry(next);
        if (next() < 0.3) entry.router = true;
        if (next() < 0.5) table.set(vlan, ip, entry);
        else table.setKey(key, entry);
        model.set(key, entry);
      } else if (roll < 0.9) {
        const deleted = next() < 0.5 ? table.delete(vlan, ip) : table.deleteKey(key);
        assert.equal(deleted, model.delete(key), `delete ${formatIPv6(ip)} at step ${step}`);
      } else {
        assert.deepEqual(table.get(vlan, ip), model.get(key), `get at step ${step}`);
        assert.deepEqual(table.getKey(key), model.get(key));
      }
      assert.equal(table.size, model.size);
    }
    assert.ok(model.size > 5000, 'the run should leave a sizeable table');
    for (const [key, entry] of model) assert.deepEqual(table.get(vlanOfKey(key), addressOfKey6(key)), entry);
    const scanned = new Set<bigint>();
    for (const cursor of table.scan()) {
      const expected = model.get(cursor.key)!;
      assert.ok(expected, `scan found ${cursor.key}, which is not in the table`);
      assert.equal(key6Of(cursor.vlan, cursor.ip), cursor.key);
      assert.equal(cursor.router, expected.router === true);
      assert.equal(cursor.mac, expected.mac);
      assert.equal(cursor.source, expected.source);
      assert.equal(cursor.port, expected.port);
      assert.equal(cursor.host, expected.host);
      assert.equal(cursor.seq, expected.seq);
      assert.equal(cursor.lastSeen, expected.lastSeen);
      assert.equal(table.inPrefix(cursor.slot, parseIPv6Prefix('2001:db8:0:1::/64')!), formatIPv6(cursor.ip).startsWith('2001:db8:0:1:'));
      scanned.add(cursor.key);
    }
    assert.equal(scanned.size, model.size, 'the scan visits every binding once');
    assert.deepEqual(table.keys().sort(), [...model.keys()].sort());
    const learned = [...table.scan('learned')].length;
    assert.equal(learned, [...model.values()].filter((e) => e.source === 'learned').length);
  });
});
