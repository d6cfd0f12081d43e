// `microarp fabric status`: this host's view of the fabric (etcd) it shares bindings through.
import { Command } from 'commander';
import { expectOk } from '../api/client';
import { clientFor, table, withTarget, type TargetOptions } from './target';

interface FabricView {
  host: string;
  state: string;
  revision: number;
  lastSyncAt: string | null;
  lagSeconds: number | null;
  hosts: string[];
  published: number;
  received: number;
  malformed: number;
  queued: number;
  remoteBindings: number;
  health: { endpoint: string; healthy: boolean; error?: string }[];
  bindings_per_host: Record<string, number>;
}

export function fabricCommand(): Command {
  const status = withTarget(new Command('status'))
    .description('hosts seen, etcd endpoints and their health, revision, sync lag, bindings per host')
    .addHelpText('after', '\nExample:\n  microarp fabric status\n  microarp fabric status --json | jq .bindings_per_host')
    .action(async (options: TargetOptions) => {
      const f = expectOk(await clientFor(options).call('GET', '/v1/fabric')) as unknown as FabricView;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
        return;
      }
      const lines = [
        `host ${f.host}: etcd ${f.state}, revision ${f.revision}, last sync ${f.lastSyncAt ?? 'never'}, ` +
          `lag ${f.lagSeconds === null ? '-' : `${f.lagSeconds} s`}`,
        `published ${f.published}, received ${f.received}, malformed ${f.malformed}, queued ${f.queued}`,
        '',
        table(['ENDPOINT', 'HEALTH'], f.health.map((h) => [h.endpoint, h.healthy ? 'healthy' : `down: ${h.error ?? ''}`])),
        '',
        table(
          ['HOST', 'LIVE', 'BINDINGS'],
          [...new Set([...f.hosts, ...Object.keys(f.bindings_per_host)])].sort().map((h) => [h, f.hosts.includes(h) ? 'yes' : 'no', f.bindings_per_host[h] ?? 0]),
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  return new Command('fabric').description('the fabric of hosts sharing bindings through etcd').addCommand(status);
}
