// Two more figures, each as a ratio to a baseline measured in the same run:
//  - forwarding: known-unicast frames forwarded per second by one worker, port 0 -> port 1,
//    against dpdk-testpmd --forward-mode=io on the same two net_pcap ports and pcap;
//  - replies under churn: ARP replies per second while 100,000 binding updates per second are
//    applied, against the same table idle; then every reply of one more churn run, captured,
//    checked against the churn's history (reply_verifier.ts): a wrong reply fails the run.
//   npm run bench:switching [-- --seconds 5] [--churn N] [--size N] [--repeat N] [--verify-seconds N]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forEachPcapRecord, writePcap } from '../test/helpers/pcap';
import { ReplyVerifier, type ChurnBatch } from './reply_verifier';
import { etherFrame } from '../test/helpers/frames';
import { formatMac } from '../src/dataplane/address';
import { requestFrames } from './workload';
import { removeRuntimeDir, sleep, start } from './processes';

const CHILD = join(__dirname, 'dataplane_child.js');
const FRAMES = 65536;
/** Clock skew between the pcap PMD's stamps and ours, plus a reply's time from lookup to stamp. */
const VERIFY_TOLERANCE_MS = 20;
let runs = 0;
const prefix = (what: string): string => `microarp-bench-${process.pid}-${++runs}-${what}`;

interface ChildOut {
  perSec: number;
  rxPerSec: number;
  updatesPerSec: number;
  cpusBusy: number;
}

function child(args: string[]): ChildOut {
  const p = prefix('dp');
  try {
    const r = spawnSync(process.execPath, [CHILD, ...args, '--prefix', p], { encoding: 'utf8', timeout: 180000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (!line) throw new Error(`dataplane_child ${args.join(' ')} failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return JSON.parse(line.slice(13)) as ChildOut;
  } finally {
    removeRuntimeDir(p);
  }
}

async function testpmdIo(pcap: string, empty: string, seconds: number): Promise<number> {
  const p = prefix('testpmd');
  const run = start('dpdk-testpmd', [
    '--lcores', '0@(0-1),1@1', '--main-lcore', '0', '--no-huge', '-m', '1024', '--file-prefix', p, '--no-pci',
    '--no-telemetry', '--log-level', 'lib.eal:notice',
    '--vdev', `net_pcap0,rx_pcap=${pcap},infinite_rx=1`, '--vdev', `net_pcap1,rx_pcap=${empty}`,
    '--', '-i', '--auto-start', '--forward-mode=io', '--nb-cores=1', `--total-num-mbufs=${FRAMES + 8192}`,
  ], (seconds + 60) * 1000);
  try {
    await run.waitForOutput('testpmd> ', 60000);
    await sleep(1000);
    run.child.stdin!.write('show port stats 1\n');
    await sleep(seconds * 1000);
    run.child.stdin!.write('show port stats 1\nstop\nquit\n');
    run.child.stdin!.end();
    const done = await run.done;
    const tx = [...done.stdout.matchAll(/Tx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
    if (tx.length < 2) throw new Error(`dpdk-testpmd io failed:\n${done.stdout.slice(-2000)}${done.stderr.slice(-2000)}`);
    return tx.at(-1)!;
  } finally {
    run.stop();
    await run.done.catch(() => undefined);
    removeRuntimeDir(p);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, churn: { type: 'string', default: '100000' }, size: { type: 'string', default: '65536' }, repeat: { type: 'string', default: '3' }, 'verify-seconds': { type: 'string', default: '1' } } });
  const seconds = values.seconds;
  const repeat = Number(values.repeat);
  const dir = mkdtempSync(join(tmpdir(), 'microarp-bench-'));
  const m = (x: number): string => `${(x / 1e6).toFixed(2)} M/s`;
  try {
    const fwd = join(dir, 'unicast.pcap');
    const empty = join(dir, 'empty.pcap');
    writePcap(fwd, Array.from({ length: FRAMES }, (_, i) =>
      etherFrame(0x0800, formatMac(Uint8Array.of(0x02, 0x5c, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255)), '02:fd:00:00:00:01', 60)));
    writePcap(empty, []);
    console.log(`microarp ${commit()}, ${new Date().toISOString()}, 1 worker lcore, net_pcap infinite_rx, ${seconds} s per figure`);
    // Alternating runs, medians: a shared two-core machine drifts, and both contenders share it.
    const micro: number[] = [];
    const io: number[] = [];
    for (let i = 0; i < repeat; i++) {
      micro.push(child(['--mode', 'forward', '--pcap', fwd, '--empty', empty, '--frames', String(FRAMES), '--seconds', seconds]).perSec);
      io.push(await testpmdIo(fwd, empty, Number(seconds)));
    }
    console.log(`forwarding (known unicast p0 -> p1): microarp ${m(median(micro))}, testpmd io ${m(median(io))}, ratio ${(median(micro) / median(io)).toFixed(2)}`);

    const size = Number(values.size);
    const req = join(dir, 'requests.pcap');
    writePcap(req, requestFrames(size, FRAMES));
    const idle: number[] = [];
    const busy: ChildOut[] = [];
    for (let i = 0; i < repeat; i++) {
      idle.push(child(['--mode', 'replies', '--pcap', req, '--frames', String(FRAMES), '--size', String(size), '--seconds', seconds]).perSec);
      busy.push(child(['--mode', 'replies', '--pcap', req, '--frames', String(FRAMES), '--size', String(size), '--seconds', seconds, '--churn', values.churn]));
    }
    const busyRate = median(busy.map((b) => b.perSec));
    const updates = median(busy.map((b) => b.updatesPerSec));
    console.log(`replies with ${size} bindings: idle ${m(median(idle))}, while ${Math.round(updates).toLocaleString('en-US')} updates/s are applied ${m(busyRate)}, ratio ${(busyRate / median(idle)).toFixed(2)}`);

    // Every reply of one more churn run, captured (which slows the worker down) and replayed
    // against the churn's history.
    const capture = join(dir, 'replies.pcap');
    const history = join(dir, 'history.json');
    const run = child(['--mode', 'replies', '--pcap', req, '--frames', String(FRAMES), '--size', String(size), '--seconds', values['verify-seconds'],
      '--churn', values.churn, '--capture', capture, '--history', history]);
    const verifier = new ReplyVerifier(JSON.parse(readFileSync(history, 'utf8')) as ChurnBatch[], size, VERIFY_TOLERANCE_MS);
    forEachPcapRecord(readFileSync(capture), capture, (frame, stamp) => verifier.check(frame, stamp));
    const v = verifier.result();
    console.log(`replies verified against the table's history (${Math.round(run.updatesPerSec).toLocaleString('en-US')} updates/s, ` +
      `${VERIFY_TOLERANCE_MS} ms tolerance): ${v.replies.toLocaleString('en-US')} replies, ${v.wrong} wrong`);
    for (const e of v.examples) console.log(`  ${e}`);
    if (v.wrong > 0 || v.replies === 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
