// The control side's half of learning, ARP inspection and migration. Workers report what they
// see (ARP senders, violations, answers to our probes, FDB moves); this decides, and changes
// the table only through BindingTable's single-writer path.
import { formatIPv4, formatMac, parseMac } from '../dataplane/address';
import type { ArpEvent } from '../dataplane/arp_events';
import type { FdbEvent } from '../dataplane/fdb_events';
import type { Update, UpdateSummary } from '../dataplane/updates';
import type { Config } from '../config/config';
import { keyOf, macFromNumber, macToNumber, type BindingTable, type WriteOp } from '../table/binding_table';
import type { FdbView } from '../table/fdb_view';
import type { EventHub } from './event_hub';
import { egressForm, garpFrame, probeFrame } from './frames';

export interface LearnerDataplane {
  inject(port: number, frame: Uint8Array): boolean;
  drainArpEvents(): ArpEvent[];
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
}

export interface LearnerStats {
  learned: number;
  refreshed: number;
  aged: number;
  overflow: number;
  outsideSubnet: number;
  probesSent: number;
  conflicts: number;
  claimsRefused: number;
  claimsWon: number;
  moves: number;
  freezes: number;
  garpsSent: number;
}

/** New senders found in one drain of the reports, learned together. */
interface LearnBatch {
  ops: WriteOp[];
  events: ArpEvent[];
  keys: Set<number>;
}

interface PendingConflict {
  claimMac: string;
  claimPort: number;
  timer: NodeJS.Timeout;
}

const POLL_MS = 10;
const SWEEP_MS = 1000;
const TWO32 = 2 ** 32;

