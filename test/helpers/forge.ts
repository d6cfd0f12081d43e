// Forgers of ARP frames and of IPv6 Neighbor Discovery messages that stay up in a VM's
// namespace and send each frame the moment they are asked (test/fixtures/forge_arp.py and
// forge_nd.py, --stdin): tests that need frames milliseconds after a change, or every round of
// a loop, cannot wait a second for scapy to start each time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NetnsPeer } from './netns';

const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export interface ForgedArp {
  op: 'request' | 'reply';
  src: string;
  dst?: string;
  sha: string;
  spa: string;
  tha?: string;
  tpa: string;
  count?: number;
}

/** A Neighbor Advertisement or Router Advertisement, as forge_nd.py's usage describes it. */
export interface ForgedNd {
  kind: 'na' | 'ra';
  src: string;
  dst?: string;
  ip6_src: string;
  ip6_dst?: string;
  target?: string;
  flags?: string;
  lladdr?: string;
  prefix?: string;
  router_lifetime?: number;
  count?: number;
}

export interface ForgeSession<F = ForgedArp> {
  /** Sends the frame(s); resolves once they left the VM's interface. */
  send(frame: F): Promise<void>;
  /** Ends the forger's input; resolves once its process has exited. */
  close(): Promise<void>;
}

function session<F>(vm: NetnsPeer, script: string): ForgeSession<F> {
  const child = spawn('ip', ['netns', 'exec', vm.ns, PYTHON, join(FIXTURES, script), vm.peerIf, '--stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async send(frame) {
      child.stdin!.write(`${JSON.stringify(frame)}\n`);
      const answer = await answers.next();
      assert.ok(!answer.done && /"sent"/.test(answer.value), `${script} --stdin answered ${JSON.stringify(answer.value)}`);
    },
    close() {
      child.stdin!.end();
      return exited;
    },
  };
}

export function forgeSession(vm: NetnsPeer): ForgeSession<ForgedArp> {
  return session(vm, 'forge_arp.py');
}

export function forgeNdSession(vm: NetnsPeer): ForgeSession<ForgedNd> {
  return session(vm, 'forge_nd.py');
}
