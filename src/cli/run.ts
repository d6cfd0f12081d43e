// `microarp run`: start the daemon from a config file and serve until SIGINT/SIGTERM; SIGHUP
// reads the file again (Daemon.reload).
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load';
import { EalArgsError } from '../config/eal_args';
import { Daemon } from '../daemon/daemon';
import { Logger } from '../log/logger';
import { statsJson, statsText } from './stats_format';
import { CliError, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from './exit_codes';
import { StateError } from '../state/state_error';

interface RunOptions {
  config: string;
  statsPeriod?: number;
  json?: boolean;
  resetState?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86400) {
    throw new InvalidArgumentError('must be a number of seconds above 0 (e.g. 1 or 0.5)');
  }
  return n;
}

export function runCommand(): Command {
  return new Command('run')
    .description('start the dataplane, control API and metrics from a config file; run until SIGINT/SIGTERM (SIGHUP: reload the file)')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--stats-period <seconds>', 'print counters every <seconds> (fractions allowed)', seconds)
    .option('--json', 'print counters as NDJSON, one object per line, on stdout')
    .option('--reset-state', 'move the state database aside (renamed with a timestamp) and start with an empty one')
    .addHelpText(
      'after',
      `
Counters are printed on stdout at exit, and every --stats-period seconds. Logs are JSON lines
on stderr. The control API listens on api.socket (default /run/microarp/microarp.sock) and
metrics on metrics.listen (default 127.0.0.1:9417). Bindings written through the API and learned
ones are kept in state_dir (default /var/lib/microarp; "state_dir: off" keeps them in memory).
SIGHUP (or 'microarp reload') reads the config file again and applies what can change live; see
'microarp reload --help'.

Examples:
  microarp run --config examples/pcap-responder.yaml
  microarp run -c /etc/microarp.yaml --stats-period 1 --json | jq .counters.replies_sent`,
    )
    .action(async (options: RunOptions) => {
      process.exitCode = await run(options);
    });
}

async function run(options: RunOptions): Promise<number> {
  const config = loadConfig(options.config);
  const log = new Logger(config.logLevel);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, log, { resetState: options.resetState, configFile: options.config });
  } catch (error) {
    if (error instanceof EalArgsError) throw new CliError(`${options.config}: ${error.message}`, EXIT_USAGE);
    if (error instanceof StateError) {
      log.error('start failed', { error: error.message, code: error.code });
      throw new CliError(error.message, EXIT_RUNTIME);
    }
    log.error('start failed', { error: (error as Error).message, code: (error as { code?: string }).code });
    throw error;
  }
  log.info('started', {
    config: options.config,
    ports: config.ports.map((p) => p.name),
    bindings: config.bindings.length + config.bindings6.length,
    unknown: config.unknown,
    file_prefix: daemon.filePrefix,
    state_dir: config.stateDir,
    api: daemon.apiAddresses,
    metrics: daemon.metricsAddress ?? null,
  });

  const print = (final: boolean): void => {
    const snapshot = daemon.snapshot();
    process.stdout.write(`${options.json ? statsJson(snapshot, final) : statsText(snapshot, final)}\n`);
  };
  const timer = options.statsPeriod ? setInterval(() => print(false), options.statsPeriod * 1000) : undefined;

  // Signal listeners do not keep Node's event loop alive; the workers run on their own
  // lcores, so without this timer the process would exit right after starting.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  // SIGHUP (systemctl reload, logrotate, a closed terminal) must never end the daemon.
  const onHangup = (): void => {
    log.info('reload requested', { signal: 'SIGHUP' });
    daemon.reload().catch((error: Error) => {
      // A file that does not validate was logged with its problems by reload().
      if (!(error instanceof ConfigError)) log.error('config reload failed', { error: error.message });
    });
  };
  process.on('SIGHUP', onHangup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', onHangup);
  clearInterval(keepAlive);
  if (timer) clearInterval(timer);
  log.info('stopping', { signal });
  await daemon.stop();
  print(true);
  log.info('stopped', {});
  return EXIT_OK;
}
