// What reaches a VM's interface, captured by test/fixtures/sniff.py inside its namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NetnsPeer } from './netns';

const SNIFF = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sniff.py');

export interface CapturedFrame {
  dst: string;
  src: string;
  type: number;
  len: number;
  arp_op?: number;
  arp_sha?: string;
  arp_spa?: string;
  arp_tpa?: string;
  ip_proto?: number;
  ip_src?: string;
  ip_dst?: string;
  ip6_src?: string;
  ip6_dst?: string;
  ip6_nh?: number;
  ip6_hlim?: number;
  /** ICMPv6 right after the fixed header: 135 NS, 136 NA, 134 RA, ... */
  icmp6_type?: number;
  /** NS, NA, redirect: the target address (inet_ntop's text, RFC 5952). */
  nd_target?: string;
  /** NA: the flags byte, 0x80 R, 0x40 S, 0x20 O. */
  nd_flags?: number;
}

/** Frames the VM received while `during` ran (and `settleMs` after, for stragglers). */
export function capture(vm: NetnsPeer, during: () => Promise<void> | void, settleMs = 300): Promise<CapturedFrame[]> {
  return sniff(spawn('ip', ['netns', 'exec', vm.ns, '/usr/bin/python3', SNIFF, vm.peerIf], { stdio: ['pipe', 'pipe', 'inherit'] }), during, settleMs);
}

/**
 * Frames the VM sent while `during` ran, as they arrive at the host end of its veth (where
 * microarp reads them), including those microarp consumes and never passes on; not those
 * microarp sends the VM.
 */
export function captureSent(vm: NetnsPeer, during: () => Promise<void> | void, settleMs = 300): Promise<CapturedFrame[]> {
  return sniff(spawn('/usr/bin/python3', [SNIFF, vm.hostIf], { stdio: ['pipe', 'pipe', 'inherit'] }), during, settleMs);
}

async function sniff(child: ChildProcess, during: () => Promise<void> | void, settleMs: number): Promise<CapturedFrame[]> {
  // Listened for from the start: a sniffer that ends early must not leave the wait below hanging.
  const exited = new Promise((r) => child.once('exit', r));
  const frames: CapturedFrame[] = [];
  const lines = createInterface({ input: child.stdout! });
  const ready = await Promise.race([new Promise<boolean>((r) => lines.once('line', () => r(true))), exited.then(() => false)]); // {"ready": true}
  if (!ready) throw new Error('sniff.py ended before it was listening');
  lines.on('line', (l) => frames.push(JSON.parse(l) as CapturedFrame));
  try {
    await during();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    child.stdin!.end();
    await exited;
  }
  return frames;
}

/** One capture, as capture() and captureSent() are, waiting to be wrapped around some work. */
export type Capturer = (during: () => Promise<void> | void) => Promise<CapturedFrame[]>;
export const received = (vm: NetnsPeer): Capturer => (during) => capture(vm, during);
export const sent = (vm: NetnsPeer): Capturer => (during) => captureSent(vm, during);

/** Runs every capture at once around `during`: the frames each one saw, in order. */
export async function captureAll(capturers: Capturer[], during: () => Promise<void> | void): Promise<CapturedFrame[][]> {
  const [first, ...rest] = capturers;
  if (!first) {
    await during();
    return [];
  }
  let inner: CapturedFrame[][] = [];
  const frames = await first(async () => {
    inner = await captureAll(rest, during);
  });
  return [frames, ...inner];
}
