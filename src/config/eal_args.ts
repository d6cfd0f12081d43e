// Builds the argv for rte_eal_init from the config: lcores, memory, a unique file prefix,
// and the devices behind the ports. The user's own `eal` arguments come last and win; any
// choice they make explicitly (lcores, memory, prefix, PCI scan) is not made for them.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Config } from './config';
import { deviceName, isPci } from './validate';

const LCORE_FLAGS = ['-l', '-c', '--lcores', '--main-lcore'];
const MEMORY_FLAGS = ['-m', '--socket-mem', '--no-huge', '--in-memory', '--huge-dir'];
const DEVICE_SCAN_FLAGS = ['-a', '-b', '--allow', '--block', '--no-pci'];

export class EalArgsError extends Error {}

function hasFlag(args: string[], flags: string[]): boolean {
  return args.some((a) => flags.some((f) => a === f || a.startsWith(`${f}=`) || (f.length === 2 && a.startsWith(f) && !a.startsWith('--'))));
}

/**
 * Free hugepage memory in MiB that EAL can use: the free pages of the default size from
 * /proc/meminfo, or 0 if it cannot be read or no hugetlbfs is mounted (pages reserved but not
 * mounted make EAL fail at start, so 'hugepages: auto' must not count them).
 */
export function freeHugepageMb(meminfo?: string, mounts?: string): number {
  let text = meminfo;
  let mounted = mounts;
  try {
    text ??= readFileSync('/proc/meminfo', 'utf8');
    mounted ??= readFileSync('/proc/mounts', 'utf8');
  } catch {
    return 0;
  }
  if (!/^\S+ \S+ hugetlbfs /m.test(mounted)) return 0;
  const free = /^HugePages_Free:\s+(\d+)/m.exec(text);
  const size = /^Hugepagesize:\s+(\d+) kB/m.exec(text);
  return free && size ? (Number(free[1]) * Number(size[1])) / 1024 : 0;
}

export function lcoreArgs(config: Config, cpuCount = cpus().length): string[] {
  const workerCpus =
    'cpus' in config.workers
      ? config.workers.cpus
      : Array.from({ length: config.workers.count }, (_, i) => (i + 1) % cpuCount);
  // Lcore ids: workers get 1..N pinned to their CPUs; the main lcore (Node's thread, and with
  // it every control thread) gets 0 on the CPUs no worker uses, so that nothing preempts a
  // polling worker; when workers take every CPU, the control side floats over all of them.
  const free = Array.from({ length: cpuCount }, (_, cpu) => cpu).filter((cpu) => !workerCpus.includes(cpu));
  const control = free.length > 0 ? free : Array.from({ length: cpuCount }, (_, cpu) => cpu);
  const lcores = [`0@(${control.join(',')})`, ...workerCpus.map((cpu, i) => `${i + 1}@${cpu}`)];
  return ['--lcores', lcores.join(','), '--main-lcore', '0'];
}

export interface EalArgsContext {
  filePrefix: string;
  freeHugeMb: number;
  cpuCount: number;
}

export function buildEalArgs(config: Config, ctx: EalArgsContext): string[] {
  const user = config.eal;
  const args = ['microarp'];

  if (hasFlag(user, LCORE_FLAGS)) {
    if ('cpus' in config.workers || config.workers.count !== 1) {
      throw new EalArgsError("give either 'workers' or EAL lcore arguments (-l/--lcores) in 'eal', not both");
    }
  } else {
    args.push(...lcoreArgs(config, ctx.cpuCount));
  }

  if (!hasFlag(user, MEMORY_FLAGS)) {
    const huge =
      config.hugepages === 'on' || (config.hugepages === 'auto' && ctx.freeHugeMb >= config.memoryMb);
    // --huge-unlink leaves no files behind, but a secondary process (dpdk-dumpcap, dpdk-pdump,
    // dpdk-proc-info) can then not map the memory: only without pdump. (With --no-huge no
    // secondary can attach at all.) The native cleanup removes the files at stop.
    if (huge) {
      if (!config.pdump) args.push('--huge-unlink');
    } else args.push('--no-huge', '-m', String(config.memoryMb));
  }

  if (!hasFlag(user, ['--file-prefix'])) args.push('--file-prefix', ctx.filePrefix);
  if (!hasFlag(user, ['--log-level'])) args.push('--log-level', 'lib.eal:notice');
  if (!config.telemetry && !hasFlag(user, ['--no-telemetry', '--telemetry'])) args.push('--no-telemetry');

  const userVdevs = new Set<string>();
  user.forEach((a, i) => {
    if (a === '--vdev' && user[i + 1]) userVdevs.add(user[i + 1]!.split(',')[0]!);
    else if (a.startsWith('--vdev=')) userVdevs.add(a.slice(7).split(',')[0]!);
  });
  const anyPci = config.ports.some((p) => isPci(p.device));
  if (!anyPci && !hasFlag(user, DEVICE_SCAN_FLAGS)) args.push('--no-pci');
  for (const port of config.ports) {
    if (isPci(port.device)) {
      if (!hasFlag(user, ['-b', '--block', '--no-pci'])) args.push('-a', deviceName(port.device));
    } else if (!userVdevs.has(deviceName(port.device))) {
      args.push('--vdev', port.device);
    }
  }
  return [...args, ...user];
}

export function defaultFilePrefix(): string {
  return `microarp-${process.pid}`;
}
