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
export async function capture(vm: NetnsPeer, during: () => Promise<void> | void, settleMs = 300): Promise<CapturedFrame[]> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', vm.ns, '/usr/bin/python3', SNIFF, vm.peerIf], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const frames: CapturedFrame[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) => lines.once('line', () => resolve())); // {"ready": true}
  lines.on('line', (l) => frames.push(JSON.parse(l) as CapturedFrame));
  try {
    await during();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    await exited;
  }
  return frames;
}
