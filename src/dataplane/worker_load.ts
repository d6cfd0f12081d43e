// A worker's load from its cycle counters, for the stats line, the JSON and /metrics.

/**
 * A worker's load since start, as OVS's pmd-perf-show gives it: the share of its TSC cycles spent
 * in loop passes that handled frames, and those cycles per frame received (null before any).
 */
export function workerLoad(c: Record<string, number>): { busy_share: number | null; cycles_per_frame: number | null } {
  const busy = c.busy_cycles ?? 0;
  const total = busy + (c.idle_cycles ?? 0);
  const frames = c.rx_packets ?? 0;
  return {
    busy_share: total > 0 ? Number((busy / total).toFixed(4)) : null,
    cycles_per_frame: frames > 0 ? Math.round(busy / frames) : null,
  };
}
