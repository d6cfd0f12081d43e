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

export function packUpdates(updates: readonly Update[]): Uint8Array {
  const packed = new Uint8Array(updates.length * PACKED_UPDATE_SIZE);
  // Byte stores rather than a DataView: this runs a million times for a bulk import.
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i]!;
    const at = i * PACKED_UPDATE_SIZE;
    packed[at] = OP_CODES[u.op];
    if (u.op === 'upsert') packed[at + 1] = SOURCE_RANK[u.source ?? 'api'];
    packed[at + 2] = u.vlan & 0xff;
    packed[at + 3] = u.vlan >>> 8;
    if (u.op === 'upsert' || u.op === 'remove') {
      // Network order, as in the frame.
      packed[at + 4] = u.ip >>> 24;
      packed[at + 5] = (u.ip >>> 16) & 0xff;
      packed[at + 6] = (u.ip >>> 8) & 0xff;
      packed[at + 7] = u.ip & 0xff;
    } else if (u.op === 'fdb_add') {
      packed[at + 4] = u.port & 0xff;
      packed[at + 5] = u.port >>> 8;
    }
    if (u.op !== 'remove') packed.set(u.mac.subarray(0, 6), at + 8);
  }
  return packed;
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
