// The durable copy of the API's and the learned bindings: one SQLite database in WAL mode.
//
// It holds what the config file does not: static bindings come from the config at every start,
// so a static binding removed from the file is gone after a restart. A row shadowed by a static
// binding of the same (vlan, ip) is left alone, and comes back if the static one goes.
//
// Layout (schema 2): `bindings` holds IPv4 bindings, keyed by (vlan, ip) with the address as an
// integer in host order; `bindings6` holds IPv6 ones, keyed by (vlan, address) with the address
// as its 16 bytes in network order, and the router flag. Both have the same other columns, with
// the same meaning. A schema-1 file (IPv4 only) gains `bindings6` in place when opened.
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ipv6Problem } from '../dataplane/address';
import type { BindingSource } from '../dataplane/updates';
import { key6Of, vlanOfKey, type TableKey } from '../table/binding_key';
import type { Entry } from '../table/binding_table';
import { StateError } from './state_error';

/** Bumped when the layout changes; a database from a newer microarp is refused, not rewritten. */
export const SCHEMA_VERSION = 2;
export const DB_FILE = 'bindings.db';
const STORED_SOURCES: readonly BindingSource[] = ['api', 'learned', 'remote'];
const TWO32 = 2 ** 32;
const ROWS_PER_STATEMENT = 64;

/**
 * What each schema version adds to the one before it. Opening a file of version n runs the
 * steps n + 1 .. SCHEMA_VERSION and sets the version, all in one transaction.
 */
const MIGRATIONS: Record<number, string> = {
  1: `CREATE TABLE IF NOT EXISTS bindings (
    vlan INTEGER NOT NULL, ip INTEGER NOT NULL, mac INTEGER NOT NULL, source TEXT NOT NULL,
    port TEXT, host TEXT, seq INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    moves INTEGER NOT NULL DEFAULT 0, hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vlan, ip)) WITHOUT ROWID`,
  // Not IF NOT EXISTS: a file of schema 1 cannot hold it, and one that does is not ours to guess about.
  2: `CREATE TABLE bindings6 (
    vlan INTEGER NOT NULL, address BLOB NOT NULL, mac INTEGER NOT NULL, source TEXT NOT NULL, router INTEGER NOT NULL DEFAULT 0,
    port TEXT, host TEXT, seq INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    moves INTEGER NOT NULL DEFAULT 0, hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vlan, address)) WITHOUT ROWID`,
};

/** The columns each family's upsert lists, in order (the first two are its key). */
const COLUMNS4 = ['vlan', 'ip', 'mac', 'source', 'port', 'host', 'seq', 'first_seen', 'last_seen', 'moves', 'hits'];
const COLUMNS6 = ['vlan', 'address', 'mac', 'source', 'router', 'port', 'host', 'seq', 'first_seen', 'last_seen', 'moves', 'hits'];

export interface StoredBinding {
  /** vlan * 2^32 + ip, as the table keys it. */
  key: number;
  entry: Entry;
}

export interface StoredBinding6 {
  /** vlan * 2^128 + address, as the table keys it; the router flag is in `entry.router`. */
  key: bigint;
  entry: Entry;
}

/** The columns both tables share. */
interface RowValues {
  vlan: number;
  mac: number;
  source: string;
  port: string | null;
  host: string | null;
  seq: number;
  first_seen: number;
  last_seen: number;
  moves: number;
  hits: number;
}

interface Row extends RowValues {
  ip: number;
}

interface Row6 extends RowValues {
  address: unknown;
  router: number;
}

/**
 * One family's multi-row upserts: rows gather in `values` and go ROWS_PER_STATEMENT to a
 * statement (an import writes a million rows: positional parameters, many rows per statement,
 * cost a fraction of one named-parameter statement per row).
 */
