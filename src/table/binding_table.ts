// The control side's view of the binding table, and the one way to change it.
//
// The dataplane's FlatTable is the table the workers read; this is its mirror (in typed
// columns, see compact_entries.ts), kept so that listing, filtering and export never iterate
// the dataplane's table under a concurrent writer. Writes are
// serialised here, each decided against the mirror first (so every outcome, table-full
// included, is known exactly), sent to the dataplane as effective updates only, and committed
// to the mirror once the dataplane has made them visible to the workers.
//
// Both address families live here, each in its own store (CompactEntries for IPv4, as the
// dataplane's FlatTable; CompactEntries6 for IPv6, as its NdTable), with the same sources,
// precedence and outcomes. table.capacity counts the two together; ipv6Capacity bounds the
// IPv6 ones. An address is an IPv4 number or 16 IPv6 bytes wherever the table takes one; a key
// is a number or a bigint (binding_key.ts). Listing orders (VLAN, IPv4 before IPv6, address).
//
// The state store's journal gets the keys of both families in one call (one transaction); the
// fabric gets IPv4 changes through onChanges and IPv6 ones through onChanges6, so that code
// written for number keys never sees a bigint.
import { formatIPv4, formatIPv6, formatMac, type Prefix6 } from '../dataplane/address';
import { DEFAULT_IPV6_CAPACITY, SOURCE_RANK, type BindingColumns, type BindingSource, type Update, type UpdateSummary } from '../dataplane/updates';
import { addressOfKey6, key6Of, keyOf, vlanOfKey, type TableKey } from './binding_key';
import { CompactEntries, CompactEntries6, type Entry, type Entry6Cursor, type EntryCursor } from './compact_entries';

export type { Entry, EntryCursor, Entry6Cursor, TableKey };
export { keyOf, key6Of };

export interface TableWriterPort {
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
  upsertRows(columns: BindingColumns, rows: Int32Array, source: BindingSource): Promise<UpdateSummary>;
}

/** A binding that another host of the fabric holds: its name and the mobility sequence. */
export interface Origin {
  host: string;
  seq: number;
}

/** An address as the table takes it: IPv4 as a host-order number, IPv6 as its 16 bytes (network order). */
export type BindingIp = number | Uint8Array;

/**
 * Every write says where it comes from (default: api); a lower source never overrides a higher
 * one. `origin`: the write replays another host's binding (from the fabric), not a local one.
 * `router` (IPv6 only, ignored for IPv4): part of the binding's value, as its MAC is.
 */
export type WriteOp =
  | { op: 'upsert'; ip: BindingIp; vlan: number; mac: Uint8Array; router?: boolean; source?: BindingSource; port?: string; origin?: Origin }
  /** Add only: an existing binding to another MAC is a conflict, left unchanged (the same MAC with another router flag replaces it). */
  | { op: 'add'; ip: BindingIp; vlan: number; mac: Uint8Array; router?: boolean; source?: BindingSource; port?: string; origin?: Origin }
  | { op: 'remove'; ip: BindingIp; vlan: number; source?: BindingSource; origin?: Origin };

/** One committed change, for the fabric: `entry` null = removed. IPv4 keys are numbers, IPv6 keys bigints. */
export interface TableChange<K extends TableKey = number> {
  key: K;
  entry: Entry | null;
  previous: Entry | null;
  /** The change replays the fabric (do not publish it back). */
  fromFabric: boolean;
}

export type Outcome =
  | 'added'
  | 'replaced'
  | 'unchanged'
  | 'removed'
  | 'missing'
  | 'table_full'
  | 'conflict'
  /** The binding there comes from a higher source (static > api > learned). */
  | 'outranked';

/** Where the table's changes go to survive a restart (the state store). */
export interface TableJournal {
  /**
   * These keys (IPv4 numbers, IPv6 bigints) changed; `durable`: their new state is stored
   * before this returns, all of them in one transaction (a mixed import is all or nothing).
   */
  changed(keys: Iterable<TableKey>, durable: boolean): void;
}

