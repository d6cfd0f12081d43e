// A forger of ARP frames that stays up in a VM's namespace and sends each frame the moment it
// is asked (test/fixtures/forge_arp.py --stdin): tests that need frames milliseconds after a
// change cannot wait a second for scapy to start each time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NetnsPeer } from './netns';

const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const FORGE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'forge_arp.py');

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

export interface ForgeSession {
  /** Sends the frame(s); resolves once they left the VM's interface. */
  send(frame: ForgedArp): Promise<void>;
  close(): void;
}

export function forgeSession(vm: NetnsPeer): ForgeSession {
  const child = spawn('ip', ['netns', 'exec', vm.ns, PYTHON, FORGE, vm.peerIf, '--stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async send(frame) {
      child.stdin!.write(`${JSON.stringify(frame)}\n`);
      const answer = await answers.next();
      assert.ok(!answer.done && /"sent"/.test(answer.value), `forge_arp.py --stdin answered ${JSON.stringify(answer.value)}`);
    },
    close() {
      child.stdin!.end();
    },
  };
}
