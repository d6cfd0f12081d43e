// The control side's copy of the forwarding database, kept from the writer's events, so that
// the API can list it and bindings can say which port their MAC sits behind.
import type { FdbEvent } from '../dataplane/fdb_events';

export interface FdbEntryView {
  vlan: number;
  mac: string;
  port: string;
  static: boolean;
  moves: number;
  /** ISO time of the last learn, move or static add. */
  since: string;
}

export class FdbView {
  private readonly entries = new Map<string, FdbEntryView>();

  constructor(private readonly portName: (index: number) => string) {}

  get size(): number {
    return this.entries.size;
  }

  apply(events: readonly FdbEvent[], now = new Date()): void {
    for (const e of events) {
      const key = `${e.vlan}/${e.mac}`;
      if (e.type === 'aged' || e.type === 'removed') {
        this.entries.delete(key);
        continue;
      }
      const previous = this.entries.get(key);
      this.entries.set(key, {
        vlan: e.vlan,
        mac: e.mac,
        port: this.portName(e.port),
        static: e.type === 'static_added',
        moves: (previous?.moves ?? 0) + (e.type === 'moved' ? 1 : 0),
        since: now.toISOString(),
      });
    }
  }

  portOf(vlan: number, mac: string): string | undefined {
    return this.entries.get(`${vlan}/${mac}`)?.port;
  }

  list(filter: { vlan?: number; port?: string; mac?: string }): FdbEntryView[] {
    const out: FdbEntryView[] = [];
    for (const e of this.entries.values()) {
      if (filter.vlan !== undefined && e.vlan !== filter.vlan) continue;
      if (filter.port !== undefined && e.port !== filter.port) continue;
      if (filter.mac !== undefined && e.mac !== filter.mac) continue;
      out.push(e);
    }
    return out.sort((a, b) => a.vlan - b.vlan || a.mac.localeCompare(b.mac));
  }
}
