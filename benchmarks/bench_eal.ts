// The EAL set-up both contenders share, so that the baseline differs from microarp only in
// what runs on the worker lcore: same port, same pcap, same lcores, same memory, same pool size.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { buildEalArgs } from '../src/config/eal_args';
import type { Config } from '../src/config/config';
import { validateConfig } from '../src/config/validate';

/**
 * The port: the pcap replayed forever from memory. No tx_pcap (nor tx_iface): the pcap PMD then
 * installs its tx_drop burst function, which counts and frees, so transmitting costs next to
 * nothing for either contender.
 */
export function pcapDevice(pcap: string, queues = 1): string {
  // One rx_pcap per queue: each queue (each worker) replays the file on its own.
  return `net_pcap0,${Array.from({ length: queues }, () => `rx_pcap=${pcap}`).join(',')},infinite_rx=1`;
}

/**
 * infinite_rx copies every frame of the pcap into an mbuf of the port's pool at queue setup and
 * keeps them there, so the pool holds them on top of what the queues and caches need.
 */
export function mbufsFor(frames: number, queues = 1): number {
  return frames * queues + 8192 * queues;
}

/**
 * `workers` workers (one by default), no hugepages: the config `microarp run` would start from,
 * built through the config validator so every setting the benchmark does not name keeps its
 * default.
 */
export function benchConfig(device: string, memoryMb: number, capacity: number, workers = 1): Config {
  const raw = {
    ports: [{ name: 'bench', device }],
    workers,
    memory_mb: memoryMb,
    hugepages: 'off',
    unknown: 'drop',
    table: { capacity },
  };
  const { config, issues } = validateConfig(raw, {});
  if (!config) throw new Error(`benchmark config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return config;
}

/**
 * The hugetlbfs mount both contenders use when the benchmark runs on hugepages (set by
 * replies.ts --hugepages for its children): its own mount, since a DPDK primary deletes the
 * unlocked hugepage files of whatever directory it uses.
 */
export const HUGE_DIR_ENV = 'MICROARP_BENCH_HUGE_DIR';

/**
 * microarp's own EAL argv (program name first): main lcore floating over every CPU, worker
 * lcore 1 pinned to CPU 1, --no-huge -m <memoryMb> (or hugepages from HUGE_DIR_ENV's mount),
 * --no-pci, the vdev, a unique prefix.
 */
export function benchEalArgs(config: Config, filePrefix: string): string[] {
  const hugeDir = process.env[HUGE_DIR_ENV];
  if (!hugeDir) return buildEalArgs(config, { filePrefix, freeHugeMb: 0, cpuCount: cpus().length });
  const onHugepages: Config = { ...config, hugepages: 'on', eal: [...config.eal, '--huge-dir', hugeDir] };
  return buildEalArgs(onHugepages, { filePrefix, freeHugeMb: config.memoryMb, cpuCount: cpus().length });
}

/** Where EAL keeps its runtime files for `prefix` (what a crashed run leaves behind). */
export function runtimeDir(prefix: string): string {
  const base = process.getuid?.() === 0 ? '/var/run' : (process.env.XDG_RUNTIME_DIR ?? '/tmp');
  return join(base, 'dpdk', prefix);
}
