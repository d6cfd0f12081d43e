// The state directory of a running daemon: its lock, its binding store and the journal that
// keeps the store in step with the table. Opened before anything else starts.
import { mkdirSync } from 'node:fs';
import type { Binding, Binding6, BindingSource } from '../dataplane/updates';
import type { Logger } from '../log/logger';
import { key6Of, keyOf, macFromNumber, splitKey6, type BindingTable, type TableKey } from '../table/binding_table';
import { BindingStore, SCHEMA_VERSION, moveAside, type StoredBinding, type StoredBinding6 } from './binding_store';
import { StateError } from './state_error';
import { StateLock } from './state_lock';
import { TableJournal } from './table_journal';

const TWO32 = 2 ** 32;

export interface State {
  /** The stored bindings the config does not shadow, for the dataplane's first load. */
  dataplaneBindings(): ((Binding | Binding6) & { source: BindingSource })[];
  /** Hands the stored bindings to the table and journals its changes from now on. */
  attach(table: BindingTable): void;
  /** Stores what is pending, closes the store, releases the directory. Idempotent. */
  close(): void;
}

/** `staticBindings`: the config's, of both families (by the type of `ip`); they shadow stored rows. */
export function openState(dir: string, sync: 'normal' | 'full', staticBindings: readonly (Binding | Binding6)[], log: Logger, reset: boolean): State {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  } catch (error) {
    throw new StateError(`cannot create state_dir ${dir}: ${(error as Error).message}`, 'STATE_DIR');
  }
  const lock = StateLock.acquire(dir);
  let store: BindingStore;
  try {
    if (reset) {
      const aside = moveAside(dir);
      log.warn('state reset', aside ? { moved_to: aside } : { note: 'there was no state database' });
    }
    store = BindingStore.open(dir, sync);
  } catch (error) {
    lock.release();
    throw error;
  }
  if (store.migratedFrom) log.info('state migrated', { file: store.file, from_schema: store.migratedFrom, to_schema: SCHEMA_VERSION });
  const loaded = store.load();
  // Static wins: a stored binding for a (vlan, ip) the config binds stays in the store, unused.
  const shadowed = new Set<TableKey>(staticBindings.map((b) => (typeof b.ip === 'number' ? keyOf(b.vlan, b.ip) : key6Of(b.vlan, b.ip))));
  const live: StoredBinding[] = loaded.bindings.filter((b) => !shadowed.has(b.key));
  const live6: StoredBinding6[] = loaded.bindings6.filter((b) => !shadowed.has(b.key));
  const all = [...live, ...live6];
  log.info('state loaded', {
    file: store.file,
    bindings: all.length,
    ipv6: live6.length,
    api: all.filter((b) => b.entry.source === 'api').length,
    learned: all.filter((b) => b.entry.source === 'learned').length,
    shadowed_by_config: loaded.bindings.length + loaded.bindings6.length - all.length,
    ...(loaded.skipped ? { skipped_bad_rows: loaded.skipped } : {}),
  });
  if (loaded.skipped) log.warn('skipped state rows that are not valid bindings', { file: store.file, rows: loaded.skipped });

  let journal: TableJournal | undefined;
  let closed = false;
  return {
    dataplaneBindings: () => [
      ...live.map(({ key, entry }) => ({ vlan: Math.floor(key / TWO32), ip: key % TWO32, mac: macFromNumber(entry.mac), source: entry.source })),
      ...live6.map(({ key, entry }) => ({ ...splitKey6(key), mac: macFromNumber(entry.mac), router: entry.router === true, source: entry.source })),
    ],
    attach(table: BindingTable): void {
      table.restore(live);
      table.restore6(live6);
      journal = new TableJournal(store, (key) => table.takeForStore(key), log);
      table.journal = journal;
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        if (journal) journal.close();
        else store.close();
      } finally {
        lock.release();
      }
    },
  };
}
