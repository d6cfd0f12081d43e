// The state store's writes: many rows per statement, in change order with removals between
// them, read back exactly, for IPv4 and IPv6 bindings; a schema-1 file migrated in place, a
// newer one refused.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseIPv6 } from '../src/dataplane/address';
import { BindingStore, DB_FILE, SCHEMA_VERSION, type StoredBinding6 } from '../src/state/binding_store';
import { StateError } from '../src/state/state_error';
import { key6Of, type Entry, type TableKey } from '../src/table/binding_table';
import { TempDir } from './helpers/daemon';

const entry = (mac: number, extra: Partial<Entry> = {}): Entry => ({ mac, source: 'api', firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 0, seq: 1, ...extra });
const key = (vlan: number, ip: number): number => vlan * 2 ** 32 + ip;
const key6 = (vlan: number, ip: string): bigint => key6Of(vlan, parseIPv6(ip)!);
const byKey6 = (bindings: StoredBinding6[]): Map<bigint, Entry> => new Map(bindings.map((b) => [b.key, b.entry]));

/** The schema-1 layout as microarp wrote it before IPv6 (kept here: the code no longer has it on its own). */
const V1_DDL = `CREATE TABLE IF NOT EXISTS bindings (
  vlan INTEGER NOT NULL, ip INTEGER NOT NULL, mac INTEGER NOT NULL, source TEXT NOT NULL,
  port TEXT, host TEXT, seq INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  moves INTEGER NOT NULL DEFAULT 0, hits INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (vlan, ip)) WITHOUT ROWID`;

/** A schema-1 file as a schema-1 microarp left it (WAL mode, user_version 1) with `rows` IPv4 rows. */
function writeV1(dir: string, rows: number, extra?: (db: Database.Database) => void): void {
  mkdirSync(dir, { recursive: true });
  const db = new Database(`${dir}/${DB_FILE}`);
  db.pragma('journal_mode = WAL');
  db.exec(V1_DDL);
  db.pragma('user_version = 1');
  const insert = db.prepare('INSERT INTO bindings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const source = ['api', 'learned', 'remote'][i % 3]!;
      insert.run(i % 5, 0x0a000000 + i, 0x020000000000 + i, source, i % 2 ? 'p1' : null, source === 'remote' ? 'hv-b' : null, i, 1000 + i, 2000 + i, i % 4, i * 3);
    }
  })();
  extra?.(db);
  db.close();
}

