// The options every client command shares: where the daemon is and how to prove who we are.
import { Command, Option } from 'commander';
import { ApiClient, defaultSocket } from '../api/client';
import { DEFAULTS } from '../config/config';

export interface TargetOptions {
  socket?: string;
  api?: string;
  token?: string;
  json?: boolean;
}

export function withTarget(command: Command): Command {
  return command
    .addOption(new Option('--socket <path>', 'control socket of the daemon').default(defaultSocket(), '$MICROARP_SOCKET or ' + DEFAULTS.apiSocket))
    .addOption(new Option('--api <url>', 'reach the daemon over TCP instead, e.g. http://127.0.0.1:9418'))
    .addOption(new Option('--token <token>', `bearer token for --api (default: $${DEFAULTS.tokenEnv})`))
    .option('--json', 'machine-readable JSON output');
}

export function clientFor(options: TargetOptions): ApiClient {
  if (options.api) {
    return new ApiClient({ url: options.api, token: options.token ?? process.env[DEFAULTS.tokenEnv] });
  }
  return new ApiClient({ socket: options.socket ?? defaultSocket() });
}

/** A fixed-width text table for people. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: (string | number)[]): string =>
    cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
