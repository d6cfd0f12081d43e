// A running microarp: the dataplane, the table's control-side mirror, the control API and
// the metrics server, started in that order and stopped in reverse.
import { cpus } from 'node:os';
import type { Config } from '../config/config';
import { buildEalArgs, defaultFilePrefix, freeHugepageMb } from '../config/eal_args';
import { deviceName } from '../config/validate';
import { Dataplane, type Snapshot } from '../dataplane/dataplane';
import type { AddonPortSecurity } from '../dataplane/addon';
import { BindingTable } from '../table/binding_table';
import { FdbView } from '../table/fdb_view';
import { EventHub } from '../learning/event_hub';
import { Learner } from '../learning/learner';
import { ApiServer } from '../api/server';
import { Metrics } from '../metrics/metrics';
import type { Logger } from '../log/logger';
import { openState, type State } from '../state/open_state';
import { removeDpdkLeftovers } from '../state/dpdk_leftovers';
import { FabricSync } from '../fabric/fabric_sync';
import { prepareVhostSockets } from './vhost_sockets';
import { FaultWatch } from './fault_watch';
import { ConfigError, loadConfig } from '../config/load';
import { diffConfig } from './config_diff';
import type { PortConfig } from '../config/config';
import type { WriteOp } from '../table/binding_table';
import type { Update, UpdateSummary } from '../dataplane/updates';

/** What a reload did: applied live, and left for a restart. */
export interface ReloadReport {
  file: string;
  applied: string[];
  needsRestart: string[];
}

/** A port's ARP security as the dataplane takes it, at start and on every reload. */
function portSecurity(p: PortConfig, enforce: Config['enforce']): AddonPortSecurity {
  return {
    trusted: p.trusted,
    router: p.router,
    enforce: enforce === 'enforce',
    subnets: p.allowedSubnets.map(([network, length]) => ({ network, length })),
    subnets6: p.allowedSubnets6.map((prefix) => ({ bytes: [...prefix.network], length: prefix.length })),
    arpRatePps: p.arpRate.pps,
    arpBurst: p.arpRate.burst,
    ndRatePps: p.ndRate.pps,
    ndBurst: p.ndRate.burst,
  };
}

const LINK_POLL_MS = 200;
const FDB_POLL_MS = 100;

export class Daemon {
  private api?: ApiServer;
  private metrics?: Metrics;
  private linkTimer?: NodeJS.Timeout;
  private fdbTimer?: NodeJS.Timeout;
  readonly fdb: FdbView;
  readonly events: EventHub;
  readonly faults: FaultWatch;
  learner?: Learner;
  fabric?: FabricSync;
  private readonly reattachFailed = new Set<string>();
  /** Ports opened again on a recreated interface since start. */
  reattached = 0;
  /** Per port: "up/kernel state" as last seen, to log each change once. */
  private readonly linkState = new Map<string, string>();
  private stopped = false;
  private reloading: Promise<unknown> = Promise.resolve();
  /** The file the config was read from, which a reload reads again. */
  configFile?: string;

  private constructor(
    readonly config: Config,
    readonly dataplane: Dataplane,
    readonly table: BindingTable,
    private readonly log: Logger,
    readonly filePrefix: string,
    private readonly state: State | null,
  ) {
    this.fdb = new FdbView((index) => config.ports[index]?.name ?? `#${index}`);
    this.events = new EventHub(log);
    this.faults = new FaultWatch(() => dataplane.snapshot(), log);
  }

  portIndex(name: string): number {
    return this.config.ports.findIndex((p) => p.name === name);
  }

  static async start(config: Config, log: Logger, options: { resetState?: boolean; configFile?: string } = {}): Promise<Daemon> {
    // The state directory first: a second daemon on it, or a broken store, stops us before
    // EAL or any port is touched.
    const state = config.stateDir ? openState(config.stateDir, config.stateSync, [...config.bindings, ...config.bindings6], log, options.resetState ?? false) : null;
    try {
      const daemon = await Daemon.startWith(config, log, state);
      daemon.configFile = options.configFile;
      return daemon;
    } catch (error) {
      state?.close();
      throw error;
    }
  }

