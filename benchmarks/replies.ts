// ARP replies per second per worker lcore, against dpdk-testpmd macswap on the same port and
// pcap (issue 2). For each table size: write a pcap of ARP requests for bound addresses, run
// microarp on it in a child process (EAL starts once per process), then testpmd, one at a time
// (two contenders on a two-core machine would measure each other).
//
//   npm run bench:replies
//   node dist/benchmarks/replies.js [--seconds 5] [--sizes 1,1024,65536,1048576]
//                                   [--frames 65536] [--senders N] [--hugepages] [--workers 1]
//                                   [--warmup 1] [--repeat 3] [--memory-mb 1024]
// --senders: how many requesters the frames come from, in turn (default: one per frame).
// --hugepages: both contenders on 2 MiB hugepages, from a hugetlbfs mounted for the run (and
// pages reserved for it, given back after), instead of --no-huge.
// --workers N: N workers, each on an RX queue of its own replaying the pcap (testpmd: N
// forwarding cores, N queue pairs); the table reports replies per worker.
// --nd: IPv6 Neighbor Solicitations (86 bytes, with a source link-layer option) for IPv6
// bindings instead of ARP requests: the NS -> NA figure, against macswap on the same pcap.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writePcap } from '../test/helpers/pcap';
import { RESULT_TAG, type ChildResult } from './child_result';
import { removeRuntimeDir, sleep, start, tail, terminateAll } from './processes';
import { runTestpmd } from './testpmd';
import { HUGE_DIR_ENV } from './bench_eal';
import { requestFrames, solicitationFrames } from './workload';

/** The issue's target: microarp answers at least this fraction of macswap's rate. */
const TARGET_RATIO = 0.5;
/** CPUs busy during a window above which something besides the polling lcore ran. */
const BUSY_LIMIT = 1.1;
const RETRIES = 5;
const RETRY_PAUSE_S = 10;
const CHILD = join(__dirname, 'replies_child.js');
const REPO = join(__dirname, '..', '..');

