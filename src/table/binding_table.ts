// The control side's view of the binding table, and the one way to change it.
//
// The dataplane's rte_hash is the table the workers read; this is its mirror, kept so that
// listing, filtering and export never iterate the hash under a concurrent writer. Writes are
// serialised here, each decided against the mirror first (so every outcome, table-full
// included, is known exactly), sent to the dataplane as effective updates only, and committed
// to the mirror once the dataplane has made them visible to the workers.
import { formatIPv4, formatMac } from '../dataplane/address';
import { SOURCE_RANK, type BindingSource, type Update, type UpdateSummary } from '../dataplane/updates';

export interface TableWriterPort {
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
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

/** What the control side knows of a binding beyond its MAC. */
export interface Entry {
  mac: number;
  source: BindingSource;
  /** Port the binding was learned or last seen on, if known. */
  port?: string;
  firstSeen: number;
  lastSeen: number;
  moves: number;
  /** ARP frames from the owner that confirmed the binding. */
  hits: number;
  /** The last-seen time the state store holds, so refreshes are stored only now and then. */
  storedSeen?: number;
  /** The fabric host that holds the binding; absent = this host. */
  host?: string;
  /** Mobility sequence: rises each time the binding changes MAC or host. */
  seq?: number;
}

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
  private readonly macs = new Map<number, Entry>();
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
    return this.macs.size;
  }

  /** Records bindings the dataplane already holds (the config's, loaded at start). */
  seed(bindings: readonly { ip: number; vlan: number; mac: Uint8Array }[], source: BindingSource = 'static'): void {
    const now = Date.now();
    for (const b of bindings) {
      this.macs.set(keyOf(b.vlan, b.ip), { mac: macToNumber(b.mac), source, firstSeen: now, lastSeen: now, moves: 0, hits: 0 });
    }
    this.sortedKeys = null;
  }

  /** Records entries the dataplane already holds as they were stored (the state store's, at start). */
  restore(stored: readonly { key: number; entry: Entry }[]): void {
    for (const { key, entry } of stored) this.macs.set(key, { ...entry, storedSeen: entry.lastSeen });
    this.sortedKeys = null;
  }

  /** The learner changed an entry in place (last seen, moves, port): store it with the next batch. */
  touched(vlan: number, ip: number): void {
    this.journal?.changed([keyOf(vlan, ip)], false);
  }

  get(vlan: number, ip: number): BindingView | undefined {
    const entry = this.macs.get(keyOf(vlan, ip));
    return entry === undefined ? undefined : view(keyOf(vlan, ip), entry, this.hostName);
  }

  /** The live entry, for the learner to update in place (last seen, hits, moves, port). */
  entry(vlan: number, ip: number): Entry | undefined {
    return this.macs.get(keyOf(vlan, ip));
  }

  /** Every (key, entry), unordered: for the learner's aging sweep. */
  entries(): IterableIterator<[number, Entry]> {
    return this.macs.entries();
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

  /** `changedKeys`: collect the changed keys there instead of journaling them. */
  private async writeNow(ops: readonly WriteOp[], detail: boolean, changedKeys?: number[]): Promise<WriteResult> {
    const counts = emptyCounts();
    const outcomes: Outcome[] | undefined = detail ? [] : undefined;
    const previous: (string | undefined)[] | undefined = detail ? [] : undefined;
    // Decisions see the earlier ops of the same write through `staged`.
    const staged = new Map<number, Entry | null>();
    const fabricKeys = new Set<number>();
    const effective: Update[] = [];
    let size = this.macs.size;
    const now = Date.now();

    for (const op of ops) {
      const key = keyOf(op.vlan, op.ip);
      const current = staged.has(key) ? staged.get(key)! : (this.macs.get(key) ?? null);
      const rank = SOURCE_RANK[op.source ?? 'api'];
      let outcome: Outcome;
      if (op.origin) fabricKeys.add(key);
      if (op.op === 'remove') {
        if (current === null) outcome = 'missing';
        else if (SOURCE_RANK[current.source] > rank) outcome = 'outranked';
        else {
          outcome = 'removed';
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
      if (this.onChanges) previousOf.set(key, this.macs.get(key));
      if (entry === null) this.macs.delete(key);
      else this.macs.set(key, entry);
    }
    if (staged.size > 0 && this.onChanges) {
      const changes: TableChange[] = [];
      for (const [key, entry] of staged) changes.push({ key, entry, previous: previousOf.get(key) ?? null, fromFabric: fabricKeys.has(key) });
      this.onChanges(changes);
    }
    if (staged.size > 0) {
      this.sortedKeys = null;
      if (changedKeys) for (const key of staged.keys()) changedKeys.push(key);
      // Learning (here or on other hosts) may lag a crash by one flush; what an operator wrote may not.
      else this.journal?.changed(staged.keys(), ops.some((op) => !op.origin && (op.source ?? 'api') !== 'learned'));
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
      const entry = this.macs.get(key)!;
      if (!matches(filter, key, entry.mac)) continue;
      out.push(view(key, entry, this.hostName));
      lastKey = key;
    }
    return { bindings: out, next: i < keys.length && lastKey !== undefined ? lastKey : undefined };
  }

  /** Every binding in (vlan, ip) order, for export. */
  *all(filter: ListFilter = {}): Generator<BindingView> {
    for (const key of this.sorted()) {
      const entry = this.macs.get(key);
      if (entry !== undefined && matches(filter, key, entry.mac)) yield view(key, entry, this.hostName);
    }
  }

  private sorted(): Float64Array {
    // Sorted once per change of the table, then shared by every page and export.
    this.sortedKeys ??= Float64Array.from(this.macs.keys()).sort();
    return this.sortedKeys;
  }
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
