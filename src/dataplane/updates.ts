// Table updates and their packed form, the 16-byte records the addon hands to the writer
// (layout documented in native/core/update_record.h).
import { formatIPv4 } from './address';

export interface Binding {
  /** IPv4 as an unsigned 32-bit number, host order. */
  ip: number;
  mac: Uint8Array;
  /** 0 = untagged. */
  vlan: number;
}

export interface BindingKey {
  ip: number;
  vlan: number;
}

/**
 * Where a binding came from; the higher wins a conflict. Kept in the dataplane's data word.
 * `remote`: learned on another host of the fabric; between it and a local learned binding the
 * fabric's mobility sequence decides, not the rank.
 */
export const SOURCE_RANK = { remote: 1, learned: 1, api: 2, static: 3 } as const;
export type BindingSource = keyof typeof SOURCE_RANK;

export type Update =
  | ({ op: 'upsert'; source?: BindingSource } & Binding)
  | ({ op: 'remove' } & BindingKey)
  /** A static FDB entry: (vlan, mac) -> port index, never aged. */
  | { op: 'fdb_add'; vlan: number; mac: Uint8Array; port: number }
  | { op: 'fdb_remove'; vlan: number; mac: Uint8Array };

export interface UpdateSummary {
  added: number;
  replaced: number;
  unchanged: number;
  removed: number;
  /** Removes of bindings that were not in the table. */
  missing: number;
  /** Upserts refused because the table held `table.capacity` bindings. */
  tableFull: number;
}

export const PACKED_UPDATE_SIZE = 16;
const OP_CODES = { upsert: 1, remove: 2, fdb_add: 3, fdb_remove: 4 } as const;

/**
 * Packs `updates[from, to)`. Plain byte stores, no object per update (not even a subarray for
 * the MAC): this runs a million times for a bulk import.
 */
export function packUpdates(updates: readonly Update[], from = 0, to = updates.length): Uint8Array {
  const packed = new Uint8Array((to - from) * PACKED_UPDATE_SIZE);
  for (let i = from; i < to; i++) {
    const u = updates[i]!;
    const at = (i - from) * PACKED_UPDATE_SIZE;
    packed[at] = OP_CODES[u.op];
    packed[at + 2] = u.vlan & 0xff;
    packed[at + 3] = u.vlan >>> 8;
    if (u.op === 'upsert' || u.op === 'remove') {
      if (u.op === 'upsert') packed[at + 1] = SOURCE_RANK[u.source ?? 'api'];
      putIp(packed, at, u.ip);
    } else if (u.op === 'fdb_add') {
      packed[at + 4] = u.port & 0xff;
      packed[at + 5] = u.port >>> 8;
    }
    if (u.op !== 'remove') putMac(packed, at, u.mac);
  }
  return packed;
}

/** Packs `bindings[from, to)` as upserts from `source`, without an update object each. */
export function packUpserts(bindings: readonly Binding[], source: BindingSource, from = 0, to = bindings.length): Uint8Array {
  const packed = new Uint8Array((to - from) * PACKED_UPDATE_SIZE);
  const rank = SOURCE_RANK[source];
  for (let i = from; i < to; i++) {
    const b = bindings[i]!;
    const at = (i - from) * PACKED_UPDATE_SIZE;
    packed[at] = OP_CODES.upsert;
    packed[at + 1] = rank;
    packed[at + 2] = b.vlan & 0xff;
    packed[at + 3] = b.vlan >>> 8;
    putIp(packed, at, b.ip);
    putMac(packed, at, b.mac);
  }
  return packed;
}

/** Bindings in columns, as an import parses them: row i is ips[i], vlans[i] and macs[6i, 6i + 6). */
export interface BindingColumns {
  ips: Uint32Array;
  vlans: Uint16Array;
  macs: Uint8Array;
}

/** Packs the rows `rows[from, to)` of `columns` as upserts from `source`. */
export function packColumnUpserts(columns: BindingColumns, rows: Int32Array, source: BindingSource, from: number, to: number): Uint8Array {
  const packed = new Uint8Array((to - from) * PACKED_UPDATE_SIZE);
  const rank = SOURCE_RANK[source];
  const { ips, vlans, macs } = columns;
  for (let i = from; i < to; i++) {
    const row = rows[i]!;
    const at = (i - from) * PACKED_UPDATE_SIZE;
    packed[at] = OP_CODES.upsert;
    packed[at + 1] = rank;
    packed[at + 2] = vlans[row]! & 0xff;
    packed[at + 3] = vlans[row]! >>> 8;
    putIp(packed, at, ips[row]!);
    for (let k = 0; k < 6; k++) packed[at + 8 + k] = macs[row * 6 + k]!;
  }
  return packed;
}

// Network order, as in the frame.
function putIp(packed: Uint8Array, at: number, ip: number): void {
  packed[at + 4] = ip >>> 24;
  packed[at + 5] = (ip >>> 16) & 0xff;
  packed[at + 6] = (ip >>> 8) & 0xff;
  packed[at + 7] = ip & 0xff;
}

function putMac(packed: Uint8Array, at: number, mac: Uint8Array): void {
  packed[at + 8] = mac[0]!;
  packed[at + 9] = mac[1]!;
  packed[at + 10] = mac[2]!;
  packed[at + 11] = mac[3]!;
  packed[at + 12] = mac[4]!;
  packed[at + 13] = mac[5]!;
}

export function emptySummary(): UpdateSummary {
  return { added: 0, replaced: 0, unchanged: 0, removed: 0, missing: 0, tableFull: 0 };
}

export function addSummaries(a: UpdateSummary, b: UpdateSummary): UpdateSummary {
  return {
    added: a.added + b.added,
    replaced: a.replaced + b.replaced,
    unchanged: a.unchanged + b.unchanged,
    removed: a.removed + b.removed,
    missing: a.missing + b.missing,
    tableFull: a.tableFull + b.tableFull,
  };
}

export function describeKey(key: BindingKey): string {
  return key.vlan ? `${formatIPv4(key.ip)} vlan ${key.vlan}` : formatIPv4(key.ip);
}
