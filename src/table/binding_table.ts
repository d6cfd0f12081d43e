// The control side's view of the binding table, and the one way to change it.
//
// The dataplane's FlatTable is the table the workers read; this is its mirror (in typed
// columns, see compact_entries.ts), kept so that listing, filtering and export never iterate
// the dataplane's table under a concurrent writer. Writes are
// serialised here, each decided against the mirror first (so every outcome, table-full
// included, is known exactly), sent to the dataplane as effective updates only, and committed
// to the mirror once the dataplane has made them visible to the workers.
import { formatIPv4, formatMac } from '../dataplane/address';
import { SOURCE_RANK, type BindingColumns, type BindingSource, type Update, type UpdateSummary } from '../dataplane/updates';
import { CompactEntries, type Entry, type EntryCursor } from './compact_entries';

export type { Entry, EntryCursor };

export interface TableWriterPort {
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
  upsertRows(columns: BindingColumns, rows: Int32Array, source: BindingSource): Promise<UpdateSummary>;
}

/** A binding that another host of the fabric holds: its name and the mobility sequence. */
export interface Origin {
  host: string;
  seq: number;
}

/**
 * Every write says where it comes from (default: api); a lower source never overrides a higher
 * one. `origin`: the write replays another host's binding (from the fabric), not a local one.
 */
export type WriteOp =
  | { op: 'upsert'; ip: number; vlan: number; mac: Uint8Array; source?: BindingSource; port?: string; origin?: Origin }
  /** Add only: an existing binding to another MAC is a conflict, left unchanged. */
  | { op: 'add'; ip: number; vlan: number; mac: Uint8Array; source?: BindingSource; port?: string; origin?: Origin }
  | { op: 'remove'; ip: number; vlan: number; source?: BindingSource; origin?: Origin };

/** One committed change, for the fabric: `entry` null = removed. */
export interface TableChange {
  key: number;
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
  /** These keys changed; `durable`: their new state is stored before this returns. */
  changed(keys: Iterable<number>, durable: boolean): void;
}

export interface WriteResult {
  counts: Record<Outcome, number>;
  /** Outcome of each op, in order (only when asked: imports do not need it). */
  outcomes?: Outcome[];
  /** For replaced/conflict ops of a single write: the MAC that was there. */
  previous?: (string | undefined)[];
}

export interface BindingView {
  ip: string;
  mac: string;
  vlan: number;
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
  /** [network, prefix length], network in host order. */
  prefix?: [number, number];
  /** 48-bit MAC as a number. */
  mac?: number;
}

const TWO32 = 2 ** 32;
/** Rows of an import decided and handed to the dataplane at a time. */
const IMPORT_CHUNK = 65536;

export const keyOf = (vlan: number, ip: number): number => vlan * TWO32 + ip;
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

export class BindingTable {
  private readonly entries = new CompactEntries();
  private sortedKeys: Float64Array | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Updates (records) sent to the dataplane, for the metrics. */
  updatesApplied = 0;
  /** Set when state is kept across restarts. */
  journal?: TableJournal;
  /** Set in a fabric: told every committed change. */
  onChanges?: (changes: TableChange[]) => void;
  /** This host's fabric name, shown on its own bindings. */
  hostName?: string;

