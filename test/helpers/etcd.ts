// A real etcd cluster on loopback for one test: every member has its own data directory and
// ports, and stop() ends exactly the processes this helper started and removes their data.
// Debian's etcd-server (3.4) provides `etcd`, etcd-client provides `etcdctl`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdMember {
  name: string;
  /** The running process's id; 0 while the member is down. */
  pid: number;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}

export interface EtcdCluster {
  /** http://127.0.0.1:PORT of every member, in member order. */
  endpoints: string[];
  members: EtcdMember[];
  /** Signals member i (SIGKILL unless told) and resolves once it has exited. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts member i again on its data directory. Resolves once its client port accepts
   * connections; it serves requests only once a quorum is up again (see waitHealthy).
   */
  restart(i: number): Promise<void>;
  /** Resolves once every running member reports /health true (it has a leader). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** SIGTERMs every member still running, waits for the exits, removes the data directories. */
  stop(): Promise<void>;
  /** Runs etcdctl (API v3) against all endpoints and returns its stdout. */
  etcdctl(args: string[]): Promise<string>;
}

export interface EtcdClusterOptions {
  members: 1 | 3;
  /** Client port of member i is basePort + 2i, its peer port basePort + 2i + 1. Free ports when absent. */
  basePort?: number;
}

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const STDERR_TAIL = 16 * 1024;

/** One etcd process: its child, and the tail of its stderr for error messages. */
interface Proc {
  child: ChildProcess;
  stderr: string;
  exited: Promise<void>;
  done: boolean;
}

class Cluster implements EtcdCluster {
  readonly endpoints: string[];
  private readonly procs: (Proc | undefined)[] = [];
  private readonly initialCluster: string;
  private readonly token = `microarp-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  private stopped = false;
  /** A last resort if the test process exits without stop(): never leave an etcd behind. */
  private readonly onExit = (): void => {
    for (const p of this.procs) if (p && !p.done) p.child.kill('SIGKILL');
  };

  constructor(readonly members: EtcdMember[]) {
    this.endpoints = members.map((m) => m.clientUrl);
    this.initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    process.once('exit', this.onExit);
  }

  /** Spawns member i; `existing` for a restart on a data directory that already has the cluster. */
  spawnMember(i: number, state: 'new' | 'existing'): Proc {
    const m = this.member(i);
    const child = spawn(
      'etcd',
      [
        '--name', m.name,
        '--data-dir', m.dataDir,
        '--listen-client-urls', m.clientUrl,
        '--advertise-client-urls', m.clientUrl,
        '--listen-peer-urls', m.peerUrl,
        '--initial-advertise-peer-urls', m.peerUrl,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', state,
        '--initial-cluster-token', this.token,
        // Quick failover for tests: a leader is re-elected within about a second.
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const proc: Proc = { child, stderr: '', exited: Promise.resolve(), done: false };
    proc.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        proc.stderr += `\nspawn etcd: ${error.message}`;
        proc.done = true;
        resolve();
      });
      child.once('exit', () => {
        proc.done = true;
        m.pid = 0;
        resolve();
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      proc.stderr = (proc.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    m.pid = child.pid ?? 0;
    this.procs[i] = proc;
    return proc;
  }

  private member(i: number): EtcdMember {
    const m = this.members[i];
    if (!m) throw new Error(`etcd cluster: no member ${i} (the cluster has ${this.members.length})`);
    return m;
  }

  /** The tail of member i's stderr, for error messages. */
  stderrTail(i: number, lines = 15): string {
    return (this.procs[i]?.stderr ?? '').trimEnd().split('\n').slice(-lines).join('\n');
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.procs[i];
    if (!proc || proc.done) return;
    proc.child.kill(signal);
    await proc.exited;
  }

  async restart(i: number): Promise<void> {
    if (this.stopped) throw new Error('etcd cluster: restart after stop()');
    const running = this.procs[i];
    if (running && !running.done) throw new Error(`etcd cluster: member ${i} is still running (pid ${running.child.pid})`);
    const proc = this.spawnMember(i, 'existing');
    const port = Number(new URL(this.member(i).clientUrl).port);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await portAccepts(port))) {
      if (proc.done) throw new Error(`etcd member ${this.member(i).name} exited on restart:\n${this.stderrTail(i)}`);
      if (Date.now() > deadline) throw new Error(`etcd member ${this.member(i).name} does not listen on ${port} after ${START_TIMEOUT_MS} ms:\n${this.stderrTail(i)}`);
      await sleep(50);
    }
  }

  async waitHealthy(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await this.waitFor(timeoutMs, false);
  }

  /** Polls /health of the running members; at startup (`starting`), an exit fails at once. */
  async waitFor(timeoutMs: number, starting: boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exited = this.members.findIndex((_, i) => this.procs[i]?.done);
      if (starting && exited >= 0) {
        throw new Error(`etcd member ${this.member(exited).name} exited during startup:\n${this.stderrTail(exited)}`);
      }
      const running = this.members.map((_, i) => i).filter((i) => this.procs[i] && !this.procs[i]!.done);
      const health = await Promise.all(running.map((i) => healthy(this.member(i).clientUrl)));
      if (running.length > 0 && health.every(Boolean)) return;
      if (Date.now() > deadline) {
        const sick = running.filter((_, k) => !health[k]);
        const detail = sick.map((i) => `--- ${this.member(i).name} (${this.member(i).clientUrl}) stderr:\n${this.stderrTail(i)}`).join('\n');
        throw new Error(`etcd cluster not healthy after ${timeoutMs} ms (unhealthy: ${sick.map((i) => this.member(i).name).join(', ') || 'no member running'}):\n${detail}`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // One member at a time: SIGTERMed together, a leader waits seconds for a leadership
    // transfer to followers that are going away too; in turn, each stop takes milliseconds.
    for (const proc of this.procs) {
      if (!proc || proc.done) continue;
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await proc.exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', this.onExit);
    for (const m of this.members) rmSync(m.dataDir, { recursive: true, force: true });
  }

  etcdctl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'etcdctl',
        [`--endpoints=${this.endpoints.join(',')}`, '--dial-timeout=2s', '--command-timeout=5s', ...args],
        { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 15_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`etcdctl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
          else resolve(stdout);
        },
      );
    });
  }

  /** The first member whose process has exited, if any. */
  exitedEarly(): number | undefined {
    const i = this.procs.findIndex((p) => p?.done);
    return i >= 0 ? i : undefined;
  }
}

