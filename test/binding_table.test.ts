// BindingTable's import path (decided on columns, no object per row) against its general
// write path (one upsert op per row), on tables that already hold bindings of every source
// and host: the same outcomes, the same table, the same dataplane contents, the same keys
// journaled. Then IPv6 bindings beside the IPv4 ones: the same precedence and outcomes, one
// capacity over both families and one for IPv6, each family's keys to its own journal and
// change hooks, and listing in (VLAN, IPv4 before IPv6, address) order, page by page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIPv6, parseIPv6Prefix } from '../src/dataplane/address';
import { SOURCE_RANK, type BindingColumns, type BindingSource, type Update, type UpdateSummary } from '../src/dataplane/updates';
import {
  BindingTable,
  key6Of,
  keyOf,
  macToNumber,
  type BindingColumns6,
  type BindingView,
  type Outcome,
  type TableChange,
  type TableKey,
  type TableWriterPort,
  type WriteOp,
} from '../src/table/binding_table';
import { seededRandom } from './helpers/random';

const TWO32 = 2 ** 32;

/** The dataplane's tables as a Map: (vlan, ip) key -> "mac/rank", IPv6 ones with "/router" if so. */
class FakeDataplane implements TableWriterPort {
  readonly table = new Map<TableKey, string>();
  /** Updates of each op received. */
  readonly ops = new Map<string, number>();
  async apply(updates: readonly Update[]): Promise<UpdateSummary> {
    for (const u of updates) {
      this.ops.set(u.op, (this.ops.get(u.op) ?? 0) + 1);
      if (u.op === 'upsert') this.table.set(u.vlan * TWO32 + u.ip, `${macToNumber(u.mac)}/${SOURCE_RANK[u.source ?? 'api']}`);
      else if (u.op === 'remove') this.table.delete(u.vlan * TWO32 + u.ip);
      else if (u.op === 'upsert6') this.table.set(key6Of(u.vlan, u.ip), `${macToNumber(u.mac)}/${SOURCE_RANK[u.source ?? 'api']}${u.router ? '/router' : ''}`);
      else if (u.op === 'remove6') this.table.delete(key6Of(u.vlan, u.ip));
    }
    return { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, tableFull: 0 };
  }
  async upsertRows(columns: BindingColumns, rows: Int32Array, source: BindingSource): Promise<UpdateSummary> {
    return this.apply(Array.from(rows, (row) => ({ op: 'upsert' as const, ip: columns.ips[row]!, vlan: columns.vlans[row]!, mac: columns.macs.slice(row * 6, row * 6 + 6), source })));
  }
}

function mac(next: () => number): Uint8Array {
  return Uint8Array.from([2, 0, 0, 0, Math.floor(next() * 4), Math.floor(next() * 256)]);
}

/** A table holding static, API, learned and other hosts' bindings on a small key space. */
async function prepared(seed: number, capacity: number): Promise<{ table: BindingTable; dataplane: FakeDataplane; journaled: TableKey[] }> {
  const next = seededRandom(seed);
  const dataplane = new FakeDataplane();
  const table = new BindingTable(dataplane, capacity);
  const journaled: TableKey[] = [];
  table.journal = { changed: (keys) => void journaled.push(...keys) };
  const key = (): { ip: number; vlan: number } => ({ ip: 0x0a000000 + Math.floor(next() * 3000), vlan: Math.floor(next() * 2) });
  table.seed(Array.from({ length: 300 }, () => ({ ...key(), mac: mac(next) })));
  const sources: [BindingSource, string | undefined][] = [['api', undefined], ['learned', undefined], ['remote', 'host-b'], ['api', 'host-c']];
  for (let i = 0; i < 2000; i++) {
    const [source, host] = sources[Math.floor(next() * sources.length)]!;
    const op: WriteOp = { op: 'upsert', ...key(), mac: mac(next), source, ...(next() < 0.5 ? { port: 'p1' } : {}), ...(host ? { origin: { host, seq: 1 + Math.floor(next() * 5) } } : {}) };
    await table.write([op]);
  }
  // Some bindings' state is in the state store: they carry the stored last-seen.
  const keys: number[] = [];
  for (const cursor of table.scan()) keys.push(cursor.key);
  for (let i = 0; i < keys.length; i += 2) table.takeForStore(keys[i]!);
  journaled.length = 0;
  return { table, dataplane, journaled };
}