  constructor(
    private readonly dataplane: TableWriterPort,
    readonly capacity: number,
    private readonly onApplied?: (records: number, seconds: number) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records bindings the dataplane already holds (the config's, loaded at start). */
  seed(bindings: readonly { ip: number; vlan: number; mac: Uint8Array }[], source: BindingSource = 'static'): void {
    const now = Date.now();
    for (const b of bindings) {
      this.entries.set(b.vlan, b.ip, { mac: macToNumber(b.mac), source, firstSeen: now, lastSeen: now, moves: 0, hits: 0 });
    }
    this.sortedKeys = null;
  }

  /** Records entries the dataplane already holds as they were stored (the state store's, at start). */
  restore(stored: readonly { key: number; entry: Entry }[]): void {
    for (const { key, entry } of stored) this.entries.set(Math.floor(key / TWO32), key % TWO32, { ...entry, storedSeen: entry.lastSeen });
    this.sortedKeys = null;
  }

  get(vlan: number, ip: number): BindingView | undefined {
    const entry = this.entries.get(vlan, ip);
    return entry === undefined ? undefined : view(keyOf(vlan, ip), entry, this.hostName);
  }

  /** A snapshot of the binding, for decisions; change it through confirm() and moved(). */
  entry(vlan: number, ip: number): Entry | undefined {
    return this.entries.get(vlan, ip);
  }

  /**
   * The owner confirmed the binding (seen now, one more hit, on `port` if given). It is stored
   * with the next batch when the port changed or the stored last-seen is `storeEveryMs` old.
   */
  confirm(vlan: number, ip: number, port: string | undefined, storeEveryMs: number): void {
    const slot = this.entries.slotOf(vlan, ip);
    if (slot < 0) return;
    const now = Date.now();
    this.entries.setLastSeen(slot, now);
    this.entries.addHit(slot);
    const portChanged = port !== undefined && port !== this.entries.portAt(slot);
    if (portChanged) this.entries.setPort(slot, port);
    if (portChanged || now - (this.entries.storedSeenAt(slot) ?? 0) >= storeEveryMs) this.journal?.changed([keyOf(vlan, ip)], false);
  }

  /** The binding's owner moved (to `port`, if known): one more move, stored with the next batch. */
  moved(vlan: number, ip: number, port?: string): void {
    const slot = this.entries.slotOf(vlan, ip);
    if (slot < 0) return;
    this.entries.addMove(slot);
    if (port !== undefined) this.entries.setPort(slot, port);
    this.journal?.changed([keyOf(vlan, ip)], false);
  }

  /** The binding's state for the state store, which from now on holds its last-seen. */
  takeForStore(key: number): Entry | undefined {
    const slot = this.entries.slotOf(Math.floor(key / TWO32), key % TWO32);
    if (slot < 0) return undefined;
    this.entries.setStoredSeen(slot, this.entries.lastSeenAt(slot));
    return this.entries.read(slot);
  }

  /** Every binding (or those from `only`), unordered, through a cursor valid for one step (see CompactEntries.scan). */
  scan(only?: BindingSource): Generator<EntryCursor> {
    return this.entries.scan(only);
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
      const changedKeys: number[] = [];
      const results: WriteResult[] = [];
      for (const ops of batches) results.push(await this.writeNow(ops, false, changedKeys));
      if (changedKeys.length > 0) this.journal?.changed(changedKeys, true);
      return results;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Imports rows [0, count) of `columns` as API bindings: the same outcomes as write() of one
   * upsert per row, in order, after every write submitted before it, and durable as a whole,
   * like writeAll(). Rows are decided against the columns with no object per row, IMPORT_CHUNK
   * at a time; a chunk that names a key twice, or a table whose changes the fabric follows,
   * takes write()'s path, which stages every decision.
   */
  importColumns(columns: BindingColumns, count: number): Promise<Record<Outcome, number>> {
    const run = this.queue.then(async () => {
      const counts = emptyCounts();
      // Without a journal nobody needs the keys: a million of them are not gathered for nothing.
      const changedKeys: number[] | undefined = this.journal ? [] : undefined;
      this.entries.reserve(Math.min(this.capacity, this.entries.size + count));
      for (let start = 0; start < count; start += IMPORT_CHUNK) {
        const end = Math.min(count, start + IMPORT_CHUNK);
        if (this.onChanges || repeatsAKey(columns, start, end)) {
          const ops: WriteOp[] = [];
          for (let i = start; i < end; i++) {
            ops.push({ op: 'upsert', ip: columns.ips[i]!, vlan: columns.vlans[i]!, mac: columns.macs.subarray(i * 6, i * 6 + 6) });
          }
          const result = await this.writeNow(ops, false, changedKeys);
          for (const outcome of Object.keys(counts) as Outcome[]) counts[outcome] += result.counts[outcome];
        } else {
          await this.importChunk(columns, start, end, counts, changedKeys);
        }
      }
      if (changedKeys && changedKeys.length > 0) this.journal?.changed(changedKeys, true);
      return counts;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Rows [start, end) of an import, none of them for the same key. */
  private async importChunk(columns: BindingColumns, start: number, end: number, counts: Record<Outcome, number>, changedKeys?: number[]): Promise<void> {
    const { ips, vlans, macs } = columns;
    const effective = new Int32Array(end - start);
    let effectiveCount = 0;
    let size = this.entries.size;
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
  private async writeNow(ops: readonly WriteOp[], detail: boolean, changedKeys?: number[]): Promise<WriteResult> {
    const counts = emptyCounts();
    const outcomes: Outcome[] | undefined = detail ? [] : undefined;
    const previous: (string | undefined)[] | undefined = detail ? [] : undefined;
    // Decisions see the earlier ops of the same write through `staged`.
    const staged = new Map<number, Entry | null>();
    const fabricKeys = new Set<number>();
    // Static bindings removed (by a reload): the state store never held them, and the row it
    // may hold for the address (shadowed by the static one) must stay for the next start.
    const staticRemoved = new Set<number>();
    const effective: Update[] = [];
    let size = this.entries.size;
    const now = Date.now();

    for (const op of ops) {
      const key = keyOf(op.vlan, op.ip);
      const current = staged.has(key) ? staged.get(key)! : (this.entries.get(op.vlan, op.ip) ?? null);
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
          effective.push({ op: 'remove', ip: op.ip, vlan: op.vlan });
        }
      } else {
        const mac = macToNumber(op.mac);
        const source = op.source ?? 'api';
        if (current !== null && SOURCE_RANK[current.source] > rank) outcome = current.mac === mac ? 'unchanged' : 'outranked';
        else if (current !== null && current.mac === mac) {
          outcome = 'unchanged';
          if (current.source !== source || current.host !== op.origin?.host || (op.origin && op.origin.seq !== current.seq)) {
            // Same MAC from another source or host: it now belongs to that one (a higher source
            // stops aging; a local claim of a remote binding takes it over with a higher seq).
            staged.set(key, { ...current, source, lastSeen: now, ...originOf(op, current) });
            effective.push({ op: 'upsert', ip: op.ip, vlan: op.vlan, mac: op.mac, source });
          }
        } else if (current !== null && op.op === 'add') outcome = 'conflict';
        else if (current === null && size >= this.capacity) outcome = 'table_full';
        else {
          outcome = current === null ? 'added' : 'replaced';
          if (current === null) size++;
          staged.set(key, {
            mac,
            source,
            port: op.port ?? current?.port,
            firstSeen: current?.firstSeen ?? now,
            lastSeen: now,
            moves: current?.moves ?? 0,
            hits: current?.hits ?? 0,
            ...originOf(op, current),
          });
          effective.push({ op: 'upsert', ip: op.ip, vlan: op.vlan, mac: op.mac, source });
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
    const previousOf = new Map<number, Entry | undefined>();
    for (const [key, entry] of staged) {
      const vlan = Math.floor(key / TWO32);
      const ip = key % TWO32;
      if (this.onChanges) previousOf.set(key, this.entries.get(vlan, ip));
      if (entry === null) this.entries.delete(vlan, ip);
      else this.entries.set(vlan, ip, entry);
    }
    if (staged.size > 0 && this.onChanges) {
      const changes: TableChange[] = [];
      for (const [key, entry] of staged) changes.push({ key, entry, previous: previousOf.get(key) ?? null, fromFabric: fabricKeys.has(key) });
      this.onChanges(changes);
    }
    if (staged.size > 0) {
      this.sortedKeys = null;
      const stored = [...staged.keys()].filter((key) => !(staticRemoved.has(key) && staged.get(key) === null));
      if (changedKeys) for (const key of stored) changedKeys.push(key);
      // Learning (here or on other hosts) may lag a crash by one flush; what an operator wrote may not.
      else if (stored.length > 0) this.journal?.changed(stored, ops.some((op) => !op.origin && (op.source ?? 'api') !== 'learned'));
    }
    return { counts, outcomes, previous };
  }

  /** Bindings in (vlan, ip) order after `after` (a key from a previous page). */
  list(filter: ListFilter, limit: number, after?: number): { bindings: BindingView[]; next?: number } {
    const keys = this.sorted();
    let i = after === undefined ? 0 : upperBound(keys, after);
    const out: BindingView[] = [];
    let lastKey: number | undefined;
    for (; i < keys.length && out.length < limit; i++) {
      const key = keys[i]!;
      const slot = this.entries.slotOf(Math.floor(key / TWO32), key % TWO32);
      if (!matches(filter, key, this.entries.macAt(slot))) continue;
      out.push(view(key, this.entries.read(slot), this.hostName));
      lastKey = key;
    }
    return { bindings: out, next: i < keys.length && lastKey !== undefined ? lastKey : undefined };
  }

  /** Every binding in (vlan, ip) order, for export. */
  *all(filter: ListFilter = {}): Generator<BindingView> {
    for (const key of this.sorted()) {
      const slot = this.entries.slotOf(Math.floor(key / TWO32), key % TWO32);
      if (slot >= 0 && matches(filter, key, this.entries.macAt(slot))) yield view(key, this.entries.read(slot), this.hostName);
    }
  }

  private sorted(): Float64Array {
    // Sorted once per change of the table, then shared by every page and export.
    this.sortedKeys ??= this.entries.keys().sort();
    return this.sortedKeys;
  }
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

function view(key: number, e: Entry, hostName?: string): BindingView {
  const host = e.host ?? hostName;
  return {
    ip: formatIPv4(key % TWO32),
    mac: formatMac(macFromNumber(e.mac)),
    vlan: Math.floor(key / TWO32),
    source: e.source,
    ...(host ? { host } : {}),
    ...(e.port ? { port: e.port } : {}),
    first_seen: new Date(e.firstSeen).toISOString(),
    last_seen: new Date(e.lastSeen).toISOString(),
    moves: e.moves,
    hits: e.hits,
  };
}

function matches(filter: ListFilter, key: number, mac: number): boolean {
  if (filter.vlan !== undefined && Math.floor(key / TWO32) !== filter.vlan) return false;
  if (filter.mac !== undefined && mac !== filter.mac) return false;
  if (filter.prefix) {
    const [network, length] = filter.prefix;
    const size = 2 ** (32 - length);
    const ip = key % TWO32;
    if (ip < network || ip >= network + size) return false;
  }
  return true;
}

function upperBound(keys: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function describeBinding(b: { ip: number; vlan: number }): string {
  return b.vlan ? `${formatIPv4(b.ip)} vlan ${b.vlan}` : formatIPv4(b.ip);
}
