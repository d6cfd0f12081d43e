// The demo's ARP figures, from microarp's own counters. A request microarp can answer is one
// whose target is bound in the asker's VLAN; in the demo every other request is for an
// address bound only in the other VLAN (the demo asks for nothing else), which microarp must
// neither answer nor carry across. Suppression is measured over the first kind only.
import type { CounterValues } from '../dataplane/dataplane';

export interface ArpFigures {
  /** ARP requests microarp received (probes included, gratuitous ARP excluded). */
  seen: number;
  /** Of those, the ones whose target is bound in the asker's VLAN. */
  answerable: number;
  /** Replies microarp sent itself: each one a request that was not broadcast. */
  answered: number;
  /** Requests whose target is bound nowhere in the asker's VLAN. */
  unbound: number;
  /** Requests from the MAC that owns the target, left to it. */
  ownAddress: number;
  /** answered / answerable, rounded down (100 only when every one was answered). */
  suppressedPercent?: number;
}

export function arpFigures(t: Pick<CounterValues, 'arp_requests' | 'replies_sent' | 'requests_unbound' | 'requests_own_address'>): ArpFigures {
  const answerable = Math.max(0, t.arp_requests - t.requests_unbound - t.requests_own_address);
  return {
    seen: t.arp_requests,
    answerable,
    answered: t.replies_sent,
    unbound: t.requests_unbound,
    ownAddress: t.requests_own_address,
    suppressedPercent: answerable > 0 ? Math.floor((100 * Math.min(t.replies_sent, answerable)) / answerable) : undefined,
  };
}

/** What the VMs' own kernels showed about the cross-VLAN pings so far. */
export interface Isolation {
  /** Cross-VLAN pings sent. */
  pings: number;
  /** Of those, the ones whose asker resolved a MAC for the target (someone answered). */
  answered: number;
  /** Of those, the ones whose target, in the other VLAN, heard the request (its kernel learned the asker). */
  heard: number;
}

export function arpLines(f: ArpFigures, iso: Isolation): string[] {
  const own = f.ownAddress ? `, ${f.ownAddress} from the owner of the address itself (left to it)` : '';
  const suppressed =
    f.suppressedPercent === undefined
      ? 'none yet'
      : `${f.answered} answered by microarp: ${f.suppressedPercent}% suppressed${f.answered < f.answerable ? `, ${f.answerable - f.answered} not answered  <-- unexpected` : ''}`;
  const isolated = iso.answered === 0 && iso.heard === 0;
  return [
    `  ARP: ${f.seen} requests seen${own}`,
    `    ${f.answerable} microarp can answer (target bound in the asker's VLAN): ${suppressed}`,
    `    ${f.unbound} across VLANs (target bound only in the other VLAN), from ${iso.pings} pings: ` +
      `${isolated ? 'isolated' : 'NOT isolated'}, ${iso.answered} answered, ${iso.heard} reached the other VLAN${isolated ? '' : '  <-- unexpected'}`,
  ];
}
