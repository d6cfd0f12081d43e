// Learning, inspection and migration events: to the API's stream subscribers and to the log,
// with the kinds a busy or hostile segment produces per frame (violations, senders over a
// learning cap) rate-limited in the log so that they cannot flood it.
import type { Logger } from '../log/logger';

export interface MicroarpEvent {
  time: string;
  type: string;
  [field: string]: unknown;
}

type Listener = (e: MicroarpEvent) => void;

const VIOLATION_LOGS_PER_SECOND = 10;
/** Event types logged at most VIOLATION_LOGS_PER_SECOND times a second (all of them counted). */
const FLOOD_PRONE = new Set(['violation', 'learn_overflow']);

export class EventHub {
  private readonly listeners = new Set<Listener>();
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  readonly counts = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(type: string, fields: Record<string, unknown>, level: 'info' | 'warn' | 'debug' = 'info'): void {
    const event: MicroarpEvent = { time: new Date().toISOString(), type, ...fields };
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    for (const l of this.listeners) l(event);
    if (FLOOD_PRONE.has(type) && !this.allowLog()) return;
    this.log.log(level, type.replace(/_/g, ' '), fields);
  }

  private allowLog(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      if (this.suppressed > 0) this.log.warn('violation and learn overflow logs suppressed', { count: this.suppressed });
      this.windowStart = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow < VIOLATION_LOGS_PER_SECOND) {
      this.inWindow++;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
