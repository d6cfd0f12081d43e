// The `microarp` command line: one subcommand per file, one error handler.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load';
import { DataplaneError } from '../dataplane/dataplane';
import { checkConfigCommand } from './check_config';
import { configCommand } from './config_schema';
import { demoCommand } from './demo';
import { bindingsCommand } from './bindings';
import { portsCommand, statsCommand } from './status';
import { ApiClientError } from '../api/client';
import { CliError, EXIT_RUNTIME, EXIT_USAGE } from './exit_codes';
import { runCommand } from './run';
import { fabricCommand } from './fabric';
import { reloadCommand } from './reload';

/** Commands added with addCommand() inherit no settings: apply ours to the whole tree. */
function everywhere(command: Command): Command {
  command.exitOverride().showHelpAfterError();
  command.commands.forEach(everywhere);
  return command;
}

export function program(): Command {
  return everywhere(new Command('microarp')
    .description('DPDK ARP responder: answers ARP requests from an authoritative (VLAN, IP) -> MAC table')
    .version(require('../../../package.json').version as string)
    .addCommand(runCommand())
    .addCommand(demoCommand())
    .addCommand(checkConfigCommand())
    .addCommand(configCommand())
    .addCommand(bindingsCommand())
    .addCommand(statsCommand())
    .addCommand(portsCommand())
    .addCommand(fabricCommand())
    .addCommand(reloadCommand())
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 runtime error (daemon unreachable, not found, conflict, refused),
2 usage or validation error (bad argument, invalid config, bad import lines: nothing changed).

Examples:
  microarp run --config examples/pcap-responder.yaml --stats-period 1
  microarp bindings add 10.0.0.7 02:00:00:00:00:07
  microarp stats`,
    ));
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
  if (error instanceof ApiClientError) {
    process.stderr.write(`microarp: ${error.message}\n`);
    // The daemon refused what we sent (bad field, bad lines): a usage error. Anything else
    // (not running, not found, conflict, no room, no token) is a runtime error.
    return error.status === 400 || error.status === 413 ? EXIT_USAGE : EXIT_RUNTIME;
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
