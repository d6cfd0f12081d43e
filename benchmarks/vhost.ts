// Replies per second on a vhost-user port: a virtio-user generator (dpdk-testpmd replaying a
// pcap of ARP requests forever into net_virtio_user, counting what comes back) in front of
// microarp, then in front of dpdk-testpmd --forward-mode=macswap as the vhost backend, in the
// same run, with the same generator. The figure is what the guest receives per second.
// Then bursts: fresh guests that each send 2,100 requests from 2,100 new senders back to back
// (more than their 256-descriptor TX ring holds: what the backend does not take at once is
// lost in the guest), counted the same way against both backends.
//   npm run build && node dist/benchmarks/vhost.js [--seconds 5] [--senders 1] [--bursts 10]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { arpFrame } from '../test/helpers/frames';
import { writePcap } from '../test/helpers/pcap';

const REPO = join(__dirname, '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (n: number): string => n.toString(16).padStart(2, '0');

interface Rate {
  rxPps: number;
  txPps: number;
}

interface GuestSpec {
  socket: string;
  /** The net_pcap device's arguments after its name (what the guest sends, where replies go). */
  pcapArgs: string;
  prefix: string;
  memoryMb: number;
  mbufs: number;
}

/**
 * A virtio-user guest (dpdk-testpmd forwarding between net_pcap and the vhost-user socket),
 * pinned to CPU 0 with all its threads: EAL would put its control threads on the CPUs it was
 * given minus its lcores' ones, the backend worker's CPU. `drive` runs at the prompt with the
 * guest's stdin; returns everything the guest printed, once it has quit.
 */
async function runGuest(g: GuestSpec, drive: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<string> {
  const child = spawn(
    'taskset',
    [
      '-c', '0', 'dpdk-testpmd', '--lcores', '0@0,1@0', '--no-huge', '-m', String(g.memoryMb), '--no-pci', '--file-prefix', g.prefix,
      '--log-level', 'lib.eal:warning', '--vdev', `net_virtio_user0,path=${g.socket},queues=1`, '--vdev', `net_pcap0,${g.pcapArgs}`,
      '--', '-i', '--forward-mode=io', '--no-flush-rx', '--total-num-mbufs', String(g.mbufs), '--nb-cores', '1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (let i = 0; !out.includes('testpmd> '); i++) {
      if (i > 300 || child.exitCode !== null) throw new Error(`guest did not start:\n${out.slice(-1500)}`);
      await sleep(50);
    }
    await drive(child.stdin);
    child.stdin.write('stop\nquit\n');
    child.stdin.end();
    await exited;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(`/var/run/dpdk/${g.prefix}`, { recursive: true, force: true });
  }
  return out;
}

/** The generator: replays the pcap forever; the rate is what comes back. */
async function generate(socket: string, pcap: string, warmupMs: number, seconds: number, prefix: string): Promise<Rate> {
  const out = await runGuest(
    { socket, pcapArgs: `rx_pcap=${pcap},tx_pcap=/dev/null,infinite_rx=1`, prefix, memoryMb: 512, mbufs: 32768 },
    async (stdin) => {
      stdin.write('start\n');
      await sleep(warmupMs);
      stdin.write('show port stats 0\n'); // starts the measured interval (testpmd's own clock)
      await sleep(seconds * 1000);
      stdin.write('show port stats 0\n');
    },
  );
  const rx = [...out.matchAll(/Rx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
  const tx = [...out.matchAll(/Tx-pps:\s+(\d+)/g)].map((m) => Number(m[1]));
  if (rx.length < 2) throw new Error(`no rates from the generator:\n${out.slice(-1500)}`);
  return { rxPps: rx.at(-1)!, txPps: tx.at(-1)! };
}

interface Burst {
  sent: number;
  answered: number;
}

const BURST = 2100;

/** One guest: connects, sends `pcap` once as fast as it can, reports what it sent and got back. */
async function burst(socket: string, pcap: string, prefix: string): Promise<Burst> {
  const out = await runGuest(
    { socket, pcapArgs: `rx_pcap=${pcap},tx_pcap=/dev/null`, prefix, memoryMb: 256, mbufs: 8192 },
    async (stdin) => {
      await sleep(500); // the backend sees the device up
      stdin.write('start\n');
      await sleep(1000);
    },
  );
  // Port 0 is the virtio-user device: TX what entered the ring, RX the answers.
  const stats = /Forward statistics for port 0\s*-*\s*RX-packets:\s*(\d+).*?TX-packets:\s*(\d+)/s.exec(out);
  if (!stats) throw new Error(`no statistics from the guest:\n${out.slice(-1500)}`);
  return { answered: Number(stats[1]), sent: Number(stats[2]) };
}

/** `trials` bursts of BURST requests, each from BURST senders never seen before. */
async function bursts(socket: string, dir: string, trials: number, tag: string): Promise<Burst[]> {
  const results: Burst[] = [];
  for (let t = 0; t < trials; t++) {
    const pcap = join(dir, `burst-${tag}-${t}.pcap`);
    writePcap(pcap, Array.from({ length: BURST }, (_, i) => arpFrame({
      sha: `02:5f:${hex(t)}:00:${hex(i >> 8)}:${hex(i & 255)}`, spa: `10.${40 + t}.${i >> 8}.${i & 255}`, tpa: `10.20.0.${i % 256}`,
    })));
    results.push(await burst(socket, pcap, `mvb-burst-${process.pid}-${tag}-${t}`));
  }
  return results;
}

async function waitForFile(child: ChildProcess, probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; !probe(); i++) {
    if (i > 300 || child.exitCode !== null) throw new Error(`${what} did not start`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  if (cpus().length < 2) throw new Error('needs 2 CPUs: the backend worker polls CPU 1, the generator CPU 0');
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, senders: { type: 'string', default: '1' }, bursts: { type: 'string', default: '10' } } });
  const trials = Number(values.bursts);
  const burstResults: Record<string, Burst[]> = {};
  const seconds = Number(values.seconds);
  const senders = Number(values.senders);
  const dir = mkdtempSync(join(tmpdir(), 'microarp-vhost-bench-'));
  const pcap = join(dir, 'requests.pcap');
  const targets = 256;
  // 16,384 requests for 256 bound targets, from `senders` VMs (each announced first).
  const frames = Array.from({ length: 16384 }, (_, i) => {
    const s = i % senders;
    return arpFrame({ sha: `02:5e:00:00:${hex(s >> 8)}:${hex(s & 255)}`, spa: `10.20.${1 + (s >> 8)}.${s & 255}`, tpa: `10.20.0.${i % targets}` });
  });
  writePcap(pcap, frames);
  const results: Record<string, Rate> = {};
  try {
    // microarp, defaults (inspection and learning on), one worker.
    const socket = join(dir, 'microarp.sock');
    const config = join(dir, 'microarp.yaml');
    writeFileSync(config, JSON.stringify({
      ports: [{ name: 'vm', device: `net_vhost0,iface=${socket}` }],
      bindings: Array.from({ length: targets }, (_, t) => ({ ip: `10.20.0.${t}`, mac: `02:aa:00:00:00:${hex(t)}` })),
      api: { socket: join(dir, 'api.sock') },
      metrics: 'off',
      state_dir: 'off',
      log_level: 'warn',
    }));
    const daemon = spawn(process.execPath, [join(REPO, 'bin', 'microarp.js'), 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Read its logs (a full pipe would block it: Node writes stderr pipes synchronously).
    let logTail = '';
    daemon.stderr.on('data', (c: Buffer) => (logTail = (logTail + c.toString()).slice(-4000)));
    daemon.once('exit', (code) => code && process.stderr.write(`microarp exited ${code}:\n${logTail}\n`));
    try {
      await waitForFile(daemon, () => require('node:fs').existsSync(socket), 'microarp');
      results.microarp = await generate(socket, pcap, 2000, seconds, `mvb-gen-${process.pid}-a`);
      burstResults.microarp = await bursts(socket, dir, trials, 'a');
    } finally {
      if (daemon.exitCode === null && daemon.signalCode === null) {
        const gone = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await gone;
      }
    }
    // dpdk-testpmd macswap as the vhost backend, its forwarding lcore on CPU 1 too.
    const tsocket = join(dir, 'testpmd.sock');
    const backend = spawn('dpdk-testpmd', [
      '--lcores', '0@0,1@1', '--no-huge', '-m', '512', '--no-pci', '--file-prefix', `mvb-back-${process.pid}`, '--log-level', 'lib.eal:warning',
      '--vdev', `net_vhost0,iface=${tsocket},queues=1`, '--', '-i', '--forward-mode=macswap', '--auto-start', '--nb-cores', '1', '--total-num-mbufs', '16384',
    ], { stdio: ['pipe', 'ignore', 'ignore'] });
    backend.stdin.on('error', () => undefined); // it may be gone already: its exit code says why
    try {
      await waitForFile(backend, () => require('node:fs').existsSync(tsocket), 'dpdk-testpmd');
      results.testpmd = await generate(tsocket, pcap, 2000, seconds, `mvb-gen-${process.pid}-b`);
      burstResults.testpmd = await bursts(tsocket, dir, trials, 'b');
    } finally {
      if (backend.exitCode === null && backend.signalCode === null) {
        const gone = new Promise((r) => backend.once('exit', r));
        backend.stdin.end('quit\n');
        setTimeout(() => backend.kill('SIGKILL'), 5000).unref();
        await gone;
      }
      rmSync(`/var/run/dpdk/mvb-back-${process.pid}`, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = results.microarp!;
  const t = results.testpmd!;
  const mpps = (n: number): string => `${(n / 1e6).toFixed(2)} Mpps`;
  process.stdout.write(
    `vhost-user, virtio-user generator on CPU 0, backend worker on CPU 1, ${senders} sender(s), ${seconds} s window\n` +
      `  microarp (defaults)          replies received ${mpps(m.rxPps).padStart(12)}  requests sent ${mpps(m.txPps)}\n` +
      `  dpdk-testpmd macswap         frames received  ${mpps(t.rxPps).padStart(12)}  requests sent ${mpps(t.txPps)}\n` +
      `  ratio microarp / macswap     ${(m.rxPps / t.rxPps).toFixed(2)}x\n`,
  );
  const summary = (list: Burst[]): string => {
    const full = list.filter((b) => b.sent === BURST && b.answered === BURST).length;
    const sent = list.map((b) => b.sent);
    const answered = list.map((b) => b.answered);
    return `all answered in ${full} of ${list.length}; taken ${Math.min(...sent)}-${Math.max(...sent)}, answered ${Math.min(...answered)}-${Math.max(...answered)}`;
  };
  process.stdout.write(
    `bursts of ${BURST} requests from ${BURST} new senders, a fresh guest each\n` +
      `  microarp (defaults)          ${summary(burstResults.microarp!)}\n` +
      `  dpdk-testpmd macswap         ${summary(burstResults.testpmd!)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
