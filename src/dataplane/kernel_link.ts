// The kernel's view of the interface under a net_af_packet port. That driver reports its link
// as always up and never calls back on a change, yet its interface can lose carrier (the VM's
// end of a veth went down), vanish (deleted), or be replaced by a new interface of the same
// name, to which its socket is not bound. sysfs tells which, for the price of a few small reads.
import { readFileSync } from 'node:fs';

export type KernelLinkState = 'up' | 'no_carrier' | 'gone' | 'replaced';

/** The interface name of an `net_af_packetN,iface=NAME,...` device, or null for other drivers. */
export function afPacketInterface(device: string): string | null {
  if (!/^(net_)?af_packet/.test(device)) return null;
  const m = /(?:^|,)iface=([^,]+)/.exec(device);
  return m ? m[1]! : null;
}

function read(iface: string, file: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${iface}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The interface's index now, or null if there is no such interface. */
export function interfaceIndex(iface: string): number | null {
  const text = read(iface, 'ifindex');
  return text === null ? null : Number(text);
}

/** `boundIndex`: the interface the port's socket was opened on. */
export function kernelLinkState(iface: string, boundIndex: number | null): KernelLinkState {
  const index = interfaceIndex(iface);
  if (index === null) return 'gone';
  if (boundIndex !== null && index !== boundIndex) return 'replaced';
  // carrier reads fail (EINVAL) on an interface that is administratively down.
  return read(iface, 'carrier') === '1' ? 'up' : 'no_carrier';
}
