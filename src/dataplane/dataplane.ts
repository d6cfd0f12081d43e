// The typed face of the engine: start, stop, table updates in batches, counters.
import { loadAddon, type Addon, type AddonConfig, type AddonFdbInfo, type AddonPort, type AddonPortSecurity, type AddonPortStats } from './addon';
import { afPacketInterface, interfaceIndex, kernelLinkState, type KernelLinkState } from './kernel_link';
import { decodeFdbEvents, type FdbEvent } from './fdb_events';
import {
  COUNTER_NAMES,
  DROP_REASONS,
  VIOLATION_REASONS,
  type CounterName,
  type DropReason,
  type ViolationReason,
} from './counter_names';
import { decodeArpEvents, type ArpEvent } from './arp_events';
import { decodeNdEvents, type NdEvent } from './nd_events';
import { MAX_VLAN, ipv6Problem, macProblem, macProblemAt } from './address';
import {
  addSummaries,
  DEFAULT_IPV6_CAPACITY,
  emptySummary,
  packColumnUpserts,
  packUpdates,
  packUpserts,
  type Binding,
  type Binding6,
  type BindingColumns,
  type BindingKey,
  type BindingKey6,
  type BindingSource,
  type Update,
  type UpdateSummary,
} from './updates';

export interface DataplaneOptions {
  /** Full EAL argv, program name first (see src/config/eal_args.ts). */
  ealArgs: string[];
  /** `device` is the name EAL knows (see deviceName()); switching fields default to 'all'. */
  ports: AddonPort[];
  fdbCapacity?: number;
  /** 0: learned entries never age. */
  fdbAgingSeconds?: number;
  rxDescriptors?: number;
  txDescriptors?: number;
  /** 0 or absent: sized from ports, workers and descriptors. */
  mbufs?: number;
  /** Bindings of both families together. */
  tableCapacity: number;
  /** IPv6 bindings at most (the NdTable's size), at most tableCapacity; default 65,536 or tableCapacity if smaller. */
  ipv6Capacity?: number;
  updateRingSize?: number;
  unknown: 'flood' | 'drop';
  /** Serve dpdk-dumpcap through the pdump library (default true). */
  pdump?: boolean;
  /** ARP inspection drops violations (default) or, false, only counts them (observe). */
  enforce?: boolean;
  /** Source MAC of microarp's own ARP probes; replies to it are reported and consumed. */
  probeMac?: Uint8Array;
}

export type CounterValues = Record<CounterName, number>;
export type DropValues = Record<DropReason, number>;
export type ViolationValues = Record<ViolationReason, number>;

export interface LcoreCounters {
  lcore: number;
  counters: CounterValues;
  drops: DropValues;
  violations: ViolationValues;
}

export interface PortCounters {
  name: string;
  device: string;
  rx: number;
  tx: number;
  rxBytes: number;
  txBytes: number;
  rxMissed: number;
  rxErrors: number;
  txErrors: number;
  rxNoMbuf: number;
  /** up: the driver's link, and for a net_af_packet port also the kernel interface's (kernelLink). */
  link: { up: boolean; speedMbps: number; fullDuplex: boolean };
  /**
   * net_af_packet ports: the interface under the port. `replaced`: deleted and created again;
   * the port's socket stays bound to the old one until microarp restarts.
   */
  kernelLink?: KernelLinkState;
  /** Link changes the driver reported (a vhost-user guest connecting or going away). */
  linkUps: number;
  linkDowns: number;
  adminUp: boolean;
  responder: boolean;
}

