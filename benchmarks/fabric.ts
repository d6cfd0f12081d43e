// The fabric's two figures, on this machine's loopback with a real 3-member etcd cluster:
//  1. learned on A -> answered on B: a VM on host A sends N gratuitous ARPs (a distinct sender
//     IP each, every 5 ms); host B's API is polled every ~5 ms for each binding to appear as
//     source "remote" from hv-a. Latency = first seen on B - sent on A (one clock). The path is
//     split with the record's own `updated` time (when A published it) and an etcd watch of
//     our own (when the write was visible to a watcher), then checked end to end with arping.
//  2. joining a fabric of M bindings: M intent records are written straight into etcd under a
//     fresh prefix, then a third host starts on that prefix; its first "fabric synchronised"
//     log line says how long the full sync took from the first connection attempt.
//   node dist/benchmarks/fabric.js [--bindings 1000] [--join 100000]
// Diagnosis options (the figures in RESULTS.md are without them): --interval MS between GARPs;
// --poll tail (B's answers carry only what is still outstanding, less API load); --nice-workers
// (DPDK workers at nice 19); --profile DIR (node --cpu-prof per daemon); --raw FILE (per binding).
// Everything made (etcd, daemons, namespaces, veths, directories) is removed at the end, also
// on failure or SIGINT/SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3, type IKeyValue } from 'etcd3';
import { ApiClient } from '../src/api/client';
import { FabricKeys, bindingRecord, parseBinding, prefixEnd } from '../src/fabric/records';
import { CLI, REPO, TempDir, withTestDefaults } from '../test/helpers/daemon';
import { startEtcdCluster, type EtcdCluster } from '../test/helpers/etcd';
import { NetnsPeer, sh } from '../test/helpers/netns';
import { Wire, freePort } from '../test/helpers/wire';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const GARP_SENDER = join(REPO, 'benchmarks', 'fixtures', 'garp_burst.py');
const FIRST_IP = 0x0a460001; // 10.70.0.1
/** --interval: milliseconds between two GARPs (the issue's figure is at 5). */
let sendIntervalMs = 5;
/** --raw FILE: one JSON line per binding (sent, published on A, seen in etcd, seen on B; epoch ms). */
let rawFile: string | undefined;
const POLL_INTERVAL_MS = 5;
const ARRIVAL_TIMEOUT_MS = 10_000;
const TXN_OPS = 128; // etcd's default --max-txn-ops
const TXNS_IN_FLIGHT = 8;

// ---- cleanup: everything made is undone in reverse order, in `finally` and on a signal ----------

const cleanups: { what: string; run: () => unknown; atExit?: () => void }[] = [];
const children = new Set<ChildProcess>();
/** `atExit`: a synchronous form, run should the process exit before the cleanup ran. */
function onCleanup(what: string, run: () => unknown, atExit?: () => void): void {
  cleanups.push({ what, run, atExit });
}
let cleaning: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let c = cleanups.pop(); c; c = cleanups.pop()) {
      try {
        await c.run();
      } catch (error) {
        process.stderr.write(`cleanup of ${c.what} failed: ${(error as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}
// A last resort should the process end without the async cleanup: no child outlives us.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (let c = cleanups.pop(); c; c = cleanups.pop()) {
    try {
      c.atExit?.();
    } catch {
      /* best effort */
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: cleaning up\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- the pieces ------------------------------------------------------------------------------


interface Host {
  name: string;
  child: ChildProcess;
  api: ApiClient;
  /** Date.now() just before the spawn. */
  spawnedAt: number;
  logs(): string;
  stop(): Promise<void>;
}

/** `microarp run` with a config in its own temporary directory (API socket and state there too). */
async function launch(name: string, config: Record<string, unknown>): Promise<Host> {
  const dir = new TempDir();
  onCleanup(`${name}'s directory`, () => dir.remove(), () => dir.remove());
  const full = withTestDefaults(dir, { telemetry: false, pdump: false, ...config });
  const file = dir.file('config.yaml');
  writeFileSync(file, JSON.stringify(full));
  const spawnedAt = Date.now();
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : [];
  const child = track(spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] }));
  onCleanup(`daemon ${name} (pid ${child.pid})`, () => stopChild(child));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const api = new ApiClient({ socket: (full.api as { socket: string }).socket });
  // Up once the API answers /readyz (at log_level warn there is no "started" line to wait for).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before starting:\n${stderr.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${name} did not answer /readyz in 30 s:\n${stderr.slice(-3000)}\nits threads (name: wchan):\n${threadStates(child.pid!)}`);
    if (await api.call('GET', '/readyz').then((r) => r.status === 200, () => false)) break;
    await sleep(20);
  }
  if (niceWorkers && niceWorkerThreads(child.pid!) === 0) throw new Error(`${name}: no rte-worker thread found to renice`);
  return {
    name,
    child,
    api,
    spawnedAt,
    logs: () => stderr,
    stop: () => stopChild(child),
  };
}

