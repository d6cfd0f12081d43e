// A Linux VM pinging another every few milliseconds (ping -D, timestamped replies), and the
// outage a move causes: the time from the last reply before it to the first one after.
import { spawn } from 'node:child_process';
import type { NetnsPeer } from './netns';

export interface PingReply {
  /** Arrival time, ms since the epoch. */
  t: number;
  seq: number;
}

export interface RunningPing {
  /** Stops the ping and returns every reply it saw. */
  stop(): Promise<{ replies: PingReply[]; output: string }>;
}

export function startPing(from: NetnsPeer, ip: string, intervalSeconds = 0.01): RunningPing {
  const child = spawn('ip', ['netns', 'exec', from.ns, 'ping', '-D', '-i', String(intervalSeconds), '-W', '1', ip], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const replies = [...output.matchAll(/^\[(\d+\.\d+)\].*icmp_seq=(\d+)/gm)].map((m) => ({ t: Number(m[1]) * 1000, seq: Number(m[2]) }));
      return { replies, output };
    },
  };
}

/** Last reply before `at` to the first one after it, in ms; undefined without both. */
export function outageAround(replies: readonly PingReply[], at: number): number | undefined {
  const before = replies.filter((r) => r.t < at).at(-1);
  const after = replies.find((r) => r.t >= at);
  return before && after ? after.t - before.t : undefined;
}