export interface Snapshot {
  time: Date;
  ports: PortCounters[];
  lcores: LcoreCounters[];
  totals: CounterValues;
  drops: DropValues;
  violations: ViolationValues;
  /**
   * bindings and capacity count both families; ipv6Bindings and ipv6Capacity the IPv6 ones.
   * ringFullWaits: times a write found the update ring full and waited for room.
   */
  table: { bindings: number; capacity: number; ipv6Bindings: number; ipv6Capacity: number; ringDepth: number; ringFullWaits: number };
  fdb: AddonFdbInfo;
  workersRunning: boolean;
  /** The mbuf pool: how many mbufs are out of it now, of how many. */
  mbufs: { inUse: number; total: number };
  /** DPDK's heaps (rte_malloc): bytes allocated, of the heaps' total. */
  heap: { allocatedBytes: number; totalBytes: number };
}

export class DataplaneError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DataplaneError';
  }
}

/** Updates go to the writer in batches of this many, so a huge import never holds one buffer. */
const BATCH = 65536;

let started = false;

export class Dataplane {
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  /** Per port: the kernel interface under a net_af_packet port and its index at start, else null. */
  private kernelInterfaces: ({ iface: string; devargs: string; boundIndex: number | null } | null)[] = [];

  private constructor(private readonly addon: Addon) {}

  /**
   * Initialises EAL and the ports, loads `bindings` into the table, then starts the workers,
   * so the very first frame received is answered from the loaded table. One per process:
   * DPDK's EAL cannot be initialised twice.
   */
  static async start(
    options: DataplaneOptions,
    bindings: readonly ((Binding | Binding6) & { source?: BindingSource })[] = [],
    staticFdb: readonly { vlan: number; mac: Uint8Array; port: number }[] = [],
  ): Promise<Dataplane> {
    if (started) {
      throw new DataplaneError('a dataplane was already started in this process', 'EAL_ALREADY');
    }
    validateOptions(options);
    const addon = loadAddon();
    const config: AddonConfig = {
      ealArgs: options.ealArgs,
      ports: options.ports.map((p) => ({ ...p })),
      fdbCapacity: options.fdbCapacity ?? 65536,
      fdbAgingSeconds: options.fdbAgingSeconds ?? 300,
      rxDescriptors: options.rxDescriptors ?? 1024,
      txDescriptors: options.txDescriptors ?? 1024,
      mbufs: options.mbufs ?? 0,
      tableCapacity: options.tableCapacity,
      tableIpv6Capacity: options.ipv6Capacity ?? Math.min(DEFAULT_IPV6_CAPACITY, options.tableCapacity),
      updateRingSize: options.updateRingSize ?? 65536,
      dropUnbound: options.unknown === 'drop',
      pdump: options.pdump ?? true,
      enforce: options.enforce ?? true,
      probeMac: options.probeMac,
    };
    started = true;
    callNative(() => addon.init(config));
    const dataplane = new Dataplane(addon);
    dataplane.kernelInterfaces = options.ports.map((p) => {
      const iface = afPacketInterface(p.devargs ?? p.device);
      return iface === null ? null : { iface, devargs: p.devargs ?? p.device, boundIndex: interfaceIndex(iface) };
    });
    try {
      if (staticFdb.length > 0) {
        await dataplane.apply(staticFdb.map((e) => ({ op: 'fdb_add' as const, ...e })));
      }
      // The config's bindings are the static ones (nothing learned or written by the API outranks
      // them); stored ones say their source.
      const loaded = await dataplane.apply(
        bindings.map((b): Update => {
          const source = b.source ?? 'static';
          return typeof b.ip === 'number' ? { ...(b as Binding), op: 'upsert', source } : { ...(b as Binding6), op: 'upsert6', source };
        }),
      );
      if (loaded.tableFull > 0) {
        const six = bindings.filter((b) => typeof b.ip !== 'number').length;
        throw new DataplaneError(
          `${loaded.tableFull} of ${bindings.length} bindings did not fit in a table of ` +
            `capacity ${options.tableCapacity}: raise table.capacity` +
            (six > 0 ? ` (or table.ipv6_capacity, ${config.tableIpv6Capacity}, for the ${six} IPv6 ones)` : ''),
          'TABLE_FULL',
        );
      }
      callNative(() => addon.startWorkers());
    } catch (error) {
      await dataplane.stop();
      throw error;
    }
    return dataplane;
  }