describe('state store writes', () => {
  it('writes hundreds of rows per transaction in change order, removals included, and reads them back', () => {
    const dir = new TempDir();
    try {
      const store = BindingStore.open(dir.path, 'normal');
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
      const { bindings, bindings6, skipped } = reopened.load();
      reopened.close();
      assert.equal(skipped, 0);
      assert.equal(bindings.length, 149);
      assert.equal(bindings6.length, 0);
      const byKey = new Map(bindings.map((b) => [b.key, b.entry]));
      assert.equal(byKey.has(key(140 % 3, 0x0a000000 + 140)), false, 'removed');
      assert.deepEqual(byKey.get(key(141 % 3, 0x0a000000 + 141)), { mac: 0x02bb00000001, source: 'learned', host: 'h2', seq: 7, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 0 });
      assert.deepEqual(byKey.get(key(2, 0x0a000000 + 149)), { mac: 0x02aa00000000 + 149, source: 'api', port: 'p1', seq: 1, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 149 });
      assert.equal(byKey.has(key(5, 0x0b000000)), false, 'static not stored');
    } finally {
      dir.remove();
    }
  });

  it('stores IPv6 bindings beside IPv4 ones in one write: address bytes, router flag and every field, removals in order', () => {
    const dir = new TempDir();
    try {
      const store = BindingStore.open(dir.path, 'normal');
      const changes: [TableKey, Entry | undefined][] = [];
      // 150 IPv6 rows interleaved with 150 IPv4 rows, so both families fill multi-row statements.
      for (let i = 0; i < 150; i++) {
        changes.push([key6(i % 3, `2001:db8::${(i + 1).toString(16)}`), entry(0x02dd00000000 + i, { hits: i, ...(i % 10 === 0 ? { router: true } : {}) })]);
        changes.push([key(i % 3, 0x0a000000 + i), entry(0x02aa00000000 + i)]);
      }
      // An IPv6 row still in its batch removed; another removed and written again; an IPv4 removal between.
      changes.push([key6(140 % 3, '2001:db8::8d'), undefined]);
      changes.push([key6(141 % 3, '2001:db8::8e'), undefined]);
      changes.push([key(0, 0x0a000000), undefined]);
      changes.push([key6(141 % 3, '2001:db8::8e'), entry(0x02ee00000001, { source: 'remote', host: 'hv-b', seq: 9, port: 'hv-b/vm1', moves: 2 })]);
      // Addresses at the edges of the 128 bits, and VLAN 4094.
      changes.push([key6(4094, 'fe80::1'), entry(0x02ee00000002, { source: 'learned', port: 'p0' })]);
      changes.push([key6(0, 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), entry(0x02ee00000003)]);
      changes.push([key6(0, '::1'), entry(0x02ee00000004)]);
      // Static IPv6 bindings are not stored either.
      changes.push([key6(7, '2001:db8::5'), entry(0x02cc00000000, { source: 'static', router: true })]);
      store.write(changes);
      store.close();

      const reopened = BindingStore.open(dir.path, 'normal');
      const { bindings, bindings6, skipped } = reopened.load();
      reopened.close();
      assert.equal(skipped, 0);
      assert.equal(bindings.length, 149);
      assert.equal(bindings6.length, 149 + 3);
      const six = byKey6(bindings6);
      assert.equal(six.has(key6(140 % 3, '2001:db8::8d')), false, 'removed');
      assert.deepEqual(six.get(key6(141 % 3, '2001:db8::8e')), { mac: 0x02ee00000001, source: 'remote', host: 'hv-b', port: 'hv-b/vm1', seq: 9, firstSeen: 1000, lastSeen: 2000, moves: 2, hits: 0 });
      assert.deepEqual(six.get(key6(0, '2001:db8::1')), { mac: 0x02dd00000000, source: 'api', seq: 1, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 0, router: true });
      assert.deepEqual(six.get(key6(2, '2001:db8::96')), { mac: 0x02dd00000000 + 149, source: 'api', seq: 1, firstSeen: 1000, lastSeen: 2000, moves: 0, hits: 149 });
      assert.equal(six.get(key6(4094, 'fe80::1'))?.port, 'p0');
      assert.equal(six.get(key6(0, 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))?.mac, 0x02ee00000003);
      assert.equal(six.get(key6(0, '::1'))?.mac, 0x02ee00000004);
      assert.equal(six.has(key6(7, '2001:db8::5')), false, 'static not stored');
      assert.equal(new Map(bindings.map((b) => [b.key, b.entry])).has(key(0, 0x0a000000)), false, 'the IPv4 removal between them');

      // On disk: the address is its 16 bytes in network order, the router flag 0 or 1.
      const db = new Database(`${dir.path}/${DB_FILE}`, { readonly: true });
      const row = db.prepare("SELECT vlan, hex(address) AS address, router FROM bindings6 WHERE vlan = 4094").get();
      db.close();
      assert.deepEqual(row, { vlan: 4094, address: 'FE800000000000000000000000000001', router: 0 });
    } finally {
      dir.remove();
    }
  });

  it('skips IPv6 rows that are not bindings (a hand edit) and counts them', () => {
    const dir = new TempDir();
    try {
      BindingStore.open(dir.path, 'normal').close();
      const db = new Database(`${dir.path}/${DB_FILE}`);
      const insert = db.prepare("INSERT INTO bindings6 (vlan, address, mac, source, router, first_seen, last_seen) VALUES (?, ?, 2, 'api', ?, 0, 0)");
      insert.run(1, Buffer.from(parseIPv6('2001:db8::1')!), 0); // good
      insert.run(2, Buffer.from(parseIPv6('2001:db8::1')!.subarray(0, 15)), 0); // 15 bytes
      insert.run(3, 'text, not bytes', 0);
      insert.run(4, Buffer.from(parseIPv6('ff02::1')!), 0); // multicast
      insert.run(5, Buffer.alloc(16), 0); // ::
      insert.run(6, Buffer.from(parseIPv6('2001:db8::1')!), 2); // router neither 0 nor 1
      insert.run(4095, Buffer.from(parseIPv6('2001:db8::1')!), 0); // VLAN out of range
      db.close();
      const store = BindingStore.open(dir.path, 'normal');
      const { bindings6, skipped } = store.load();
      store.close();
      assert.equal(skipped, 6);
      assert.deepEqual(bindings6.map((b) => b.key), [key6(1, '2001:db8::1')]);
    } finally {
      dir.remove();
    }
  });
});

