// The baseline: dpdk-testpmd in macswap mode (swap the Ethernet addresses, send the frame back
// out the port it came in on) with the same EAL arguments, port and pcap as microarp. That is
// the least work a responder that rewrites in place can do per frame; microarp adds parsing,
// the table lookup and the ARP rewrite.
import { benchConfig, benchEalArgs, mbufsFor, pcapDevice } from './bench_eal';
import { cpuTimes, cpusBusy } from './cpu_load';
import { removeRuntimeDir, sleep, start, tail } from './processes';

export interface BaselineOptions {
  pcap: string;
  frames: number;
  prefix: string;
  memoryMb: number;
  warmupSeconds: number;
  seconds: number;
  /** Forwarding cores, one RX/TX queue pair each (default 1). */
  workers?: number;
}

export interface BaselineResult {
  /** Frames forwarded (sent back) per second, from testpmd's own clock. */
  txPerSec: number;
  rxPerSec: number;
  /** CPUs busy during the window (1 = the forwarding lcore alone). */
  cpusBusy: number;
}

const PROMPT = 'testpmd> ';

/**
 * Interactive mode, driven through stdin: the prompt appears only once the port is up and
 * forwarding has started (--auto-start), and `show port stats` reports the rate over exactly
 * the time since the previous `show`, measured by testpmd itself. (stdout is block-buffered
 * into the pipe, so the figures are read once testpmd has quit.)
 */
export async function runTestpmd(o: BaselineOptions): Promise<BaselineResult> {
  const workers = o.workers ?? 1;
  const eal = benchEalArgs(benchConfig(pcapDevice(o.pcap, workers), o.memoryMb, 1, workers), o.prefix).slice(1);
  const args = [
    ...eal,
    '--',
    '-i',
    '--auto-start',
    '--forward-mode=macswap',
    `--nb-cores=${workers}`,
    `--total-num-mbufs=${mbufsFor(o.frames, workers)}`,
    `--rxq=${workers}`,
    `--txq=${workers}`,
  ];
  const run = start('dpdk-testpmd', args, (o.warmupSeconds + o.seconds + 60) * 1000);
  try {
    await run.waitForOutput(PROMPT, 60_000);
    await sleep(o.warmupSeconds * 1000);
    run.child.stdin!.write('show port stats 0\n'); // starts the measured interval
    const c0 = cpuTimes();
    await sleep(o.seconds * 1000);
    const c1 = cpuTimes();
    run.child.stdin!.write('show port stats 0\nstop\nquit\n');
    run.child.stdin!.end();
    const done = await run.done;
    const tx = [...done.stdout.matchAll(/Tx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
    const rx = [...done.stdout.matchAll(/Rx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
    if (done.code !== 0 || tx.length < 2 || rx.length < 2) {
      throw new Error(`dpdk-testpmd failed (code ${done.code}):\n${tail(done.stdout + done.stderr)}`);
    }
    return { txPerSec: tx.at(-1)!, rxPerSec: rx.at(-1)!, cpusBusy: cpusBusy(c0, c1) };
  } finally {
    run.stop();
    await run.done.catch(() => undefined);
    removeRuntimeDir(o.prefix);
  }
}
