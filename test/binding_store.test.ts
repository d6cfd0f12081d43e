// The state store's writes: many rows per statement, in change order with removals between
// them, read back exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BindingStore } from '../src/state/binding_store';
import type { Entry } from '../src/table/binding_table';
import { TempDir } from './helpers/daemon';

const entry = (mac: number, extra: Partial<Entry> = {}): Entry => ({ mac, source: 'api', firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 0, seq: 1, ...extra });

describe('state store writes', () => {
  it('writes hundreds of rows per transaction in change order, removals included, and reads them back', () => {
    const dir = new TempDir();
    try {
      const store = BindingStore.open(dir.path, 'normal');
      const key = (vlan: number, ip: number): number => vlan * 2 ** 32 + ip;
      const changes: [number, Entry | undefined][] = [];
      // 150 rows: two full multi-row statements and a remainder.
      for (let i = 0; i < 150; i++) changes.push([key(i % 3, 0x0a000000 + i), entry(0x02aa00000000 + i, { port: i % 2 ? 'p1' : undefined, hits: i })]);
      // Rows still waiting for their multi-row statement, removed, and one written again after.
      changes.push([key(140 % 3, 0x0a000000 + 140), undefined]);
      changes.push([key(141 % 3, 0x0a000000 + 141), undefined]);
      changes.push([key(141 % 3, 0x0a000000 + 141), entry(0x02bb00000001, { source: 'learned', host: 'h2', seq: 7 })]);
      // Static bindings are not stored: the config file is their store.
      changes.push([key(5, 0x0b000000), entry(0x02cc00000000, { source: 'static' })]);
      store.write(changes);
      store.close();

      const reopened = BindingStore.open(dir.path, 'normal');
      const { bindings, skipped } = reopened.load();
      reopened.close();
      assert.equal(skipped, 0);
      assert.equal(bindings.length, 149);
      const byKey = new Map(bindings.map((b) => [b.key, b.entry]));
      assert.equal(byKey.has(key(140 % 3, 0x0a000000 + 140)), false, 'removed');
      assert.deepEqual(byKey.get(key(141 % 3, 0x0a000000 + 141)), { mac: 0x02bb00000001, source: 'learned', host: 'h2', seq: 7, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 0 });
      assert.deepEqual(byKey.get(key(2, 0x0a000000 + 149)), { mac: 0x02aa00000000 + 149, source: 'api', port: 'p1', seq: 1, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 149 });
      assert.equal(byKey.has(key(5, 0x0b000000)), false, 'static not stored');
    } finally {
      dir.remove();
    }
  });
});
