// The demo's "VMs": network namespaces with a real Linux stack, each on a veth pair whose
// host end becomes a microarp port. Names carry our PID so that a crashed demo's leftovers
// can be told apart from anything else and cleaned by the next run.
//
// vm2 has a second home: another namespace, on another port of VLAN 10, with vm2's IP and
// MAC and its link down. Moving vm2 takes the first home's link down and brings the second's
// up, as a hypervisor resumes a migrated guest: its kernel announces itself with a
// gratuitous ARP (arp_notify).
//
// Each VM is dual-stack: an IPv4 and an IPv6 address (no duplicate address detection, no
// router advertisements taken: the demo's traffic is the pings and what they resolve).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DemoVm {
  /** The VM: vm1, vm2 or vm3 (both of vm2's homes are "vm2"). */
  name: string;
  /** The microarp port its veth is on. */
  port: string;
  ns: string;
  hostIf: string;
  vmIf: string;
  ip: string;
  /** Its IPv6 address, in the same VLAN. */
  ip6: string;
  mac: string;
  vlan: number;
  /** Created with its link down: a home the VM is not in yet. */
  standby: boolean;
}

export interface DemoTopology {
  /** vm1 and vm2 (VLAN 10), vm3 (VLAN 20), where they start. */
  vms: [DemoVm, DemoVm, DemoVm];
  /** vm2's second home, on port vm2-b of VLAN 10, where the demo moves it. */
  moveTarget: DemoVm;
  /** Every namespace, one per microarp port, in port order. */
  homes: DemoVm[];
}

const PREFIX = 'marpdemo';