/**
 * --nice-workers: the daemon's DPDK worker threads (which poll without sleeping) at nice 19, so
 * that on this 2-core machine they give way to the control planes and etcd, roughly as if each
 * host had cores of its own. A measurement aid: the product never does this.
 */
let niceWorkers = false;
/** --profile DIR: each daemon runs with node --cpu-prof, its profile written to DIR/<host>/ at exit. */
let profileDir: string | undefined;
function niceWorkerThreads(pid: number): number {
  let n = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8');
    } catch {
      continue;
    }
    if (!comm.startsWith('rte-worker')) continue;
    if (spawnSync('renice', ['-n', '19', '-p', tid]).status === 0) n++;
  }
  return n;
}

/** Each thread of a process with the kernel function it sleeps in: where a stuck start is stuck. */
function threadStates(pid: number): string {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map((tid) => {
        const read = (f: string): string => {
          try {
            return readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim();
          } catch {
            return '?';
          }
        };
        return `  ${tid} ${read('comm')}: ${read('wchan')}`;
      })
      .join('\n');
  } catch (error) {
    return `  (${(error as Error).message})`;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}


/** The daemon's table-update latency histogram (microarp_update_latency_seconds): count, sum, buckets. */
interface UpdateLatency {
  count: number;
  sum: number;
  buckets: Map<string, number>;
}

function scrapeUpdates(port: number): Promise<UpdateLatency> {
  return new Promise((resolve, reject) => {
    httpGet(`http://127.0.0.1:${port}/metrics`, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const out: UpdateLatency = { count: 0, sum: 0, buckets: new Map() };
        for (const line of text.split('\n')) {
          const [name, value] = line.split(' ');
          if (name === 'microarp_update_latency_seconds_count') out.count = Number(value);
          else if (name === 'microarp_update_latency_seconds_sum') out.sum = Number(value);
          const le = /^microarp_update_latency_seconds_bucket\{le="([^"]+)"\}$/.exec(name ?? '');
          if (le) out.buckets.set(le[1]!, Number(value));
        }
        resolve(out);
      });
    }).on('error', reject);
  });
}

/** etcd's WAL fsync and backend commit histograms, summed over the members: count and seconds. */
interface EtcdDisk {
  fsyncs: number;
  fsyncSeconds: number;
  commits: number;
  commitSeconds: number;
}

async function scrapeEtcd(etcd: EtcdCluster): Promise<EtcdDisk> {
  const texts = await Promise.all(
    etcd.endpoints.map(
      (url) =>
        new Promise<string>((resolve, reject) => {
          httpGet(`${url}/metrics`, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          }).on('error', reject);
        }),
    ),
  );
  const out: EtcdDisk = { fsyncs: 0, fsyncSeconds: 0, commits: 0, commitSeconds: 0 };
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const [name, value] = line.split(' ');
      if (name === 'etcd_disk_wal_fsync_duration_seconds_count') out.fsyncs += Number(value);
      else if (name === 'etcd_disk_wal_fsync_duration_seconds_sum') out.fsyncSeconds += Number(value);
      else if (name === 'etcd_disk_backend_commit_duration_seconds_count') out.commits += Number(value);
      else if (name === 'etcd_disk_backend_commit_duration_seconds_sum') out.commitSeconds += Number(value);
    }
  }
  return out;
}

function etcdBetween(a: EtcdDisk, b: EtcdDisk): { fsyncs: number; fsyncMeanMs: number; commits: number; commitMeanMs: number } {
  const fsyncs = b.fsyncs - a.fsyncs;
  const commits = b.commits - a.commits;
  return { fsyncs, fsyncMeanMs: ((b.fsyncSeconds - a.fsyncSeconds) / Math.max(1, fsyncs)) * 1000, commits, commitMeanMs: ((b.commitSeconds - a.commitSeconds) / Math.max(1, commits)) * 1000 };
}