export interface WriteResult {
  counts: Record<Outcome, number>;
  /** Outcome of each op, in order (only when asked: imports do not need it). */
  outcomes?: Outcome[];
  /** For replaced/conflict ops of a single write: the MAC that was there. */
  previous?: (string | undefined)[];
}

export interface BindingView {
  /** Dotted decimal, or IPv6 in RFC 5952 form. */
  ip: string;
  mac: string;
  vlan: number;
  /** IPv6 bindings only. */
  router?: boolean;
  source: BindingSource;
  host?: string;
  port?: string;
  first_seen: string;
  last_seen: string;
  moves: number;
  hits: number;
}

export interface ListFilter {
  vlan?: number;
  /** An IPv4 prefix, [network, prefix length], network in host order: only IPv4 bindings in it. */
  prefix?: [number, number];
  /** An IPv6 prefix: only IPv6 bindings in it. */
  prefix6?: Prefix6;
  /** 48-bit MAC as a number. */
  mac?: number;
}

const TWO32 = 2 ** 32;
/** Rows of an import decided and handed to the dataplane at a time. */
const IMPORT_CHUNK = 65536;

/** The six octets as one number below 2^48 (exact in a double); no closure: it runs per binding. */
export const macToNumber = (mac: Uint8Array): number =>
  (mac[0]! * 0x10000 + mac[1]! * 0x100 + mac[2]!) * 0x1000000 + ((mac[3]! << 16) | (mac[4]! << 8) | mac[5]!);
export function macFromNumber(value: number): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return out;
}

function emptyCounts(): Record<Outcome, number> {
  return { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, table_full: 0, conflict: 0, outranked: 0 };
}

/**
 * Rows of an import's IPv6 bindings: row i is ips[16i, 16i + 16), vlans[i], macs[6i, 6i + 6)
 * and routers[i] (1 = router). Row i came after before[i] of the import's IPv4 rows (the
 * file's order; nondecreasing); without `before`, after all of them.
 */
export interface BindingColumns6 {
  count: number;
  ips: Uint8Array;
  vlans: Uint16Array;
  macs: Uint8Array;
  routers: Uint8Array;
  before?: Uint32Array;
}

/** A binding as seed() takes it: IPv4 or IPv6, by the type of `ip`. */
export type SeedBinding = { ip: number; vlan: number; mac: Uint8Array } | { ip: Uint8Array; vlan: number; mac: Uint8Array; router?: boolean };

export class BindingTable {
  private readonly entries = new CompactEntries();
  private readonly entries6 = new CompactEntries6();
  private sortedKeys: Float64Array | null = null;
  private sortedKeys6: Sorted6 | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Updates (bindings) sent to the dataplane, for the metrics. */
  updatesApplied = 0;
  /** Set when state is kept across restarts. */
  journal?: TableJournal;
  /** Set in a fabric: told every committed change of an IPv4 binding. */
  onChanges?: (changes: TableChange[]) => void;
  /** The same for IPv6 bindings; unset, they stay this host's own. */
  onChanges6?: (changes: TableChange<bigint>[]) => void;
  /** This host's fabric name, shown on its own bindings. */
  hostName?: string;

  /**
   * `capacity`: bindings of both families together; `ipv6Capacity`: IPv6 ones at most (the
   * dataplane's NdTable is sized for it), default 65,536 or `capacity` if smaller.
   */
  constructor(
    private readonly dataplane: TableWriterPort,
    readonly capacity: number,
    private readonly onApplied?: (records: number, seconds: number) => void,
    readonly ipv6Capacity = Math.min(DEFAULT_IPV6_CAPACITY, capacity),
  ) {}

  /** Bindings of both families. */
  get size(): number {
    return this.entries.size + this.entries6.size;
  }

  /** IPv6 bindings. */
  get size6(): number {
    return this.entries6.size;
  }

