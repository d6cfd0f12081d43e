// One microarp measurement, in a process of its own because EAL initialises once per process.
// Starts a Dataplane with one worker on a net_pcap port replaying the given pcap forever,
// loads `size` bindings, lets it warm up, then samples the counters over `seconds`.
//
//   node dist/benchmarks/replies_child.js --pcap F --frames N --size N --seconds S
//        --warmup S --prefix P --memory-mb M
//
// Prints one line `BENCH_RESULT {json}` on stdout (EAL logs to stdout too, hence the tag).
import { parseArgs } from 'node:util';
import { deviceName } from '../src/config/validate';
import { Dataplane, type Snapshot } from '../src/dataplane/dataplane';
import { benchConfig, benchEalArgs, mbufsFor, pcapDevice } from './bench_eal';
import { cpuTimes, cpusBusy } from './cpu_load';
import { RESULT_TAG, type ChildResult } from './child_result';
import { bindings, bindings6 } from './workload';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pcap: { type: 'string' },
      frames: { type: 'string' },
      size: { type: 'string' },
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      prefix: { type: 'string' },
      'memory-mb': { type: 'string', default: '1024' },
      workers: { type: 'string', default: '1' },
      nd: { type: 'boolean', default: false },
    },
  });
  const workers = Number(values.workers);
  const size = Number(values.size);
  const frames = Number(values.frames);
  if (!values.pcap || !values.prefix || !(size > 0) || !(frames > 0)) {
    throw new Error('usage: replies_child --pcap F --frames N --size N --prefix P [--seconds S]');
  }

  const config = benchConfig(pcapDevice(values.pcap, workers), Number(values['memory-mb']), size, workers);
  const ealArgs = benchEalArgs(config, values.prefix);

  // Stages on stderr, so that a run that hangs shows where.
  const stage = (what: string): void => void process.stderr.write(`replies_child: ${what}\n`);
  stage(`starting EAL and loading ${size} bindings`);
  const loadStart = process.hrtime.bigint();
  const dp = await Dataplane.start(
    {
      ealArgs,
      // The addon finds the port by the name EAL gave the vdev, not by its devargs.
      ports: config.ports.map((p) => ({ name: p.name, device: deviceName(p.device) })),
      tableCapacity: size,
      ipv6Capacity: values.nd ? size : undefined,
      unknown: config.unknown,
      mbufs: mbufsFor(frames, workers),
    },
    // Not held here: the million binding objects become garbage before the measurement.
    values.nd ? bindings6(size) : bindings(size),
  );
  const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
  stage(`workers running, table loaded in ${loadSeconds.toFixed(2)} s; measuring`);
  const stop = (): void => void dp.stop().then(() => process.exit(1));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  await sleep(Number(values.warmup) * 1000);
  const c0 = cpuTimes();
  const t0 = process.hrtime.bigint();
  const s0 = dp.snapshot();
  await sleep(Number(values.seconds) * 1000);
  const t1 = process.hrtime.bigint();
  const s1 = dp.snapshot();
  const c1 = cpuTimes();
  stage('stopping');
  await dp.stop();

  const elapsed = Number(t1 - t0) / 1e9;
  const rate = (f: (s: Snapshot) => number): number => (f(s1) - f(s0)) / elapsed;
  const delta = (f: (s: Snapshot) => number): number => f(s1) - f(s0);
  const result: ChildResult = {
    size,
    workers: s1.lcores.length,
    seconds: elapsed,
    // ARP replies, or the NAs of an --nd run.
    repliesPerSec: rate((s) => s.totals.replies_sent + s.totals.nd_answers),
    rxPerSec: rate((s) => s.totals.rx_packets),
    portTxPerSec: rate((s) => s.ports[0]!.tx),
    unanswered: delta((s) => s.totals.rx_packets - s.totals.replies_sent - s.totals.nd_answers),
    txFull: delta((s) => s.drops.tx_full),
    sourcesCached: delta((s) => s.totals.sources_cached) / Math.max(1, delta((s) => s.totals.rx_packets)),
    cpusBusy: cpusBusy(c0, c1),
    loadSeconds,
  };
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
