// One measured dataplane in its own process (EAL starts once per process), for the
// forwarding and churn benchmarks:
//   forward: port 0 replays unicast IPv4 frames for one MAC that a static FDB entry puts
//            behind port 1 (whose transmit drops); counts frames forwarded per second.
//   replies: port 0 replays ARP requests for `size` bindings; with --churn N, N binding
//            updates per second are applied while it answers. With --capture FILE, port 0's
//            replies are written there, and --history FILE gets the churn's batches, for
//            reply_verifier.ts.
// Prints `BENCH_RESULT {json}`.
import { parseArgs } from 'node:util';
import { Dataplane, type Snapshot } from '../src/dataplane/dataplane';
import { cpuTimes, cpusBusy } from './cpu_load';
import { binding, bindings } from './workload';
import type { ChurnBatch } from './reply_verifier';
import { writeFileSync } from 'node:fs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const FORWARD_DST = Uint8Array.of(0x02, 0xfd, 0, 0, 0, 1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      pcap: { type: 'string' },
      empty: { type: 'string' },
      frames: { type: 'string' },
      size: { type: 'string', default: '1' },
      churn: { type: 'string', default: '0' },
      seconds: { type: 'string', default: '5' },
      prefix: { type: 'string' },
      capture: { type: 'string' },
      history: { type: 'string' },
    },
  });
  const size = Number(values.size);
  const churn = Number(values.churn);
  const forward = values.mode === 'forward';
  const devices = [`net_pcap0,rx_pcap=${values.pcap},infinite_rx=1${values.capture ? `,tx_pcap=${values.capture}` : ''}`];
  if (forward) devices.push(`net_pcap1,rx_pcap=${values.empty}`);
  const ealArgs = [
    'microarp', '--lcores', '0@(0-1),1@1', '--main-lcore', '0', '--no-huge', '-m', '1024',
    '--file-prefix', values.prefix!, '--no-pci', '--no-telemetry', '--log-level', 'lib.eal:notice',
    ...devices.flatMap((d) => ['--vdev', d]),
  ];
  const dp = await Dataplane.start(
    {
      ealArgs,
      ports: devices.map((d, i) => ({ name: `p${i}`, device: d.split(',')[0]!, trusted: true })),
      tableCapacity: size + 16,
      unknown: 'drop',
      pdump: false,
      mbufs: Number(values.frames) + 8192,
    },
    forward ? [] : bindings(size),
    forward ? [{ vlan: 0, mac: FORWARD_DST, port: 1 }] : [],
  );
  await sleep(1000);

  // Churn: replace bindings' MACs back and forth, in 10 ms ticks.
  let churning = churn > 0;
  let applied = 0;
  const history: ChurnBatch[] = [];
  const now = (): number => performance.timeOrigin + performance.now();
  // Both MACs of every binding are made before the clock starts: the loop measures the table
  // under churn, not the building of a million objects a second.
  const variants = [0xaa, 0xab].map((second) =>
    Array.from({ length: churn > 0 ? size : 0 }, (_, k) => {
      const b = binding(k);
      const mac = Uint8Array.from(b.mac);
      mac[1] = second;
      return { ...b, mac };
    }),
  );
  const churnLoop = (async () => {
    const perTick = Math.max(1, Math.round(churn / 100));
    let k = 0;
    let flip = 0; // the first pass moves every binding to 0xab, the next back to 0xaa
    while (churning) {
      const t0 = Date.now();
      const batch = [];
      for (let i = 0; i < perTick; i++, k = (k + 1) % size) {
        if (k === 0) flip ^= 1;
        batch.push(variants[flip]![k]!);
      }
      const submitted = now();
      await dp.upsert(batch);
      history.push({ from: applied, to: applied + batch.length, t0: submitted, t1: now() });
      applied += batch.length;
      await sleep(Math.max(0, 10 - (Date.now() - t0)));
    }
  })();

  const c0 = cpuTimes();
  const t0 = process.hrtime.bigint();
  const s0 = dp.snapshot();
  const a0 = applied;
  await sleep(Number(values.seconds) * 1000);
  const s1 = dp.snapshot();
  const t1 = process.hrtime.bigint();
  const a1 = applied;
  const c1 = cpuTimes();
  churning = false;
  await churnLoop;
  await dp.stop();
  if (values.history) writeFileSync(values.history, JSON.stringify(history));
  const elapsed = Number(t1 - t0) / 1e9;
  const rate = (f: (s: Snapshot) => number): number => (f(s1) - f(s0)) / elapsed;
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({
    perSec: forward ? rate((s) => s.totals.forwarded_unicast) : rate((s) => s.totals.replies_sent),
    rxPerSec: rate((s) => s.totals.rx_packets),
    updatesPerSec: (a1 - a0) / elapsed,
    cpusBusy: cpusBusy(c0, c1),
  })}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