  private static async startWith(config: Config, log: Logger, state: State | null): Promise<Daemon> {
    await prepareVhostSockets(config.ports, log);
    const leftovers = removeDpdkLeftovers();
    if (leftovers.prefixes.length > 0) {
      log.info('removed DPDK runtime files of dead microarp instances', { prefixes: leftovers.prefixes, hugepage_files: leftovers.hugepageFiles });
    }
    const filePrefix = filePrefixOf(config);
    const ealArgs = buildEalArgs(config, { filePrefix, freeHugeMb: freeHugepageMb(), cpuCount: cpus().length });
    log.debug('starting the dataplane', { eal: ealArgs });
    const dataplane = await Dataplane.start(
      {
        ealArgs,
        ports: config.ports.map((p) => ({
          name: p.name,
          device: deviceName(p.device),
          devargs: p.device,
          mode: p.mode,
          vlan: p.vlan,
          vlans: p.vlans,
          nativeVlan: p.nativeVlan,
          adminUp: p.adminUp,
          responder: p.responder,
          ...portSecurity(p, config.enforce),
        })),
        enforce: config.enforce === 'enforce',
        probeMac: config.learning.probeMac,
        fdbCapacity: config.fdb.capacity,
        fdbAgingSeconds: config.fdb.agingSeconds,
        rxDescriptors: config.rxDescriptors,
        txDescriptors: config.txDescriptors,
        mbufs: config.mbufs,
        tableCapacity: config.table.capacity,
        ipv6Capacity: config.table.ipv6Capacity,
        updateRingSize: config.table.updateRing,
        unknown: config.unknown,
        pdump: config.pdump,
      },
      [...config.bindings, ...config.bindings6, ...(state?.dataplaneBindings() ?? [])],
      config.fdb.static.map((e) => ({ vlan: e.vlan, mac: e.mac, port: config.ports.findIndex((p) => p.name === e.port) })),
    );
    let metrics: Metrics | undefined;
    const table = new BindingTable(dataplane, config.table.capacity, (_records, seconds) => metrics?.observeUpdate(seconds), config.table.ipv6Capacity);
    table.seed([...config.bindings, ...config.bindings6]);
    if (state) state.attach(table);
    const daemon = new Daemon(config, dataplane, table, log, filePrefix, state);
    daemon.learner = new Learner(config, dataplane, table, daemon.fdb, daemon.events);
    if (config.fabric) {
      daemon.fabric = new FabricSync(config.fabric, table, dataplane, daemon.events, log);
      daemon.fabric.announcer = daemon.learner;
    }
    try {
      if (config.metricsListen) {
        metrics = new Metrics({
          snapshot: () => dataplane.snapshot(),
          updatesApplied: () => table.updatesApplied,
          learner: () => daemon.learner!.stats,
          faults: () => daemon.faults.counts,
          ...(daemon.fabric
            ? {
                fabric: () => {
                  const f = daemon.fabric!.status();
                  return { up: f.state === 'up', lagSeconds: f.lagSeconds, remoteBindings: f.remoteBindings, published: f.published, received: f.received };
                },
              }
            : {}),
        });
        await metrics.start(config.metricsListen);
        daemon.metrics = metrics;
      }
      if (config.api.socket || config.api.listen) {
        daemon.api = new ApiServer(
          config.api,
          {
            table,
            fdb: daemon.fdb,
            ports: {
              names: config.ports.map((p) => p.name),
              setAdmin: (index, up) => dataplane.setPortAdmin(index, up),
              setResponder: (index, on) => dataplane.setPortResponder(index, on),
            },
            fdbStatic: (ops) => daemon.applyFdbStatic(ops),
            events: daemon.events,
            snapshot: () => dataplane.snapshot(),
            ready: () => daemon.readiness(),
            ...(daemon.fabric
              ? {
                  fabric: async () => {
                    const f = daemon.fabric!;
                    const byHost: Record<string, number> = {};
                    const self = f.status().host;
                    for (const scan of [table.scan(), table.scan6()]) {
                      for (const e of scan) byHost[e.host ?? self] = (byHost[e.host ?? self] ?? 0) + 1;
                    }
                    return { ...f.status(), health: await f.client.health(), bindings_per_host: byHost };
                  },
                }
              : {}),
            audit: (who, action, details) => log.info('api write', { who, action, ...details }),
            reload: () => daemon.reload(),
            faults: () => ({ ...daemon.faults.counts }),
          },
          log,
        );
        await daemon.api.start();
      }
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    daemon.watchLinks();
    daemon.watchFdb();
    daemon.faults.start();
    daemon.learner.start();
    // After the local table is up: an unreachable etcd never keeps us from serving.
    await daemon.fabric?.start();
    return daemon;
  }

  get apiAddresses(): string[] {
    return this.api?.addresses ?? [];
  }

  get metricsAddress(): string | undefined {
    return this.metrics?.address;
  }

  snapshot(): Snapshot {
    return this.dataplane.snapshot();
  }

  readiness(): { ready: boolean; reason?: string; fabric?: string } {
    if (this.stopped) return { ready: false, reason: 'stopping' };
    if (!this.dataplane.snapshot().workersRunning) return { ready: false, reason: 'workers not running' };
    // Without etcd we still answer from the last table: ready, and saying so.
    if (this.fabric) return { ready: true, fabric: this.fabric.client.state === 'up' ? 'up' : 'degraded' };
    return { ready: true };
  }

  /**
   * Link changes are counted by the driver's callback, so a guest that connected and went away
   * between two polls is still logged (as the count of ups and downs it caused).
   */
  private watchLinks(): void {
    const seen = new Map<string, { ups: number; downs: number }>();
    const check = (): void => {
      for (const port of this.dataplane.snapshot().ports) {
        const before = this.linkState.get(port.name);
        const counts = seen.get(port.name);
        const fields = {
          port: port.name,
          up: port.link.up,
          speed_mbps: port.link.speedMbps,
          ...(port.kernelLink ? { kernel_link: port.kernelLink } : {}),
        };
        const state = `${port.link.up}/${port.kernelLink ?? ''}`;
        if (before === undefined) this.log.info('link state', fields);
        else if (counts && (port.linkUps !== counts.ups || port.linkDowns !== counts.downs || before !== state)) {
          const changes = { ups: port.linkUps - counts.ups, downs: port.linkDowns - counts.downs };
          // Logged through the event stream too ("link changed"), for /v1/events subscribers.
          this.events.emit('link_changed', { ...fields, ...changes }, 'warn');
        }
        this.linkState.set(port.name, state);
        if (port.kernelLink === 'replaced') this.reattach(port.name);
        seen.set(port.name, { ups: port.linkUps, downs: port.linkDowns });
      }
    };
    check();
    this.linkTimer = setInterval(check, LINK_POLL_MS);
    this.linkTimer.unref();
  }

  /**
   * The interface under a net_af_packet port was deleted and created again: the port's socket
   * is bound to the old one, so the port is opened again on the new one. Tried on every link
   * poll until it works; the first failure is logged, and so is the success.
   */
  private reattach(name: string): void {
    const index = this.portIndex(name);
    try {
      this.dataplane.reattachPort(index);
      this.reattachFailed.delete(name);
      this.reattached++;
      this.log.warn('port reattached to its interface, which was deleted and created again', { port: name });
    } catch (error) {
      if (!this.reattachFailed.has(name)) this.log.error('cannot reattach the port to its new interface; retrying', { port: name, error: (error as Error).message });
      this.reattachFailed.add(name);
    }
  }

  private watchFdb(): void {
    this.fdbTimer = setInterval(() => this.followFdb(), FDB_POLL_MS);
    this.fdbTimer.unref();
  }

  /** Takes the FDB writer's events into the control side's copy, the learner and the log. */
  private followFdb(): void {
    const events = this.dataplane.drainFdbEvents();
    this.fdb.apply(events);
    this.learner?.onFdbEvents(events);
    for (const e of events) {
      if (e.type === 'moved') {
        this.log.info('mac moved', { vlan: e.vlan, mac: e.mac, from: this.config.ports[e.oldPort]?.name, to: this.config.ports[e.port]?.name });
      }
    }
  }

  /**
   * Static FDB adds and removes (API, reload). The writer has queued their events by the time it
   * answers: taking them at once means the next read of /v1/fdb shows the change, instead of a
   * removed entry for up to one poll more (and a client that saw it still there and removed it
   * again getting a 404).
   */
  async applyFdbStatic(ops: Update[]): Promise<UpdateSummary> {
    const result = await this.dataplane.apply(ops);
    this.followFdb();
    return result;
  }

  /**
   * Reads the config file again and applies what can change live (config_diff.ts): ports'
   * security, admin and responder, enforce, learning, migration, static bindings and static
   * FDB entries. What needs a restart is reported and left as it runs. A file that does not
   * validate changes nothing: the ConfigError, with every problem, is logged and thrown.
   * API and learned bindings are not touched. Reloads run one at a time.
   */
  reload(): Promise<ReloadReport> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(): Promise<ReloadReport> {
    const file = this.configFile;
    if (!file) throw new ConfigError('(none)', [{ path: '(file)', message: 'this daemon was not started from a config file' }]);
    let next: Config;
    try {
      next = loadConfig(file);
    } catch (error) {
      if (error instanceof ConfigError) {
        this.log.error('config reload refused: nothing was changed', { file, problems: error.issues.map((i) => `${i.path}: ${i.message}`) });
      }
      throw error;
    }
    const current = this.config;
    const diff = diffConfig(current, next);
    if (diff.enforce) current.enforce = diff.enforce;
    for (const change of diff.ports) {
      const port = current.ports[change.index]!;
      const wanted = next.ports[change.index]!;
      if (change.security) {
        port.trusted = wanted.trusted;
        port.router = wanted.router;
        port.allowedSubnets = wanted.allowedSubnets;
        port.allowedSubnets6 = wanted.allowedSubnets6;
        port.arpRate = wanted.arpRate;
        port.ndRate = wanted.ndRate;
        this.dataplane.setPortSecurity(change.index, portSecurity(port, current.enforce));
      }
      if (change.adminUp !== undefined) {
        port.adminUp = change.adminUp;
        this.dataplane.setPortAdmin(change.index, change.adminUp);
      }
      if (change.responder !== undefined) {
        port.responder = change.responder;
        this.dataplane.setPortResponder(change.index, change.responder);
      }
    }
    // The learner reads these through the same Config object at each use.
    if (diff.learning) current.learning = diff.learning;
    if (diff.migration) current.migration = diff.migration;
    const ops: WriteOp[] = [
      ...diff.bindingsRemove.map((b) => ({ op: 'remove' as const, ip: b.ip, vlan: b.vlan, source: 'static' as const })),
      ...diff.bindingsUpsert.map((b) => ({ op: 'upsert' as const, ip: b.ip, vlan: b.vlan, mac: b.mac, router: 'router' in b && b.router === true, source: 'static' as const })),
    ];
    if (ops.length > 0) await this.table.write(ops);
    current.bindings = next.bindings;
    current.bindings6 = next.bindings6;
    const portOf = (name: string): number => current.ports.findIndex((p) => p.name === name);
    const fdbOps = [
      ...diff.fdbRemove.map((e) => ({ op: 'fdb_remove' as const, vlan: e.vlan, mac: e.mac })),
      ...diff.fdbAdd.map((e) => ({ op: 'fdb_add' as const, vlan: e.vlan, mac: e.mac, port: portOf(e.port) })),
    ];
    if (fdbOps.length > 0) await this.applyFdbStatic(fdbOps);
    current.fdb.static = next.fdb.static;
    this.log.info('config reloaded', { file, applied: diff.applied, needs_restart: diff.needsRestart });
    if (diff.needsRestart.length > 0) {
      this.log.warn('config changes that need a restart were left as they run', { file, settings: diff.needsRestart });
    }
    return { file, applied: diff.applied, needsRestart: diff.needsRestart };
  }

  /** API and metrics first (no new writes), then the dataplane. Counters stay readable. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.linkTimer) clearInterval(this.linkTimer);
    if (this.fdbTimer) clearInterval(this.fdbTimer);
    this.faults.stop();
    this.learner?.stop();
    await this.fabric?.stop();
    await this.api?.stop();
    await this.metrics?.stop();
    // The table's last changes reach the store before the dataplane goes.
    await this.table.write([]);
    this.state?.close();
    await this.dataplane.stop();
  }
}

function filePrefixOf(config: Config): string {
  const i = config.eal.findIndex((a) => a === '--file-prefix' || a.startsWith('--file-prefix='));
  if (i < 0) return defaultFilePrefix();
  const arg = config.eal[i]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (config.eal[i + 1] ?? defaultFilePrefix());
}
