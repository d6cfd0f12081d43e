// BindingTable's import path (decided on columns, no object per row) against its general
// write path (one upsert op per row), on tables that already hold bindings of every source
// and host: the same outcomes, the same table, the same dataplane contents, the same keys
// journaled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SOURCE_RANK, type BindingColumns, type BindingSource, type Update, type UpdateSummary } from '../src/dataplane/updates';
import { BindingTable, macToNumber, type Outcome, type TableWriterPort, type WriteOp } from '../src/table/binding_table';
import { seededRandom } from './helpers/random';

const TWO32 = 2 ** 32;

/** The dataplane's table as a Map: (vlan, ip) key -> "mac/rank". */
class FakeDataplane implements TableWriterPort {
  readonly table = new Map<number, string>();
  async apply(updates: readonly Update[]): Promise<UpdateSummary> {
    for (const u of updates) {
      if (u.op === 'upsert') this.table.set(u.vlan * TWO32 + u.ip, `${macToNumber(u.mac)}/${SOURCE_RANK[u.source ?? 'api']}`);
      else if (u.op === 'remove') this.table.delete(u.vlan * TWO32 + u.ip);
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
async function prepared(seed: number, capacity: number): Promise<{ table: BindingTable; dataplane: FakeDataplane; journaled: number[] }> {
  const next = seededRandom(seed);
  const dataplane = new FakeDataplane();
  const table = new BindingTable(dataplane, capacity);
  const journaled: number[] = [];
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