/** CPU seconds (user + system) of a process's main thread so far, from /proc. */
function mainThreadCpu(pid: number): number {
  return statCpu(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU seconds (user + system) of a whole process (every thread) so far. */
function processCpu(pid: number): number {
  return statCpu(`/proc/${pid}/stat`);
}

/** Busy and total CPU seconds of the machine so far (every CPU together), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((x, y) => x + y, 0);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: (total - idle) / 100, total: total / 100 };
}

function statCpu(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** What happened between two scrapes: writes, mean, and the share slower than 1 ms and 10 ms. */
function updatesBetween(before: UpdateLatency, after: UpdateLatency): { writes: number; meanMs: number; over1ms: number; over10ms: number } {
  const writes = after.count - before.count;
  const within = (le: string): number => (after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0);
  return {
    writes,
    meanMs: writes > 0 ? ((after.sum - before.sum) / writes) * 1000 : NaN,
    over1ms: writes > 0 ? 1 - within('0.001') / writes : NaN,
    over10ms: writes > 0 ? 1 - within('0.01') / writes : NaN,
  };
}

function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Nearest-rank percentile of sorted values. */
function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function summarise(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99), max: s[s.length - 1] ?? NaN };
}

const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');

/** The JSON log lines of a daemon whose msg is `msg`. */
function logLines(host: Host, msg: string): Record<string, unknown>[] {
  return host
    .logs()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---- 1. learned on A -> answered on B -------------------------------------------------------

interface LatencyResult {
  n: number;
  sent: number;
  latency: Summary;
  missing: number;
  wrongMac: number;
  /** send -> A published (record.updated), A published -> seen by an etcd watch, watch -> seen on B. */
  toPublish: Summary;
  toEtcd: Summary;
  toB: Summary;
  polls: { count: number; meanMs: number; maxMs: number; meanGapMs: number };
  /** Table writes (dataplane.apply round trips) on A and B from the first GARP to the end. */
  updatesA: ReturnType<typeof updatesBetween>;
  updatesB: ReturnType<typeof updatesBetween>;
  /** CPU seconds of A's and B's main (Node) threads from the first GARP to the end, and the span. */
  cpuA: number;
  cpuB: number;
  spanMs: number;
  /** CPU seconds over the same span: whole processes, and the machine (busy of total). */
  cpuBudget: { a: number; b: number; etcd: number; bench: number; machineBusy: number; machineTotal: number };
  /** etcd's disk during the burst, all three members together. */
  etcdDisk: ReturnType<typeof etcdBetween>;
  pollMode: PollMode;
  senderLateMs: number;
  arping: { ip: string; expected: string; ok: boolean; line: string };
}

/**
 * `full` polls the whole /16 each time (the issue's query); `tail` adds a cursor after the
 * highest address below which every one was seen, so that each answer carries only what is
 * still outstanding: the same observation at a fraction of the API's and our own CPU.
 */
type PollMode = 'full' | 'tail';

async function learnedToAnswered(etcd: EtcdCluster, n: number, pollMode: PollMode): Promise<LatencyResult> {
  const wire = new Wire();
  onCleanup(`wire ${wire.ns}`, () => wire.remove(), () => wire.remove());
  wire.create();
  const vmA = new NetnsPeer('10.60.0.1/24');
  onCleanup(`netns ${vmA.ns}`, () => vmA.remove(), () => vmA.remove());
  vmA.create();
  const vmB = new NetnsPeer('10.60.0.2/24');
  onCleanup(`netns ${vmB.ns}`, () => vmB.remove(), () => vmB.remove());
  vmB.create();
  const prefix = `/microarp-bench-${process.pid}-ab/`;
  const metricsPorts = [await freePort(), await freePort()];
  const hostConfig = (i: number): Record<string, unknown> => ({
    metrics: { listen: `127.0.0.1:${metricsPorts[i]}` },
    ports: [
      { name: 'vm', device: `net_af_packet0,iface=${[vmA, vmB][i]!.hostIf}` },
      { name: 'up', device: `net_af_packet1,iface=${wire.hostIfs[i]}`, uplink: true },
    ],
    table: { capacity: Math.max(4096, 4 * n) },
    learning: { max_per_port: n + 1024, max_per_vlan: Math.max(65536, n + 1024) },
    log_level: 'warn',
    fabric: { host: ['hv-a', 'hv-b'][i], etcd: { endpoints: etcd.endpoints, prefix } },
  });
  const a = await launch('hv-a', hostConfig(0));
  const b = await launch('hv-b', hostConfig(1));
  for (const h of [a, b]) {
    await waitFor(`${h.name}'s fabric to be up`, async () => ((await h.api.call('GET', '/readyz')).body as { fabric?: string }).fabric === 'up', 20_000);
  }
  const macA = vmA.mac();
  const ips = new Set(Array.from({ length: n }, (_, k) => ipText(FIRST_IP + k)));

  // Our own etcd watch: when each learned record became visible to a watcher, and A's `updated`.
  const client = new Etcd3({ hosts: etcd.endpoints });
  onCleanup('etcd watch client', () => client.close());
  const inEtcd = new Map<string, number>();
  const published = new Map<string, number>();
  const watcher = await client.watch().prefix(`${prefix}bindings/learned/`).create();
  onCleanup('etcd watcher', () => watcher.cancel());
  watcher.on('put', (kv: IKeyValue) => {
    const t = Date.now();
    const ip = kv.key.toString().split('/').pop()!;
    if (inEtcd.has(ip)) return;
    inEtcd.set(ip, t);
    try {
      published.set(ip, Date.parse((JSON.parse(kv.value.toString()) as { updated: string }).updated));
    } catch {
      /* not ours to judge here */
    }
  });

  // B's API, polled every ~5 ms.
  const seenOnB = new Map<string, number>();
  let wrongMac = 0;
  let polling = true;
  const polls = { count: 0, totalMs: 0, maxMs: 0, first: 0, last: 0 };
  let pollError: Error | null = null;
  let contiguous = 0; // FIRST_IP + k seen on B for every k below this
  const poller = (async () => {
    while (polling) {
      const t0 = Date.now();
      while (seenOnB.has(ipText(FIRST_IP + contiguous))) contiguous++;
      const cursor = pollMode === 'tail' && contiguous > 0 ? `&cursor=${FIRST_IP + contiguous - 1}` : '';
      const r = await b.api.call('GET', `/v1/bindings?prefix=10.70.0.0/16&limit=10000${cursor}`);
      const t1 = Date.now();
      if (r.status !== 200) throw new Error(`GET /v1/bindings on B: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      for (const x of (r.body as { bindings: { ip: string; mac: string; source: string; host?: string }[] }).bindings) {
        if (x.source !== 'remote' || x.host !== 'hv-a' || seenOnB.has(x.ip) || !ips.has(x.ip)) continue;
        if (x.mac !== macA) wrongMac++;
        seenOnB.set(x.ip, t1);
      }
      polls.count++;
      polls.totalMs += t1 - t0;
      polls.maxMs = Math.max(polls.maxMs, t1 - t0);
      polls.first ||= t0;
      polls.last = t0;
      await sleep(Math.max(0, t0 + POLL_INTERVAL_MS - Date.now()));
    }
  })().catch((error: Error) => {
    pollError = error;
    polling = false;
  });
  onCleanup('B poller', async () => {
    polling = false;
    await poller;
  });

  const updatesBefore = await Promise.all(metricsPorts.map(scrapeUpdates));
  const etcdBefore = await scrapeEtcd(etcd);
  const cpuBefore = [mainThreadCpu(a.child.pid!), mainThreadCpu(b.child.pid!)];
  const etcdPids = etcd.members.map((m) => m.pid);
  const budget = (): { a: number; b: number; etcd: number; bench: number; machineBusy: number; machineTotal: number } => {
    const machine = machineCpu();
    const bench = process.cpuUsage();
    return {
      a: processCpu(a.child.pid!),
      b: processCpu(b.child.pid!),
      etcd: etcdPids.reduce((sum, pid) => sum + processCpu(pid), 0),
      bench: (bench.user + bench.system) / 1e6,
      machineBusy: machine.busy,
      machineTotal: machine.total,
    };
  };
  const budgetBefore = budget();
  const spanStart = Date.now();
  // The GARPs, from A's VM.
  const sentAt = new Map<string, number>();
  let senderLateMs = NaN;
  const sender = track(spawn('ip', ['netns', 'exec', vmA.ns, '/usr/bin/python3', GARP_SENDER, vmA.peerIf, ipText(FIRST_IP), String(n), String(sendIntervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  onCleanup('GARP sender', () => stopChild(sender, 2000));
  let out = '';
  let err = '';
  sender.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  sender.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = JSON.parse(out.slice(0, nl)) as { ip?: string; t?: number; late_ms?: number };
      out = out.slice(nl + 1);
      if (line.ip !== undefined && line.t !== undefined) sentAt.set(line.ip, line.t * 1000);
      if (line.late_ms !== undefined) senderLateMs = line.late_ms;
    }
  });
  const code = await new Promise<number | null>((r) => sender.once('exit', (c) => r(c)));
  if (code !== 0 || sentAt.size !== n) throw new Error(`GARP sender exited ${code} after ${sentAt.size} of ${n} frames:\n${err}`);
  const lastSent = Math.max(...sentAt.values());
  while (polling && seenOnB.size < n && Date.now() < lastSent + ARRIVAL_TIMEOUT_MS) await sleep(20);
  polling = false;
  await poller;
  if (pollError) throw pollError;
  const updatesAfter = await Promise.all(metricsPorts.map(scrapeUpdates));
  const etcdAfter = await scrapeEtcd(etcd);
  const cpuAfter = [mainThreadCpu(a.child.pid!), mainThreadCpu(b.child.pid!)];
  const budgetAfter = budget();
  const spanMs = Date.now() - spanStart;

  const latencies: number[] = [];
  const toPublish: number[] = [];
  const toEtcd: number[] = [];
  const toB: number[] = [];
  let missing = 0;
  for (const [ip, t] of sentAt) {
    const seen = seenOnB.get(ip);
    if (seen === undefined || seen - t > ARRIVAL_TIMEOUT_MS) {
      missing++;
      continue;
    }
    latencies.push(seen - t);
    const pub = published.get(ip);
    const visible = inEtcd.get(ip);
    if (pub !== undefined && visible !== undefined) {
      toPublish.push(pub - t);
      toEtcd.push(visible - pub);
      toB.push(seen - visible);
    }
  }

  if (rawFile) {
    writeFileSync(rawFile, [...sentAt].map(([ip, t]) => JSON.stringify({ ip, sent: t, published: published.get(ip), etcd: inEtcd.get(ip), b: seenOnB.get(ip) })).join('\n') + '\n');
  }

  // The table is the answer: B's VM resolves a sampled address to A's VM's MAC.
  const sample = ipText(FIRST_IP + Math.floor(n / 2));
  const r = vmB.exec('arping', ['-c', '1', '-w', '2', '-I', vmB.peerIf, sample]);
  const line = (r.stdout.split('\n').find((l) => l.includes('bytes from')) ?? `${r.stdout}${r.stderr}`.trim()).trim();
  const arping = { ip: sample, expected: macA, ok: r.status === 0 && line.toLowerCase().includes(macA), line };

  watcher.removeAllListeners('put');
  const gap = polls.count > 1 ? (polls.last - polls.first) / (polls.count - 1) : NaN;
  // A and B are stopped here so that the join below has the machine to itself.
  await a.stop();
  await b.stop();
  return {
    n,
    sent: sentAt.size,
    latency: summarise(latencies),
    missing,
    wrongMac,
    toPublish: summarise(toPublish),
    toEtcd: summarise(toEtcd),
    toB: summarise(toB),
    polls: { count: polls.count, meanMs: polls.totalMs / Math.max(1, polls.count), maxMs: polls.maxMs, meanGapMs: gap },
    updatesA: updatesBetween(updatesBefore[0]!, updatesAfter[0]!),
    updatesB: updatesBetween(updatesBefore[1]!, updatesAfter[1]!),
    etcdDisk: etcdBetween(etcdBefore, etcdAfter),
    cpuA: cpuAfter[0]! - cpuBefore[0]!,
    cpuB: cpuAfter[1]! - cpuBefore[1]!,
    spanMs,
    cpuBudget: {
      a: budgetAfter.a - budgetBefore.a,
      b: budgetAfter.b - budgetBefore.b,
      etcd: budgetAfter.etcd - budgetBefore.etcd,
      bench: budgetAfter.bench - budgetBefore.bench,
      machineBusy: budgetAfter.machineBusy - budgetBefore.machineBusy,
      machineTotal: budgetAfter.machineTotal - budgetBefore.machineTotal,
    },
    pollMode,
    senderLateMs,
    arping,
  };
}

// ---- 2. joining a fabric of M bindings -----------------------------------------------------------

interface JoinResult {
  m: number;
  prefillMs: number;
  /** The bench's own reads of the prefix, before the host joins: pages of 1000 (+ parse), 1000, 10,000. */
  reads: { page1000parsed: number; page1000: number; page1000serializable: number; page10000: number };
  msSinceStart: number;
  records: number;
  installed: number;
  fetchMs: number;
  installMs: number;
  spawnToReadyMs: number;
  spawnToTotalMs: number;
  total: number;
  /** The joining host's warn and error log lines (a retried connection explains a slow join). */
  warnings: string[];
}

/**
 * An etcd request, tried again (up to 5 times) when etcd is momentarily overloaded ("request
 * timed out", no leader): the machine is shared. Only for idempotent requests.
 */
async function retried<T>(what: string, request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= 5 || !/UNAVAILABLE|timed out|no leader|DEADLINE/i.test(String((error as Error).message))) throw error;
      process.stderr.write(`${what}: ${(error as Error).message.split('\n')[0]}; retrying\n`);
      await sleep(200 * attempt);
    }
  }
}

/**
 * Reads every key under `prefix` page by page at the first page's revision, as the fabric
 * client's full sync does; `parse` also validates each value as it does. Milliseconds.
 */
async function pagedRead(client: Etcd3, prefix: string, page: number, parse: boolean, serializable = false): Promise<{ ms: number; keys: number }> {
  const keys = new FabricKeys(prefix);
  const end = prefixEnd(Buffer.from(prefix));
  let from = Buffer.from(prefix);
  let revision = 0;
  let count = 0;
  const t0 = Date.now();
  for (;;) {
    const res = await retried('paged read', () => client.kv.range({ key: from, range_end: end, limit: page, ...(revision ? { revision, serializable } : {}) }));
    if (!revision) revision = Number(res.header.revision);
    count += res.kvs.length;
    if (parse) {
      for (const item of res.kvs) {
        const parsed = keys.parse(item.key.toString());
        if (parsed?.type !== 'binding' || !parseBinding(item.value, parsed.kind, parsed.vlan, parsed.ip)) throw new Error(`paged read: ${item.key.toString()} does not parse`);
      }
    }
    const last = res.kvs[res.kvs.length - 1];
    if (!res.more || !last) break;
    from = Buffer.concat([last.key, Buffer.from([0])]);
  }
  return { ms: Date.now() - t0, keys: count };
}

async function prefill(etcd: EtcdCluster, prefix: string, m: number): Promise<number> {
  const client = new Etcd3({ hosts: etcd.endpoints });
  onCleanup('etcd prefill client', () => client.close());
  const keys = new FabricKeys(prefix);
  const now = new Date();
  const t0 = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const from = next;
      if (from >= m) return;
      next = Math.min(m, from + TXN_OPS);
      const success: { request_put: { key: Buffer; value: Buffer } }[] = [];
      for (let k = from; k < next; k++) {
        const ip = ipText(0x0a500000 + k); // 10.80.0.0 upwards
        const mac = `02:80:${[k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
        const record = bindingRecord({ ip, mac, vlan: 0 }, 'intent', 'hv-a', now);
        success.push({ request_put: { key: Buffer.from(keys.binding('intent', 0, ip)), value: Buffer.from(JSON.stringify(record)) } });
      }
      await retried('prefill txn', () => client.kv.txn({ compare: [], success, failure: [] }));
    }
  };
  await Promise.all(Array.from({ length: TXNS_IN_FLIGHT }, worker));
  const elapsed = Date.now() - t0;
  const count = await retried('prefill count', () => client.getAll().prefix(`${prefix}bindings/intent/`).count());
  if (count !== m) throw new Error(`prefill: etcd holds ${count} intent records, not ${m}`);
  return elapsed;
}

async function joinFabric(etcd: EtcdCluster, m: number): Promise<JoinResult> {
  const prefix = `/microarp-bench-${process.pid}-join/`;
  const prefillMs = await prefill(etcd, prefix, m);
  const reader = new Etcd3({ hosts: etcd.endpoints });
  onCleanup('etcd reader client', () => reader.close());
  await pagedRead(reader, prefix, 1000, false); // warm: connection, etcd's caches
  const reads = {
    page1000parsed: (await pagedRead(reader, prefix, 1000, true)).ms,
    page1000: (await pagedRead(reader, prefix, 1000, false)).ms,
    page1000serializable: (await pagedRead(reader, prefix, 1000, false, true)).ms,
    page10000: (await pagedRead(reader, prefix, 10000, false)).ms,
  };
  const j = await launch('hv-j', {
    ports: [{ name: 'p0', device: 'net_null0' }, { name: 'up', device: 'net_null1', uplink: true }],
    table: { capacity: m + 4096 },
    log_level: 'info',
    fabric: { host: 'hv-j', etcd: { endpoints: etcd.endpoints, prefix } },
  });
  const startedAt = Date.now();
  let total = 0;
  await waitFor(
    `hv-j to hold ${m} bindings`,
    async () => {
      total = ((await j.api.call('GET', '/v1/bindings?limit=1')).body as { total: number }).total;
      return total >= m;
    },
    60_000,
    10,
  );
  const spawnToTotalMs = Date.now() - j.spawnedAt;
  await waitFor('the "fabric synchronised" log line', async () => logLines(j, 'fabric synchronised').length > 0, 10_000);
  await sleep(300);
  total = ((await j.api.call('GET', '/v1/bindings?limit=1')).body as { total: number }).total;
  const synchronised = logLines(j, 'fabric synchronised')[0]!;
  const synced = logLines(j, 'fabric synced')[0];
  const warnings = j
    .logs()
    .split('\n')
    .filter((l) => /"level":"(warn|error)"/.test(l));
  const msSinceStart = Number(synchronised.ms_since_start);
  const syncEnd = Date.parse(String(synchronised.time));
  const fabricStart = syncEnd - msSinceStart;
  const fetchEnd = synced ? Date.parse(String(synced.time)) : NaN;
  await j.stop();
  return {
    m,
    prefillMs,
    reads,
    msSinceStart,
    records: Number(synchronised.records),
    installed: Number(synchronised.installed),
    fetchMs: fetchEnd - fabricStart,
    installMs: syncEnd - fetchEnd,
    spawnToReadyMs: startedAt - j.spawnedAt,
    spawnToTotalMs,
    total,
    warnings,
  };
}

// ---- report ----------------------------------------------------------------------------------

function report(l: LatencyResult, j: JoinResult, etcdVersion: string, loadBefore: number): string {
  const lat = (s: Summary): string => `p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;
  const rows: string[] = [];
  rows.push(`conditions: ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, loopback and veths, 3-member etcd ${etcdVersion} (default fsync, data in ${tmpdir()}), node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after${niceWorkers ? '; DPDK worker threads at nice 19 (--nice-workers)' : ''}`);
  rows.push('');
  rows.push(`1. learned on A -> answered on B, N=${l.n} GARPs from A's VM, one every ${sendIntervalMs} ms (sender at most ${l.senderLateMs} ms late)`);
  rows.push(`   arrived on B          ${l.latency.count}/${l.sent}, ${l.missing} not within ${ARRIVAL_TIMEOUT_MS / 1000} s${l.wrongMac ? `, ${l.wrongMac} with a wrong MAC` : ''}`);
  rows.push(`   sent -> seen on B     ${lat(l.latency)}   (goal p99 < 100 ms: ${l.latency.p99 < 100 && l.missing === 0 ? 'met' : 'MISSED'})`);
  rows.push(`     sent -> A publishes          ${lat(l.toPublish)}`);
  rows.push(`     A publishes -> etcd watch    ${lat(l.toEtcd)}`);
  rows.push(`     etcd watch -> seen on B      ${lat(l.toB)}`);
  const upd = (u: LatencyResult['updatesA']): string => `${u.writes} table writes, dataplane apply mean ${u.meanMs.toFixed(2)} ms, ${(u.over1ms * 100).toFixed(0)}% > 1 ms, ${(u.over10ms * 100).toFixed(0)}% > 10 ms`;
  const cpu = (seconds: number): string => `main thread ${seconds.toFixed(2)} s CPU in ${(l.spanMs / 1000).toFixed(1)} s (${((seconds * 1000) / l.n).toFixed(2)} ms per binding)`;
  rows.push(`   A: ${cpu(l.cpuA)}; ${upd(l.updatesA)}`);
  rows.push(`   B: ${cpu(l.cpuB)}; ${upd(l.updatesB)}`);
  const share = (x: number): string => `${((x / l.cpuBudget.machineTotal) * 100).toFixed(0)}%`;
  rows.push(`   CPU of the machine over that span: ${share(l.cpuBudget.machineBusy)} busy; A ${share(l.cpuBudget.a)}, B ${share(l.cpuBudget.b)} (each with a polling worker), etcd ${share(l.cpuBudget.etcd)}, this process ${share(l.cpuBudget.bench)}`);
  rows.push(`   etcd (3 members together): ${l.etcdDisk.fsyncs} WAL fsyncs, mean ${l.etcdDisk.fsyncMeanMs.toFixed(2)} ms; ${l.etcdDisk.commits} backend commits, mean ${l.etcdDisk.commitMeanMs.toFixed(2)} ms`);
  rows.push(`   B polled (${l.pollMode}) ${l.polls.count} times, one every ${l.polls.meanGapMs.toFixed(1)} ms on average (GET of the /16: mean ${l.polls.meanMs.toFixed(1)} ms, max ${l.polls.maxMs} ms)`);
  rows.push(`   arping from B's VM for ${l.arping.ip}: ${l.arping.ok ? `answered with A's VM MAC ${l.arping.expected}` : `NOT answered with ${l.arping.expected}: ${l.arping.line}`}`);
  rows.push('');
  rows.push(`2. joining a fabric of M=${j.m} intent records`);
  rows.push(`   prefill (etcd3 client, ${TXN_OPS} puts per txn, ${TXNS_IN_FLIGHT} txns in flight)  ${(j.prefillMs / 1000).toFixed(2)} s  (${Math.round(j.m / (j.prefillMs / 1000))} puts/s)`);
  rows.push(`   first "fabric synchronised": ms_since_start ${j.msSinceStart} ms, records ${j.records}, installed ${j.installed}   (goal < 2 s: ${j.msSinceStart < 2000 ? 'met' : 'MISSED'})`);
  rows.push(`     lease, host key and paged read (${Math.ceil(j.records / 1000)} ranges of 1000)  ${ms(j.fetchMs)}`);
  rows.push(`     install into the table                                  ${ms(j.installMs)}`);
  rows.push(`   for comparison, this process reading the same prefix (etcd3 client, revision-pinned pages): pages of 1000 ${ms(j.reads.page1000)}, with each value parsed and validated ${ms(j.reads.page1000parsed)}, serializable after the first ${ms(j.reads.page1000serializable)}; pages of 10,000 ${ms(j.reads.page10000)}`);
  rows.push(`   spawn -> readyz ${ms(j.spawnToReadyMs)}; spawn -> API total >= M ${ms(j.spawnToTotalMs)}; total ${j.total} (${j.total === j.m ? '== M' : `!= M=${j.m}`})`);
  for (const w of j.warnings.slice(0, 5)) rows.push(`   hv-j logged: ${w.slice(0, 300)}`);
  return rows.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { bindings: { type: 'string', default: '1000' }, join: { type: 'string', default: '100000' }, poll: { type: 'string', default: 'full' }, 'nice-workers': { type: 'boolean', default: false }, profile: { type: 'string' }, interval: { type: 'string', default: '5' }, raw: { type: 'string' } } });
  rawFile = values.raw;
  sendIntervalMs = Number(values.interval);
  if (!(sendIntervalMs >= 0.1 && sendIntervalMs <= 1000)) throw new Error('--interval: milliseconds between GARPs, 0.1..1000');
  profileDir = values.profile;
  niceWorkers = values['nice-workers'] ?? false;
  const pollMode = values.poll as PollMode;
  if (pollMode !== 'full' && pollMode !== 'tail') throw new Error('--poll: full or tail');
  const n = Number(values.bindings);
  const m = Number(values.join);
  if (!Number.isInteger(n) || n < 1 || n > 65000) throw new Error('--bindings: an integer in 1..65000');
  if (!Number.isInteger(m) || m < 1 || m > 4_000_000) throw new Error('--join: an integer in 1..4000000');
  const etcdVersion = /etcd Version: (\S+)/.exec(spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  const t0 = Date.now();
  const loadBefore = loadavg()[0]!;
  let stage = 'starting etcd';
  try {
    const etcd = await startEtcdCluster({ members: 3 });
    onCleanup('etcd cluster', () => etcd.stop(), () => {
      for (const member of etcd.members) if (member.pid) process.kill(member.pid, 'SIGKILL');
      for (const member of etcd.members) rmSync(member.dataDir, { recursive: true, force: true });
    });
    stage = 'learned on A -> answered on B';
    const latency = await learnedToAnswered(etcd, n, pollMode);
    stage = 'joining a fabric';
    const joined = await joinFabric(etcd, m);
    stage = 'report';
    process.stdout.write(`${report(latency, joined, etcdVersion, loadBefore)}\n`);
    const failed = latency.missing > 0 || latency.wrongMac > 0 || !latency.arping.ok || joined.total !== m || joined.records !== m;
    if (failed) process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`failed during: ${stage}\n`);
    throw error;
  } finally {
    await cleanUp();
    process.stderr.write(`(run took ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
