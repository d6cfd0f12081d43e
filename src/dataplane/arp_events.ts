// Decoding the 32-byte ArpEvent records the workers send (layout in native/core/arp_event.h).
import { formatIPv4, formatMac } from './address';
import { VIOLATION_REASONS, type ViolationReason } from './counter_names';

export type ArpEventKind = 'sender' | 'violation' | 'probe_reply';
const KINDS: Record<number, ArpEventKind> = { 1: 'sender', 2: 'violation', 3: 'probe_reply' };

export interface ArpEvent {
  kind: ArpEventKind;
  violation?: ViolationReason;
  /** Port index. */
  port: number;
  vlan: number;
  op: number;
  /** Sender IP, host order, and as text. */
  spa: number;
  sender: string;
  target: string;
  sha: string;
  ethSrc: string;
  gratuitous: boolean;
  /** The frame was dropped (enforce mode). */
  enforced: boolean;
}

export function decodeArpEvents(bytes: Uint8Array): ArpEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ArpEvent[] = [];
  for (let at = 0; at + 32 <= bytes.byteLength; at += 32) {
    const kind = KINDS[bytes[at]!];
    if (!kind) continue;
    const spa = view.getUint32(at + 8, false);
    out.push({
      kind,
      violation: kind === 'violation' ? VIOLATION_REASONS[bytes[at + 1]! - 1] : undefined,
      port: view.getUint16(at + 2, true),
      vlan: view.getUint16(at + 4, true),
      op: view.getUint16(at + 6, true),
      spa,
      sender: formatIPv4(spa),
      target: formatIPv4(view.getUint32(at + 12, false)),
      sha: formatMac(bytes.subarray(at + 16, at + 22)),
      ethSrc: formatMac(bytes.subarray(at + 22, at + 28)),
      gratuitous: bytes[at + 28] === 1,
      enforced: bytes[at + 29] === 1,
    });
  }
  return out;
}
