// Decoding the 56-byte NdEvent records the workers send (layout in native/core/nd_event.h).
import { formatIPv6, formatMac } from './address';
import { VIOLATION_REASONS, type ViolationReason } from './counter_names';
import type { ArpEventKind } from './arp_events';

export const ND_EVENT_SIZE = 56;
const KINDS: Record<number, ArpEventKind> = { 1: 'sender', 2: 'violation', 3: 'probe_reply' };
const ICMP_NAMES: Record<number, NdMessage> = { 133: 'rs', 134: 'ra', 135: 'ns', 136: 'na', 137: 'redirect' };

export type NdMessage = 'rs' | 'ra' | 'ns' | 'na' | 'redirect';

export interface NdEvent {
  kind: ArpEventKind;
  violation?: ViolationReason;
  /** Port index. */
  port: number;
  vlan: number;
  message: NdMessage;
  /** An NA's flags; `dad`: a solicitation from ::. */
  router: boolean;
  solicited: boolean;
  override: boolean;
  dad: boolean;
  /** The address the message speaks for (NS: its source, NA: its target, else the IPv6 source): 16 bytes, and as text. */
  addr: Uint8Array;
  address: string;
  /** NS, NA, redirect: the target, as text. */
  target?: string;
  /** The link-layer address option's MAC (SLLAO, or TLLAO for NA and redirect). */
  lladdr?: string;
  ethSrc: string;
  /** The frame was dropped (enforce mode). */
  enforced: boolean;
}

export function decodeNdEvents(bytes: Uint8Array): NdEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NdEvent[] = [];
  for (let at = 0; at + ND_EVENT_SIZE <= bytes.byteLength; at += ND_EVENT_SIZE) {
    const kind = KINDS[bytes[at]!];
    const message = ICMP_NAMES[bytes[at + 6]!];
    if (!kind || !message) continue;
    const flags = bytes[at + 7]!;
    const addr = bytes.slice(at + 8, at + 24);
    const hasTarget = message === 'ns' || message === 'na' || message === 'redirect';
    out.push({
      kind,
      violation: kind === 'violation' ? VIOLATION_REASONS[bytes[at + 1]! - 1] : undefined,
      port: view.getUint16(at + 2, true),
      vlan: view.getUint16(at + 4, true),
      message,
      router: (flags & 0x80) !== 0,
      solicited: (flags & 0x40) !== 0,
      override: (flags & 0x20) !== 0,
      dad: (flags & 0x01) !== 0,
      addr,
      address: formatIPv6(addr),
      target: hasTarget ? formatIPv6(bytes, at + 24) : undefined,
      lladdr: bytes[at + 52] === 1 ? formatMac(bytes.subarray(at + 40, at + 46)) : undefined,
      ethSrc: formatMac(bytes.subarray(at + 46, at + 52)),
      enforced: bytes[at + 53] === 1,
    });
  }
  return out;
}
