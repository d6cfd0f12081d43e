// The demo's "VMs": network namespaces with a real Linux stack, each on a veth pair whose
// host end becomes a microarp port. Names carry our PID so that a crashed demo's leftovers
// can be told apart from anything else and cleaned by the next run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DemoVm {
  name: string;
  ns: string;
  hostIf: string;
  vmIf: string;
  ip: string;
  mac: string;
  vlan: number;
}

const PREFIX = 'marpdemo';

export function planVms(pid = process.pid): DemoVm[] {
  const tag = pid.toString(36);
  const specs = [
    { name: 'vm1', vlan: 10 },
    { name: 'vm2', vlan: 10 },
    { name: 'vm3', vlan: 20 },
  ];
  return specs.map((s, i) => ({
    name: s.name,
    ns: `${PREFIX}-${tag}-${s.name}`,
    hostIf: `md${tag}h${i + 1}`.slice(0, 15),
    vmIf: `md${tag}v${i + 1}`.slice(0, 15),
    // One subnet for all three: only the VLANs keep vm3 apart.
    ip: `10.0.10.${i + 1}`,
    mac: `02:de:00:00:00:0${i + 1}`,
    vlan: s.vlan,
  }));
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

export async function createVm(vm: DemoVm): Promise<void> {
  await ip(['netns', 'add', vm.ns]);
  await ip(['link', 'add', vm.hostIf, 'type', 'veth', 'peer', 'name', vm.vmIf]);
  await ip(['link', 'set', vm.vmIf, 'netns', vm.ns]);
  await ip(['netns', 'exec', vm.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  await ip(['-n', vm.ns, 'link', 'set', vm.vmIf, 'address', vm.mac]);
  await ip(['-n', vm.ns, 'addr', 'add', `${vm.ip}/24`, 'dev', vm.vmIf]);
  await ip(['-n', vm.ns, 'link', 'set', vm.vmIf, 'up']);
  await ip(['-n', vm.ns, 'link', 'set', 'lo', 'up']);
  await run('sysctl', ['-qw', `net.ipv6.conf.${vm.hostIf}.disable_ipv6=1`]).catch(() => undefined);
  await ip(['link', 'set', vm.hostIf, 'up']);
}

export async function removeVm(vm: DemoVm): Promise<void> {
  await ip(['link', 'del', vm.hostIf]).catch(() => undefined);
  await ip(['netns', 'del', vm.ns]).catch(() => undefined);
}

/** Removes namespaces left by demos whose process is gone. */
export async function removeStale(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const removed: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^(${PREFIX}-([0-9a-z]+)-vm\\d+)`).exec(line);
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

/** The MAC a VM's kernel resolved for `target`, if any. */
export async function neighbour(from: DemoVm, target: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-n', from.ns, 'neigh', 'show', target, 'dev', from.vmIf]);
  return /lladdr ([0-9a-f:]{17})/.exec(stdout)?.[1];
}

export async function flushNeighbours(vm: DemoVm): Promise<void> {
  await ip(['-n', vm.ns, 'neigh', 'flush', 'dev', vm.vmIf]).catch(() => undefined);
}