/** Every binding's full state in (vlan, ip) order, times from this run replaced by 'now'. */
function contents(table: BindingTable, since: number): string[] {
  assert.equal([...table.scan()].length, table.size);
  return [...table.all()].map((b) => {
    const key = Number(b.vlan) * TWO32 + (b.ip.split('.').reduce((a, o) => a * 256 + Number(o), 0));
    const entry = table.entry(Math.floor(key / TWO32), key % TWO32)!;
    const time = (t: number | undefined): number | string | undefined => (t !== undefined && t >= since ? 'now' : t);
    return JSON.stringify({ key, ...entry, firstSeen: time(entry.firstSeen), lastSeen: time(entry.lastSeen), storedSeen: time(entry.storedSeen) });
  });
}

describe('BindingTable import', () => {
  for (const [name, seed, capacity] of [['with room', 1, 1_000_000], ['filling the table', 2, 3500]] as const) {
    it(`imports as one upsert per row would, ${name}`, async () => {
      const next = seededRandom(100 + seed);
      const rows = 150_000;
      const columns: BindingColumns = { ips: new Uint32Array(rows), vlans: new Uint16Array(rows), macs: new Uint8Array(rows * 6) };
      for (let row = 0; row < rows; row++) {
        // The second chunk of 65,536 rows revisits half of the prepared keys (and itself); the
        // others never repeat a key.
        const repeat = row >= 65536 && row < 131072;
        columns.ips[row] = repeat ? 0x0a000000 + 1500 + Math.floor(next() * 1500) : 0x0b000000 + row;
        columns.vlans[row] = repeat ? Math.floor(next() * 2) : row % 3;
        columns.macs.set(mac(next), row * 6);
      }
      // A few rows of the first chunk land on the other half: no repeat within the chunk.
      for (let row = 0; row < 1500; row += 7) {
        columns.ips[row] = 0x0a000000 + row;
        columns.vlans[row] = row % 2;
      }
      const since = Date.now();
      const fast = await prepared(seed, capacity);
      const general = await prepared(seed, capacity);
      // Half of those give the MAC already bound: unchanged, or taken over from its source or host.
      let sameMac = 0;
      for (let row = 0; row < 1500; row += 14) {
        const held = general.table.entry(columns.vlans[row]!, columns.ips[row]!);
        if (!held) continue;
        columns.macs.set(Uint8Array.from([2, 0, 0, 0, Math.floor(held.mac / 256) % 256, held.mac % 256]), row * 6);
        sameMac++;
      }
      assert.ok(sameMac > 10);
      assert.deepEqual(contents(fast.table, 0), contents(general.table, 0), 'the two tables start the same');

      const counts = await fast.table.importColumns(columns, rows);
      const expected: Record<Outcome, number> = { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, table_full: 0, conflict: 0, outranked: 0 };
      const ops: WriteOp[] = Array.from({ length: rows }, (_, row) => ({ op: 'upsert', ip: columns.ips[row]!, vlan: columns.vlans[row]!, mac: columns.macs.slice(row * 6, row * 6 + 6) }));
      for (const result of await general.table.writeAll([ops])) for (const o of Object.keys(expected) as Outcome[]) expected[o] += result.counts[o];

      assert.deepEqual(counts, expected);
      assert.ok(expected.outranked > 0 && expected.replaced > 0 && expected.unchanged > 0, 'the run covers static, replaced and unchanged rows');
      if (capacity < 1_000_000) assert.ok(expected.table_full > 0, 'the small table fills up');
      assert.deepEqual(contents(fast.table, since), contents(general.table, since));
      assert.deepEqual(fast.dataplane.table, general.dataplane.table);
      assert.deepEqual(new Set(fast.journaled), new Set(general.journaled));
    });
  }
});

const ip6 = (text: string): Uint8Array => parseIPv6(text)!;
const mac6 = (n: number): Uint8Array => Uint8Array.from([2, 0, 0, 0, n >> 8, n & 0xff]);

