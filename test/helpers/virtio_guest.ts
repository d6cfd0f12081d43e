// A VM stand-in on a vhost-user port: dpdk-testpmd with a net_virtio_user port (the vhost-user
// protocol QEMU speaks) forwarding to and from a net_pcap port. What the guest sends is a pcap
// written by the test; what microarp sends to the guest lands in another pcap. testpmd runs
// interactively so that the test says when forwarding starts, once the device is up.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readPcap, writePcap } from './pcap';
import type { TempDir } from './daemon';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The CPU the guests run on: not the one microarp's worker polls (CPU 1 on 2 CPUs). */
const GUEST_CPU = 0;

export interface GuestOptions {
  /** The guest's MAC (virtio_user mac=), e.g. the migrating VM's. */
  mac?: string;
  /** Frames the guest sends once forwarding starts (in order, back to back). */
  frames?: readonly Uint8Array[];
  /** testpmd forwarding mode once the frames are sent: io (record what arrives) or icmpecho. */
  mode?: 'io' | 'icmpecho';
  /** microarp is the server unless the guest is (client=1 on microarp's side). */
  server?: boolean;
}

export interface GuestResult {
  /** Frames microarp sent to the guest (io mode). */
  received: Buffer[];
  /** testpmd's forward statistics for the virtio port: what the guest sent and what it dropped. */
  sent: number;
  txDropped: number;
  output: string;
}

export class VirtioGuest {
  private child?: ChildProcess;
  private output = '';
  private exited?: Promise<void>;
  private readonly prefix = `mguest-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly rx: string;
  private readonly tx: string;

  constructor(
    readonly name: string,
    readonly socket: string,
    private readonly dir: TempDir,
    private readonly options: GuestOptions = {},
  ) {
    this.rx = dir.file(`${name}-${this.prefix}-send.pcap`);
    this.tx = dir.file(`${name}-${this.prefix}-recv.pcap`);
  }

  /** Connects to microarp's vhost-user socket; resolves at testpmd's prompt (device up). */
  async connect(): Promise<void> {
    writePcap(this.rx, this.options.frames ?? []);
    const virtio = [`net_virtio_user0,path=${this.socket},queues=1`, this.options.mac ? `mac=${this.options.mac}` : '', this.options.server ? 'server=1' : '']
      .filter(Boolean)
      .join(',');
    // taskset: EAL puts its control threads (interrupts, telemetry) on the CPUs it was given
    // minus its lcores' ones, which would be microarp's worker CPU; a VM's threads stay off it.
    this.child = spawn(
      'taskset',
      [
        '-c', String(GUEST_CPU), 'dpdk-testpmd',
        '--lcores', `0@${GUEST_CPU},1@${GUEST_CPU}`, '--no-huge', '-m', '256', '--no-pci', '--file-prefix', this.prefix,
        '--log-level', 'lib.eal:warning', '--vdev', virtio, '--vdev', `net_pcap0,rx_pcap=${this.rx},tx_pcap=${this.tx}`,
        '--', '-i', '--forward-mode=io', '--no-flush-rx', '--total-num-mbufs', '8192', '--nb-cores', '1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) => this.child!.once('exit', () => resolve()));
    const t0 = Date.now();
    while (!this.output.includes('testpmd> ')) {
      if (this.child.exitCode !== null) {
        this.removeRuntimeDir();
        throw new Error(`guest ${this.name} exited:\n${this.output.slice(-2000)}`);
      }
      if (Date.now() - t0 > 20000) {
        // A guest stuck in its vhost-user handshake: end it, leaving nothing behind.
        await this.kill();
        throw new Error(`guest ${this.name} did not come up in 20 s:\n${this.output.slice(-2000)}`);
      }
      await sleep(20);
    }
  }

  private command(line: string): void {
    this.child!.stdin!.write(`${line}\n`);
  }

  /** Starts forwarding: the frames go out back to back; then (icmpecho) the guest answers pings. */
  async start(): Promise<void> {
    this.command('start');
    if (this.options.mode === 'icmpecho') {
      await sleep(50); // the frames are sent in microseconds; then switch to answering
      this.command('stop');
      this.command('set fwd icmpecho');
      this.command('start');
    }
  }

  /** Stops forwarding but stays connected: a VM paused at the end of a live migration. */
  pause(): void {
    this.command('stop');
  }

  /** Stops the guest (as a VM that is shut down or has migrated away) and reads what it got. */
  async stop(): Promise<GuestResult> {
    if (this.child && this.child.exitCode === null) {
      this.command('stop');
      this.command('quit');
      this.child.stdin!.end();
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(timer);
    }
    const port0 = /statistics for port 0[\s\S]*?RX-packets:\s+(\d+)[\s\S]*?TX-packets:\s+(\d+)\s+TX-dropped:\s+(\d+)/.exec(this.output);
    let received: Buffer[] = [];
    try {
      received = readPcap(this.tx);
    } catch {
      // No pcap: the guest never started forwarding.
    }
    rmSync(this.rx, { force: true });
    rmSync(this.tx, { force: true });
    this.removeRuntimeDir();
    return { received, sent: Number(port0?.[2] ?? 0), txDropped: Number(port0?.[3] ?? 0), output: this.output };
  }

  /** Kills the guest without a goodbye (a QEMU process that crashed). */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.removeRuntimeDir();
  }

  /** A killed testpmd leaves its EAL runtime directory behind (no hugepages: nothing else). */
  private removeRuntimeDir(): void {
    rmSync(`/var/run/dpdk/${this.prefix}`, { recursive: true, force: true });
  }
}
