// The control side's view of the binding table, and the one way to change it.
//
// The dataplane's rte_hash is the table the workers read; this is its mirror, kept so that
// listing, filtering and export never iterate the hash under a concurrent writer. Writes are
// serialised here, each decided against the mirror first (so every outcome, table-full
// included, is known exactly), sent to the dataplane as effective updates only, and committed
// to the mirror once the dataplane has made them visible to the workers.
import { formatIPv4, formatMac } from '../dataplane/address';
import type { Update, UpdateSummary } from '../dataplane/updates';

export interface TableWriterPort {
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
}

export type WriteOp =
  | { op: 'upsert'; ip: number; vlan: number; mac: Uint8Array }
  /** Add only: an existing binding to another MAC is a conflict, left unchanged. */
  | { op: 'add'; ip: number; vlan: number; mac: Uint8Array }
  | { op: 'remove'; ip: number; vlan: number };

export type Outcome = 'added' | 'replaced' | 'unchanged' | 'removed' | 'missing' | 'table_full' | 'conflict';

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
export const macToNumber = (mac: Uint8Array): number => mac.reduce((acc, o) => acc * 256 + o, 0);
export function macFromNumber(value: number): Uint8Array {
  const out = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    out[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return out;
}

function emptyCounts(): Record<Outcome, number> {
  return { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, table_full: 0, conflict: 0 };
}

export class BindingTable {
  private readonly macs = new Map<number, number>();
  private sortedKeys: Float64Array | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Updates (records) sent to the dataplane, for the metrics. */
  updatesApplied = 0;

  constructor(
    private readonly dataplane: TableWriterPort,
    readonly capacity: number,
    private readonly onApplied?: (records: number, seconds: number) => void,
  ) {}

  get size(): number {
    return this.macs.size;
  }

  /** Records bindings the dataplane already holds (the config's, loaded at start). */
  seed(bindings: readonly { ip: number; vlan: number; mac: Uint8Array }[]): void {
    for (const b of bindings) this.macs.set(keyOf(b.vlan, b.ip), macToNumber(b.mac));
    this.sortedKeys = null;
  }

  get(vlan: number, ip: number): BindingView | undefined {
    const mac = this.macs.get(keyOf(vlan, ip));
    return mac === undefined ? undefined : view(keyOf(vlan, ip), mac);
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

  private async writeNow(ops: readonly WriteOp[], detail: boolean): Promise<WriteResult> {
    const counts = emptyCounts();
    const outcomes: Outcome[] | undefined = detail ? [] : undefined;
    const previous: (string | undefined)[] | undefined = detail ? [] : undefined;
    // Decisions see the earlier ops of the same write through `staged`.
    const staged = new Map<number, number | null>();
    const effective: Update[] = [];
    let size = this.macs.size;

    for (const op of ops) {
      const key = keyOf(op.vlan, op.ip);
      const current = staged.has(key) ? staged.get(key)! : (this.macs.get(key) ?? null);
      let outcome: Outcome;
      if (op.op === 'remove') {
        if (current === null) outcome = 'missing';
        else {
          outcome = 'removed';
          staged.set(key, null);
          size--;
          effective.push({ op: 'remove', ip: op.ip, vlan: op.vlan });
        }
      } else {
        const mac = macToNumber(op.mac);
        if (current === mac) outcome = 'unchanged';
        else if (current !== null && op.op === 'add') outcome = 'conflict';
        else if (current === null && size >= this.capacity) outcome = 'table_full';
        else {
          outcome = current === null ? 'added' : 'replaced';
          if (current === null) size++;
          staged.set(key, mac);
          effective.push({ op: 'upsert', ip: op.ip, vlan: op.vlan, mac: op.mac });
        }
      }
      counts[outcome]++;
      outcomes?.push(outcome);
      previous?.push(current === null ? undefined : formatMac(macFromNumber(current)));
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
    for (const [key, mac] of staged) {
      if (mac === null) this.macs.delete(key);
      else this.macs.set(key, mac);
    }
    if (staged.size > 0) this.sortedKeys = null;
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
      const mac = this.macs.get(key)!;
      if (!matches(filter, key, mac)) continue;
      out.push(view(key, mac));
      lastKey = key;
    }
    return { bindings: out, next: i < keys.length && lastKey !== undefined ? lastKey : undefined };
  }

  /** Every binding in (vlan, ip) order, for export. */
  *all(filter: ListFilter = {}): Generator<BindingView> {
    for (const key of this.sorted()) {
      const mac = this.macs.get(key);
      if (mac !== undefined && matches(filter, key, mac)) yield view(key, mac);
    }
  }

  private sorted(): Float64Array {
    // Sorted once per change of the table, then shared by every page and export.
    this.sortedKeys ??= Float64Array.from(this.macs.keys()).sort();
    return this.sortedKeys;
  }
}

function view(key: number, mac: number): BindingView {
  return { ip: formatIPv4(key % TWO32), mac: formatMac(macFromNumber(mac)), vlan: Math.floor(key / TWO32) };
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