describe('BindingTable IPv6', () => {
  it('decides IPv6 writes as IPv4 ones: sources, outcomes, the router flag as part of the value', async () => {
    const dataplane = new FakeDataplane();
    const table = new BindingTable(dataplane, 100);
    table.seed([{ ip: ip6('2001:db8::1'), vlan: 0, mac: mac6(1), router: true }, { ip: 0x0a000001, vlan: 0, mac: mac6(1) }]);
    const one = async (op: WriteOp): Promise<[Outcome, string | undefined]> => {
      const r = await table.write([op], true);
      return [r.outcomes![0]!, r.previous![0]];
    };
    const a = ip6('2001:db8::a');
    assert.deepEqual(await one({ op: 'add', ip: a, vlan: 5, mac: mac6(10) }), ['added', undefined]);
    assert.deepEqual(await one({ op: 'add', ip: ip6('2001:DB8:0::A'), vlan: 5, mac: mac6(10) }), ['unchanged', '02:00:00:00:00:0a']);
    assert.deepEqual(await one({ op: 'add', ip: a, vlan: 5, mac: mac6(11) }), ['conflict', '02:00:00:00:00:0a']);
    // The same MAC with the router flag: the binding's value changes, no conflict.
    assert.deepEqual(await one({ op: 'add', ip: a, vlan: 5, mac: mac6(10), router: true }), ['replaced', '02:00:00:00:00:0a']);
    assert.equal(table.get(5, a)!.router, true);
    assert.deepEqual(await one({ op: 'upsert', ip: a, vlan: 5, mac: mac6(10) }), ['replaced', '02:00:00:00:00:0a']);
    assert.equal(table.get(5, a)!.router, false);
    assert.equal(table.get(0, a), undefined, 'another VLAN, another binding');
    // Static outranks the API and learning; learning never overrides the API.
    assert.deepEqual(await one({ op: 'upsert', ip: ip6('2001:db8::1'), vlan: 0, mac: mac6(2) }), ['outranked', '02:00:00:00:00:01']);
    assert.deepEqual(await one({ op: 'upsert', ip: ip6('2001:db8::1'), vlan: 0, mac: mac6(1) }), ['outranked', '02:00:00:00:00:01']);
    assert.deepEqual(await one({ op: 'upsert', ip: ip6('2001:db8::1'), vlan: 0, mac: mac6(1), router: true }), ['unchanged', '02:00:00:00:00:01']);
    assert.deepEqual(await one({ op: 'remove', ip: ip6('2001:db8::1'), vlan: 0 }), ['outranked', '02:00:00:00:00:01']);
    assert.deepEqual(await one({ op: 'upsert', ip: a, vlan: 5, mac: mac6(12), source: 'learned' }), ['outranked', '02:00:00:00:00:0a']);
    assert.deepEqual(await one({ op: 'upsert', ip: ip6('fe80::1'), vlan: 5, mac: mac6(13), source: 'learned', port: 'vm1' }), ['added', undefined]);
    assert.deepEqual(await one({ op: 'upsert', ip: ip6('fe80::1'), vlan: 5, mac: mac6(14) }), ['replaced', '02:00:00:00:00:0d']);
    assert.equal(table.entry(5, ip6('fe80::1'))!.source, 'api');
    assert.equal(table.entry(5, ip6('fe80::1'))!.port, 'vm1');
    assert.deepEqual(await one({ op: 'remove', ip: ip6('fe80::1'), vlan: 5 }), ['removed', '02:00:00:00:00:0e']);
    assert.deepEqual(await one({ op: 'remove', ip: ip6('fe80::1'), vlan: 5 }), ['missing', undefined]);

    // The dataplane got the IPv6 ops, and holds what the table says.
    assert.ok((dataplane.ops.get('upsert6') ?? 0) > 0 && dataplane.ops.get('remove6') === 1 && !dataplane.ops.has('upsert'));
    assert.deepEqual(dataplane.table, new Map([[key6Of(5, a), `${macToNumber(mac6(10))}/2`]]), 'the seeded bindings were the dataplane\'s already');
    assert.deepEqual([table.size, table.size6], [3, 2]);

    // confirm, moved and takeForStore by IPv6 key.
    table.confirm(5, a, 'vm2', 1e9);
    table.moved(5, a, 'vm3');
    const entry = table.entry(5, a)!;
    assert.deepEqual([entry.hits, entry.moves, entry.port], [1, 1, 'vm3']);
    assert.equal(table.takeForStore(key6Of(5, a))!.mac, macToNumber(mac6(10)));
    assert.equal(table.entry(5, a)!.storedSeen, entry.lastSeen);
  });

  it('counts both families against capacity, and IPv6 ones against ipv6Capacity', async () => {
    const table = new BindingTable(new FakeDataplane(), 5, undefined, 3);
    const up = (ip: number | Uint8Array): WriteOp => ({ op: 'upsert', ip, vlan: 0, mac: mac6(1) });
    const outcomes = async (ops: WriteOp[]): Promise<Outcome[]> => (await table.write(ops, true)).outcomes!;
    assert.deepEqual(await outcomes([up(ip6('::1')), up(ip6('::2')), up(ip6('::3')), up(ip6('::4'))]), ['added', 'added', 'added', 'table_full']);
    assert.deepEqual(await outcomes([up(1), up(2), up(3)]), ['added', 'added', 'table_full']);
    // A removal of either family makes room for the other within the same write.
    assert.deepEqual(await outcomes([{ op: 'remove', ip: 1, vlan: 0 }, up(ip6('::4')), up(3)]), ['removed', 'table_full', 'added']);
    assert.deepEqual(await outcomes([{ op: 'remove', ip: ip6('::1'), vlan: 0 }, up(ip6('::4'))]), ['removed', 'added']);
    assert.deepEqual([table.size, table.size6, table.capacity, table.ipv6Capacity], [5, 3, 5, 3]);
    assert.equal(new BindingTable(new FakeDataplane(), 1000).ipv6Capacity, 1000);
    assert.equal(new BindingTable(new FakeDataplane(), 1_000_000).ipv6Capacity, 65536);
  });

  it('tells the journal both families\' keys in one call, and each family\'s changes to its own hook', async () => {
    const table = new BindingTable(new FakeDataplane(), 100);
    const journal: [TableKey[], boolean][] = [];
    table.journal = { changed: (keys, durable) => void journal.push([[...keys], durable]) };
    const changes4: TableChange[] = [];
    const changes6: TableChange<bigint>[] = [];
    table.onChanges = (c) => void changes4.push(...c);
    table.onChanges6 = (c) => void changes6.push(...c);
    await table.write([
      { op: 'upsert', ip: 0x0a000001, vlan: 3, mac: mac6(1) },
      { op: 'upsert', ip: ip6('2001:db8::1'), vlan: 3, mac: mac6(2), router: true },
    ]);
    // One durable call for the write: one transaction in the state store.
    assert.deepEqual(journal, [[[keyOf(3, 0x0a000001), key6Of(3, ip6('2001:db8::1'))], true]]);
    assert.deepEqual(changes4.map((c) => [c.key, c.entry?.mac]), [[keyOf(3, 0x0a000001), macToNumber(mac6(1))]]);
    assert.deepEqual(changes6.map((c) => [c.key, c.entry?.mac, c.entry?.router, c.previous]), [[key6Of(3, ip6('2001:db8::1')), macToNumber(mac6(2)), true, null]]);
    // Learned changes may wait for the next flush.
    await table.write([{ op: 'upsert', ip: ip6('2001:db8::2'), vlan: 3, mac: mac6(3), source: 'learned' }]);
    assert.deepEqual(journal.at(-1), [[key6Of(3, ip6('2001:db8::2'))], false]);
  });

  it('lists (VLAN, IPv4 before IPv6, address), pages through both families, and filters', async () => {
    const next = seededRandom(41);
    const table = new BindingTable(new FakeDataplane(), 10000);
    const ops: WriteOp[] = [];
    for (let i = 0; i < 600; i++) {
      const vlan = [0, 1, 7, 4094][Math.floor(next() * 4)]!;
      const ip = next() < 0.5 ? 0x0a000000 + Math.floor(next() * 500) : ip6(`2001:db8::${Math.floor(next() * 400).toString(16)}`);
      ops.push({ op: 'upsert', ip, vlan, mac: mac6(Math.floor(next() * 8)), router: typeof ip !== 'number' && next() < 0.3 });
    }
    // Only IPv6 bindings in VLAN 9, only IPv4 in VLAN 8.
    ops.push({ op: 'upsert', ip: ip6('::9'), vlan: 9, mac: mac6(1) }, { op: 'upsert', ip: 8, vlan: 8, mac: mac6(1) });
    await table.write(ops);
    const sortKey = (b: BindingView): bigint => (BigInt(b.vlan) << 140n) | (b.ip.includes(':') ? (1n << 139n) | key6Of(0, ip6(b.ip)) : BigInt(b.ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)));
    const all = [...table.all()];
    assert.equal(all.length, table.size);
    const keys = all.map(sortKey);
    assert.deepEqual(keys, [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), 'in (VLAN, family, address) order');
    assert.ok(all.every((b) => (b.ip.includes(':') ? typeof b.router === 'boolean' : b.router === undefined)), 'IPv6 bindings show their router flag');
    assert.ok(all.some((b) => b.router === true));

    const filters = [{}, { vlan: 7 }, { vlan: 9 }, { vlan: 8 }, { mac: macToNumber(mac6(3)) }, { prefix: [0x0a000000, 24] as [number, number] }, { prefix6: parseIPv6Prefix('2001:db8::100/120')! }, { vlan: 1, prefix6: parseIPv6Prefix('::/0')! }];
    for (const filter of filters) {
      const expected = [...table.all(filter)];
      for (const limit of [1, 7, 50, 1000]) {
        const seen: BindingView[] = [];
        let after: TableKey | undefined;
        for (let pages = 0; ; pages++) {
          const page = table.list(filter, limit, after);
          assert.ok(page.bindings.length <= limit);
          seen.push(...page.bindings);
          if (page.next === undefined) break;
          after = page.next;
          assert.ok(pages < 1000);
        }
        assert.deepEqual(seen, expected, `${JSON.stringify(filter, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} limit ${limit}`);
      }
      if ('prefix' in filter) assert.ok(expected.every((b) => !b.ip.includes(':')) && expected.length > 0);
      if ('prefix6' in filter) assert.ok(expected.every((b) => b.ip.includes(':')) && expected.length > 0);
      if ('vlan' in filter) assert.ok(expected.every((b) => b.vlan === filter.vlan) && expected.length > 0);
    }
    // get() of either family, as listed.
    for (const b of all.slice(0, 50)) assert.deepEqual(table.get(b.vlan, b.ip.includes(':') ? ip6(b.ip) : Number(b.ip.split('.').reduce((a, o) => a * 256 + Number(o), 0))), b);
  });

  it('imports IPv6 rows beside IPv4 ones with the counts of one upsert per row, a full table included', async () => {
    for (const capacity of [100_000, 700]) {
      const next = seededRandom(51 + capacity);
      const rows = 1200;
      const columns: BindingColumns = { ips: new Uint32Array(rows), vlans: new Uint16Array(rows), macs: new Uint8Array(rows * 6) };
      const v6: BindingColumns6 = { count: rows, ips: new Uint8Array(rows * 16), vlans: new Uint16Array(rows), macs: new Uint8Array(rows * 6), routers: new Uint8Array(rows), before: new Uint32Array(rows) };
      const ops: WriteOp[] = [];
      for (let row = 0; row < rows; row++) {
        columns.ips[row] = 0x0a000000 + Math.floor(next() * 1000);
        columns.vlans[row] = row % 2;
        columns.macs.set(mac6(Math.floor(next() * 3)), row * 6);
        v6.ips.set(ip6(`2001:db8::${Math.floor(next() * 1000).toString(16)}`), row * 16);
        v6.vlans[row] = row % 2;
        v6.macs.set(mac6(Math.floor(next() * 3)), row * 6);
        v6.routers[row] = next() < 0.2 ? 1 : 0;
        // Most IPv6 rows follow their IPv4 row; the last 100 come after all of them.
        v6.before![row] = row < rows - 100 ? row + 1 : rows;
      }
      // Row 1 names both static bindings (VLAN 1) with another MAC: outranked.
      columns.ips[1] = 0x0a000005;
      v6.ips.set(ip6('2001:db8::5'), 16);
      // The general path takes the rows in the file's order: the families interleaved.
      const op6 = (row: number): WriteOp => ({ op: 'upsert', ip: v6.ips.slice(row * 16, row * 16 + 16), vlan: v6.vlans[row]!, mac: v6.macs.slice(row * 6, row * 6 + 6), router: v6.routers[row] === 1 });
      for (let row = 0; row < rows; row++) {
        ops.push({ op: 'upsert', ip: columns.ips[row]!, vlan: columns.vlans[row]!, mac: columns.macs.slice(row * 6, row * 6 + 6) });
        if (row < rows - 100) ops.push(op6(row));
      }
      for (let row = rows - 100; row < rows; row++) ops.push(op6(row));
      const prepare = async (): Promise<{ table: BindingTable; dataplane: FakeDataplane; keys: TableKey[] }> => {
        const dataplane = new FakeDataplane();
        const table = new BindingTable(dataplane, capacity, undefined, 400);
        const keys: TableKey[] = [];
        table.journal = { changed: (k) => void keys.push(...k) };
        await table.write([{ op: 'upsert', ip: ip6('2001:db8::5'), vlan: 1, mac: mac6(9), source: 'static' }, { op: 'upsert', ip: 0x0a000005, vlan: 1, mac: mac6(9), source: 'static' }]);
        keys.length = 0;
        return { table, dataplane, keys };
      };
      const fast = await prepare();
      const general = await prepare();
      const counts = await fast.table.importColumns(columns, rows, v6);
      const expected: Record<Outcome, number> = { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, table_full: 0, conflict: 0, outranked: 0 };
      for (const result of await general.table.writeAll([ops])) for (const o of Object.keys(expected) as Outcome[]) expected[o] += result.counts[o];
      assert.deepEqual(counts, expected, `capacity ${capacity}`);
      assert.ok(expected.replaced > 0 && expected.unchanged > 0 && expected.outranked > 0, JSON.stringify(expected));
      if (capacity < 1000) assert.ok(expected.table_full > 0);
      else assert.deepEqual(fast.dataplane.table, general.dataplane.table);
      assert.equal(fast.table.size, general.table.size);
      assert.ok(fast.table.size6 <= 400);
      if (capacity >= 1000) assert.deepEqual(new Set(fast.keys), new Set(general.keys));
    }
  });

  it('keeps the IPv4 fast path for chunks without IPv6 rows, and the file order at chunk edges', async () => {
    const rows = 140_000;
    const columns: BindingColumns = { ips: new Uint32Array(rows), vlans: new Uint16Array(rows), macs: new Uint8Array(rows * 6) };
    for (let row = 0; row < rows; row++) {
      columns.ips[row] = 0x0b000000 + (row % 130_000); // the last 10,000 rows repeat earlier keys
      columns.macs.set(mac6(row % 7), row * 6);
    }
    // IPv6 rows before the first IPv4 row, at a chunk's first row, inside the last chunk, and after all.
    const positions = [0, 0, 65536, 65536, 131_000, rows, rows];
    const v6: BindingColumns6 = {
      count: positions.length, ips: new Uint8Array(positions.length * 16), vlans: new Uint16Array(positions.length),
      macs: new Uint8Array(positions.length * 6), routers: new Uint8Array(positions.length), before: Uint32Array.from(positions),
    };
    positions.forEach((_, i) => {
      v6.ips.set(ip6(`2001:db8::${i % 5}`), i * 16); // some repeat
      v6.macs.set(mac6(i), i * 6);
    });
    const ops: WriteOp[] = [];
    let j = 0;
    const op6 = (i: number): WriteOp => ({ op: 'upsert', ip: v6.ips.slice(i * 16, i * 16 + 16), vlan: 0, mac: v6.macs.slice(i * 6, i * 6 + 6) });
    for (let row = 0; row < rows; row++) {
      while (j < positions.length && positions[j]! <= row) ops.push(op6(j++));
      ops.push({ op: 'upsert', ip: columns.ips[row]!, vlan: 0, mac: columns.macs.slice(row * 6, row * 6 + 6) });
    }
    while (j < positions.length) ops.push(op6(j++));
    for (const capacity of [1_000_000, 131_002]) {
      const fast = new BindingTable(new FakeDataplane(), capacity);
      const general = new BindingTable(new FakeDataplane(), capacity);
      const counts = await fast.importColumns(columns, rows, v6);
      const [result] = await general.writeAll([ops]);
      assert.deepEqual(counts, result!.counts, `capacity ${capacity}`);
      assert.deepEqual([...fast.all()].map((b) => `${b.ip}/${b.mac}/${b.source}`), [...general.all()].map((b) => `${b.ip}/${b.mac}/${b.source}`));
    }
  });
});

