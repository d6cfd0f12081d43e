// `microarp demo`: the main job on a machine with no NIC. Three Linux "VMs" in network
// namespaces, two in VLAN 10 and one in VLAN 20, switched by microarp, which answers their
// ARP itself. Ctrl-C removes everything it created.
import { Command, InvalidArgumentError } from 'commander';
import { parseConfigText } from '../config/load';
import { Daemon } from '../daemon/daemon';
import { Logger } from '../log/logger';
import { createVm, flushNeighbours, neighbour, ping, planVms, removeStale, removeVm, type DemoVm } from '../demo/topology';
import { EXIT_OK, EXIT_RUNTIME } from './exit_codes';

interface DemoOptions {
  rounds?: number;
  interval: number;
  metrics: string;
  socket: string;
}

function count(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return Number(v);
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run microarp on a demo topology of three Linux VMs (network namespaces), no NIC needed (root)')
    .option('--rounds <n>', 'stop by itself after n rounds of pings (default: until Ctrl-C)', count)
    .option('--interval <seconds>', 'seconds between rounds', (v) => count(v), 2)
    .option('--metrics <host:port>', 'where to serve Prometheus metrics', '127.0.0.1:9417')
    .option('--socket <path>', 'control socket', '/run/microarp/microarp.sock')
    .addHelpText(
      'after',
      `
The demo creates vm1 and vm2 (VLAN 10) and vm3 (VLAN 20), all in 10.0.10.0/24, on veth pairs
whose host ends are microarp ports (net_af_packet, access mode). Each round, the VMs ping
each other: vm1 <-> vm2 works through microarp, vm3 cannot reach them (another VLAN). Their
ARP requests are answered by microarp from its table and never broadcast.

While it runs, from another terminal:
  curl -s http://127.0.0.1:9417/metrics | grep microarp_arp
  microarp stats
  microarp bindings list
  curl -s --unix-socket /run/microarp/microarp.sock http://x/v1/fdb

On real NICs instead: bind them to vfio-pci (dpdk-devbind.py), write a config naming their
PCI addresses, and run it:
  ports:
    - { name: uplink, device: "0000:01:00.0", mode: trunk, vlans: [10, 20] }
    - { name: host1,  device: "0000:01:00.1", mode: access, vlan: 10 }
  bindings:
    - { ip: 10.0.10.1, mac: "52:54:00:00:00:01", vlan: 10 }
  microarp run --config microarp.yaml

Example:
  microarp demo --rounds 3`,
    )
    .action(async (options: DemoOptions) => {
      process.exitCode = await demo(options);
    });
}

function configFor(vms: DemoVm[], options: DemoOptions): string {
  return JSON.stringify({
    ports: vms.map((vm, i) => ({ name: vm.name, device: `net_af_packet${i},iface=${vm.hostIf}`, mode: 'access', vlan: vm.vlan })),
    bindings: vms.map((vm) => ({ ip: vm.ip, mac: vm.mac, vlan: vm.vlan })),
    table: { capacity: 65536 },
    api: { socket: options.socket },
    metrics: { listen: options.metrics },
    // The demo's topology is made anew each run: nothing of it is worth keeping.
    state_dir: 'off',
    log_level: 'warn',
  });
}

async function demo(options: DemoOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('microarp demo: creating network namespaces needs root (run it as root, e.g. sudo npm start)\n');
    return EXIT_RUNTIME;
  }
  const stale = await removeStale();
  if (stale.length) process.stdout.write(`removed leftovers of an earlier demo: ${stale.join(', ')}\n`);

  const vms = planVms();
  const created: DemoVm[] = [];
  let daemon: Daemon | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  const onSignal = (): void => {
    stopping = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    for (const vm of vms) {
      await createVm(vm);
      created.push(vm);
    }
    const config = parseConfigText(configFor(vms, options), 'demo');
    daemon = await Daemon.start(config, new Logger('warn'));
    const [vm1, vm2, vm3] = vms as [DemoVm, DemoVm, DemoVm];
    process.stdout.write(
      `microarp demo: ${vms.map((v) => `${v.name} ${v.ip} vlan ${v.vlan}`).join(', ')}\n` +
        `  metrics: curl -s ${daemon.metricsAddress}   control: microarp stats --socket ${options.socket}\n` +
        `  Ctrl-C stops and removes everything.\n\n`,
    );

    for (let round = 1; !stopping && (options.rounds === undefined || round <= options.rounds); round++) {
      for (const vm of vms) await flushNeighbours(vm);
      const [p12, p21, p13, p32] = await Promise.all([ping(vm1, vm2.ip), ping(vm2, vm1.ip), ping(vm1, vm3.ip), ping(vm3, vm2.ip)]);
      const resolved = await neighbour(vm1, vm2.ip);
      const s = daemon.snapshot();
      const t = s.totals;
      const ratio = t.arp_requests ? (100 * t.replies_sent) / t.arp_requests : 0;
      const mark = (ok: boolean, want: boolean): string =>
        `${ok ? 'ok      ' : 'no reply'}${ok === want ? '' : '  <-- unexpected'}`;
      process.stdout.write(
        `round ${round}\n` +
          `  vm1 -> vm2 (VLAN 10):          ping ${mark(p12, true)}   vm1 resolved ${vm2.ip} to ${resolved ?? '?'} (bound: ${vm2.mac})\n` +
          `  vm2 -> vm1 (VLAN 10):          ping ${mark(p21, true)}\n` +
          `  vm1 -> vm3 (VLAN 10 -> 20):    ping ${mark(p13, false)} (as it should: another VLAN)\n` +
          `  vm3 -> vm2 (VLAN 20 -> 10):    ping ${mark(p32, false)} (as it should: another VLAN)\n` +
          `  ARP: ${t.arp_requests} requests seen, ${t.replies_sent} answered by microarp, ${ratio.toFixed(0)}% of broadcasts suppressed; ` +
          `${t.requests_unbound} unanswered (flooded in their VLAN)\n` +
          `  switching: ${t.forwarded_unicast} unicast forwarded, ${t.flooded} flooded, FDB ${s.fdb.entries} MACs\n\n`,
      );
      if (options.rounds !== undefined && round === options.rounds) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.interval * 1000);
      });
    }
    return EXIT_OK;
  } finally {
    process.stdout.write('microarp demo: stopping and removing the VMs\n');
    await daemon?.stop();
    for (const vm of created) await removeVm(vm);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
