// The two faces of a counters snapshot: a human block (like dpdk-testpmd's) and an NDJSON line.
import type { Snapshot } from '../dataplane/dataplane';
import { workerLoad } from '../dataplane/worker_load';

export function statsJson(s: Snapshot, final: boolean): string {
  return JSON.stringify(snapshotObject(s, final));
}

/** The NDJSON line's object; also what the control API's /v1/stats returns. */
export function snapshotObject(s: Snapshot, final: boolean): Record<string, unknown> {
  return {
    time: s.time.toISOString(),
    final,
    ports: s.ports.map((p) => ({
      name: p.name,
      device: p.device,
      rx: p.rx,
      tx: p.tx,
      rx_bytes: p.rxBytes,
      tx_bytes: p.txBytes,
      rx_missed: p.rxMissed,
      rx_errors: p.rxErrors,
      tx_errors: p.txErrors,
      rx_nombuf: p.rxNoMbuf,
      link: p.link,
    })),
    lcores: s.lcores.map((l) => ({ lcore: l.lcore, ...l.counters, ...workerLoad(l.counters), drops: l.drops, violations: l.violations })),
    counters: s.totals,
    drops: s.drops,
    violations: s.violations,
    table: s.table,
    fdb: s.fdb,
    mbufs: { in_use: s.mbufs.inUse, total: s.mbufs.total },
    heap: { allocated_bytes: s.heap.allocatedBytes, total_bytes: s.heap.totalBytes },
  };
}

export function statsText(s: Snapshot, final: boolean): string {
  const lines = [`######## ${final ? 'final ' : ''}statistics ${s.time.toISOString()} ########`];
  for (const p of s.ports) {
    lines.push(
      `port ${p.name} (${p.device.split(',')[0]}): rx ${p.rx} tx ${p.tx} ` +
        `rx-missed ${p.rxMissed} rx-errors ${p.rxErrors} tx-errors ${p.txErrors} rx-nombuf ${p.rxNoMbuf}`,
    );
  }
  for (const l of s.lcores) {
    const c = l.counters;
    const drops = Object.entries(l.drops).filter(([, n]) => n > 0).map(([r, n]) => `${r}=${n}`);
    const load = workerLoad(c);
    lines.push(
      `lcore ${l.lcore}: rx ${c.rx_packets} tx ${c.tx_packets} arp-requests ${c.arp_requests} ` +
        `replies ${c.replies_sent} unbound ${c.requests_unbound} ` +
        `nd-solicitations ${c.nd_solicitations} nd-answers ${c.nd_answers} nd-unbound ${c.nd_unbound} ` +
        `flooded ${c.flooded} ` +
        `drops ${drops.length ? drops.join(' ') : 0} ` +
        `busy ${load.busy_share === null ? '-' : `${(load.busy_share * 100).toFixed(1)}%`} ` +
        `cycles/frame ${load.cycles_per_frame ?? '-'}`,
    );
  }
  lines.push(`table: ${s.table.bindings} bindings of ${s.table.capacity}, ${s.table.ipv6Bindings} IPv6 of ${s.table.ipv6Capacity}`);
  return lines.join('\n');
}
