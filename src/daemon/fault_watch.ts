// Faults the workers ride out on their own, made visible: every counter that only rises when
// something went wrong (a ring full, a report lost, a frame that found no room or no link) is
// logged when it rises, with by how much; and a control side that stalled (a long garbage
// collection, a blocked event loop) is noticed when it resumes, counted and logged. The workers
// never wait for the control side, so a stall costs reports and updates, never replies.
import type { Snapshot } from '../dataplane/dataplane';
import type { Logger } from '../log/logger';

const TICK_MS = 200;
/** Later than this past its time, a tick means the control side was stalled. */
const STALL_MS = 1000;
/** A fault that keeps rising is logged at most this often. */
const LOG_EVERY_MS = 10_000;

/** The counters that only rise on a fault, read from a snapshot. */
const FAULT_COUNTERS: [string, (s: Snapshot) => number][] = [
  ['arp_events_lost', (s) => s.totals.arp_events_lost],
  ['learn_events_lost', (s) => s.totals.learn_events_lost],
  ['fdb_events_lost', (s) => s.fdb.eventsLost],
  ['update_ring_full_waits', (s) => s.table.ringFullWaits],
  ['tx_full', (s) => s.drops.tx_full],
  ['link_down', (s) => s.drops.link_down],
  ['no_mbuf', (s) => s.drops.no_mbuf],
  ['rx_missed', (s) => s.ports.reduce((n, p) => n + p.rxMissed, 0)],
  ['rx_no_mbuf', (s) => s.ports.reduce((n, p) => n + p.rxNoMbuf, 0)],
  ['tx_errors', (s) => s.ports.reduce((n, p) => n + p.txErrors, 0)],
];

export interface FaultCounts {
  control_stalls: number;
  control_stalled_seconds: number;
}

export class FaultWatch {
  readonly counts: FaultCounts = { control_stalls: 0, control_stalled_seconds: 0 };
  private timer?: NodeJS.Timeout;
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private lastLogged = 0;

  constructor(
    private readonly snapshot: () => Snapshot,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (const [name, read] of FAULT_COUNTERS) this.last.set(name, read(this.snapshot()));
    let due = Date.now() + TICK_MS;
    this.timer = setInterval(() => {
      const now = Date.now();
      const late = now - due;
      due = now + TICK_MS;
      if (late > STALL_MS) this.stalled(late);
      this.check(now);
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private stalled(ms: number): void {
    this.counts.control_stalls++;
    this.counts.control_stalled_seconds += ms / 1000;
    this.log.warn('control side stalled: the workers kept answering, reports and updates waited', { ms });
  }

  private check(now: number): void {
    const s = this.snapshot();
    for (const [name, read] of FAULT_COUNTERS) {
      const value = read(s);
      const rise = value - (this.last.get(name) ?? value);
      this.last.set(name, value);
      if (rise > 0) this.pending.set(name, (this.pending.get(name) ?? 0) + rise);
    }
    if (this.pending.size === 0 || now - this.lastLogged < LOG_EVERY_MS) return;
    this.log.warn('fault counters rose', Object.fromEntries(this.pending));
    this.pending.clear();
    this.lastLogged = now;
  }
}
