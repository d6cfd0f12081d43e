// DPDK's own tools against a running microarp: dpdk-dumpcap (a secondary process, through the
// pdump library) captures the replies, dpdk-telemetry.py reads the port counters, and
// `telemetry: false` really leaves no telemetry socket. The peer is a Linux kernel in a
// network namespace on a veth bound to a net_af_packet port.
//
// A secondary process can only attach to a primary whose memory is in named hugetlbfs files:
// not with --no-huge (EAL writes no hugepage_data; dumpcap stops with "Cannot get hugepage
// information") and not with --huge-unlink. So the dumpcap part reserves hugepages (as root),
// runs microarp with `hugepages: on`, and gives the system back what it found.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsPeer, sh } from './helpers/netns';
import { readPcap, writePcap } from './helpers/pcap';
import { arpFrame, decodeArp } from './helpers/frames';
import { CLI, TempDir, withTestDefaults } from './helpers/daemon';

const RUNTIME_ROOT = '/var/run/dpdk';
const HUGE_DIR = '/dev/hugepages';
const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';
/** 256 MiB of 2 MiB pages: enough for microarp and dumpcap's pool, and below the 512 MiB that
 * would make other instances' `hugepages: auto` switch to hugepages meanwhile. */
const PAGES_NEEDED = 128;
const isRoot = process.getuid?.() === 0;

// Every process this file starts. after() hooks stop them; this is the net for runs where an
// after() hook does not run (node 20 runs before() but not after() of a suite whose tests a
// --test-name-pattern filtered out): SIGTERM lets microarp clean up its EAL state itself.
const children = new Set<ChildProcess>();
const onExit: (() => void)[] = [];
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  for (const undo of onExit) undo();
});
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Daemon {
  child: ChildProcess;
  prefix: string;
  output: () => string;
}

function startDaemon(dir: TempDir, config: Record<string, unknown>): Promise<Daemon> {
  const file = dir.file('microarp.yaml');
  writeFileSync(file, JSON.stringify(withTestDefaults(dir, config)));
  const child = track(spawn(process.execPath, [CLI, 'run', '--config', file, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let stderr = '';
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`microarp did not start:\n${stderr}`)), 30000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const line = stderr.split('\n').find((l) => l.includes('"msg":"started"'));
      if (line) {
        clearTimeout(timer);
        const prefix = (JSON.parse(line) as { file_prefix: string }).file_prefix;
        resolve({ child, prefix, output: () => stderr });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`microarp exited (${code ?? signal}) before starting:\n${stderr}`));
    });
  });
}

/** SIGTERM to this child only; resolves with its exit code. */
async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!child) return null;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

function runtimeDir(prefix: string): string {
  return join(RUNTIME_ROOT, prefix);
}

/** Where hugetlbfs is mounted (EAL uses every mount of the default page size). */
function hugetlbfsMounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'hugetlbfs')
    .map((f) => f[1]!);
}

/** Hugepage files named after this prefix, in any hugetlbfs mount. */
function hugepageFiles(prefix: string): string[] {
  return hugetlbfsMounts().flatMap((dir) =>
    readdirSync(dir).filter((f) => f.startsWith(`${prefix}map_`)).map((f) => join(dir, f)));
}

