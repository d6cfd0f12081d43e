// `microarp stats` and `microarp ports`: what the running daemon counts.
import { Command } from 'commander';
import { expectOk } from '../api/client';
import { clientFor, table, withTarget, type TargetOptions } from './target';

interface PortView {
  name: string;
  device: string;
  rx: number;
  tx: number;
  rxMissed: number;
  rxErrors: number;
  txErrors: number;
  rxNoMbuf: number;
  link: { up: boolean; speedMbps: number; fullDuplex: boolean };
}

export function statsCommand(): Command {
  return withTarget(new Command('stats'))
    .description('counters of the running daemon: per port, per worker lcore, drops by reason, table')
    .addHelpText('after', '\nExample:\n  microarp stats --json | jq .counters.replies_sent')
    .action(async (options: TargetOptions) => {
      const s = expectOk(await clientFor(options).call('GET', '/v1/stats'));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const c = s.counters as Record<string, number>;
      const drops = Object.entries(s.drops as Record<string, number>).filter(([, n]) => n > 0);
      const t = s.table as { bindings: number; capacity: number; ringDepth: number };
      const lines = [
        table(['PORT', 'RX', 'TX', 'RX-MISSED'], (s.ports as { name: string; rx: number; tx: number; rx_missed: number }[]).map((p) => [p.name, p.rx, p.tx, p.rx_missed])),
        '',
        table(['COUNTER', 'VALUE'], Object.entries(c).map(([k, v]) => [k, v])),
        '',
        // Where each worker's time goes since start (OVS's pmd-perf-show in short).
        table(
          ['LCORE', 'RX', 'BUSY', 'CYCLES/FRAME'],
          (s.lcores as { lcore: number; rx_packets: number; busy_share: number | null; cycles_per_frame: number | null }[]).map((l) => [
            l.lcore,
            l.rx_packets,
            l.busy_share === null ? '-' : `${(l.busy_share * 100).toFixed(1)}%`,
            l.cycles_per_frame ?? '-',
          ]),
        ),
        '',
        drops.length ? table(['DROP REASON', 'FRAMES'], drops) : 'drops: none',
        '',
        `table: ${t.bindings} of ${t.capacity} bindings, ${t.ringDepth} updates queued`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

export function portsCommand(): Command {
  return withTarget(new Command('ports'))
    .description('ports of the running daemon with link state and DPDK port statistics')
    .addHelpText('after', '\nExample:\n  microarp ports')
    .action(async (options: TargetOptions) => {
      const r = expectOk(await clientFor(options).call('GET', '/v1/ports'));
      const ports = r.ports as PortView[];
      if (options.json) {
        process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ['PORT', 'DEVICE', 'LINK', 'SPEED', 'RX', 'TX', 'RX-MISSED', 'RX-ERR', 'TX-ERR', 'RX-NOMBUF'],
          ports.map((p) => [p.name, p.device, p.link.up ? 'up' : 'down', p.link.speedMbps ? `${p.link.speedMbps}M` : '-', p.rx, p.tx, p.rxMissed, p.rxErrors, p.txErrors, p.rxNoMbuf]),
        )}\n`,
      );
    });
}
