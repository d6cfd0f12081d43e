// Bindings per second through the library: Dataplane.upsert() straight into the ring, and
// BindingTable.write() (the daemon's path, with its mirror and outcome bookkeeping). Runs in
// its own process (EAL once per process).
//   node dist/benchmarks/bindings_child.js COUNT PREFIX
import { Dataplane } from '../src/dataplane/dataplane';
import { BindingTable } from '../src/table/binding_table';
import type { Binding } from '../src/dataplane/updates';

function bindings(count: number, base: number): Binding[] {
  return Array.from({ length: count }, (_, k) => ({
    ip: base + k,
    mac: Uint8Array.of(0x02, 0xbb, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff),
    vlan: 0,
  }));
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1_000_000);
  const prefix = process.argv[3] ?? `microarp-bench-bindings-${process.pid}`;
  const dp = await Dataplane.start({
    ealArgs: ['microarp', '--lcores', '0@(0-1),1@1', '--main-lcore', '0', '--no-huge', '-m', '1024', '--file-prefix', prefix, '--no-pci', '--no-telemetry', '--log-level', 'lib.eal:notice', '--vdev', 'net_null0'],
    ports: [{ name: 'p0', device: 'net_null0' }],
    tableCapacity: count * 2 + 16,
    unknown: 'drop',
    pdump: false,
  });
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await fn();
    return count / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const direct = bindings(count, 0x0b000000);
  const library = await timed(() => dp.upsert(direct));
  const table = new BindingTable(dp, count * 2 + 16);
  const viaTable = bindings(count, 0x0c000000).map((b) => ({ op: 'upsert' as const, ...b }));
  const CHUNK = 65536;
  const tableRate = await timed(async () => {
    for (let i = 0; i < viaTable.length; i += CHUNK) await table.write(viaTable.slice(i, i + CHUNK));
  });
  const s = dp.snapshot();
  await dp.stop();
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ count, library, table: tableRate, bindings: s.table.bindings })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