export function planTopology(pid = process.pid): DemoTopology {
  const tag = pid.toString(36);
  const specs = [
    { name: 'vm1', port: 'vm1', vlan: 10, n: 1, standby: false },
    { name: 'vm2', port: 'vm2', vlan: 10, n: 2, standby: false },
    { name: 'vm3', port: 'vm3', vlan: 20, n: 3, standby: false },
    { name: 'vm2', port: 'vm2-b', vlan: 10, n: 2, standby: true },
  ];
  const homes = specs.map((s, i) => ({
    name: s.name,
    port: s.port,
    ns: `${PREFIX}-${tag}-${s.port.replace('-', '')}`,
    hostIf: `md${tag}h${i + 1}`.slice(0, 15),
    vmIf: `md${tag}v${i + 1}`.slice(0, 15),
    // One subnet for all three: only the VLANs keep vm3 apart.
    ip: `10.0.10.${s.n}`,
    ip6: `2001:db8:10::${s.n}`,
    mac: `02:de:00:00:00:0${s.n}`,
    vlan: s.vlan,
    standby: s.standby,
  }));
  return { vms: [homes[0]!, homes[1]!, homes[2]!], moveTarget: homes[3]!, homes };
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

export async function createVm(vm: DemoVm): Promise<void> {
  await ip(['netns', 'add', vm.ns]);
  await ip(['link', 'add', vm.hostIf, 'type', 'veth', 'peer', 'name', vm.vmIf]);
  await ip(['link', 'set', vm.vmIf, 'netns', vm.ns]);
  // IPv6 on the VM's interface only: its own address, no router advertisements taken, no
  // link-local address or duplicate address detection (nothing for the pings to wait on).
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_ra=0']);
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', `net.ipv6.conf.${vm.vmIf}.accept_ra=0`]);
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', `net.ipv6.conf.${vm.vmIf}.addr_gen_mode=1`]);
  // A VM whose link comes up sends a gratuitous ARP, as a resumed guest does.
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_notify=1']);
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', `net.ipv4.conf.${vm.vmIf}.arp_notify=1`]);
  await ip(['-n', vm.ns, 'link', 'set', vm.vmIf, 'address', vm.mac]);
  await ip(['-n', vm.ns, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.vmIf]);
  await ip(['-n', vm.ns, 'addr', 'add', `${vm.ip6}/64`, 'dev', vm.vmIf, 'nodad']);
  if (!vm.standby) await ip(['-n', vm.ns, 'link', 'set', vm.vmIf, 'up']);
  await ip(['-n', vm.ns, 'link', 'set', 'lo', 'up']);
  await run('sysctl', ['-qw', `net.ipv6.conf.${vm.hostIf}.disable_ipv6=1`]).catch(() => undefined);
  await ip(['link', 'set', vm.hostIf, 'up']);
}

export async function removeVm(vm: DemoVm): Promise<void> {
  await ip(['link', 'del', vm.hostIf]).catch(() => undefined);
  await ip(['netns', 'del', vm.ns]).catch(() => undefined);
}

/** The VM stops in `from` and resumes in `to`: `from`'s link goes down, then `to`'s comes up. */
export async function moveVm(from: DemoVm, to: DemoVm): Promise<void> {
  await ip(['-n', from.ns, 'link', 'set', from.vmIf, 'down']);
  await ip(['-n', to.ns, 'link', 'set', to.vmIf, 'up']);
}

/** Removes namespaces left by demos whose process is gone. */
export async function removeStale(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const removed: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^(${PREFIX}-([0-9a-z]+)-vm[0-9a-z]+)`).exec(line);
    if (!m) continue;
    const pid = parseInt(m[2]!, 36);
    if (pid === process.pid || processAlive(pid)) continue;
    await ip(['netns', 'del', m[1]!]).catch(() => undefined);
    removed.push(m[1]!);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pings once from a VM; resolves true when the echo came back. */
export async function ping(from: DemoVm, target: string): Promise<boolean> {
  try {
    await run('ip', ['netns', 'exec', from.ns, 'ping', '-c', '1', '-W', '1', target]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pings every `intervalMs` until the first echo reply, for at most `deadlineS` seconds.
 * Returns the reply's arrival (ms since the epoch, from ping -D) and the requests sent.
 */
export async function pingUntilReply(from: DemoVm, target: string, intervalMs: number, deadlineS: number): Promise<{ replyAt?: number; sent: number }> {
  const args = ['netns', 'exec', from.ns, 'ping', '-D', '-n', '-c', '1', '-i', String(intervalMs / 1000), '-w', String(deadlineS), target];
  const out = await run('ip', args).then(
    (r) => r.stdout,
    (error: { stdout?: string }) => error.stdout ?? '',
  );
  const reply = /^\[(\d+\.\d+)\] \d+ bytes from /m.exec(out);
  const sent = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
  return { replyAt: reply ? Number(reply[1]) * 1000 : undefined, sent };
}

/**
 * Sends one gratuitous ARP from `from`'s interface that claims `claimedIp` for `from`'s own
 * MAC (arping -U with a spoofed sender IP). Returns how many frames arping says it sent.
 */
export async function sendGratuitousArp(from: DemoVm, claimedIp: string): Promise<number> {
  const args = ['netns', 'exec', from.ns, 'arping', '-c', '1', '-w', '0.1', '-U', '-S', claimedIp, '-i', from.vmIf, claimedIp];
  // No one answers a gratuitous ARP: arping exits 1, having sent it.
  const out = await run('ip', args).then(
    (r) => r.stdout,
    (error: { stdout?: string }) => error.stdout ?? '',
  );
  return Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
}

/** The MAC a VM's kernel resolved for `target`, if any. */
export async function neighbour(from: DemoVm, target: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-n', from.ns, 'neigh', 'show', target, 'dev', from.vmIf]);
  return /lladdr ([0-9a-f:]{17})/.exec(stdout)?.[1];
}

export async function flushNeighbours(vm: DemoVm): Promise<void> {
  await ip(['-n', vm.ns, 'neigh', 'flush', 'dev', vm.vmIf]).catch(() => undefined);
  await ip(['-6', '-n', vm.ns, 'neigh', 'flush', 'dev', vm.vmIf]).catch(() => undefined);
}