  /** Records bindings the dataplane already holds (the config's, loaded at start). */
  seed(bindings: readonly SeedBinding[], source: BindingSource = 'static'): void {
    const now = Date.now();
    for (const b of bindings) {
      const entry: Entry = { mac: macToNumber(b.mac), source, firstSeen: now, lastSeen: now, moves: 0, hits: 0 };
      if (typeof b.ip === 'number') this.entries.set(b.vlan, b.ip, entry);
      else this.entries6.set(b.vlan, b.ip, 'router' in b && b.router ? { ...entry, router: true } : entry);
    }
    this.sortedKeys = null;
    this.sortedKeys6 = null;
  }

  /** Records entries the dataplane already holds as they were stored (the state store's, at start). */
  restore(stored: readonly { key: number; entry: Entry }[]): void {
    for (const { key, entry } of stored) this.entries.set(Math.floor(key / TWO32), key % TWO32, { ...entry, storedSeen: entry.lastSeen });
    this.sortedKeys = null;
  }

  /** restore() for IPv6 entries (the router flag in `entry.router`). */
  restore6(stored: readonly { key: bigint; entry: Entry }[]): void {
    for (const { key, entry } of stored) this.entries6.setKey(key, { ...entry, storedSeen: entry.lastSeen });
    this.sortedKeys6 = null;
  }

  get(vlan: number, ip: BindingIp): BindingView | undefined {
    const entry = this.entry(vlan, ip);
    if (entry === undefined) return undefined;
    return typeof ip === 'number' ? view(formatIPv4(ip), vlan, entry, this.hostName) : view(formatIPv6(ip), vlan, entry, this.hostName, true);
  }

  /** A snapshot of the binding, for decisions; change it through confirm() and moved(). */
  entry(vlan: number, ip: BindingIp): Entry | undefined {
    return typeof ip === 'number' ? this.entries.get(vlan, ip) : this.entries6.get(vlan, ip);
  }

  /**
   * The owner confirmed the binding (seen now, one more hit, on `port` if given). It is stored
   * with the next batch when the port changed or the stored last-seen is `storeEveryMs` old.
   */
  confirm(vlan: number, ip: BindingIp, port: string | undefined, storeEveryMs: number): void {
    const [store, slot] = this.slotOf(vlan, ip);
    if (slot < 0) return;
    const now = Date.now();
    store.setLastSeen(slot, now);
    store.addHit(slot);
    const portChanged = port !== undefined && port !== store.portAt(slot);
    if (portChanged) store.setPort(slot, port);
    if (portChanged || now - (store.storedSeenAt(slot) ?? 0) >= storeEveryMs) this.journalChanged([keyFor(vlan, ip)], false);
  }

  /** The binding's owner moved (to `port`, if known): one more move, stored with the next batch. */
  moved(vlan: number, ip: BindingIp, port?: string): void {
    const [store, slot] = this.slotOf(vlan, ip);
    if (slot < 0) return;
    store.addMove(slot);
    if (port !== undefined) store.setPort(slot, port);
    this.journalChanged([keyFor(vlan, ip)], false);
  }

  /** The binding's state for the state store, which from now on holds its last-seen. */
  takeForStore(key: TableKey): Entry | undefined {
    const store = typeof key === 'bigint' ? this.entries6 : this.entries;
    const slot = typeof key === 'bigint' ? this.entries6.slotOfKey(key) : this.entries.slotOf(Math.floor(key / TWO32), key % TWO32);
    if (slot < 0) return undefined;
    store.setStoredSeen(slot, store.lastSeenAt(slot));
    return store.read(slot);
  }

  /** Every IPv4 binding (or those from `only`), unordered, through a cursor valid for one step (see CompactEntries.scan). */
  scan(only?: BindingSource): Generator<EntryCursor> {
    return this.entries.scan(only);
  }

  /** The same for the IPv6 bindings. */
  scan6(only?: BindingSource): Generator<Entry6Cursor> {
    return this.entries6.scan(only);
  }

