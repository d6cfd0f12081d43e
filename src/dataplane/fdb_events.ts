// Decoding the 16-byte FdbEvent records the writer sends to the control side
// (layout in native/core/fdb_entry.h).
import { formatMac } from './address';

export type FdbEventType = 'learned' | 'moved' | 'aged' | 'static_added' | 'removed';
const TYPES: Record<number, FdbEventType> = { 1: 'learned', 2: 'moved', 3: 'aged', 4: 'static_added', 5: 'removed' };

export interface FdbEvent {
  type: FdbEventType;
  vlan: number;
  mac: string;
  /** Port index. */
  port: number;
  /** For 'moved': where it was. */
  oldPort: number;
}

export function decodeFdbEvents(bytes: Uint8Array): FdbEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: FdbEvent[] = [];
  for (let at = 0; at + 16 <= bytes.byteLength; at += 16) {
    const type = TYPES[bytes[at]!];
    if (!type) continue;
    events.push({
      type,
      vlan: view.getUint16(at + 2, true),
      port: view.getUint16(at + 4, true),
      oldPort: view.getUint16(at + 6, true),
      mac: formatMac(bytes.subarray(at + 8, at + 14)),
    });
  }
  return events;
}