  /** Adds or replaces bindings (source 'api'); resolves when every one is visible to the workers. */
  upsert(bindings: readonly (Binding | Binding6)[]): Promise<UpdateSummary> {
    if (this.stopped) return Promise.reject(new DataplaneError('the dataplane is stopped', 'STOPPED'));
    try {
      for (const b of bindings) validateBinding(b);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.track(this.inBatches(bindings.length, (from, to) => packUpserts(bindings, 'api', from, to)));
  }

  /**
   * Adds or replaces the bindings in `rows` of `columns` (an import's), from `source`, with no
   * object per binding; resolves when every one is visible to the workers.
   */
  upsertRows(columns: BindingColumns, rows: Int32Array, source: BindingSource): Promise<UpdateSummary> {
    if (this.stopped) return Promise.reject(new DataplaneError('the dataplane is stopped', 'STOPPED'));
    for (const row of rows) {
      const vlan = columns.vlans[row]!;
      const problem = vlan > MAX_VLAN ? `VLAN must be 0 (untagged) to ${MAX_VLAN}, not ${vlan}` : macProblemAt(columns.macs, row * 6);
      if (problem) return Promise.reject(new DataplaneError(problem, 'INVALID'));
    }
    return this.track(this.inBatches(rows.length, (from, to) => packColumnUpserts(columns, rows, source, from, to)));
  }

  /** Removes bindings; resolves when no worker can answer from them any more. */
  remove(keys: readonly (BindingKey | BindingKey6)[]): Promise<UpdateSummary> {
    return this.apply(keys.map((k): Update => (typeof k.ip === 'number' ? { op: 'remove', ip: k.ip, vlan: k.vlan } : { op: 'remove6', ip: k.ip, vlan: k.vlan })));
  }

  /** Applies updates in order; resolves when all of them are visible to the workers. */
  apply(updates: readonly Update[]): Promise<UpdateSummary> {
    if (this.stopped) return Promise.reject(new DataplaneError('the dataplane is stopped', 'STOPPED'));
    try {
      for (const u of updates) validateUpdate(u);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.track(this.inBatches(updates.length, (from, to) => packUpdates(updates, from, to)));
  }

  /** Keeps `run` until it settles: stop() waits for what is in flight. */
  private track(run: Promise<UpdateSummary>): Promise<UpdateSummary> {
    this.pending.add(run);
    const forget = (): void => void this.pending.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Hands `count` updates to the writer BATCH at a time, packing each batch as it goes. */
  private async inBatches(count: number, pack: (from: number, to: number) => Uint8Array): Promise<UpdateSummary> {
    let summary = emptySummary();
    for (let i = 0; i < count; i += BATCH) {
      summary = addSummaries(summary, await this.addon.applyUpdates(pack(i, Math.min(i + BATCH, count))));
    }
    return summary;
  }

  snapshot(): Snapshot {
    const totals = zeroed(COUNTER_NAMES);
    const drops = zeroed(DROP_REASONS);
    const violations = zeroed(VIOLATION_REASONS);
    const lcores = this.addon.counters().map((raw) => {
      const counters = zeroed(COUNTER_NAMES);
      const lcoreDrops = zeroed(DROP_REASONS);
      const lcoreViolations = zeroed(VIOLATION_REASONS);
      VIOLATION_REASONS.forEach((name, i) => {
        lcoreViolations[name] = raw.violations[i] ?? 0;
        violations[name] += lcoreViolations[name];
      });
      COUNTER_NAMES.forEach((name, i) => {
        counters[name] = raw.counters[i] ?? 0;
        totals[name] += counters[name];
      });
      DROP_REASONS.forEach((name, i) => {
        lcoreDrops[name] = raw.drops[i] ?? 0;
        drops[name] += lcoreDrops[name];
      });
      return { lcore: raw.lcore, counters, drops: lcoreDrops, violations: lcoreViolations };
    });
    const ports = this.addon.portStats().map((p, index) => ({
      name: p.name,
      device: p.device,
      rx: p.ipackets,
      tx: p.opackets,
      rxBytes: p.ibytes,
      txBytes: p.obytes,
      rxMissed: p.imissed,
      rxErrors: p.ierrors,
      txErrors: p.oerrors,
      rxNoMbuf: p.rxNombuf,
      ...this.linkOf(p, index),
      linkUps: p.linkUps,
      linkDowns: p.linkDowns,
      adminUp: p.adminUp,
      responder: p.responder,
    }));
    const { workersRunning, mbufsInUse, mbufsTotal, heapTotalBytes, heapAllocatedBytes, ...table } = this.addon.tableInfo();
    return {
      time: new Date(),
      ports,
      lcores,
      totals,
      drops,
      violations,
      table,
      fdb: this.addon.fdbInfo(),
      workersRunning,
      mbufs: { inUse: mbufsInUse, total: mbufsTotal },
      heap: { allocatedBytes: heapAllocatedBytes, totalBytes: heapTotalBytes },
    };
  }

  /** The driver's link state, and for a net_af_packet port the kernel interface's under it. */
  private linkOf(p: AddonPortStats, index: number): Pick<PortCounters, 'link' | 'kernelLink'> {
    const kernel = this.kernelInterfaces[index] ?? null;
    const state = kernel ? kernelLinkState(kernel.iface, kernel.boundIndex) : undefined;
    return {
      link: { up: p.linkUp && (state === undefined || state === 'up'), speedMbps: p.linkSpeedMbps, fullDuplex: p.linkFullDuplex },
      ...(state ? { kernelLink: state } : {}),
    };
  }

  /** Takes a port out of service (frames in and out dropped) or back; live. */
  setPortAdmin(index: number, up: boolean): void {
    callNative(() => this.addon.setPortAdmin(index, up));
  }

  /**
   * Replaces a port's ARP security settings (trusted, sender subnets, ARP rate, enforce) as one;
   * returns once no worker uses the old ones.
   */
  setPortSecurity(index: number, security: AddonPortSecurity): void {
    callNative(() => this.addon.setPortSecurity(index, security));
  }

  /**
   * Closes a net_af_packet port and opens it again on the interface its name now has: after
   * the interface was deleted and created again (kernelLink 'replaced'). The workers leave the
   * port alone meanwhile.
   */
  reattachPort(index: number): void {
    const kernel = this.kernelInterfaces[index];
    if (!kernel) throw new DataplaneError(`port ${index} is not a net_af_packet port`, 'NOT_AF_PACKET');
    callNative(() => this.addon.reattachPort(index, kernel.devargs));
    kernel.boundIndex = interfaceIndex(kernel.iface);
  }

  /** Turns the responder off on a port (its ARP requests are switched instead); live. */
  setPortResponder(index: number, on: boolean): void {
    callNative(() => this.addon.setPortResponder(index, on));
  }

  /**
   * Queues a whole frame (tag included, if the port wants one) to be sent out port `index`
   * by a worker. False when the port's inject ring is full or no mbuf is left.
   */
  inject(index: number, frame: Uint8Array): boolean {
    if (this.stopped) return false;
    return this.addon.inject(index, frame);
  }

  /** What the workers reported about ARP since the last call. */
  drainArpEvents(): ArpEvent[] {
    return this.stopped ? [] : decodeArpEvents(this.addon.drainArpEvents());
  }

  /** The workers' ND reports (senders, violations, probe replies) since the last drain. */
  drainNdEvents(): NdEvent[] {
    return this.stopped ? [] : decodeNdEvents(this.addon.drainNdEvents());
  }

  /** FDB changes the writer made since the last call (learned, moved, aged, ...). */
  drainFdbEvents(): FdbEvent[] {
    return this.stopped ? [] : decodeFdbEvents(this.addon.drainFdbEvents());
  }

  /** Names the running addon reports, for checking against the generated lists. */
  nativeNames(): { counters: readonly string[]; drops: readonly string[] } {
    return { counters: this.addon.counterNames, drops: this.addon.dropReasonNames };
  }

  violationNames(): readonly string[] {
    return this.addon.violationNames;
  }

  /**
   * Waits for updates in flight, then stops workers, closes ports (flushing pcap files) and
   * cleans up EAL. Counters stay readable through snapshot() afterwards.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled([...this.pending]);
    this.addon.stop();
  }
}

function zeroed<T extends string>(names: readonly T[]): Record<T, number> {
  return Object.fromEntries(names.map((n) => [n, 0])) as Record<T, number>;
}

function callNative(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    const e = error as Error & { code?: string };
    throw new DataplaneError(e.message, e.code ?? 'NATIVE');
  }
}

function validateOptions(o: DataplaneOptions): void {
  const positive = (v: number | undefined, what: string, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) {
      throw new DataplaneError(`${what} must be an integer from 0 to ${max}, not ${v}`, 'INVALID');
    }
  };
  if (o.ports.length === 0) throw new DataplaneError('at least one port is needed', 'INVALID');
  positive(o.rxDescriptors, 'rxDescriptors', 65535);
  positive(o.txDescriptors, 'txDescriptors', 65535);
  positive(o.mbufs, 'mbufs', 2 ** 32 - 1);
  positive(o.tableCapacity, 'tableCapacity', 2 ** 31 - 1);
  positive(o.ipv6Capacity, 'ipv6Capacity', o.tableCapacity);
  positive(o.updateRingSize, 'updateRingSize', 2 ** 28);
  if (o.tableCapacity < 1) throw new DataplaneError('tableCapacity must be at least 1', 'INVALID');
}

/** An upsert's checks, without an update object per binding (a bulk load runs them a million times). */
function validateBinding(b: Binding | Binding6): void {
  checkVlan(b.vlan);
  if (typeof b.ip === 'number') checkIp(b.ip);
  else checkIp6(b.ip);
  checkOwnerMac(b.mac);
}

function validateUpdate(u: Update): void {
  checkVlan(u.vlan);
  if (u.op === 'fdb_add' || u.op === 'fdb_remove') {
    if (u.mac.length !== 6) throw new DataplaneError('a MAC has 6 octets', 'INVALID');
    if (u.op === 'fdb_add' && !(Number.isInteger(u.port) && u.port >= 0 && u.port < 65536)) {
      throw new DataplaneError(`not a port index: ${u.port}`, 'INVALID');
    }
    return;
  }
  if (u.op === 'upsert6' || u.op === 'remove6') checkIp6(u.ip);
  else checkIp(u.ip);
  if (u.op === 'upsert' || u.op === 'upsert6') checkOwnerMac(u.mac);
}

function checkVlan(vlan: number): void {
  if (!Number.isInteger(vlan) || vlan < 0 || vlan > MAX_VLAN) {
    throw new DataplaneError(`VLAN must be 0 (untagged) to ${MAX_VLAN}, not ${vlan}`, 'INVALID');
  }
}

function checkIp(ip: number): void {
  if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) throw new DataplaneError(`not an IPv4 address: ${ip}`, 'INVALID');
}

function checkIp6(ip: Uint8Array): void {
  const problem = ip instanceof Uint8Array && ip.length === 16 ? ipv6Problem(ip) : 'an IPv6 address has 16 bytes';
  if (problem) throw new DataplaneError(problem, 'INVALID');
}

function checkOwnerMac(mac: Uint8Array): void {
  const problem = mac.length === 6 ? macProblem(mac) : 'a MAC has 6 octets';
  if (problem) throw new DataplaneError(problem, 'INVALID');
}