class Upserts {
  readonly values: unknown[] = [];
  /** `values.length` at which a full statement is ready. */
  readonly full: number;
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(db: Database.Database, table: string, private readonly columns: readonly string[]) {
    const [k1, k2] = columns as [string, string];
    const row = `(${columns.map(() => '?').join(', ')})`;
    const upsert = (rows: number): string =>
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}
       ON CONFLICT (${k1}, ${k2}) DO UPDATE SET ${columns.slice(2).map((c) => `${c} = excluded.${c}`).join(', ')}`;
    this.one = db.prepare(upsert(1));
    this.many = db.prepare(upsert(ROWS_PER_STATEMENT));
    this.remove = db.prepare(`DELETE FROM ${table} WHERE ${k1} = ? AND ${k2} = ?`);
    this.full = ROWS_PER_STATEMENT * columns.length;
  }

  /** Writes the gathered rows. */
  flush(): void {
    const { values, full } = this;
    const width = this.columns.length;
    for (let at = 0; at + full <= values.length; at += full) this.many.run(values.slice(at, at + full));
    const rest = values.length % full;
    for (let at = values.length - rest; at < values.length; at += width) this.one.run(values.slice(at, at + width));
    values.length = 0;
  }

  /** Deletes a row, after the rows gathered before it (one of them may be the same key's). */
  delete(k1: unknown, k2: unknown): void {
    this.flush();
    this.remove.run(k1, k2);
  }
}

export class BindingStore {
  private readonly writeAll: (changes: Iterable<[TableKey, Entry | undefined]>) => number;
  /** Rows written since start, for the logs and tests. */
  rowsWritten = 0;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    /** The schema version the file had when opened, when this open migrated it; 0: a new file. */
    readonly migratedFrom?: number,
  ) {
    const v4 = new Upserts(db, 'bindings', COLUMNS4);
    const v6 = new Upserts(db, 'bindings6', COLUMNS6);
    this.writeAll = db.transaction((changes: Iterable<[TableKey, Entry | undefined]>) => {
      let rows = 0;
      // Rows go in change order within a family: a removal first writes the upserts before it.
      for (const [key, entry] of changes) {
        if (entry !== undefined && !STORED_SOURCES.includes(entry.source)) continue; // static: the config file is its store
        if (typeof key === 'number') {
          const vlan = Math.floor(key / TWO32);
          const ip = key % TWO32;
          if (entry === undefined) v4.delete(vlan, ip);
          else {
            v4.values.push(vlan, ip, entry.mac, entry.source, entry.port ?? null, entry.host ?? null, entry.seq ?? 0,
              entry.firstSeen, entry.lastSeen, entry.moves, entry.hits);
            if (v4.values.length === v4.full) v4.flush();
          }
        } else {
          const vlan = vlanOfKey(key);
          const address = addressBlob(key);
          if (entry === undefined) v6.delete(vlan, address);
          else {
            v6.values.push(vlan, address, entry.mac, entry.source, entry.router ? 1 : 0, entry.port ?? null, entry.host ?? null, entry.seq ?? 0,
              entry.firstSeen, entry.lastSeen, entry.moves, entry.hits);
            if (v6.values.length === v6.full) v6.flush();
          }
        }
        rows++;
      }
      v4.flush();
      v6.flush();
      return rows;
    });
  }

  /**
   * Opens (or creates) `dir`/bindings.db, migrating an older schema in place (in one
   * transaction: the file is either as it was or fully migrated). A file that is not a
   * database, fails its integrity check or has a newer schema is refused with its name and
   * left exactly as it was.
   */
  static open(dir: string, sync: 'normal' | 'full'): BindingStore {
    const file = join(dir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 0 });
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new StateError(
          `${file} was written by a newer microarp (schema ${version}, this one reads ${SCHEMA_VERSION}): ` +
            'run that version, or start with --reset-state to move it aside',
          'STATE_SCHEMA',
        );
      }
      const check = db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') {
        throw new StateError(`${file} failed its integrity check (${check}): start with --reset-state to move it aside`, 'STATE_CORRUPT');
      }
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is in the OS's hands before it returns (survives kill -9);
      // FULL adds an fsync per commit (survives power loss).
      db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
      if (version < SCHEMA_VERSION) migrate(db, file, version);
      return new BindingStore(db, file, version < SCHEMA_VERSION ? version : undefined);
    } catch (error) {
      db?.close();
      if (error instanceof StateError) throw error;
      const code = (error as { code?: string }).code;
      const hint = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' ? ': start with --reset-state to move it aside' : '';
      throw new StateError(`cannot open the state database ${file}: ${(error as Error).message}${hint}`, 'STATE_OPEN');
    }
  }

  /** Every stored binding. Rows that do not make sense (a hand-edited file) are skipped and counted. */
  load(): { bindings: StoredBinding[]; bindings6: StoredBinding6[]; skipped: number } {
    const bindings: StoredBinding[] = [];
    const bindings6: StoredBinding6[] = [];
    let skipped = 0;
    for (const row of this.db.prepare('SELECT * FROM bindings').iterate() as IterableIterator<Row>) {
      if (validRow(row)) bindings.push({ key: row.vlan * TWO32 + row.ip, entry: entryOf(row) });
      else skipped++;
    }
    for (const row of this.db.prepare('SELECT * FROM bindings6').iterate() as IterableIterator<Row6>) {
      if (validRow6(row)) {
        const entry = entryOf(row);
        if (row.router === 1) entry.router = true;
        bindings6.push({ key: key6Of(row.vlan, row.address as Uint8Array), entry });
      } else skipped++;
    }
    return { bindings, bindings6, skipped };
  }

  /**
   * Writes the given state of each key (undefined: gone) in one transaction. IPv4 keys are
   * numbers and IPv6 keys bigints, as the table keys them; one call may mix the two.
   */
  write(changes: Iterable<[TableKey, Entry | undefined]>): void {
    this.rowsWritten += this.writeAll(changes);
  }

  close(): void {
    this.db.close();
  }
}

/** Brings a file of schema `from` (0: new) to SCHEMA_VERSION in one transaction. */
function migrate(db: Database.Database, file: string, from: number): void {
  try {
    db.transaction(() => {
      for (let version = from + 1; version <= SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  } catch (error) {
    if (from === 0) throw error; // a new file: as any other open failure
    throw new StateError(`cannot migrate ${file} from schema ${from} to ${SCHEMA_VERSION}, left as it was: ${(error as Error).message}`, 'STATE_MIGRATE');
  }
}

/** An IPv6 key's 16 address bytes, as the bindings6 table keeps them. */
function addressBlob(key: bigint): Buffer {
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, key >> 64n), 0);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, key), 8);
  return bytes;
}

function entryOf(row: RowValues): Entry {
  return {
    mac: row.mac,
    source: row.source as BindingSource,
    ...(row.port ? { port: row.port } : {}),
    ...(row.host ? { host: row.host } : {}),
    seq: row.seq,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    moves: row.moves,
    hits: row.hits,
  };
}

/** Moves a state database (and its WAL) aside, for --reset-state. Returns the new name, if any. */
export function moveAside(dir: string, now = new Date()): string | undefined {
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) return undefined;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const aside = `${file}.${stamp}`;
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  renameSync(file, aside);
  return aside;
}

const int = (v: unknown, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

function validRow(r: Row): boolean {
  return int(r.ip, TWO32 - 1) && validValues(r);
}

function validRow6(r: Row6): boolean {
  // An address that cannot be bound (multicast, ::) is no binding either.
  return r.address instanceof Uint8Array && r.address.length === 16 && ipv6Problem(r.address) === null && (r.router === 0 || r.router === 1) && validValues(r);
}

function validValues(r: RowValues): boolean {
  return (
    int(r.vlan, 4094) &&
    int(r.mac, 2 ** 48 - 1) &&
    r.mac !== 0 &&
    // A multicast MAC can never be a binding's (the group bit of the first octet).
    Math.floor(r.mac / 2 ** 40) % 2 === 0 &&
    STORED_SOURCES.includes(r.source as BindingSource) &&
    int(r.first_seen, Number.MAX_SAFE_INTEGER) &&
    int(r.last_seen, Number.MAX_SAFE_INTEGER) &&
    int(r.moves, Number.MAX_SAFE_INTEGER) &&
    int(r.seq, Number.MAX_SAFE_INTEGER) &&
    (r.host === null || typeof r.host === 'string') &&
    // Another host's learned binding says which host.
    (r.source !== 'remote' || r.host !== null) &&
    int(r.hits, Number.MAX_SAFE_INTEGER)
  );
}
