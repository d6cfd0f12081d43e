// The durable copy of the API's and the learned bindings: one SQLite database in WAL mode.
//
// It holds what the config file does not: static bindings come from the config at every start,
// so a static binding removed from the file is gone after a restart. A row shadowed by a static
// binding of the same (vlan, ip) is left alone, and comes back if the static one goes.
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { BindingSource } from '../dataplane/updates';
import type { Entry } from '../table/binding_table';
import { StateError } from './state_error';

/** Bumped when the layout changes; a database from a newer microarp is refused, not rewritten. */
export const SCHEMA_VERSION = 1;
export const DB_FILE = 'bindings.db';
const STORED_SOURCES: readonly BindingSource[] = ['api', 'learned', 'remote'];
const TWO32 = 2 ** 32;
/** The bindings table's columns, in the order the upsert statements list them. */
const COLUMNS = 11;
const ROWS_PER_STATEMENT = 64;

export interface StoredBinding {
  /** vlan * 2^32 + ip, as the table keys it. */
  key: number;
  entry: Entry;
}

interface Row {
  vlan: number;
  ip: number;
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

export class BindingStore {
  private readonly upsertRow: Database.Statement;
  private readonly upsertRows: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly writeAll: (changes: Iterable<[number, Entry | undefined]>) => number;
  /** Rows written since start, for the logs and tests. */
  rowsWritten = 0;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {
    const upsert = (rows: number): string =>
      `INSERT INTO bindings (vlan, ip, mac, source, port, host, seq, first_seen, last_seen, moves, hits)
       VALUES ${Array.from({ length: rows }, () => `(${Array(COLUMNS).fill('?').join(', ')})`).join(', ')}
       ON CONFLICT (vlan, ip) DO UPDATE SET mac = excluded.mac, source = excluded.source, port = excluded.port,
         host = excluded.host, seq = excluded.seq,
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, moves = excluded.moves, hits = excluded.hits`;
    this.upsertRow = db.prepare(upsert(1));
    // An import writes a million rows: ROWS_PER_STATEMENT of them per statement, with positional
    // parameters, costs a fraction of one named-parameter statement per row.
    this.upsertRows = db.prepare(upsert(ROWS_PER_STATEMENT));
    this.deleteRow = db.prepare('DELETE FROM bindings WHERE vlan = ? AND ip = ?');
    this.writeAll = db.transaction((changes: Iterable<[number, Entry | undefined]>) => {
      const batch: unknown[] = [];
      let rows = 0;
      // Rows go in change order: a removal first writes the upserts before it.
      const flush = (): void => {
        for (let at = 0; at + ROWS_PER_STATEMENT * COLUMNS <= batch.length; at += ROWS_PER_STATEMENT * COLUMNS) {
          this.upsertRows.run(batch.slice(at, at + ROWS_PER_STATEMENT * COLUMNS));
        }
        const rest = batch.length % (ROWS_PER_STATEMENT * COLUMNS);
        for (let at = batch.length - rest; at < batch.length; at += COLUMNS) this.upsertRow.run(batch.slice(at, at + COLUMNS));
        batch.length = 0;
      };
      for (const [key, entry] of changes) {
        const vlan = Math.floor(key / TWO32);
        const ip = key % TWO32;
        if (entry === undefined) {
          flush();
          this.deleteRow.run(vlan, ip);
        } else if (STORED_SOURCES.includes(entry.source)) {
          batch.push(vlan, ip, entry.mac, entry.source, entry.port ?? null, entry.host ?? null, entry.seq ?? 0,
            entry.firstSeen, entry.lastSeen, entry.moves, entry.hits);
          if (batch.length === ROWS_PER_STATEMENT * COLUMNS) flush();
        } else continue; // static: the config file is its store
        rows++;
      }
      flush();
      return rows;
    });
  }

  /**
   * Opens (or creates) `dir`/bindings.db. A file that is not a database, fails its integrity
   * check or has a newer schema is refused with its name and left exactly as it was.
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
      if (version === 0) {
        db.exec(`CREATE TABLE IF NOT EXISTS bindings (
          vlan INTEGER NOT NULL, ip INTEGER NOT NULL, mac INTEGER NOT NULL, source TEXT NOT NULL,
          port TEXT, host TEXT, seq INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
          moves INTEGER NOT NULL DEFAULT 0, hits INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (vlan, ip)) WITHOUT ROWID`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
      return new BindingStore(db, file);
    } catch (error) {
      db?.close();
      if (error instanceof StateError) throw error;
      const code = (error as { code?: string }).code;
      const hint = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' ? ': start with --reset-state to move it aside' : '';
      throw new StateError(`cannot open the state database ${file}: ${(error as Error).message}${hint}`, 'STATE_OPEN');
    }
  }

  /** Every stored binding. Rows that do not make sense (a hand-edited file) are skipped and counted. */
  load(): { bindings: StoredBinding[]; skipped: number } {
    const bindings: StoredBinding[] = [];
    let skipped = 0;
    for (const row of this.db.prepare('SELECT * FROM bindings').iterate() as IterableIterator<Row>) {
      if (!validRow(row)) {
        skipped++;
        continue;
      }
      bindings.push({
        key: row.vlan * TWO32 + row.ip,
        entry: {
          mac: row.mac,
          source: row.source as BindingSource,
          ...(row.port ? { port: row.port } : {}),
          ...(row.host ? { host: row.host } : {}),
          seq: row.seq,
          firstSeen: row.first_seen,
          lastSeen: row.last_seen,
          moves: row.moves,
          hits: row.hits,
        },
      });
    }
    return { bindings, skipped };
  }

  /** Writes the given state of each key (undefined: gone) in one transaction. */
  write(changes: Iterable<[number, Entry | undefined]>): void {
    this.rowsWritten += this.writeAll(changes);
  }

  close(): void {
    this.db.close();
  }
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

function validRow(r: Row): boolean {
  const int = (v: unknown, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
  return (
    int(r.vlan, 4094) &&
    int(r.ip, TWO32 - 1) &&
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
