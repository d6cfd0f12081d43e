// Runs `microarp run` as a child process (EAL can start once per process) with a config
// written to a temporary directory, and reads its NDJSON counters.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..', '..');
export const CLI = join(REPO, 'bin', 'microarp.js');

export interface StatsLine {
  time: string;
  final: boolean;
  ports: { name: string; device: string; rx: number; tx: number; rx_missed: number }[];
  lcores: ({ lcore: number; drops: Record<string, number> } & Record<string, unknown>)[];
  counters: Record<string, number>;
  drops: Record<string, number>;
  violations: Record<string, number>;
  table: { bindings: number; capacity: number; ringDepth: number };
}

export interface DaemonResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stats: StatsLine[];
  final?: StatsLine;
  stdout: string;
  stderr: string;
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'microarp-test-'));
  file(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface RunOptions {
  /** Until this holds for a stats line, the daemon keeps running (then gets SIGTERM). */
  until?: (s: StatsLine) => boolean;
  timeoutMs?: number;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Writes `config` (as JSON, which is YAML) and runs the daemon until `until` or timeout. */
export async function runDaemon(dir: TempDir, config: unknown, options: RunOptions = {}): Promise<DaemonResult> {
  const file = dir.file('config.yaml');
  writeFileSync(file, JSON.stringify(withTestDefaults(dir, config as Record<string, unknown>), null, 2));
  return runCli(['run', '--config', file, '--json', '--stats-period', '0.05', ...(options.extraArgs ?? [])], options);
}

/**
 * A control socket and a state directory inside the test's directory and no metrics port,
 * unless the test says: no test daemon may share the default /var/lib/microarp.
 */
export function withTestDefaults(dir: TempDir, config: Record<string, unknown>): Record<string, unknown> {
  return { api: { socket: dir.file('api.sock') }, metrics: 'off', state_dir: dir.file('state'), ...config };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<DaemonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    const stats: StatsLine[] = [];
    let stderr = '';
    let stdout = '';
    let buffered = '';
    let stopping = false;
    const stop = (): void => {
      if (!stopping && child.exitCode === null) {
        stopping = true;
        child.kill('SIGTERM');
      }
    };
    const timer = setTimeout(stop, options.timeoutMs ?? 20000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{"time"')) continue;
        const s = JSON.parse(line) as StatsLine;
        stats.push(s);
        if (!s.final && options.until?.(s)) stop();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stats, final: stats.find((s) => s.final), stdout, stderr });
    });
  });
}