  /**
   * Applies `ops` in order, after every write submitted before it. Resolves once the
   * effective changes are visible to the workers and recorded here.
   */
  write(ops: readonly WriteOp[], detail = false): Promise<WriteResult> {
    const run = this.queue.then(() => this.writeNow(ops, detail));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies several writes back to back, with no other write between them, and stores their
   * changes in one transaction at the end: an import is durable as a whole or not at all.
   */
  writeAll(batches: Iterable<readonly WriteOp[]>): Promise<WriteResult[]> {
    const run = this.queue.then(async () => {
      const changedKeys: TableKey[] = [];
      const results: WriteResult[] = [];
      for (const ops of batches) results.push(await this.writeNow(ops, false, changedKeys));
      this.journalChanged(changedKeys, true);
      return results;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Imports rows [0, count) of `columns` as API bindings, with the IPv6 rows of `v6` where they
   * came among them: the same outcomes as write() of one upsert per row, in the file's order,
   * after every write submitted before it, and durable as a whole, like writeAll(). IPv4 rows
   * are decided against the columns with no object per row, IMPORT_CHUNK at a time; a chunk
   * that names a key twice or has IPv6 rows among its own, or a table whose changes the
   * fabric follows, takes write()'s path, which stages every decision.
   */
  importColumns(columns: BindingColumns, count: number, v6?: BindingColumns6): Promise<Record<Outcome, number>> {
    const run = this.queue.then(async () => {
      const counts = emptyCounts();
      const add = (result: WriteResult): void => {
        for (const outcome of Object.keys(counts) as Outcome[]) counts[outcome] += result.counts[outcome];
      };
      // Without a journal nobody needs the keys: a million of them are not gathered for nothing.
      const changedKeys: TableKey[] | undefined = this.journal ? [] : undefined;
      this.entries.reserve(Math.min(this.capacity, this.entries.size + count));
      // The next IPv6 row, and the IPv4 row it comes before (count: after them all).
      let row6 = 0;
      const at6 = (): number => (v6 === undefined || row6 >= v6.count ? Infinity : v6.before?.[row6] ?? count);
      const op6 = (i: number): WriteOp => {
        const mac = v6!.macs.subarray(i * 6, i * 6 + 6);
        return { op: 'upsert', ip: v6!.ips.subarray(i * 16, i * 16 + 16), vlan: v6!.vlans[i]!, mac, router: v6!.routers[i] === 1 };
      };
      for (let start = 0; start < count; start += IMPORT_CHUNK) {
        const end = Math.min(count, start + IMPORT_CHUNK);
        if (this.onChanges || at6() < end || repeatsAKey(columns, start, end)) {
          const ops: WriteOp[] = [];
          for (let i = start; i < end; i++) {
            while (at6() <= i) ops.push(op6(row6++));
            ops.push({ op: 'upsert', ip: columns.ips[i]!, vlan: columns.vlans[i]!, mac: columns.macs.subarray(i * 6, i * 6 + 6) });
          }
          add(await this.writeNow(ops, false, changedKeys));
        } else {
          await this.importChunk(columns, start, end, counts, changedKeys);
        }
      }
      // The IPv6 rows after the last IPv4 one.
      while (v6 && row6 < v6.count) {
        const ops: WriteOp[] = [];
        while (row6 < v6.count && ops.length < IMPORT_CHUNK) ops.push(op6(row6++));
        add(await this.writeNow(ops, false, changedKeys));
      }
      if (changedKeys) this.journalChanged(changedKeys, true);
      return counts;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Rows [start, end) of an import, none of them for the same key. */
  private async importChunk(columns: BindingColumns, start: number, end: number, counts: Record<Outcome, number>, changedKeys?: TableKey[]): Promise<void> {
    const { ips, vlans, macs } = columns;
    const effective = new Int32Array(end - start);
    let effectiveCount = 0;
    let size = this.size;
    for (let row = start; row < end; row++) {
      const slot = this.entries.slotOf(vlans[row]!, ips[row]!);
      if (slot < 0) {
        if (size >= this.capacity) {
          counts.table_full++;
          continue;
        }
        size++;
        counts.added++;
      } else {
        const source = this.entries.sourceAt(slot);
        const sameMac = this.entries.macAt(slot) === macNumberAt(macs, row * 6);
        if (SOURCE_RANK[source] > SOURCE_RANK.api) {
          counts[sameMac ? 'unchanged' : 'outranked']++;
          continue;
        }
        if (sameMac) {
          counts.unchanged++;
          // Same MAC from another source or host: the API's now (see writeNow).
          if (source === 'api' && this.entries.hostAt(slot) === undefined) continue;
        } else counts.replaced++;
      }
      effective[effectiveCount++] = row;
    }
    if (effectiveCount === 0) return;
    const rows = effective.subarray(0, effectiveCount);
    const started = process.hrtime.bigint();
    const native = await this.dataplane.upsertRows(columns, rows, 'api');
    this.onApplied?.(effectiveCount, Number(process.hrtime.bigint() - started) / 1e9);
    this.updatesApplied += effectiveCount;
    if (native.tableFull > 0) throw new Error(`dataplane refused ${native.tableFull} updates for lack of room`);
    const now = Date.now();
    for (const row of rows) {
      this.entries.putLocal(vlans[row]!, ips[row]!, macNumberAt(macs, row * 6), 'api', now);
      changedKeys?.push(keyOf(vlans[row]!, ips[row]!));
    }
    this.sortedKeys = null;
  }

  /** `changedKeys`: collect the changed keys there instead of journaling them. */
  private async writeNow(ops: readonly WriteOp[], detail: boolean, changedKeys?: TableKey[]): Promise<WriteResult> {
    const counts = emptyCounts();
    const outcomes: Outcome[] | undefined = detail ? [] : undefined;
    const previous: (string | undefined)[] | undefined = detail ? [] : undefined;
    // Decisions see the earlier ops of the same write through `staged`.
    const staged = new Map<TableKey, Entry | null>();
    const fabricKeys = new Set<TableKey>();
    // Static bindings removed (by a reload): the state store never held them, and the row it
    // may hold for the address (shadowed by the static one) must stay for the next start.
    const staticRemoved = new Set<TableKey>();
    const effective: Update[] = [];
    let size = this.size;
    let size6 = this.entries6.size;
    const now = Date.now();

    for (const op of ops) {
      const v6 = typeof op.ip !== 'number';
      const key = keyFor(op.vlan, op.ip);
      const current = staged.has(key) ? staged.get(key)! : (this.entry(op.vlan, op.ip) ?? null);
      const rank = SOURCE_RANK[op.source ?? 'api'];
      let outcome: Outcome;
      if (op.origin) fabricKeys.add(key);
      if (op.op === 'remove') {
        if (current === null) outcome = 'missing';
        else if (SOURCE_RANK[current.source] > rank) outcome = 'outranked';
        else {
          outcome = 'removed';
          if (current.source === 'static') staticRemoved.add(key);
          staged.set(key, null);
          size--;
          if (v6) size6--;
          effective.push(removeOf(op.vlan, op.ip));
        }
      } else {
        const mac = macToNumber(op.mac);
        const router = v6 && op.router === true;
        const source = op.source ?? 'api';
        // The binding's value: its MAC, and for IPv6 its router flag.
        const same = current !== null && current.mac === mac && (current.router === true) === router;
        if (current !== null && SOURCE_RANK[current.source] > rank) outcome = same ? 'unchanged' : 'outranked';
        else if (current !== null && same) {
          outcome = 'unchanged';
          if (current.source !== source || current.host !== op.origin?.host || (op.origin && op.origin.seq !== current.seq)) {
            // Same MAC from another source or host: it now belongs to that one (a higher source
            // stops aging; a local claim of a remote binding takes it over with a higher seq).
            // The port too: a takeover names where the binding now lives, not where it was.
            staged.set(key, { ...current, source, port: op.port ?? current.port, lastSeen: now, ...originOf(op, current) });
            effective.push(upsertOf(op.vlan, op.ip, op.mac, router, source));
          }
        } else if (current !== null && op.op === 'add' && current.mac !== mac) outcome = 'conflict';
        else if (current === null && (size >= this.capacity || (v6 && size6 >= this.ipv6Capacity))) outcome = 'table_full';
        else {
          outcome = current === null ? 'added' : 'replaced';
          if (current === null) {
            size++;
            if (v6) size6++;
          }
          staged.set(key, {
            mac,
            source,
            port: op.port ?? current?.port,
            firstSeen: current?.firstSeen ?? now,
            lastSeen: now,
            moves: current?.moves ?? 0,
            hits: current?.hits ?? 0,
            ...originOf(op, current),
            ...(router ? { router: true } : {}),
          });
          effective.push(upsertOf(op.vlan, op.ip, op.mac, router, source));
        }
      }
      counts[outcome]++;
      outcomes?.push(outcome);
      previous?.push(current === null ? undefined : formatMac(macFromNumber(current.mac)));
    }

    if (effective.length > 0) {
      const started = process.hrtime.bigint();
      const native = await this.dataplane.apply(effective);
      this.onApplied?.(effective.length, Number(process.hrtime.bigint() - started) / 1e9);
      this.updatesApplied += effective.length;
      if (native.tableFull > 0) {
        // The mirror and the hash disagree on room: never expected, so say it loudly.
        throw new Error(`dataplane refused ${native.tableFull} updates for lack of room`);
      }
    }
    const previousOf = new Map<TableKey, Entry | undefined>();
    for (const [key, entry] of staged) {
      if (typeof key === 'bigint') {
        if (this.onChanges6) previousOf.set(key, this.entries6.getKey(key));
        if (entry === null) this.entries6.deleteKey(key);
        else this.entries6.setKey(key, entry);
        this.sortedKeys6 = null;
        continue;
      }
      const vlan = Math.floor(key / TWO32);
      const ip = key % TWO32;
      if (this.onChanges) previousOf.set(key, this.entries.get(vlan, ip));
      if (entry === null) this.entries.delete(vlan, ip);
      else this.entries.set(vlan, ip, entry);
      this.sortedKeys = null;
    }
    if (staged.size > 0 && (this.onChanges || this.onChanges6)) {
      const changes: TableChange[] = [];
      const changes6: TableChange<bigint>[] = [];
      for (const [key, entry] of staged) {
        const change = { entry, previous: previousOf.get(key) ?? null, fromFabric: fabricKeys.has(key) };
        if (typeof key === 'bigint') changes6.push({ key, ...change });
        else changes.push({ key, ...change });
      }
      if (changes.length > 0) this.onChanges?.(changes);
      if (changes6.length > 0) this.onChanges6?.(changes6);
    }
    if (staged.size > 0) {
      const stored = [...staged.keys()].filter((key) => !(staticRemoved.has(key) && staged.get(key) === null));
      if (changedKeys) for (const key of stored) changedKeys.push(key);
      // Learning (here or on other hosts) may lag a crash by one flush; what an operator wrote may not.
      else this.journalChanged(stored, ops.some((op) => !op.origin && (op.source ?? 'api') !== 'learned'));
    }
    return { counts, outcomes, previous };
  }

  /**
   * Bindings in listing order, (VLAN, IPv4 before IPv6, address), after `after` (a key from a
   * previous page's `next`); `next` is set when bindings are left past this page.
   */
  list(filter: ListFilter, limit: number, after?: TableKey): { bindings: BindingView[]; next?: TableKey } {
    const out: BindingView[] = [];
    let lastKey: TableKey | undefined;
    const keys = this.ordered(filter, after);
    let step = keys.next();
    for (; !step.done && out.length < limit; step = keys.next()) {
      const binding = this.viewIf(step.value, filter);
      if (binding === undefined) continue;
      out.push(binding);
      lastKey = step.value;
    }
    return { bindings: out, next: !step.done && lastKey !== undefined ? lastKey : undefined };
  }

  /** Every binding in listing order, for export. */
  *all(filter: ListFilter = {}): Generator<BindingView> {
    for (const key of this.ordered(filter, undefined)) {
      const binding = this.viewIf(key, filter);
      if (binding !== undefined) yield binding;
    }
  }

  /** The binding of `key` as the API shows it, if it passes `filter`. */
  private viewIf(key: TableKey, filter: ListFilter): BindingView | undefined {
    if (typeof key === 'number') {
      const vlan = Math.floor(key / TWO32);
      const ip = key % TWO32;
      const slot = this.entries.slotOf(vlan, ip);
      if (slot < 0 || !matches(filter, vlan, ip, this.entries.macAt(slot))) return undefined;
      return view(formatIPv4(ip), vlan, this.entries.read(slot), this.hostName);
    }
    const slot = this.entries6.slotOfKey(key);
    if (slot < 0) return undefined;
    const vlan = this.entries6.vlanAt(slot);
    if (filter.vlan !== undefined && vlan !== filter.vlan) return undefined;
    if (filter.mac !== undefined && this.entries6.macAt(slot) !== filter.mac) return undefined;
    if (filter.prefix6 && !this.entries6.inPrefix(slot, filter.prefix6)) return undefined;
    return view(formatIPv6(this.entries6.ipAt(slot)), vlan, this.entries6.read(slot), this.hostName, true);
  }

  /**
   * The keys in listing order after `after`: a VLAN's IPv4 keys, then its IPv6 keys, VLAN by
   * VLAN. A prefix filter names one family, and the other is not walked.
   */
  private *ordered(filter: ListFilter, after: TableKey | undefined): Generator<TableKey> {
    const keys = filter.prefix6 ? EMPTY4 : this.sorted();
    const six = filter.prefix ? EMPTY6 : this.sorted6();
    let i = 0;
    let j = 0;
    if (typeof after === 'number') {
      // Past `after`: the IPv4 keys above it, and the IPv6 keys from its VLAN on.
      i = upperBound(keys, after);
      j = lowerBound(six.vlans, Math.floor(after / TWO32));
    } else if (typeof after === 'bigint') {
      // Past `after`: the IPv6 keys above it, and the IPv4 keys of later VLANs.
      j = upperBound(six.keys, after);
      i = lowerBound(keys, (vlanOfKey(after) + 1) * TWO32);
    }
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      // The IPv6 keys of VLANs below this IPv4 key's go first.
      const vlan = Math.floor(key / TWO32);
      for (; j < six.keys.length && six.vlans[j]! < vlan; j++) yield six.keys[j]!;
      yield key;
    }
    for (; j < six.keys.length; j++) yield six.keys[j]!;
  }

  private sorted(): Float64Array {
    // Sorted once per change of the table, then shared by every page and export.
    this.sortedKeys ??= this.entries.keys().sort();
    return this.sortedKeys;
  }

  private sorted6(): Sorted6 {
    if (!this.sortedKeys6) {
      const keys = this.entries6.keys().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedKeys6 = { keys, vlans: Uint16Array.from(keys, (key) => Number(key >> 128n)) };
    }
    return this.sortedKeys6;
  }

  /** The store that holds (vlan, ip)'s family, and the binding's slot there (-1: none). */
  private slotOf(vlan: number, ip: BindingIp): [CompactEntries | CompactEntries6, number] {
    return typeof ip === 'number' ? [this.entries, this.entries.slotOf(vlan, ip)] : [this.entries6, this.entries6.slotOf(vlan, ip)];
  }

  /** Tells the journal about changed keys, each family through its own method. */
  private journalChanged(keys: readonly TableKey[], durable: boolean): void {
    if (this.journal && keys.length > 0) this.journal.changed(keys, durable);
  }
}

/** The IPv6 keys in order, with each one's VLAN. */
interface Sorted6 {
  keys: bigint[];
  vlans: Uint16Array;
}

const EMPTY4 = new Float64Array(0);
const EMPTY6: Sorted6 = { keys: [], vlans: new Uint16Array(0) };

/** The key of (vlan, ip) in its family. */
export function keyFor(vlan: number, ip: BindingIp): TableKey {
  return typeof ip === 'number' ? keyOf(vlan, ip) : key6Of(vlan, ip);
}

function upsertOf(vlan: number, ip: BindingIp, mac: Uint8Array, router: boolean, source: BindingSource): Update {
  return typeof ip === 'number' ? { op: 'upsert', ip, vlan, mac, source } : { op: 'upsert6', ip, vlan, mac, source, router };
}

function removeOf(vlan: number, ip: BindingIp): Update {
  return typeof ip === 'number' ? { op: 'remove', ip, vlan } : { op: 'remove6', ip, vlan };
}

/** The MAC at bytes[at, at + 6) as macToNumber gives it. */
function macNumberAt(bytes: Uint8Array, at: number): number {
  return (bytes[at]! * 0x10000 + bytes[at + 1]! * 0x100 + bytes[at + 2]!) * 0x1000000 + ((bytes[at + 3]! << 16) | (bytes[at + 4]! << 8) | bytes[at + 5]!);
}

let keySeen = new Int32Array(0);

/** Whether rows [start, end) name some (vlan, ip) twice: an open-addressing set of row numbers. */
function repeatsAKey(columns: BindingColumns, start: number, end: number): boolean {
  const { ips, vlans } = columns;
  let bits = 1;
  while (1 << bits < 2 * (end - start)) bits++;
  if (keySeen.length < 1 << bits) keySeen = new Int32Array(1 << bits);
  const seen = keySeen.subarray(0, 1 << bits);
  seen.fill(0);
  const mask = seen.length - 1;
  for (let row = start; row < end; row++) {
    const ip = ips[row]!;
    const vlan = vlans[row]!;
    let at = Math.imul(ip ^ Math.imul(vlan, 0x85ebca6b), 0x9e3779b1) >>> (32 - bits);
    for (;;) {
      const other = seen[at]! - 1;
      if (other < 0) break;
      if (ips[other] === ip && vlans[other] === vlan) return true;
      at = (at + 1) & mask;
    }
    seen[at] = row + 1;
  }
  return false;
}

/** Host and seq of a new entry: the fabric's for a replayed write; a local one takes the binding over. */
function originOf(op: WriteOp, current: Entry | null): { host?: string; seq: number } {
  if (op.origin) return { host: op.origin.host, seq: op.origin.seq };
  const seq = current?.seq ?? 0;
  const mac = op.op === 'remove' ? undefined : macToNumber(op.mac);
  // A new MAC, or a binding that was another host's, is a move: the next sequence number.
  return { host: undefined, seq: current === null || current.host !== undefined || current.mac !== mac ? seq + 1 : seq };
}

/** `ipv6`: the binding is an IPv6 one, which shows its router flag. */
function view(ip: string, vlan: number, e: Entry, hostName?: string, ipv6 = false): BindingView {
  const host = e.host ?? hostName;
  return {
    ip,
    mac: formatMac(macFromNumber(e.mac)),
    vlan,
    ...(ipv6 ? { router: e.router === true } : {}),
    source: e.source,
    ...(host ? { host } : {}),
    ...(e.port ? { port: e.port } : {}),
    first_seen: new Date(e.firstSeen).toISOString(),
    last_seen: new Date(e.lastSeen).toISOString(),
    moves: e.moves,
    hits: e.hits,
  };
}

function matches(filter: ListFilter, vlan: number, ip: number, mac: number): boolean {
  if (filter.vlan !== undefined && vlan !== filter.vlan) return false;
  if (filter.mac !== undefined && mac !== filter.mac) return false;
  if (filter.prefix) {
    const [network, length] = filter.prefix;
    const size = 2 ** (32 - length);
    if (ip < network || ip >= network + size) return false;
  }
  return true;
}

/** The first index whose value is above `value` (IPv4 number keys or IPv6 bigint keys). */
function upperBound<K extends number | bigint>(keys: ArrayLike<K>, value: K): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose value is at least `value`. */
function lowerBound(keys: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function describeBinding(b: { ip: BindingIp; vlan: number }): string {
  const ip = typeof b.ip === 'number' ? formatIPv4(b.ip) : formatIPv6(b.ip);
  return b.vlan ? `${ip} vlan ${b.vlan}` : ip;
}

/** An IPv6 key's VLAN and address, for whoever follows IPv6 changes (see TableChange). */
export function splitKey6(key: bigint): { vlan: number; ip: Uint8Array } {
  return { vlan: vlanOfKey(key), ip: addressOfKey6(key) };
}
