// Bindings per second: through the library (Dataplane.upsert, and the daemon's BindingTable
// path) and through the control API (a streamed NDJSON bulk import into a running daemon),
// each reported with its ratio to the library figure measured in the same run.
//   npm run bench:bindings [-- --count N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

async function api(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'microarp-bench-'));
  const socket = join(dir, 'api.sock');
  const config = join(dir, 'bench.yaml');
  writeFileSync(config, JSON.stringify({
    ports: [{ name: 'p0', device: 'net_null0' }],
    table: { capacity: count + 16 },
    api: { socket },
    metrics: 'off',
    state_dir: join(dir, 'state'),
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
    function* lines(): Generator<string> {
      for (let i = 0; i < count; i += 10000) {
        let s = '';
        for (let k = i; k < Math.min(count, i + 10000); k++) {
          s += `{"ip":"${ipText(0x0d000000 + k)}","mac":"02:cc:${((k >>> 24) & 255).toString(16).padStart(2, '0')}:${((k >>> 16) & 255).toString(16).padStart(2, '0')}:${((k >>> 8) & 255).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}"}\n`;
        }
        yield s;
      }
    }
    const t0 = process.hrtime.bigint();
    const res = await readResponse(await client.raw('POST', '/v1/bindings/import', Readable.from(lines())));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const added = (res.body as { added?: number }).added;
    if (res.status !== 200 || added !== count) throw new Error(`import failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return count / seconds;
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
  const viaApi = await api(count);
  const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;
  const rows = [
    ['library: Dataplane.upsert (ring + writer)', lib.library],
    ["library: BindingTable.write (the daemon's path)", lib.table],
    ['API: NDJSON bulk import over the Unix socket', viaApi],
  ] as const;
  process.stdout.write(`bindings/s, ${count} bindings each, ratio to Dataplane.upsert in the same run\n`);
  for (const [name, rate] of rows) process.stdout.write(`  ${name.padEnd(50)} ${fmt(rate).padStart(10)}  ${(rate / lib.library).toFixed(2)}x\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
