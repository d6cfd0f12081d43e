// `microarp run`: start the dataplane from a config file and serve until SIGINT/SIGTERM.
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load';
import { deviceName } from '../config/validate';
import { buildEalArgs, defaultFilePrefix, freeHugepageMb, EalArgsError } from '../config/eal_args';
import { Dataplane } from '../dataplane/dataplane';
import { cpus } from 'node:os';
import { statsJson, statsText } from './stats_format';
import { CliError, EXIT_OK, EXIT_USAGE } from './exit_codes';

interface RunOptions {
  config: string;
  statsPeriod?: number;
  json?: boolean;
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
    .description('start the dataplane from a config file and answer ARP until SIGINT/SIGTERM')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--stats-period <seconds>', 'print counters every <seconds> (fractions allowed)', seconds)
    .option('--json', 'print counters as NDJSON, one object per line, on stdout')
    .addHelpText(
      'after',
      `
Counters are printed at exit, and every --stats-period seconds. Log lines go to stderr,
counters to stdout.

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
  let ealArgs: string[];
  try {
    ealArgs = buildEalArgs(config, {
      filePrefix: defaultFilePrefix(),
      freeHugeMb: freeHugepageMb(),
      cpuCount: cpus().length,
    });
  } catch (error) {
    if (error instanceof EalArgsError) throw new CliError(`${options.config}: ${error.message}`, EXIT_USAGE);
    throw error;
  }

  const print = (final: boolean): void => {
    const snapshot = dataplane.snapshot();
    process.stdout.write(`${options.json ? statsJson(snapshot, final) : statsText(snapshot, final)}\n`);
  };

  const dataplane = await Dataplane.start(
    {
      ealArgs,
      ports: config.ports.map((p) => ({ name: p.name, device: deviceName(p.device) })),
      rxDescriptors: config.rxDescriptors,
      txDescriptors: config.txDescriptors,
      tableCapacity: config.table.capacity,
      updateRingSize: config.table.updateRing,
      unknown: config.unknown,
    },
    config.bindings,
  );
  process.stderr.write(
    `microarp: running: ${config.ports.length} port(s), ${config.bindings.length} binding(s), ` +
      `unknown targets ${config.unknown === 'flood' ? 'flooded' : 'dropped'}; Ctrl-C to stop\n`,
  );

  const timer = options.statsPeriod ? setInterval(() => print(false), options.statsPeriod * 1000) : undefined;

  // Signal listeners do not keep Node's event loop alive; the workers run on their own
  // lcores, so without this timer the process would exit right after starting.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  if (timer) clearInterval(timer);
  process.stderr.write(`microarp: ${signal}: stopping\n`);
  await dataplane.stop();
  print(true);
  return EXIT_OK;
}