/** Starts a new cluster and resolves once every member is healthy (a leader is elected). */
export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  // Free ports can be taken by someone else between discovery and etcd's bind: try again
  // with other ports when a member could not bind (not with a fixed basePort).
  const attempts = options.basePort === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const ports = await choosePorts(options.members * 2, options.basePort);
    const members: EtcdMember[] = [];
    for (let i = 0; i < options.members; i++) {
      members.push({
        name: `m${i}`,
        pid: 0,
        clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
        peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
        dataDir: mkdtempSync(join(tmpdir(), `microarp-etcd-m${i}-`)),
      });
    }
    const cluster = new Cluster(members);
    for (let i = 0; i < members.length; i++) cluster.spawnMember(i, 'new');
    try {
      await cluster.waitFor(START_TIMEOUT_MS, true);
      return cluster;
    } catch (error) {
      const failed = cluster.exitedEarly();
      const portClash = failed !== undefined && /address already in use/.test(cluster.stderrTail(failed, 200));
      await cluster.stop();
      if (!portClash || attempt >= attempts) throw error;
    }
  }
}

/** `count` ports free on 127.0.0.1: consecutive from basePort (checked), or chosen by the kernel. */
async function choosePorts(count: number, basePort?: number): Promise<number[]> {
  if (basePort !== undefined) {
    const ports = Array.from({ length: count }, (_, k) => basePort + k);
    for (const port of ports) {
      const server = await listen(port).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`etcd cluster: port ${port} (basePort ${basePort}) is not free on 127.0.0.1: ${error.code ?? error.message}`);
      });
      await close(server);
    }
    return ports;
  }
  // Hold every server open until all are chosen so the kernel hands out distinct ports.
  const servers: Server[] = [];
  try {
    for (let k = 0; k < count; k++) servers.push(await listen(0));
    return servers.map((s) => {
      const address = s.address();
      if (!address || typeof address === 'string') throw new Error('etcd cluster: cannot read a probe port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** etcd's /health is true once the member has a leader and can serve a linearizable read. */
function healthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${clientUrl}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { health?: unknown }).health === 'true');
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
