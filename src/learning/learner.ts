// The control side's half of learning, ARP and ND inspection and migration. Workers report what
// they see (ARP senders, ND solicitations and advertisements, violations, answers to our
// probes, FDB moves); this decides, and changes the table only through BindingTable's
// single-writer path. Both families go through the same decisions: a report becomes a Claim
// (this address in this VLAN is at this MAC), and only the frames sent differ (gratuitous ARP
// and ARP probes, or unsolicited NAs and unicast NS probes).
import { formatIPv4, formatIPv6, formatMac, inPrefix6, parseMac } from '../dataplane/address';
import type { ArpEvent } from '../dataplane/arp_events';
import type { FdbEvent } from '../dataplane/fdb_events';
import type { NdEvent } from '../dataplane/nd_events';
import type { Update, UpdateSummary } from '../dataplane/updates';
import type { Config } from '../config/config';
import { keyFor, macFromNumber, macToNumber, type BindingIp, type BindingTable, type TableKey, type WriteOp } from '../table/binding_table';
import type { FdbView } from '../table/fdb_view';
import type { EventHub } from './event_hub';
import { egressForm, garpFrame, probeFrame } from './frames';
import { probeNsFrame, unsolicitedNaFrame } from './nd_frames';

export interface LearnerDataplane {
  inject(port: number, frame: Uint8Array): boolean;
  drainArpEvents(): ArpEvent[];
  drainNdEvents(): NdEvent[];
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
}

/** What a worker's report says: `ip` in `vlan` is at `mac`, seen on `port`. */
interface Claim {
  vlan: number;
  /** IPv4 as a number, IPv6 as its 16 bytes. */
  ip: BindingIp;
  key: TableKey;
  /** The address as text (RFC 5952 for IPv6). */
  address: string;
  mac: Uint8Array;
  macText: string;
  port: number;
  /** The frame it came from: garp, reply, request (ARP), ns, na (ND). */
  from: string;
  /** IPv6: an advertisement with R set (the binding is a router's). */
  router?: boolean;
}

function claimOfArp(e: ArpEvent): Claim {
  return {
    vlan: e.vlan, ip: e.spa, key: keyFor(e.vlan, e.spa), address: e.sender, mac: parseMac(e.sha)!, macText: e.sha, port: e.port,
    from: e.gratuitous ? 'garp' : e.op === 2 ? 'reply' : 'request',
  };
}

/** An ND report speaks for an address with the MAC of its link-layer option (else its source). */
function claimOfNd(e: NdEvent): Claim {
  const macText = e.lladdr ?? e.ethSrc;
  return {
    vlan: e.vlan, ip: e.addr, key: keyFor(e.vlan, e.addr), address: e.address, mac: parseMac(macText)!, macText, port: e.port,
    from: e.message, router: e.message === 'na' ? e.router : undefined,
  };
}

export const formatBindingIp = (ip: BindingIp): string => (typeof ip === 'number' ? formatIPv4(ip) : formatIPv6(ip));

/** Never learned: IPv4 0.0.0.0, multicast and broadcast; IPv6 ::, ::1 and multicast. */
function unlearnable(ip: BindingIp): boolean {
  if (typeof ip === 'number') return ip === 0 || ip >= 0xe0000000;
  if (ip[0] === 0xff) return true;
  let high = 0;
  for (let i = 0; i < 15; i++) high |= ip[i]!;
  return high === 0 && ip[15]! <= 1;
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
  /** Unsolicited Neighbor Advertisements sent for moved IPv6 bindings. */
  nasSent: number;
}

/** New senders found in one drain of the reports, learned together. */
interface LearnBatch {
  ops: WriteOp[];
  claims: Claim[];
  keys: Set<TableKey>;
}

interface PendingConflict {
  claimMac: string;
  claimPort: number;
  timer: NodeJS.Timeout;
}

const POLL_MS = 10;
const SWEEP_MS = 1000;
/**
 * Probes per expiry, spread over learning.probe_before_seconds (at least a sweep apart), as
 * Linux sends ucast_solicit (3) before it gives a neighbour up: one lost probe, or one sent
 * while the owner's link flapped, must not age out a live host.
 */
const AGING_PROBES = 3;