function meminfo(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Makes PAGES_NEEDED default-size hugepages free and mounted; restore() undoes exactly that. */
class Hugepages {
  private previousNr?: string;
  private mounted = false;
  private createdDir = false;

  reserve(): void {
    onExit.push(() => this.restore());
    if (hugetlbfsMounts().length === 0) {
      if (!existsSync(HUGE_DIR)) {
        mkdirSync(HUGE_DIR);
        this.createdDir = true;
      }
      sh('mount', ['-t', 'hugetlbfs', 'nodev', HUGE_DIR]);
      this.mounted = true;
    }
    const free = meminfo('HugePages_Free');
    if (free < PAGES_NEEDED) {
      this.previousNr = readFileSync(NR_HUGEPAGES, 'utf8').trim();
      writeFileSync(NR_HUGEPAGES, String(Number(this.previousNr) + PAGES_NEEDED - free));
    }
    const got = meminfo('HugePages_Free');
    assert.ok(got >= PAGES_NEEDED, `could reserve only ${got} of ${PAGES_NEEDED} hugepages (memory fragmented?)`);
  }

  /** Idempotent; pages still in use become surplus and go back when their user exits. */
  restore(): void {
    if (this.previousNr !== undefined) writeFileSync(NR_HUGEPAGES, this.previousNr);
    this.previousNr = undefined;
    if (this.mounted && spawnSync('umount', [HUGE_DIR]).status === 0) this.mounted = false;
    if (this.createdDir && !this.mounted) {
      try {
        rmdirSync(HUGE_DIR);
        this.createdDir = false;
      } catch {
        // not empty: leave it
      }
    }
  }
}

function arping(peer: NetnsPeer, ip: string, count: number): string[] {
  const r = peer.exec('arping', ['-c', String(count), '-w', String(count + 3), '-I', peer.peerIf, ip]);
  assert.equal(r.status, 0, `arping failed:\n${r.stdout}${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.includes('bytes from'));
}

function peerMac(peer: NetnsPeer): string {
  return peer.exec('cat', [`/sys/class/net/${peer.peerIf}/address`]).stdout.trim();
}

describe('dpdk-dumpcap captures the replies of a running microarp (hugepages)', { skip: !isRoot && 'needs root for hugepages' }, () => {
  const BOUND_IP = '10.81.0.7';
  const BOUND_MAC = '02:81:00:00:00:07';
  const PEER_IP = '10.81.0.1';
  const COUNT = 5;
  const peer = new NetnsPeer(`${PEER_IP}/24`);
  const dir = new TempDir();
  const hugepages = new Hugepages();
  let daemon: Daemon | undefined;
  let dumpcap: ChildProcess | undefined;

  before(async () => {
    hugepages.reserve();
    peer.create();
    daemon = await startDaemon(dir, {
      ports: [{ name: 'vm', device: `net_af_packet0,iface=${peer.hostIf}` }],
      table: { capacity: 1024 },
      bindings: [{ ip: BOUND_IP, mac: BOUND_MAC }],
      hugepages: 'on',
    });
  });

  after(async () => {
    await stopChild(dumpcap, 'SIGKILL');
    await stopChild(daemon?.child);
    // Whatever a failed run left behind, before the pages are given back.
    if (daemon) {
      for (const f of hugepageFiles(daemon.prefix)) rmSync(f, { force: true });
      rmSync(runtimeDir(daemon.prefix), { recursive: true, force: true });
    }
    hugepages.restore();
    peer.remove();
    dir.remove();
  });

  it('the daemon runs on hugepages, with the multi-process channel, pdump and telemetry on', () => {
    const files = readdirSync(runtimeDir(daemon!.prefix));
    assert.ok(files.includes('mp_socket'), files.join(' '));
    assert.ok(files.includes('hugepage_info'), files.join(' '));
    assert.ok(files.includes('dpdk_telemetry.v2'), files.join(' '));
    assert.ok(hugepageFiles(daemon!.prefix).length > 0, 'hugepage files exist (not unlinked) for secondaries to map');
  });

  it('dpdk-dumpcap -D lists the port', () => {
    const r = spawnSync('dpdk-dumpcap', [`--file-prefix=${daemon!.prefix}`, '-D'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^0\. net_af_packet0$/m, r.stdout);
  });

  it('dpdk-dumpcap writes the requests and the replies with the bound MAC to a pcap file', async () => {
    const file = dir.file('capture.pcap');
    dumpcap = track(spawn('dpdk-dumpcap', [`--file-prefix=${daemon!.prefix}`, '-i', 'net_af_packet0', '-P', '-w', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let output = '';
    dumpcap.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    dumpcap.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => dumpcap!.once('exit', (code) => resolve(code)));
    // "Packets captured:" goes to stderr once pdump is enabled on the primary's queues.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dpdk-dumpcap did not start capturing:\n${output}`)), 30000);
      const check = (): void => {
        if (output.includes('Packets captured:')) {
          clearTimeout(timer);
          resolve();
        }
      };
      dumpcap!.stderr!.on('data', check);
      dumpcap!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dpdk-dumpcap exited ${code}:\n${output}`));
      });
    });

    const answered = arping(peer, BOUND_IP, COUNT);
    assert.equal(answered.length, COUNT, answered.join('\n'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    dumpcap.kill('SIGINT');
    assert.equal(await exited, 0, output);

    const frames = readPcap(file).map((f) => decodeArp(f));
    const requester = peerMac(peer);
    const requests = frames.filter((a) => a?.op === 1 && a.tpa === BOUND_IP);
    const replies = frames.filter((a) => a?.op === 2);
    assert.equal(requests.length, COUNT, `requests in the capture:\n${output}`);
    assert.equal(replies.length, COUNT, `replies in the capture:\n${output}`);
    for (const r of replies) {
      assert.deepEqual(
        { ethSrc: r!.ethSrc, ethDst: r!.ethDst, sha: r!.sha, spa: r!.spa, tha: r!.tha, tpa: r!.tpa, length: r!.length },
        { ethSrc: BOUND_MAC, ethDst: requester, sha: BOUND_MAC, spa: BOUND_IP, tha: requester, tpa: PEER_IP, length: 60 },
      );
    }
  });

  it('a stopped daemon leaves no runtime directory and no hugepage files', async () => {
    const prefix = daemon!.prefix;
    assert.equal(await stopChild(daemon!.child), 0, daemon!.output());
    assert.equal(existsSync(runtimeDir(prefix)), false, `${runtimeDir(prefix)} still exists`);
    assert.deepEqual(hugepageFiles(prefix), []);
  });
});

describe('dpdk-telemetry.py reads a running microarp (no hugepages)', { skip: !isRoot && 'needs root for netns' }, () => {
  const BOUND_IP = '10.82.0.7';
  const COUNT = 3;
  const peer = new NetnsPeer('10.82.0.1/24');
  const dir = new TempDir();
  let daemon: Daemon | undefined;

  before(async () => {
    peer.create();
    daemon = await startDaemon(dir, {
      ports: [{ name: 'vm', device: `net_af_packet0,iface=${peer.hostIf}` }],
      table: { capacity: 1024 },
      bindings: [{ ip: BOUND_IP, mac: '02:82:00:00:00:07' }],
      hugepages: 'off',
    });
  });

  after(async () => {
    await stopChild(daemon?.child);
    peer.remove();
    dir.remove();
  });

  it('/ethdev/stats,0 counts the requests received and the replies sent', () => {
    assert.equal(arping(peer, BOUND_IP, COUNT).length, COUNT);
    const r = spawnSync('dpdk-telemetry.py', ['-f', daemon!.prefix], {
      input: '/ethdev/list\n/ethdev/stats,0\n',
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const replies = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const list = replies.find((j) => '/ethdev/list' in j)?.['/ethdev/list'];
    assert.deepEqual(list, [0], r.stdout);
    const stats = replies.find((j) => '/ethdev/stats' in j)?.['/ethdev/stats'] as Record<string, number> | undefined;
    assert.ok(stats, `no /ethdev/stats in:\n${r.stdout}${r.stderr}`);
    assert.ok(stats.ipackets! >= COUNT, `ipackets ${stats.ipackets}`);
    assert.ok(stats.opackets! >= COUNT, `opackets ${stats.opackets}`);
  });

  it('dpdk-dumpcap cannot attach to a --no-huge primary (it needs hugepages)', () => {
    const r = spawnSync('dpdk-dumpcap', [`--file-prefix=${daemon!.prefix}`, '-D'], { encoding: 'utf8', timeout: 30000 });
    assert.notEqual(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /Cannot get hugepage information/, r.stderr);
  });

  it('a stopped daemon leaves no runtime directory', async () => {
    const prefix = daemon!.prefix;
    assert.equal(await stopChild(daemon!.child), 0, daemon!.output());
    assert.equal(existsSync(runtimeDir(prefix)), false, `${runtimeDir(prefix)} still exists`);
  });
});

describe('telemetry: false', () => {
  const dir = new TempDir();
  let daemon: Daemon | undefined;

  before(async () => {
    writePcap(dir.file('rx.pcap'), [arpFrame({ sha: '02:00:00:00:00:01', spa: '10.83.0.1', tpa: '10.83.0.7' })]);
    daemon = await startDaemon(dir, {
      ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${dir.file('rx.pcap')},tx_pcap=${dir.file('tx.pcap')}` }],
      table: { capacity: 1024 },
      hugepages: 'off',
      telemetry: false,
    });
  });

  after(async () => {
    await stopChild(daemon?.child);
    dir.remove();
  });

  it('creates no telemetry socket; dpdk-telemetry.py cannot connect', () => {
    const files = readdirSync(runtimeDir(daemon!.prefix));
    assert.ok(files.includes('mp_socket'), `the multi-process channel stays on: ${files.join(' ')}`);
    assert.ok(!files.some((f) => f.startsWith('dpdk_telemetry')), files.join(' '));
    const r = spawnSync('dpdk-telemetry.py', ['-f', daemon!.prefix], { input: '/ethdev/stats,0\n', encoding: 'utf8', timeout: 20000 });
    assert.match(r.stdout, /Error connecting/, r.stdout);
    assert.doesNotMatch(r.stdout, /ipackets/, r.stdout);
  });

  it('a stopped daemon leaves no runtime directory', async () => {
    const prefix = daemon!.prefix;
    assert.equal(await stopChild(daemon!.child), 0, daemon!.output());
    assert.equal(existsSync(runtimeDir(prefix)), false, `${runtimeDir(prefix)} still exists`);
  });
});