export class Learner {
  readonly stats: LearnerStats = {
    learned: 0, refreshed: 0, aged: 0, overflow: 0, outsideSubnet: 0, probesSent: 0,
    conflicts: 0, claimsRefused: 0, claimsWon: 0, moves: 0, freezes: 0, garpsSent: 0,
  };
  private readonly conflicts = new Map<number, PendingConflict>();
  /** Keys probed for aging, so each is probed once per expiry. */
  private readonly agingProbes = new Set<number>();
  /** Per (vlan, ip) key: times of recent moves, for the freeze. */
  private readonly moveTimes = new Map<number, number[]>();
  private readonly frozenUntil = new Map<number, number>();
  private readonly perPort = new Map<number, number>();
  private readonly perVlan = new Map<number, number>();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly dataplane: LearnerDataplane,
    private readonly table: BindingTable,
    private readonly fdb: FdbView,
    private readonly events: EventHub,
  ) {}

  start(): void {
    this.recount();
    const poll = setInterval(() => void this.poll(), POLL_MS);
    const sweep = setInterval(() => void this.sweep(), SWEEP_MS);
    poll.unref();
    sweep.unref();
    this.timers = [poll, sweep];
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const c of this.conflicts.values()) clearTimeout(c.timer);
    this.conflicts.clear();
  }

  private portName(index: number): string {
    return this.config.ports[index]?.name ?? `#${index}`;
  }

  /**
   * One drain of the workers' reports. New senders are learned in one table write at the end
   * (one round trip to the dataplane for all of them, not one each: a VM migration or a busy
   * segment announces hundreds at once); refreshes, claims and violations are handled as they
   * come.
   */
  private async poll(): Promise<void> {
    const batch: LearnBatch = { ops: [], events: [], keys: new Set() };
    for (const e of this.dataplane.drainArpEvents()) {
      try {
        if (e.kind === 'sender') await this.onSender(e, batch);
        else if (e.kind === 'probe_reply') this.onProbeReply(e);
        else await this.onViolation(e);
      } catch (error) {
        this.events.emit('error', { error: (error as Error).message }, 'warn');
      }
    }
    if (batch.ops.length > 0) await this.learnAll(batch).catch((error: Error) => this.events.emit('error', { error: error.message }, 'warn'));
  }

  private async learnAll(batch: LearnBatch): Promise<void> {
    const result = await this.table.write(batch.ops, true);
    batch.events.forEach((e, i) => {
      if (result.outcomes![i] === 'added') {
        this.stats.learned++;
        this.events.emit('learned', { ip: e.sender, mac: e.sha, vlan: e.vlan, port: this.portName(e.port), from: e.gratuitous ? 'garp' : e.op === 2 ? 'reply' : 'request' });
      } else {
        // Counted against the caps when it was batched: give the room back.
        this.perPort.set(e.port, (this.perPort.get(e.port) ?? 1) - 1);
        this.perVlan.set(e.vlan, (this.perVlan.get(e.vlan) ?? 1) - 1);
      }
    });
  }

  /**
   * The owner confirmed a binding. The new last-seen reaches the state store only when the
   * stored one is a tenth of the aging time old (or the port changed): ARP refreshes must not
   * turn into a write per frame, yet a restart must not age out live bindings.
   */
  private refresh(vlan: number, ip: number, port?: string): void {
    this.table.confirm(vlan, ip, port, Math.max(1000, (this.config.learning.agingSeconds || 600) * 100));
  }

  private isUplink(port: number): boolean {
    return this.config.ports[port]?.uplink === true;
  }

  /**
   * Another host's VM showed up here (a VM-facing port): the bindings of its MAC become ours,
   * with a higher mobility sequence, which the fabric publishes; the old host lets go.
   */
  private async takeOver(vlan: number, ips: number[], mac: Uint8Array, port: number): Promise<void> {
    const result = await this.table.write(ips.map((ip) => ({ op: 'upsert' as const, ip, vlan, mac, source: 'learned' as const, port: this.portName(port) })), true);
    const taken = ips.filter((_, i) => result.outcomes![i] === 'unchanged' || result.outcomes![i] === 'replaced');
    if (taken.length === 0) return;
    this.stats.moves += taken.length;
    for (const ip of taken) {
      this.table.moved(vlan, ip);
      this.events.emit('moved', { ip: formatIPv4(ip), vlan, mac: formatMac(mac), from: 'fabric', to: this.portName(port) });
    }
    this.announce(vlan, taken, mac, port);
  }

  /** The fabric moved bindings of `mac` to another host: announce it on our ports (not toward it). */
  announceRemoteMove(vlan: number, ips: number[], mac: Uint8Array): void {
    this.stats.moves += ips.length;
    const uplink = this.config.ports.findIndex((p) => p.uplink);
    this.announce(vlan, ips, mac, uplink);
  }

  private inLearningSubnets(vlan: number, ip: number): boolean {
    const subnets = this.config.learning.subnets;
    if (subnets.size === 0) return true;
    const list = subnets.get(vlan);
    return !!list && list.some(([net, len]) => ip >= net && ip < net + 2 ** (32 - len));
  }

  private async onSender(e: ArpEvent, batch: LearnBatch): Promise<void> {
    const key = keyOf(e.vlan, e.spa);
    const entry = this.table.entry(e.vlan, e.spa);
    const mac = macToNumber(parseMac(e.sha)!);
    if (entry) {
      if (entry.mac === mac) {
        if (entry.source === 'remote' && !this.isUplink(e.port)) {
          await this.takeOver(e.vlan, [e.spa], parseMac(e.sha)!, e.port);
          return;
        }
        this.refresh(e.vlan, e.spa, this.portName(e.port));
        this.agingProbes.delete(key);
        this.stats.refreshed++;
        return;
      }
      await this.conflict(e); // a trusted port's claim that disagrees with the table
      return;
    }
    const learning = this.config.learning;
    // An uplink carries other hosts' traffic: their bindings come through the fabric.
    if (!learning.enabled || this.isUplink(e.port)) return;
    // Never a multicast, broadcast or zero address (a trusted port is not inspected for it).
    if (e.spa === 0 || e.spa >= 0xe0000000) return;
    if (!this.inLearningSubnets(e.vlan, e.spa)) {
      this.stats.outsideSubnet++;
      return;
    }
    if ((this.perPort.get(e.port) ?? 0) >= learning.maxPerPort || (this.perVlan.get(e.vlan) ?? 0) >= learning.maxPerVlan) {
      this.stats.overflow++;
      this.events.emit('learn_overflow', { port: this.portName(e.port), vlan: e.vlan, ip: e.sender, mac: e.sha }, 'warn');
      return;
    }
    // The first report of an address in this drain is the one learned; the caps count it now.
    if (batch.keys.has(key)) return;
    batch.keys.add(key);
    this.perPort.set(e.port, (this.perPort.get(e.port) ?? 0) + 1);
    this.perVlan.set(e.vlan, (this.perVlan.get(e.vlan) ?? 0) + 1);
    batch.ops.push({ op: 'add', ip: e.spa, vlan: e.vlan, mac: parseMac(e.sha)!, source: 'learned', port: this.portName(e.port) });
    batch.events.push(e);
  }

  private onProbeReply(e: ArpEvent): void {
    const key = keyOf(e.vlan, e.spa);
    const entry = this.table.entry(e.vlan, e.spa);
    if (!entry || entry.mac !== macToNumber(parseMac(e.sha)!)) return;
    this.refresh(e.vlan, e.spa);
    this.agingProbes.delete(key);
    const pending = this.conflicts.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.conflicts.delete(key);
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: e.sender, vlan: e.vlan, owner: e.sha, claimed_by: pending.claimMac, port: this.portName(pending.claimPort), reason: 'the owner answered our probe' }, 'warn');
    }
  }

  private async onViolation(e: ArpEvent): Promise<void> {
    this.events.emit(
      'violation',
      { reason: e.violation, port: this.portName(e.port), vlan: e.vlan, ip: e.sender, mac: e.sha, eth_src: e.ethSrc, target: e.target, dropped: e.enforced },
      'warn',
    );
    if (e.violation === 'spoofed_binding' && e.enforced) await this.conflict(e);
  }

  /** Someone claims a bound IP with another MAC: probe the owner before believing them. */
  private async conflict(e: ArpEvent): Promise<void> {
    const key = keyOf(e.vlan, e.spa);
    const entry = this.table.entry(e.vlan, e.spa);
    if (!entry || this.conflicts.has(key)) return;
    this.stats.conflicts++;
    const owner = formatMac(macFromNumber(entry.mac));
    if ((this.frozenUntil.get(key) ?? 0) > Date.now()) {
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: e.sender, vlan: e.vlan, owner, claimed_by: e.sha, reason: 'frozen' }, 'warn');
      return;
    }
    if (entry.source !== 'learned' && entry.source !== 'remote') {
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: e.sender, vlan: e.vlan, owner, claimed_by: e.sha, reason: `bound by ${entry.source}` }, 'warn');
      return;
    }
    this.sendProbe(e.vlan, e.spa, entry.mac);
    const timer = setTimeout(() => void this.claimWins(key, e), this.config.migration.conflictProbeMs);
    timer.unref();
    this.conflicts.set(key, { claimMac: e.sha, claimPort: e.port, timer });
    this.events.emit('conflict', { ip: e.sender, vlan: e.vlan, owner, claimed_by: e.sha, port: this.portName(e.port) }, 'warn');
  }

  /** The owner stayed silent: the VM was replaced, the claim becomes the binding. */
  private async claimWins(key: number, e: ArpEvent): Promise<void> {
    if (!this.conflicts.delete(key) || this.stopped) return;
    const result = await this.table.write([{ op: 'upsert', ip: e.spa, vlan: e.vlan, mac: parseMac(e.sha)!, source: 'learned', port: this.portName(e.port) }]);
    if (!result.counts.replaced) return;
    this.table.moved(e.vlan, e.spa);
    this.stats.claimsWon++;
    this.events.emit('replaced', { ip: e.sender, vlan: e.vlan, mac: e.sha, port: this.portName(e.port), reason: 'the previous owner did not answer' }, 'warn');
    this.announce(e.vlan, [e.spa], parseMac(e.sha)!, e.port);
  }

  /** The FDB saw MACs move: bindings with them follow, are announced, or freeze if they flap. */
  onFdbEvents(events: readonly FdbEvent[]): void {
    // (mac number, vlan) -> the latest move of it in this batch; one table scan for all.
    const moved = new Map<number, Map<number, FdbEvent>>();
    for (const e of events) {
      // In a fabric, a MAC first seen here on a VM-facing port may be another host's VM that
      // just arrived (any frame of it, a RARP included): its remote bindings are taken over.
      const arrival = e.type === 'learned' && this.config.fabric !== null && !this.isUplink(e.port);
      if (e.type !== 'moved' && !arrival) continue;
      const mac = macToNumber(parseMac(e.mac)!);
      if (!moved.has(mac)) moved.set(mac, new Map());
      moved.get(mac)!.set(e.vlan, e);
    }
    if (moved.size === 0) return;
    const hits = new Map<FdbEvent, number[]>();
    for (const entry of this.table.scan()) {
      const e = moved.get(entry.mac)?.get(entry.vlan);
      if (!e) continue;
      if (!hits.has(e)) hits.set(e, []);
      hits.get(e)!.push(entry.ip);
    }
    const now = Date.now();
    for (let [e, ips] of hits) {
      const remote = ips.filter((ip) => this.table.entry(e.vlan, ip)?.source === 'remote');
      if (remote.length > 0 && !this.isUplink(e.port)) {
        void this.takeOver(e.vlan, remote, parseMac(e.mac)!, e.port);
        ips = ips.filter((ip) => !remote.includes(ip));
      }
      if (e.type === 'learned') continue; // a first sighting is no move of a local binding
      const announce: number[] = [];
      for (const ip of ips) {
        const key = keyOf(e.vlan, ip);
        this.table.moved(e.vlan, ip, this.portName(e.port));
        this.stats.moves++;
        const window = this.config.migration.freezeWindowSeconds * 1000;
        const times = (this.moveTimes.get(key) ?? []).filter((t) => now - t < window);
        times.push(now);
        this.moveTimes.set(key, times);
        this.events.emit('moved', { ip: formatIPv4(ip), vlan: e.vlan, mac: e.mac, from: this.portName(e.oldPort), to: this.portName(e.port) });
        const frozen = (this.frozenUntil.get(key) ?? 0) > now;
        if (!frozen && times.length >= this.config.migration.freezeMoves) this.freeze(key, e, times.length);
        else if (!frozen) announce.push(ip);
      }
      if (announce.length) this.announce(e.vlan, announce, parseMac(e.mac)!, e.port);
    }
  }

  private freeze(key: number, e: FdbEvent, moves: number): void {
    const until = Date.now() + this.config.migration.freezeSeconds * 1000;
    this.frozenUntil.set(key, until);
    this.stats.freezes++;
    // Pin the MAC where it is now, so that the next flap cannot move traffic.
    void this.dataplane.apply([{ op: 'fdb_add', vlan: e.vlan, mac: parseMac(e.mac)!, port: e.port }]);
    const unpin = setTimeout(() => {
      this.frozenUntil.delete(key);
      this.moveTimes.delete(key); // a fresh window: the flaps that froze it are history
      void this.dataplane.apply([{ op: 'fdb_remove', vlan: e.vlan, mac: parseMac(e.mac)! }]);
    }, this.config.migration.freezeSeconds * 1000);
    unpin.unref();
    this.events.emit('frozen', { ip: formatIPv4(key % TWO32), vlan: e.vlan, mac: e.mac, port: this.portName(e.port), moves, until: new Date(until).toISOString() }, 'warn');
  }

  /** A burst of gratuitous ARP from the binding's MAC into its VLAN, except where it lives. */
  private announce(vlan: number, ips: number[], mac: Uint8Array, livesOn: number): void {
    const { garpCount, garpIntervalMs } = this.config.migration;
    const send = (): void => {
      if (this.stopped) return;
      this.config.ports.forEach((port, index) => {
        if (index === livesOn) return;
        const form = egressForm(port, vlan);
        if (form === 'none') return;
        for (const ip of ips) {
          if (this.dataplane.inject(index, garpFrame(mac, ip, form === 'tagged' ? vlan : null))) this.stats.garpsSent++;
        }
      });
    };
    for (let i = 0; i < garpCount; i++) {
      if (i === 0) send();
      else setTimeout(send, i * garpIntervalMs).unref();
    }
    this.events.emit('announced', { ips: ips.map(formatIPv4), vlan, mac: formatMac(mac), garps: garpCount });
  }

  private sendProbe(vlan: number, ip: number, ownerMac: number): void {
    const owner = macFromNumber(ownerMac);
    const where = this.fdb.portOf(vlan, formatMac(owner));
    this.config.ports.forEach((port, index) => {
      if (where !== undefined && port.name !== where) return;
      const form = egressForm(port, vlan);
      if (form === 'none') return;
      if (this.dataplane.inject(index, probeFrame(this.config.learning.probeMac, owner, ip, form === 'tagged' ? vlan : null))) {
        this.stats.probesSent++;
      }
    });
  }

  /** Learned bindings: probe the owner shortly before expiry, remove them at expiry. */
  private async sweep(): Promise<void> {
    this.recount();
    const { agingSeconds, probeBeforeSeconds } = this.config.learning;
    if (agingSeconds === 0) return;
    const now = Date.now();
    const expired: { ip: number; vlan: number; mac: string }[] = [];
    for (const entry of this.table.scan('learned')) {
      const silent = (now - entry.lastSeen) / 1000;
      const { key, vlan, ip } = entry;
      if (silent >= agingSeconds) {
        expired.push({ ip, vlan, mac: formatMac(macFromNumber(entry.mac)) });
      } else if (silent >= agingSeconds - probeBeforeSeconds && !this.agingProbes.has(key)) {
        this.agingProbes.add(key);
        this.sendProbe(vlan, ip, entry.mac);
      }
    }
    if (expired.length === 0) return;
    const result = await this.table.write(expired.map((x) => ({ op: 'remove' as const, ip: x.ip, vlan: x.vlan, source: 'learned' as const })), true);
    expired.forEach((x, i) => {
      if (result.outcomes![i] !== 'removed') return;
      this.agingProbes.delete(keyOf(x.vlan, x.ip));
      this.stats.aged++;
      this.events.emit('aged', { ip: formatIPv4(x.ip), vlan: x.vlan, mac: x.mac, reason: 'silent, and no answer to our probe' });
    });
  }

  /** Learned bindings per port and per VLAN, for the caps. */
  private recount(): void {
    this.perPort.clear();
    this.perVlan.clear();
    const portIndex = new Map(this.config.ports.map((p, i) => [p.name, i]));
    for (const entry of this.table.scan('learned')) {
      const vlan = entry.vlan;
      this.perVlan.set(vlan, (this.perVlan.get(vlan) ?? 0) + 1);
      const port = entry.port === undefined ? undefined : portIndex.get(entry.port);
      if (port !== undefined) this.perPort.set(port, (this.perPort.get(port) ?? 0) + 1);
    }
  }
}
