// A `microarp run` that stays up while a test talks to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { CLI, TempDir, withTestDefaults } from './daemon';

export interface LiveDaemon {
  child: ChildProcess;
  /** The parsed "started" log line: api addresses, metrics URL, file prefix. */
  started: { api: string[]; metrics: string | null; file_prefix: string } & Record<string, unknown>;
  socket: string;
  /** The config file it runs from, which a test may rewrite and have it reload. */
  file: string;
  logs(): string;
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `nodeArgs`: options for node itself (V8's), before the CLI's path. */
export async function startDaemon(dir: TempDir, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<LiveDaemon> {
  const full = withTestDefaults(dir, config);
  const file = dir.file(`daemon-${Date.now()}.yaml`);
  writeFileSync(file, JSON.stringify(full));
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', file, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const started = await new Promise<LiveDaemon['started']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in time:\n${stderr}`)), 30000);
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const line = stderr.split('\n').find((l) => l.includes('"msg":"started"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as LiveDaemon['started']);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited ${code} before starting:\n${stderr}`));
    });
  });
  const api = full.api as { socket?: string };
  return {
    child,
    started,
    socket: api.socket ?? '',
    file,
    logs: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      return { code: child.exitCode, stdout, stderr };
    },
  };
}

/**
 * DPDK 22.11's net_af_packet names its PACKET_FANOUT group (getpid() ^ ifindex) & 0xffff, and the
 * kernel refuses (EINVAL) a group id another process already uses on another interface: with
 * tests running side by side (close pids, interleaved ifindexes) that happens. A new process
 * has a new pid, so starting again is the way out.
 */
export async function startDaemonRetrying(dir: TempDir, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<LiveDaemon> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDaemon(dir, config, env, nodeArgs);
    } catch (error) {
      if (attempt >= 3 || !/could not set PACKET_FANOUT/.test((error as Error).message)) throw error;
    }
  }
}
