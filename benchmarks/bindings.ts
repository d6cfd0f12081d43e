// Bindings per second: through the library (Dataplane.upsert, and the daemon's BindingTable
// path) and through the control API (a bulk import, NDJSON or CSV, each into a fresh daemon),
// each reported with its ratio to the library figure measured in the same run; and what the
// imported bindings cost the daemon in memory.
//   npm run bench:bindings [-- --count N]
// The import's body is built before the clock starts, as `microarp bindings import FILE` reads
// a file that exists: the figure is the daemon's, not the benchmark's string building.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ApiClient, readResponse } from '../src/api/client';

const REPO = join(__dirname, '..', '..');

function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

async function library(count: number): Promise<{ library: number; table: number }> {
  const r = spawnSync(process.execPath, [join(__dirname, 'bindings_child.js'), String(count), `microarp-bench-b${process.pid}`], { encoding: 'utf8', timeout: 600000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`bindings_child failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(13)) as { library: number; table: number };
}

const SINGLE_WRITES = 5000;
const WRITERS = 4;

/** Bulk import rate and single POST rate into a running daemon, with state_dir on or off. */
interface ApiFigures {
  /** Bindings/s of the import. */
  bulk: number;
  single: number;
  /** kB, from /proc: before the first import, and 10 s after it. */
  memory: { rssBefore: number; rssAfter: number; anonBefore: number; anonAfter: number; shmem: number };
}

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

function macText(prefix: string, k: number): string {
  return `${prefix}:${[k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255].map((o) => o.toString(16).padStart(2, '0')).join(':')}`;
}

/** One import of `count` bindings in `format` into a fresh daemon, then single writes. */
async function api(count: number, durable: boolean, format: 'ndjson' | 'csv'): Promise<ApiFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'microarp-bench-'));
  const socket = join(dir, 'api.sock');
  const config = join(dir, 'bench.yaml');
  writeFileSync(config, JSON.stringify({
    ports: [{ name: 'p0', device: 'net_null0' }],
    table: { capacity: count + SINGLE_WRITES + 16 },
    api: { socket },
    metrics: 'off',
    state_dir: durable ? join(dir, 'state') : 'off',
    learning: 'off',
    telemetry: false,
    pdump: false,
    log_level: 'warn',
  }));
  const daemon = spawn(process.execPath, [join(REPO, 'bin', 'microarp.js'), 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const client = new ApiClient({ socket });
    for (let i = 0; i < 300; i++) {
      const up = await client.call('GET', '/readyz').then((r) => r.status === 200, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines: string[] = [];
    for (let k = 0; k < count; k++) {
      lines.push(format === 'ndjson' ? `{"ip":"${ipText(0x0d000000 + k)}","mac":"${macText('02:cc', k)}"}\n` : `${ipText(0x0d000000 + k)},${macText('02:cc', k)}\n`);
    }
    const body = Buffer.from(lines.join(''));
    lines.length = 0;
    const before = procStatus(daemon.pid!);
    const t0 = process.hrtime.bigint();
    const res = await readResponse(await client.raw('POST', `/v1/bindings/import?format=${format}`, Readable.from([body])));
    const bulk = count / (Number(process.hrtime.bigint() - t0) / 1e9);
    const added = (res.body as { added?: number }).added;
    if (res.status !== 200 || added !== count) throw new Error(`import failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    // What the bindings cost, once the import's garbage had time to go.
    await new Promise((r) => setTimeout(r, 10000));
    const after = procStatus(daemon.pid!);
    const memory = { rssBefore: before.VmRSS!, rssAfter: after.VmRSS!, anonBefore: before.RssAnon!, anonAfter: after.RssAnon!, shmem: after.RssShmem! };
    // Single writes, each answered only once it is visible to the workers (and stored).
    let next = 0;
    const writer = async (): Promise<void> => {
      for (let k = next++; k < SINGLE_WRITES; k = next++) {
        const r = await client.call('POST', '/v1/bindings', { ip: ipText(0x0e000000 + k), mac: `02:dd:00:00:${((k >>> 8) & 255).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}` });
        if (r.status !== 201) throw new Error(`single write failed: ${r.status} ${JSON.stringify(r.body)}`);
      }
    };
    const t1 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const singleSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    return { bulk, single: SINGLE_WRITES / singleSeconds, memory };
  } finally {
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' } } });
  const count = Number(values.count);
  const lib = await library(count);
  const memoryOnly = await api(count, false, 'ndjson');
  const csv = await api(count, false, 'csv');
  const durable = await api(count, true, 'ndjson');
  const durableCsv = await api(count, true, 'csv');
  const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;
  const rows = [
    ['library: Dataplane.upsert (ring + writer)', lib.library],
    ["library: BindingTable.write (the daemon's path)", lib.table],
    ['API: NDJSON bulk import, state_dir off', memoryOnly.bulk],
    ['API: CSV bulk import, state_dir off', csv.bulk],
    ['API: NDJSON bulk import, state_dir on (one SQLite txn)', durable.bulk],
    ['API: CSV bulk import, state_dir on (one SQLite txn)', durableCsv.bulk],
  ] as const;
  process.stdout.write(`bindings/s, ${count} bindings each, ratio to Dataplane.upsert in the same run\n`);
  for (const [name, rate] of rows) {
    process.stdout.write(`  ${name.padEnd(56)} ${fmt(rate).padStart(10)}  ${(rate / lib.library).toFixed(2)}x  (${(count / rate).toFixed(2)} s)\n`);
  }
  process.stdout.write(`single API writes (POST /v1/bindings, ${WRITERS} writers, ${SINGLE_WRITES} writes), state_dir on vs off in the same run\n`);
  process.stdout.write(`  state_dir off ${memoryOnly.single.toFixed(0).padStart(8)} writes/s\n`);
  process.stdout.write(`  state_dir on  ${durable.single.toFixed(0).padStart(8)} writes/s  ${(durable.single / memoryOnly.single).toFixed(2)}x\n`);
  const m = memoryOnly.memory;
  const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MiB`;
  process.stdout.write(`daemon memory for ${count} bindings (state_dir off; /proc, 10 s after the import)\n`);
  process.stdout.write(`  VmRSS   ${mb(m.rssBefore)} -> ${mb(m.rssAfter)} (+${mb(m.rssAfter - m.rssBefore)}, ${(((m.rssAfter - m.rssBefore) * 1024) / count).toFixed(0)} B per binding)\n`);
  process.stdout.write(`  RssAnon ${mb(m.anonBefore)} -> ${mb(m.anonAfter)} (+${mb(m.anonAfter - m.anonBefore)}): the control side\n`);
  process.stdout.write(`  RssShmem ${mb(m.shmem)}: DPDK memory, the dataplane's table included, mapped at start\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