export class Learner {
  readonly stats: LearnerStats = {
    learned: 0, refreshed: 0, aged: 0, overflow: 0, outsideSubnet: 0, probesSent: 0,
    conflicts: 0, claimsRefused: 0, claimsWon: 0, moves: 0, freezes: 0, garpsSent: 0, nasSent: 0,
  };
  private readonly conflicts = new Map<TableKey, PendingConflict>();
  /** Keys probed for aging: how many probes this expiry, and when the last one went. */
  private readonly agingProbes = new Map<TableKey, { sent: number; at: number }>();
  /** Per (vlan, ip) key: times of recent moves, for the freeze. */
  private readonly moveTimes = new Map<TableKey, number[]>();
  private readonly frozenUntil = new Map<TableKey, number>();
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
    const batch: LearnBatch = { ops: [], claims: [], keys: new Set() };
    const handle = async (kind: ArpEvent['kind'], claim: Claim, violation: () => Promise<void>): Promise<void> => {
      try {
        if (kind === 'sender') await this.onSender(claim, batch);
        else if (kind === 'probe_reply') this.onProbeReply(claim);
        else await violation();
      } catch (error) {
        this.events.emit('error', { error: (error as Error).message }, 'warn');
      }
    };
    for (const e of this.dataplane.drainArpEvents()) {
      const claim = claimOfArp(e);
      await handle(e.kind, claim, () => this.onArpViolation(e, claim));
    }
    for (const e of this.dataplane.drainNdEvents()) {
      const claim = claimOfNd(e);
      await handle(e.kind, claim, () => this.onNdViolation(e, claim));
    }
    if (batch.ops.length > 0) await this.learnAll(batch).catch((error: Error) => this.events.emit('error', { error: error.message }, 'warn'));
  }

  private async learnAll(batch: LearnBatch): Promise<void> {
    const result = await this.table.write(batch.ops, true);
    batch.claims.forEach((c, i) => {
      if (result.outcomes![i] === 'added') {
        this.stats.learned++;
        this.events.emit('learned', { ip: c.address, mac: c.macText, vlan: c.vlan, port: this.portName(c.port), from: c.from });
      } else {
        // Counted against the caps when it was batched: give the room back.
        this.perPort.set(c.port, (this.perPort.get(c.port) ?? 1) - 1);
        this.perVlan.set(c.vlan, (this.perVlan.get(c.vlan) ?? 1) - 1);
      }
    });
  }

  /**
   * The owner confirmed a binding. The new last-seen reaches the state store only when the
   * stored one is a tenth of the aging time old (or the port changed): ARP refreshes must not
   * turn into a write per frame, yet a restart must not age out live bindings.
   */
  private refresh(vlan: number, ip: BindingIp, port?: string): void {
    this.table.confirm(vlan, ip, port, Math.max(1000, (this.config.learning.agingSeconds || 600) * 100));
  }

  private isUplink(port: number): boolean {
    return this.config.ports[port]?.uplink === true;
  }

  /**
   * Another host's VM showed up here (a VM-facing port): the bindings of its MAC become ours,
   * with a higher mobility sequence, which the fabric publishes; the old host lets go.
   */
  private async takeOver(vlan: number, ips: BindingIp[], mac: Uint8Array, port: number): Promise<void> {
    const result = await this.table.write(
      ips.map((ip) => ({ op: 'upsert' as const, ip, vlan, mac, router: this.table.entry(vlan, ip)?.router, source: 'learned' as const, port: this.portName(port) })),
      true,
    );
    const taken = ips.filter((_, i) => result.outcomes![i] === 'unchanged' || result.outcomes![i] === 'replaced');
    if (taken.length === 0) return;
    this.stats.moves += taken.length;
    for (const ip of taken) {
      this.table.moved(vlan, ip);
      this.events.emit('moved', { ip: formatBindingIp(ip), vlan, mac: formatMac(mac), from: 'fabric', to: this.portName(port) });
    }
    this.announce(vlan, taken, mac, port);
  }

  /** The fabric moved bindings of `mac` to another host: announce it on our ports (not toward it). */
  announceRemoteMove(vlan: number, ips: BindingIp[], mac: Uint8Array): void {
    this.stats.moves += ips.length;
    const uplink = this.config.ports.findIndex((p) => p.uplink);
    this.announce(vlan, ips, mac, uplink);
  }

  private inLearningSubnets(vlan: number, ip: BindingIp): boolean {
    const { subnets, subnets6 } = this.config.learning;
    if (subnets.size === 0 && subnets6.size === 0) return true;
    if (typeof ip === 'number') {
      const list = subnets.get(vlan);
      return !!list && list.some(([net, len]) => ip >= net && ip < net + 2 ** (32 - len));
    }
    const list = subnets6.get(vlan);
    return !!list && list.some((prefix) => inPrefix6(ip, 0, prefix));
  }

  private async onSender(c: Claim, batch: LearnBatch): Promise<void> {
    const entry = this.table.entry(c.vlan, c.ip);
    if (entry) {
      if (entry.mac === macToNumber(c.mac)) {
        if (entry.source === 'remote' && !this.isUplink(c.port)) {
          await this.takeOver(c.vlan, [c.ip], c.mac, c.port);
          return;
        }
        this.refresh(c.vlan, c.ip, this.portName(c.port));
        this.agingProbes.delete(c.key);
        this.stats.refreshed++;
        return;
      }
      await this.conflict(c); // a trusted port's claim that disagrees with the table
      return;
    }
    const learning = this.config.learning;
    // An uplink carries other hosts' traffic: their bindings come through the fabric.
    if (!learning.enabled || this.isUplink(c.port)) return;
    // Never a multicast, broadcast or unspecified address (a trusted port is not inspected).
    if (unlearnable(c.ip)) return;
    if (!this.inLearningSubnets(c.vlan, c.ip)) {
      this.stats.outsideSubnet++;
      return;
    }
    if ((this.perPort.get(c.port) ?? 0) >= learning.maxPerPort || (this.perVlan.get(c.vlan) ?? 0) >= learning.maxPerVlan) {
      this.stats.overflow++;
      this.events.emit('learn_overflow', { port: this.portName(c.port), vlan: c.vlan, ip: c.address, mac: c.macText }, 'warn');
      return;
    }
    // The first report of an address in this drain is the one learned; the caps count it now.
    if (batch.keys.has(c.key)) return;
    batch.keys.add(c.key);
    this.perPort.set(c.port, (this.perPort.get(c.port) ?? 0) + 1);
    this.perVlan.set(c.vlan, (this.perVlan.get(c.vlan) ?? 0) + 1);
    batch.ops.push({ op: 'add', ip: c.ip, vlan: c.vlan, mac: c.mac, router: c.router, source: 'learned', port: this.portName(c.port) });
    batch.claims.push(c);
  }

  private onProbeReply(c: Claim): void {
    const entry = this.table.entry(c.vlan, c.ip);
    if (!entry || entry.mac !== macToNumber(c.mac)) return;
    this.refresh(c.vlan, c.ip);
    this.agingProbes.delete(c.key);
    const pending = this.conflicts.get(c.key);
    if (pending) {
      clearTimeout(pending.timer);
      this.conflicts.delete(c.key);
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: c.address, vlan: c.vlan, owner: c.macText, claimed_by: pending.claimMac, port: this.portName(pending.claimPort), reason: 'the owner answered our probe' }, 'warn');
    }
  }

  private async onArpViolation(e: ArpEvent, c: Claim): Promise<void> {
    this.events.emit(
      'violation',
      { reason: e.violation, port: this.portName(e.port), vlan: e.vlan, ip: e.sender, mac: e.sha, eth_src: e.ethSrc, target: e.target, dropped: e.enforced },
      'warn',
    );
    if (e.violation === 'spoofed_binding' && e.enforced) await this.conflict(c);
  }

  private async onNdViolation(e: NdEvent, c: Claim): Promise<void> {
    this.events.emit(
      'violation',
      { reason: e.violation, port: this.portName(e.port), vlan: e.vlan, message: e.message, ip: e.address, mac: e.lladdr, eth_src: e.ethSrc, target: e.target, dropped: e.enforced },
      'warn',
    );
    // As for ARP: a host that claims a bound address may be the VM that replaced its owner.
    if (e.violation === 'nd_spoofed_binding' && e.enforced) await this.conflict(c);
  }

  /** Someone claims a bound IP with another MAC: probe the owner before believing them. */
  private async conflict(c: Claim): Promise<void> {
    const entry = this.table.entry(c.vlan, c.ip);
    if (!entry || this.conflicts.has(c.key)) return;
    this.stats.conflicts++;
    const owner = formatMac(macFromNumber(entry.mac));
    if ((this.frozenUntil.get(c.key) ?? 0) > Date.now()) {
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: c.address, vlan: c.vlan, owner, claimed_by: c.macText, reason: 'frozen' }, 'warn');
      return;
    }
    if (entry.source !== 'learned' && entry.source !== 'remote') {
      this.stats.claimsRefused++;
      this.events.emit('claim_refused', { ip: c.address, vlan: c.vlan, owner, claimed_by: c.macText, reason: `bound by ${entry.source}` }, 'warn');
      return;
    }
    this.sendProbe(c.vlan, c.ip, entry.mac);
    const timer = setTimeout(() => void this.claimWins(c), this.config.migration.conflictProbeMs);
    timer.unref();
    this.conflicts.set(c.key, { claimMac: c.macText, claimPort: c.port, timer });
    this.events.emit('conflict', { ip: c.address, vlan: c.vlan, owner, claimed_by: c.macText, port: this.portName(c.port) }, 'warn');
  }

  /** The owner stayed silent: the VM was replaced, the claim becomes the binding. */
  private async claimWins(c: Claim): Promise<void> {
    if (!this.conflicts.delete(c.key) || this.stopped) return;
    const result = await this.table.write([{ op: 'upsert', ip: c.ip, vlan: c.vlan, mac: c.mac, router: c.router, source: 'learned', port: this.portName(c.port) }]);
    if (!result.counts.replaced) return;
    this.table.moved(c.vlan, c.ip);
    this.stats.claimsWon++;
    this.events.emit('replaced', { ip: c.address, vlan: c.vlan, mac: c.macText, port: this.portName(c.port), reason: 'the previous owner did not answer' }, 'warn');
    this.announce(c.vlan, [c.ip], c.mac, c.port);
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
    const hits = new Map<FdbEvent, BindingIp[]>();
    const hit = (mac: number, vlan: number, ip: () => BindingIp): void => {
      const e = moved.get(mac)?.get(vlan);
      if (!e) return;
      if (!hits.has(e)) hits.set(e, []);
      hits.get(e)!.push(ip());
    };
    for (const entry of this.table.scan()) hit(entry.mac, entry.vlan, () => entry.ip);
    for (const entry of this.table.scan6()) hit(entry.mac, entry.vlan, () => entry.ip);
    const now = Date.now();
    for (let [e, ips] of hits) {
      const remote = ips.filter((ip) => this.table.entry(e.vlan, ip)?.source === 'remote');
      if (remote.length > 0 && !this.isUplink(e.port)) {
        void this.takeOver(e.vlan, remote, parseMac(e.mac)!, e.port);
        ips = ips.filter((ip) => !remote.includes(ip));
      }
      if (e.type === 'learned') continue; // a first sighting is no move of a local binding
      const announce: BindingIp[] = [];
      for (const ip of ips) {
        const key = keyFor(e.vlan, ip);
        this.table.moved(e.vlan, ip, this.portName(e.port));
        this.stats.moves++;
        const window = this.config.migration.freezeWindowSeconds * 1000;
        const times = (this.moveTimes.get(key) ?? []).filter((t) => now - t < window);
        times.push(now);
        this.moveTimes.set(key, times);
        this.events.emit('moved', { ip: formatBindingIp(ip), vlan: e.vlan, mac: e.mac, from: this.portName(e.oldPort), to: this.portName(e.port) });
        const frozen = (this.frozenUntil.get(key) ?? 0) > now;
        if (!frozen && times.length >= this.config.migration.freezeMoves) this.freeze(key, ip, e, times.length);
        else if (!frozen) announce.push(ip);
      }
      if (announce.length) this.announce(e.vlan, announce, parseMac(e.mac)!, e.port);
    }
  }

  private freeze(key: TableKey, ip: BindingIp, e: FdbEvent, moves: number): void {
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
    this.events.emit('frozen', { ip: formatBindingIp(ip), vlan: e.vlan, mac: e.mac, port: this.portName(e.port), moves, until: new Date(until).toISOString() }, 'warn');
  }

  /**
   * A burst from the binding's MAC into its VLAN, except where it lives: gratuitous ARP for
   * IPv4 addresses, unsolicited Neighbor Advertisements (override set, R for routers) for IPv6
   * ones, so that neighbours of either family update without waiting for a cache timeout.
   */
  private announce(vlan: number, ips: BindingIp[], mac: Uint8Array, livesOn: number): void {
    const { garpCount, garpIntervalMs } = this.config.migration;
    const routers = ips.map((ip) => typeof ip !== 'number' && this.table.entry(vlan, ip)?.router === true);
    const send = (): void => {
      if (this.stopped) return;
      this.config.ports.forEach((port, index) => {
        if (index === livesOn) return;
        const form = egressForm(port, vlan);
        if (form === 'none') return;
        const tag = form === 'tagged' ? vlan : null;
        ips.forEach((ip, i) => {
          const frame = typeof ip === 'number' ? garpFrame(mac, ip, tag) : unsolicitedNaFrame(mac, ip, routers[i]!, tag);
          if (!this.dataplane.inject(index, frame)) return;
          if (typeof ip === 'number') this.stats.garpsSent++;
          else this.stats.nasSent++;
        });
      });
    };
    for (let i = 0; i < garpCount; i++) {
      if (i === 0) send();
      else setTimeout(send, i * garpIntervalMs).unref();
    }
    // `garps`: announcements per address and port, gratuitous ARP or unsolicited NA.
    this.events.emit('announced', { ips: ips.map(formatBindingIp), vlan, mac: formatMac(mac), garps: garpCount });
  }

  /** Asks the owner of `ip` to answer, unicast: an ARP probe, or an NS to the address. */
  private sendProbe(vlan: number, ip: BindingIp, ownerMac: number): void {
    const owner = macFromNumber(ownerMac);
    const where = this.fdb.portOf(vlan, formatMac(owner));
    const probeMac = this.config.learning.probeMac;
    this.config.ports.forEach((port, index) => {
      if (where !== undefined && port.name !== where) return;
      const form = egressForm(port, vlan);
      if (form === 'none') return;
      const tag = form === 'tagged' ? vlan : null;
      const frame = typeof ip === 'number' ? probeFrame(probeMac, owner, ip, tag) : probeNsFrame(probeMac, owner, ip, tag);
      if (this.dataplane.inject(index, frame)) this.stats.probesSent++;
    });
  }

  /** Learned bindings: probe the owner shortly before expiry, remove them at expiry. */
  private async sweep(): Promise<void> {
    this.recount();
    const { agingSeconds, probeBeforeSeconds } = this.config.learning;
    if (agingSeconds === 0) return;
    const now = Date.now();
    const probeEveryMs = Math.max(SWEEP_MS, (probeBeforeSeconds * 1000) / AGING_PROBES);
    const expired: { ip: BindingIp; vlan: number; mac: string }[] = [];
    const age = (entry: { key: TableKey; vlan: number; mac: number; lastSeen: number }, ip: () => BindingIp): void => {
      const silent = (now - entry.lastSeen) / 1000;
      if (silent >= agingSeconds) {
        expired.push({ ip: ip(), vlan: entry.vlan, mac: formatMac(macFromNumber(entry.mac)) });
      } else if (silent >= agingSeconds - probeBeforeSeconds) {
        const probes = this.agingProbes.get(entry.key);
        if (probes && (probes.sent >= AGING_PROBES || now - probes.at < probeEveryMs)) return;
        this.agingProbes.set(entry.key, { sent: (probes?.sent ?? 0) + 1, at: now });
        this.sendProbe(entry.vlan, ip(), entry.mac);
      }
    };
    for (const entry of this.table.scan('learned')) age(entry, () => entry.ip);
    for (const entry of this.table.scan6('learned')) age(entry, () => entry.ip);
    if (expired.length === 0) return;
    const result = await this.table.write(expired.map((x) => ({ op: 'remove' as const, ip: x.ip, vlan: x.vlan, source: 'learned' as const })), true);
    expired.forEach((x, i) => {
      if (result.outcomes![i] !== 'removed') return;
      this.agingProbes.delete(keyFor(x.vlan, x.ip));
      this.stats.aged++;
      this.events.emit('aged', { ip: formatBindingIp(x.ip), vlan: x.vlan, mac: x.mac, reason: 'silent, and no answer to our probe' });
    });
  }

  /** Learned bindings per port and per VLAN, for the caps. */
  private recount(): void {
    this.perPort.clear();
    this.perVlan.clear();
    const portIndex = new Map(this.config.ports.map((p, i) => [p.name, i]));
    const count = (entry: { vlan: number; port?: string }): void => {
      this.perVlan.set(entry.vlan, (this.perVlan.get(entry.vlan) ?? 0) + 1);
      const port = entry.port === undefined ? undefined : portIndex.get(entry.port);
      if (port !== undefined) this.perPort.set(port, (this.perPort.get(port) ?? 0) + 1);
    };
    for (const entry of this.table.scan('learned')) count(entry);
    for (const entry of this.table.scan6('learned')) count(entry);
  }
}
