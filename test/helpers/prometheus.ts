// A real Prometheus server (Debian's /usr/bin/prometheus, installed by scripts/setup.sh) for one
// test: its own port, TSDB and config in the test's directory; stop() ends exactly the process
// it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { TempDir } from './daemon';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusServer {
  /** http://127.0.0.1:PORT */
  url: string;
  log(): string;
  /** An instant query through /api/v1/query; the vector it returns. */
  query(expr: string): Promise<Sample[]>;
  /** GET on the HTTP API (e.g. /api/v1/rules); the `data` of a successful answer. */
  api<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` every 250 ms until it returns a value, or fails naming `what` and the last error. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// Every Prometheus this file started: a SIGKILL on exit is the net for runs where after()
// does not run (node 20 skips after() of a suite whose tests --test-name-pattern filtered out).
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Writes `config` (prometheus.yml text) to the test's directory and starts Prometheus on it. */
export async function startPrometheus(dir: TempDir, config: string): Promise<PrometheusServer> {
  const configFile = dir.file('prometheus.yml');
  writeFileSync(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${dir.file('tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));

  const server: PrometheusServer = {
    url,
    log: () => log,
    async query(expr) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
      assert.equal(r.status, 200, `query ${expr}: HTTP ${r.status} ${body.error ?? ''}`);
      assert.equal(body.data.resultType, 'vector', `query ${expr}`);
      return body.data.result;
    },
    async api<T>(path: string) {
      const r = await fetch(`${url}${path}`);
      const body = (await r.json()) as { status: string; error?: string; data: T };
      assert.equal(r.status, 200, `GET ${path}: HTTP ${r.status} ${body.error ?? ''}`);
      return body.data;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await until('Prometheus to be ready', 30000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${log}`);
      const r = await fetch(`${url}/-/ready`);
      return r.ok ? true : undefined;
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
