// A microarp killed with SIGKILL leaves its EAL runtime directory (/var/run/dpdk/<prefix>) and,
// on hugepages, its hugepage files behind; they hold memory until someone removes them. At
// start we remove those of prefixes microarp made itself (microarp-<pid>) whose process is
// gone, and nothing else: another application's files, or a live instance's, are never touched.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const RUNTIME_DIR = '/var/run/dpdk';
const OUR_PREFIX = /^microarp-(\d+)$/;

export interface Leftovers {
  prefixes: string[];
  hugepageFiles: number;
}

export function removeDpdkLeftovers(runtimeDir = RUNTIME_DIR, hugeDirs = hugetlbfsMounts()): Leftovers {
  const dead = listDir(runtimeDir).filter((name) => {
    const m = OUR_PREFIX.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  let hugepageFiles = 0;
  for (const prefix of dead) {
    rmSync(join(runtimeDir, prefix), { recursive: true, force: true });
    for (const dir of hugeDirs) {
      for (const file of listDir(dir)) {
        // EAL names them <prefix>map_<n>; "microarp-12map_0" must not match prefix "microarp-1".
        if (!file.startsWith(`${prefix}map_`)) continue;
        rmSync(join(dir, file), { force: true });
        hugepageFiles++;
      }
    }
  }
  return { prefixes: dead, hugepageFiles };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function hugetlbfsMounts(): string[] {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[2] === 'hugetlbfs' && f[1])
      .map((f) => f[1]!.replace(/\\040/g, ' '));
  } catch {
    return [];
  }
}