describe('state store schema', () => {
  it('migrates a schema-1 file in place on open: every IPv4 row kept, bindings6 added, version 2', () => {
    const dir = new TempDir();
    try {
      writeV1(dir.path, 1000);
      const before = new Database(`${dir.path}/${DB_FILE}`, { readonly: true });
      const rowsBefore = before.prepare('SELECT * FROM bindings ORDER BY vlan, ip').all();
      before.close();

      const store = BindingStore.open(dir.path, 'normal');
      assert.equal(store.migratedFrom, 1);
      const { bindings, bindings6, skipped } = store.load();
      assert.equal(skipped, 0);
      assert.equal(bindings.length, 1000);
      assert.equal(bindings6.length, 0);
      const byKey = new Map(bindings.map((b) => [b.key, b.entry]));
      assert.deepEqual(byKey.get(key(2, 0x0a000000 + 7)), { mac: 0x020000000007, source: 'learned', port: 'p1', seq: 7, firstSeen: 1007, lastSeen: 2007, moves: 3, hits: 21 });
      assert.deepEqual(byKey.get(key(3, 0x0a000000 + 8)), { mac: 0x020000000008, source: 'remote', host: 'hv-b', seq: 8, firstSeen: 1008, lastSeen: 2008, moves: 0, hits: 24 });
      // The migrated file takes IPv6 rows.
      store.write([[key6(0, '2001:db8::1'), entry(0x02ff00000001, { router: true })]]);
      store.close();

      const after = new Database(`${dir.path}/${DB_FILE}`, { readonly: true });
      assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(after.prepare('SELECT * FROM bindings ORDER BY vlan, ip').all(), rowsBefore, 'the IPv4 rows, byte for byte');
      after.close();

      // Opened again: nothing left to migrate, and both families there.
      const again = BindingStore.open(dir.path, 'normal');
      assert.equal(again.migratedFrom, undefined);
      const loaded = again.load();
      again.close();
      assert.equal(loaded.bindings.length, 1000);
      assert.deepEqual(byKey6(loaded.bindings6).get(key6(0, '2001:db8::1'))?.router, true);
    } finally {
      dir.remove();
    }
  });

  it('a new file is created at the current schema', () => {
    const dir = new TempDir();
    try {
      const store = BindingStore.open(dir.path, 'normal');
      assert.equal(store.migratedFrom, 0);
      store.close();
      const db = new Database(`${dir.path}/${DB_FILE}`, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(), ['bindings', 'bindings6']);
      db.close();
    } finally {
      dir.remove();
    }
  });

  it('a schema-1 file whose migration fails is refused, named, and left at schema 1 with its rows', () => {
    const dir = new TempDir();
    try {
      // Something already named bindings6 (a hand edit): the new table cannot be created.
      writeV1(dir.path, 10, (db) => db.exec('CREATE VIEW bindings6 AS SELECT * FROM bindings'));
      const file = `${dir.path}/${DB_FILE}`;
      assert.throws(
        () => BindingStore.open(dir.path, 'normal'),
        (error: unknown) =>
          error instanceof StateError && error.code === 'STATE_MIGRATE' && error.message.includes(`cannot migrate ${file} from schema 1 to ${SCHEMA_VERSION}, left as it was`),
      );
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), 1);
      assert.equal(db.prepare('SELECT count(*) FROM bindings').pluck().get(), 10);
      db.close();
    } finally {
      dir.remove();
    }
  });

  it('a file of a newer schema is refused and left as it was', () => {
    const dir = new TempDir();
    try {
      writeV1(dir.path, 1, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
      assert.throws(
        () => BindingStore.open(dir.path, 'normal'),
        (error: unknown) => error instanceof StateError && error.code === 'STATE_SCHEMA' && /was written by a newer microarp \(schema 3, this one reads 2\)/.test(error.message),
      );
      const db = new Database(`${dir.path}/${DB_FILE}`, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
      db.close();
    } finally {
      dir.remove();
    }
  });
});
