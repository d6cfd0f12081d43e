// Table updates and their packed form, the 16-byte records the addon hands to the writer
// (layout documented in native/core/update_record.h). An IPv6 update takes two records: the
// first as an IPv4 one with the flags where the address was, the second the 16 address bytes
// (docs/design/ipv6-nd.md, "Contracts").
import { formatIPv4, formatIPv6 } from './address';

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

/** An IPv6 binding: the NdTable's. */
export interface Binding6 {
  /** The 16 address bytes, network order. */
  ip: Uint8Array;
  mac: Uint8Array;
  /** 0 = untagged. */
  vlan: number;
  /** Sets R (router) in the Neighbor Advertisements that answer for it. */
  router?: boolean;
}

export interface BindingKey6 {
  ip: Uint8Array;
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
  | ({ op: 'upsert6'; source?: BindingSource } & Binding6)
  | ({ op: 'remove6' } & BindingKey6)
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

/** IPv6 bindings at most when not told otherwise: table.ipv6_capacity's default (or table.capacity when smaller). */
export const DEFAULT_IPV6_CAPACITY = 65536;

export const PACKED_UPDATE_SIZE = 16;
const OP_CODES = { upsert: 1, remove: 2, fdb_add: 3, fdb_remove: 4, upsert6: 5, remove6: 6 } as const;
/** Flags of an IPv6 update (record 1, byte 4). */
const FLAG_ROUTER = 0x01;

/** Records `update` takes in the packed form: two for an IPv6 one. */
export const recordsOf = (update: Update): number => (update.op === 'upsert6' || update.op === 'remove6' ? 2 : 1);

/**
 * Packs `updates[from, to)`. Plain byte stores, no object per update (not even a subarray for
 * the MAC): this runs a million times for a bulk import.
 */
export function packUpdates(updates: readonly Update[], from = 0, to = updates.length): Uint8Array {
  let records = to - from;
  for (let i = from; i < to; i++) if (recordsOf(updates[i]!) === 2) records++;
  const packed = new Uint8Array(records * PACKED_UPDATE_SIZE);
  let at = 0;
  for (let i = from; i < to; i++, at += PACKED_UPDATE_SIZE) {
    const u = updates[i]!;
    packed[at] = OP_CODES[u.op];
    packed[at + 2] = u.vlan & 0xff;
    packed[at + 3] = u.vlan >>> 8;
    if (u.op === 'upsert6' || u.op === 'remove6') {
      if (u.op === 'upsert6') {
        packed[at + 1] = SOURCE_RANK[u.source ?? 'api'];
        packed[at + 4] = u.router ? FLAG_ROUTER : 0;
        putMac(packed, at, u.mac);
      }
      at += PACKED_UPDATE_SIZE;
      packed.set(u.ip.subarray(0, 16), at);
      continue;
    }
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
export function packUpserts(bindings: readonly (Binding | Binding6)[], source: BindingSource, from = 0, to = bindings.length): Uint8Array {
  let records = to - from;
  for (let i = from; i < to; i++) if (typeof bindings[i]!.ip !== 'number') records++;
  const packed = new Uint8Array(records * PACKED_UPDATE_SIZE);
  const rank = SOURCE_RANK[source];
  let at = 0;
  for (let i = from; i < to; i++, at += PACKED_UPDATE_SIZE) {
    const b = bindings[i]!;
    packed[at + 1] = rank;
    packed[at + 2] = b.vlan & 0xff;
    packed[at + 3] = b.vlan >>> 8;
    putMac(packed, at, b.mac);
    if (typeof b.ip === 'number') {
      packed[at] = OP_CODES.upsert;
      putIp(packed, at, b.ip);
    } else {
      packed[at] = OP_CODES.upsert6;
      packed[at + 4] = (b as Binding6).router ? FLAG_ROUTER : 0;
      at += PACKED_UPDATE_SIZE;
      packed.set(b.ip.subarray(0, 16), at);
    }
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

export function describeKey(key: BindingKey | BindingKey6): string {
  const ip = typeof key.ip === 'number' ? formatIPv4(key.ip) : formatIPv6(key.ip);
  return key.vlan ? `${ip} vlan ${key.vlan}` : ip;
}
