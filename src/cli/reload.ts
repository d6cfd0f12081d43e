// `microarp reload`: the running daemon reads its config file again (as on SIGHUP).
import { Command } from 'commander';
import { ApiClientError, expectOk } from '../api/client';
import { CliError, EXIT_USAGE } from './exit_codes';
import { clientFor, withTarget, type TargetOptions } from './target';

export function reloadCommand(): Command {
  return withTarget(new Command('reload'))
    .description('make the running daemon read its config file again and apply what can change live')
    .addHelpText(
      'after',
      `
Applied live: ports' trusted, router, allowed_subnets, arp_rate, nd_rate, admin and responder; enforce;
learning (but probe_mac); migration; static bindings; static FDB entries. Bindings written
through the API and learned ones are not touched.
Needs a restart (reported, left as it runs): ports added, removed or changed in name, device,
mode, VLANs or uplink; workers, eal, memory_mb, hugepages, mbufs, descriptors, table, unknown,
api, metrics, telemetry, pdump, log_level, state_dir, state_sync, fabric, fdb capacity and aging.
A file that does not validate changes nothing: every problem is printed, and the daemon keeps
serving with what it runs. SIGHUP to the daemon does the same (systemctl reload).

Example:
  microarp reload`,
    )
    .action(async (options: TargetOptions) => {
      let report: Record<string, unknown>;
      try {
        report = expectOk(await clientFor(options).call('POST', '/v1/reload'));
      } catch (error) {
        const problems = error instanceof ApiClientError ? (error.body?.problems as { path: string; message: string }[] | undefined) : undefined;
        if (!problems) throw error;
        throw new CliError(`${error instanceof Error ? error.message : ''}\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`, EXIT_USAGE);
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const applied = report.applied as string[];
      const restart = report.needs_restart as string[];
      const lines = [`reloaded ${String(report.file)}`];
      lines.push(applied.length ? `applied:\n${applied.map((a) => `  ${a}`).join('\n')}` : 'applied: nothing changed');
      if (restart.length) lines.push(`needs a restart (left as it runs):\n${restart.map((k) => `  ${k}`).join('\n')}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
