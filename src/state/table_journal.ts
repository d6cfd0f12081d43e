// Keeps the binding store in step with the table. API writes are stored before the API
// answers; learned bindings (and the last-seen, moves and port of any binding) are gathered
// and stored in one transaction every FLUSH_MS, so a crash loses at most that much learning.
// IPv4 keys (numbers) and IPv6 keys (bigints) share the pending set: a key of one family never
// equals one of the other, and a flush stores both in the same transaction.
import type { Entry, TableKey } from '../table/binding_table';
import type { Logger } from '../log/logger';
import type { BindingStore } from './binding_store';

export const FLUSH_MS = 500;

export class TableJournal {
  private readonly pending = new Set<TableKey>();
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly store: BindingStore,
    /** A key's current state, which the store holds from then on (its last-seen included). */
    private readonly takeForStore: (key: TableKey) => Entry | undefined,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /**
   * These keys changed, of either family. `durable`: store their state now, in one transaction
   * (a mixed import is all or nothing; throws if it cannot be stored).
   */
  changed(keys: Iterable<TableKey>, durable: boolean): void {
    if (!durable) {
      for (const key of keys) this.pending.add(key);
      return;
    }
    this.store.write(this.states(keys));
  }

  /** Stores every pending key's current state; on failure keeps them for the next try. */
  flush(): void {
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    try {
      this.store.write(this.states(keys));
      if (this.failing) this.log.info('state store writable again', { file: this.store.file });
      this.failing = false;
    } catch (error) {
      for (const key of keys) this.pending.add(key);
      if (!this.failing) this.log.error('cannot write the state store; retrying', { file: this.store.file, error: (error as Error).message });
      this.failing = true;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
    this.store.close();
  }

  private *states(keys: Iterable<TableKey>): Generator<[TableKey, Entry | undefined]> {
    for (const key of keys) yield [key, this.takeForStore(key)];
  }
}