interface Options {
  seconds: number;
  warmup: number;
  sizes: number[];
  frames: number;
  senders: number;
  workers: number;
  hugepages: boolean;
  memoryMb: number;
  repeat: number;
  nd: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      sizes: { type: 'string', default: '1,1024,65536,1048576' },
      // Enough distinct targets that a large table is not looked up in a few cached buckets.
      frames: { type: 'string', default: '65536' },
      senders: { type: 'string' },
      workers: { type: 'string', default: '1' },
      hugepages: { type: 'boolean', default: false },
      'memory-mb': { type: 'string', default: '1024' },
      repeat: { type: 'string', default: '3' },
      nd: { type: 'boolean', default: false },
    },
  });
  const positive = (text: string, what: string): number => {
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, not '${text}'`);
    return n;
  };
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  if (!(seconds > 0) || !(warmup >= 0)) throw new Error('--seconds must be > 0 and --warmup >= 0');
  return {
    seconds,
    warmup,
    sizes: values.sizes.split(',').map((s) => positive(s.trim(), '--sizes')),
    frames: positive(values.frames, '--frames'),
    senders: values.senders === undefined ? positive(values.frames, '--frames') : positive(values.senders, '--senders'),
    hugepages: values.hugepages,
    workers: positive(values.workers, '--workers'),
    memoryMb: positive(values['memory-mb'], '--memory-mb'),
    repeat: positive(values.repeat, '--repeat'),
    nd: values.nd,
  };
}

function commit(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    // diff-index only reads: tracked files changed since HEAD (untracked files do not count).
    try {
      git('diff-index', '--quiet', 'HEAD', '--');
      return head;
    } catch {
      return `${head}+dirty`;
    }
  } catch {
    return 'unknown';
  }
}

/**
 * A hugetlbfs of the run's own (a DPDK primary deletes the unlocked page files of the directory
 * it uses, so never a shared one) with `mb` of 2 MiB pages reserved on top of what is free; the
 * children find it through HUGE_DIR_ENV. Returns what undoes it.
 */
function useHugepages(dir: string, mb: number): () => void {
  const mount = join(dir, 'hugetlbfs');
  mkdirSync(mount);
  const nr = '/proc/sys/vm/nr_hugepages';
  const before = Number(readFileSync(nr, 'utf8'));
  const free = Number(/HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const wanted = Math.ceil(mb / 2);
  if (free < wanted) writeFileSync(nr, String(before + wanted - free));
  execFileSync('mount', ['-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev', mount]);
  process.env[HUGE_DIR_ENV] = mount;
  return () => {
    delete process.env[HUGE_DIR_ENV];
    execFileSync('umount', [mount]);
    writeFileSync(nr, String(before));
  };
}

let runs = 0;
/** Unique per EAL instance: two instances sharing a prefix would fight over its files. */
const nextPrefix = (what: string): string => `microarp-bench-${process.pid}-${++runs}-${what}`;

async function runMicroarp(o: Options, pcap: string, size: number): Promise<ChildResult> {
  const prefix = nextPrefix('microarp');
  const args = [
    CHILD, '--pcap', pcap, '--frames', String(o.frames), '--size', String(size),
    '--seconds', String(o.seconds), '--warmup', String(o.warmup),
    '--prefix', prefix, '--memory-mb', String(o.memoryMb), '--workers', String(o.workers),
    ...(o.nd ? ['--nd'] : []),
  ];
  // Loading a million bindings takes a few seconds; two minutes means something hung.
  const timeoutS = o.seconds + o.warmup + 120;
  const run = start(process.execPath, args, timeoutS * 1000);
  try {
    const done = await run.done;
    const line = done.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
    if (done.code !== 0 || !line) {
      const how = run.timedOut ? `did not finish in ${timeoutS} s` : `failed (code ${done.code}, ${done.signal ?? 'no signal'})`;
      throw new Error(`microarp run for ${count(size)} bindings ${how}:\n${tail(done.stdout + done.stderr)}`);
    }
    return JSON.parse(line.slice(RESULT_TAG.length)) as ChildResult;
  } finally {
    run.stop();
    await run.done.catch(() => undefined);
    removeRuntimeDir(prefix);
  }
}

const mpps = (perSec: number): string => `${(perSec / 1e6).toFixed(2)} M`;
const count = (n: number): string => n.toLocaleString('en-US');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "10.62 M (8.20-11.19)": the median, then the range when there was more than one run. */
function spread(xs: number[]): string {
  if (xs.length < 2) return mpps(median(xs));
  const f = (x: number): string => (x / 1e6).toFixed(2);
  return `${mpps(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
}

interface Row {
  size: number;
  replies: number[];
  baseline: number[];
}

/**
 * Runs `fn` again while its window saw more CPUs busy than `pollers` polling lcores: on two cores
 * anything else (a build, a test) takes time from a worker, and the figure says nothing about
 * microarp. (With as many pollers as CPUs nothing else can be told apart; no retry then.)
 */
async function quietly<T extends { cpusBusy: number }>(what: string, pollers: number, notes: string[], fn: () => Promise<T>): Promise<T> {
  const limit = pollers + BUSY_LIMIT - 1;
  const busy = (r: T): boolean => pollers < cpus().length && r.cpusBusy > limit;
  let result = await fn();
  for (let retry = 1; busy(result) && retry <= RETRIES; retry++) {
    console.log(`  ${what}: ${result.cpusBusy.toFixed(2)} CPUs busy where ${pollers} poll; again in ${RETRY_PAUSE_S} s`);
    await sleep(RETRY_PAUSE_S * 1000);
    result = await fn();
  }
  if (busy(result)) {
    notes.push(`${what}: ${result.cpusBusy.toFixed(2)} CPUs busy where ${pollers} poll, ${RETRIES} retries: ` +
      'something else ran on the machine, the figure is low');
  }
  return result;
}

/**
 * One microarp run then one testpmd run, `repeat` times: alternating spreads slow drifts of
 * the machine (other tenants of the host, frequency) over both contenders alike.
 */
async function measure(o: Options, dir: string, size: number, notes: string[]): Promise<Row> {
  const pcap = join(dir, `requests-${size}.pcap`);
  writePcap(pcap, o.nd ? solicitationFrames(size, o.frames, o.senders) : requestFrames(size, o.frames, o.senders));
  const row: Row = { size, replies: [], baseline: [] };
  for (let i = 1; i <= o.repeat; i++) {
    const what = `${count(size)} bindings, run ${i}/${o.repeat}`;
    const micro = await quietly(`${what}, microarp`, o.workers, notes, () => runMicroarp(o, pcap, size));
    // Per worker lcore: the figure the issue asks for, whatever the worker count.
    row.replies.push(micro.repliesPerSec / micro.workers);
    if (micro.unanswered !== 0 || micro.txFull !== 0) {
      notes.push(`${what}: ${count(micro.unanswered)} requests unanswered, ` +
        `${count(micro.txFull)} tx_full drops (expected 0)`);
    }
    const base = await quietly(`${what}, testpmd`, o.workers, notes, () =>
      runTestpmd({
        pcap, frames: o.frames, prefix: nextPrefix('testpmd'), memoryMb: o.memoryMb, workers: o.workers,
        warmupSeconds: o.warmup, seconds: o.seconds,
      }),
    );
    // Per forwarding core too: both sides of the ratio are per polling lcore.
    row.baseline.push(base.txPerSec / o.workers);
    console.log(`  ${what}: microarp ${mpps(row.replies.at(-1)!)} replies/s ` +
      `(table loaded in ${micro.loadSeconds.toFixed(1)} s, ${(micro.sourcesCached * 100).toFixed(0)}% of ` +
      `sources from the worker's cache), testpmd macswap ${mpps(base.txPerSec)} pkts/s`);
  }
  rmSync(pcap, { force: true });
  return row;
}

async function main(): Promise<void> {
  const o = options();
  const dir = mkdtempSync(join(tmpdir(), 'microarp-bench-'));
  const cleanUp = (): void => rmSync(dir, { recursive: true, force: true });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      terminateAll();
      // Give the children time to stop their EAL before their files go.
      setTimeout(() => {
        cleanUp();
        process.exit(130);
      }, 6000);
    });
  }

  console.log(`microarp ${commit()} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${new Date().toISOString()}`);
  const cleanUpHugepages = o.hugepages ? useHugepages(dir, o.memoryMb) : (): void => undefined;
  console.log(`net_pcap0 infinite_rx replaying ${count(o.frames)} ` +
    `${o.nd ? 'Neighbor Solicitations of 86 bytes (90' : 'ARP requests of 60 bytes (64'} on the ` +
    `wire) from ${count(o.senders)} senders, tx dropped by the PMD; ${o.workers} worker lcore(s); ` +
    `${o.hugepages ? 'hugepages' : `--no-huge -m ${o.memoryMb}`}; ` +
    `${o.warmup} s warm-up + ${o.seconds} s measured, ${o.repeat} run(s) each`);
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const size of o.sizes) rows.push(await measure(o, dir, size, notes));
  } finally {
    cleanUpHugepages();
    cleanUp();
  }

  console.log('');
  console.log(`| ${o.nd ? 'IPv6 bindings' : 'bindings'} | microarp ${o.nd ? 'NAs' : 'replies'}/s per worker | testpmd macswap pkts/s per core | ratio | target 0.5x |`);
  console.log('|---:|---:|---:|---:|:---|');
  let missed = 0;
  for (const r of rows) {
    const ratio = median(r.replies) / median(r.baseline);
    if (ratio < TARGET_RATIO) missed++;
    console.log(`| ${count(r.size)} | ${spread(r.replies)} | ${spread(r.baseline)} | ${ratio.toFixed(2)} | ` +
      `${ratio >= TARGET_RATIO ? 'met' : 'missed'} |`);
  }
  console.log('');
  if (o.repeat > 1) console.log('Medians of the runs, range in brackets; ratio = median / median.');
  notes.forEach((n) => console.log(`warning: ${n}`));
  console.log(missed ? `${missed} of ${rows.length} sizes below ${TARGET_RATIO}x the baseline.` :
    `Every size at or above ${TARGET_RATIO}x the baseline.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
