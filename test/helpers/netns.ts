// Network namespaces and veth pairs for tests whose peer is a real Linux kernel. Every name
// is unique to this process, and remove() deletes exactly what create() made.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface NetnsOptions {
  /**
   * Leaves IPv6 on in the namespace (Neighbor Discovery tests). For determinism its interface
   * gets no link-local address (addr_gen_mode 1, so no address of its own but those a test
   * adds, and no duplicate address detection or router solicitation behind the test's back)
   * and accepts no router advertisements (accept_ra 0); duplicate address detection stays at
   * one solicitation for the addresses a test adds without `nodad`. Off by default: the other
   * tests count frames and want no IPv6 chatter (router solicitations, MLD) on the segment.
   */
  ipv6?: boolean;
}

export class NetnsPeer {
  readonly ns: string;
  /** The veth end in the root namespace, for microarp's net_af_packet port. */
  readonly hostIf: string;
  /** The veth end inside the namespace, owned by the peer's kernel. */
  readonly peerIf: string;

  constructor(
    readonly peerAddress: string /* e.g. 10.77.0.1/24 */,
    readonly options: NetnsOptions = {},
  ) {
    const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
    this.ns = `marp-${tag}`;
    this.hostIf = `mah${tag}`.slice(0, 15);
    this.peerIf = `map${tag}`.slice(0, 15);
  }

  create(): this {
    sh('ip', ['netns', 'add', this.ns]);
    sh('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', this.peerIf]);
    sh('ip', ['link', 'set', this.peerIf, 'netns', this.ns]);
    if (this.options.ipv6) {
      // Set before the link comes up: the link-local address is made when it does.
      for (const ifname of ['all', 'default', this.peerIf]) {
        sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_ra=0`]);
      }
      for (const ifname of ['default', this.peerIf]) {
        sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-qw', `net.ipv6.conf.${ifname}.addr_gen_mode=1`]);
        sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-qw', `net.ipv6.conf.${ifname}.dad_transmits=1`]);
      }
    } else {
      // No IPv6 chatter (router solicitations, MLD) on the segment: the tests count frames.
      for (const ifname of ['all', 'default']) {
        sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-qw', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
      }
    }
    sh('sysctl', ['-qw', `net.ipv6.conf.${this.hostIf}.disable_ipv6=1`]);
    this.exec('ip', ['addr', 'add', this.peerAddress, 'dev', this.peerIf]);
    this.exec('ip', ['link', 'set', this.peerIf, 'up']);
    this.exec('ip', ['link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'set', this.hostIf, 'up']);
    return this;
  }

  exec(cmd: string, args: string[], timeoutMs = 20000): SpawnSyncReturns<string> {
    return spawnSync('ip', ['netns', 'exec', this.ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
  }

  /** Brings the namespace's end of the veth up or down (down: the host end loses carrier). */
  link(up: boolean): void {
    const r = this.exec('ip', ['link', 'set', 'dev', this.peerIf, up ? 'up' : 'down']);
    if (r.status !== 0) throw new Error(`ip link set ${this.peerIf} ${up ? 'up' : 'down'}: ${r.stderr}`);
  }

  /** Gives the namespace's end of the veth another MAC. */
  setMac(mac: string): void {
    const r = this.exec('ip', ['link', 'set', 'dev', this.peerIf, 'address', mac]);
    if (r.status !== 0) throw new Error(`ip link set ${this.peerIf} address ${mac}: ${r.stderr}`);
  }

  /** net.ipv4.conf.{all,IF}.arp_notify=1: the kernel sends a gratuitous ARP when the link comes up. */
  arpNotify(): void {
    for (const ifname of ['all', this.peerIf]) {
      const r = this.exec('sysctl', ['-qw', `net.ipv4.conf.${ifname}.arp_notify=1`]);
      if (r.status !== 0) throw new Error(`sysctl arp_notify on ${ifname}: ${r.stderr}`);
    }
  }

  /** The MAC of the namespace's end of the veth. */
  mac(): string {
    const out = this.exec('cat', [`/sys/class/net/${this.peerIf}/address`]);
    return out.stdout.trim();
  }

  remove(): void {
    spawnSync('ip', ['link', 'del', this.hostIf]);
    spawnSync('ip', ['netns', 'del', this.ns]);
  }
}

/** Adds an IPv6 address (/64) to the VM's interface, with or without duplicate address detection. */
export function addAddress6(vm: NetnsPeer, ip: string, dad: boolean): void {
  const r = vm.exec('ip', ['-6', 'addr', 'add', `${ip}/64`, 'dev', vm.peerIf, ...(dad ? [] : ['nodad'])]);
  if (r.status !== 0) throw new Error(`ip -6 addr add ${ip} in ${vm.ns}: ${r.stderr}`);
}

/** The VM kernel's IPv6 neighbour entry for `ip`: its MAC and state, and the line itself. */
export function neigh6(vm: NetnsPeer, ip: string): { mac?: string; state?: string; line: string } {
  const line = vm.exec('ip', ['-6', 'neigh', 'show', ip, 'dev', vm.peerIf]).stdout.trim();
  const m = /lladdr ([0-9a-f:]{17})(?: router)? ([A-Z]+)/.exec(line);
  return { mac: m?.[1], state: m?.[2], line };
}
