// A running microarp: the dataplane, the table's control-side mirror, the control API and
// the metrics server, started in that order and stopped in reverse.
import { cpus } from 'node:os';
import type { Config } from '../config/config';
import { buildEalArgs, defaultFilePrefix, freeHugepageMb } from '../config/eal_args';
import { deviceName } from '../config/validate';
import { Dataplane, type Snapshot } from '../dataplane/dataplane';
import { BindingTable } from '../table/binding_table';
import { ApiServer } from '../api/server';
import { Metrics } from '../metrics/metrics';
import type { Logger } from '../log/logger';

const LINK_POLL_MS = 1000;

export class Daemon {
  private api?: ApiServer;
  private metrics?: Metrics;
  private linkTimer?: NodeJS.Timeout;
  private readonly linkState = new Map<string, boolean>();
  private stopped = false;

  private constructor(
    readonly config: Config,
    readonly dataplane: Dataplane,
    readonly table: BindingTable,
    private readonly log: Logger,
    readonly filePrefix: string,
  ) {}

  static async start(config: Config, log: Logger): Promise<Daemon> {
    const filePrefix = filePrefixOf(config);
    const ealArgs = buildEalArgs(config, { filePrefix, freeHugeMb: freeHugepageMb(), cpuCount: cpus().length });
    log.debug('starting the dataplane', { eal: ealArgs });
    const dataplane = await Dataplane.start(
      {
        ealArgs,
        ports: config.ports.map((p) => ({ name: p.name, device: deviceName(p.device) })),
        rxDescriptors: config.rxDescriptors,
        txDescriptors: config.txDescriptors,
        tableCapacity: config.table.capacity,
        updateRingSize: config.table.updateRing,
        unknown: config.unknown,
        pdump: config.pdump,
      },
      config.bindings,
    );
    let metrics: Metrics | undefined;
    const table = new BindingTable(dataplane, config.table.capacity, (_records, seconds) => metrics?.observeUpdate(seconds));
    table.seed(config.bindings);
    const daemon = new Daemon(config, dataplane, table, log, filePrefix);
    try {
      if (config.metricsListen) {
        metrics = new Metrics({ snapshot: () => dataplane.snapshot(), updatesApplied: () => table.updatesApplied });
        await metrics.start(config.metricsListen);
        daemon.metrics = metrics;
      }
      if (config.api.socket || config.api.listen) {
        daemon.api = new ApiServer(
          config.api,
          {
            table,
            snapshot: () => dataplane.snapshot(),
            ready: () => daemon.readiness(),
            audit: (who, action, details) => log.info('api write', { who, action, ...details }),
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

  readiness(): { ready: boolean; reason?: string } {
    if (this.stopped) return { ready: false, reason: 'stopping' };
    if (!this.dataplane.snapshot().workersRunning) return { ready: false, reason: 'workers not running' };
    return { ready: true };
  }

  private watchLinks(): void {
    const check = (): void => {
      for (const port of this.dataplane.snapshot().ports) {
        const before = this.linkState.get(port.name);
        if (before !== port.link.up) {
          this.linkState.set(port.name, port.link.up);
          const fields = { port: port.name, up: port.link.up, speed_mbps: port.link.speedMbps };
          if (before === undefined) this.log.info('link state', fields);
          else this.log.warn('link changed', fields);
        }
      }
    };
    check();
    this.linkTimer = setInterval(check, LINK_POLL_MS);
    this.linkTimer.unref();
  }

  /** API and metrics first (no new writes), then the dataplane. Counters stay readable. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.linkTimer) clearInterval(this.linkTimer);
    await this.api?.stop();
    await this.metrics?.stop();
    await this.dataplane.stop();
  }
}

function filePrefixOf(config: Config): string {
  const i = config.eal.findIndex((a) => a === '--file-prefix' || a.startsWith('--file-prefix='));
  if (i < 0) return defaultFilePrefix();
  const arg = config.eal[i]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (config.eal[i + 1] ?? defaultFilePrefix());
}
