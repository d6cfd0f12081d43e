// The `microarp` command line: one subcommand per file, one error handler.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load';
import { DataplaneError } from '../dataplane/dataplane';
import { checkConfigCommand } from './check_config';
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from './exit_codes';
import { runCommand } from './run';

export function program(): Command {
  return new Command('microarp')
    .description('DPDK ARP responder: answers ARP requests from an authoritative (VLAN, IP) -> MAC table')
    .version(require('../../../package.json').version as string)
    .addCommand(runCommand())
    .addCommand(checkConfigCommand())
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 runtime error, 2 usage or invalid config (nothing started).

Example:
  microarp run --config examples/pcap-responder.yaml --stats-period 1`,
    )
    .exitOverride()
    .showHelpAfterError();
}

export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`microarp: invalid config ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    process.stderr.write(`microarp: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof DataplaneError) {
    process.stderr.write(`microarp: ${error.message} [${error.code}]\n`);
    return EXIT_RUNTIME;
  }
  process.stderr.write(`microarp: ${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT_RUNTIME;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

// `microarp ... | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

if (require.main === module) void main(process.argv);
