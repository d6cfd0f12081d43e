// The "physical network" between hosts in the fabric tests: two veth pairs whose far ends sit
// on one Linux bridge in a namespace of their own. A host's uplink port reads the near end;
// a capture on a far end sees what that host sent onto the wire.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { NetnsPeer, sh } from './netns';

export class Wire {
  readonly ns: string;
  readonly hostIfs: [string, string];
  readonly peerIfs: [string, string];

  constructor() {
    const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    this.ns = `mwire-${tag}`;
    this.hostIfs = [`mwa${tag}`.slice(0, 15), `mwb${tag}`.slice(0, 15)];
    this.peerIfs = [`mwA${tag}`.slice(0, 15), `mwB${tag}`.slice(0, 15)];
  }

  create(): this {
    sh('ip', ['netns', 'add', this.ns]);
    const inNs = (...args: string[]): string => sh('ip', ['netns', 'exec', this.ns, ...args]);
    inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    inNs('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    inNs('ip', 'link', 'add', 'br0', 'type', 'bridge');
    inNs('ip', 'link', 'set', 'br0', 'up');
    for (let i = 0; i < 2; i++) {
      sh('ip', ['link', 'add', this.hostIfs[i]!, 'type', 'veth', 'peer', 'name', this.peerIfs[i]!]);
      sh('sysctl', ['-qw', `net.ipv6.conf.${this.hostIfs[i]}.disable_ipv6=1`]);
      sh('ip', ['link', 'set', this.peerIfs[i]!, 'netns', this.ns]);
      inNs('ip', 'link', 'set', this.peerIfs[i]!, 'master', 'br0');
      inNs('ip', 'link', 'set', this.peerIfs[i]!, 'up');
      sh('ip', ['link', 'set', this.hostIfs[i]!, 'up']);
    }
    return this;
  }

  /** What host i sent onto the wire, as the capture helper's view of a port. */
  side(i: number): NetnsPeer {
    return { ns: this.ns, peerIf: this.peerIfs[i]! } as NetnsPeer;
  }

  remove(): void {
    for (const ifname of this.hostIfs) spawnSync('ip', ['link', 'del', ifname]);
    spawnSync('ip', ['netns', 'del', this.ns]);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
