// `microarp demo`: the main job on a machine with no NIC. Three Linux "VMs" in network
// namespaces, two in VLAN 10 and one in VLAN 20, switched by microarp, which answers their
// ARP itself, refuses a forged claim of one VM's address and follows a VM that moves to
// another port. Ctrl-C removes everything it created.
import { Command, InvalidArgumentError } from 'commander';
import { parseConfigText } from '../config/load';
import { Daemon } from '../daemon/daemon';
import { Logger } from '../log/logger';
import { createVm, flushNeighbours, neighbour, ping, planTopology, removeStale, removeVm, type DemoVm } from '../demo/topology';
import { arpFigures, arpLines, type Isolation } from '../demo/figures';
import { EventLog, moveLine, moveScene, spoofLine, spoofScene } from '../demo/scenes';
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
The demo creates vm1 and vm2 (VLAN 10) and vm3 (VLAN 20), all in 10.0.10.0/24 and
2001:db8:10::/64, on veth pairs
whose host ends are microarp ports (net_af_packet, access mode), and a fourth port in VLAN 10,
vm2-b, where vm2 will move. Each round, the VMs ping each other: vm1 <-> vm2 works through
microarp, vm3 cannot reach them (another VLAN). The round shows, from microarp's counters,
the share of the ARP requests it can answer (target bound in the asker's VLAN) that it
answered itself instead of broadcasting them, and the cross-VLAN requests beside them, which
the VMs' own ARP tables show were neither answered nor carried to the other VLAN. vm1 also
pings vm2 over IPv6: microarp answers the Neighbor Solicitations from the same table.

In the first round, vm2 also sends a forged gratuitous ARP claiming vm1's address (arping -U):
microarp drops it as a spoofed_binding violation and vm1's binding stays. Then vm2 moves to
port vm2-b (its link goes down on vm2 and up on vm2-b, as a migrated VM resumes): microarp
reports the move, moves the binding, announces it with gratuitous ARP, and vm1 reaches vm2
there at once, through the ARP entry it already had.

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

function configFor(homes: DemoVm[], vms: DemoVm[], options: DemoOptions): string {
  return JSON.stringify({
    ports: homes.map((vm, i) => ({ name: vm.port, device: `net_af_packet${i},iface=${vm.hostIf}`, mode: 'access', vlan: vm.vlan })),
    bindings: vms.flatMap((vm) => [vm.ip, vm.ip6].map((ip) => ({ ip, mac: vm.mac, vlan: vm.vlan }))),
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

  const topology = planTopology();
  const created: DemoVm[] = [];
  let daemon: Daemon | undefined;
  let log: EventLog | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  const onSignal = (): void => {
    stopping = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    for (const home of topology.homes) {
      await createVm(home);
      created.push(home);
    }
    const config = parseConfigText(configFor(topology.homes, topology.vms, options), 'demo');
    // Warnings go to stderr as JSON lines: the spoof and the move make some on purpose.
    daemon = await Daemon.start(config, new Logger('warn'));
    log = new EventLog(daemon);
    const [vm1, , vm3] = topology.vms;
    // Where vm2 is: its first home until the demo moves it.
    let vm2 = topology.vms[1];
    const target = topology.moveTarget;
    process.stdout.write(
      `microarp demo: ${topology.vms.map((v) => `${v.name} ${v.ip} vlan ${v.vlan}`).join(', ')}; ` +
        `port ${target.port} (VLAN ${target.vlan}) is where ${target.name} will move\n` +
        `  metrics: curl -s ${daemon.metricsAddress}   control: microarp stats --socket ${options.socket}\n` +
        `  Ctrl-C stops and removes everything.\n\n`,
    );

    const isolation: Isolation = { pings: 0, answered: 0, heard: 0 };
    for (let round = 1; !stopping && (options.rounds === undefined || round <= options.rounds); round++) {
      for (const vm of [vm1, vm2, vm3]) await flushNeighbours(vm);
      const [p12, p21, p13, p32, p12v6] = await Promise.all([
        ping(vm1, vm2.ip), ping(vm2, vm1.ip), ping(vm1, vm3.ip), ping(vm3, vm2.ip), ping(vm1, vm2.ip6),
      ]);
      // The VMs' kernels tell whether a cross-VLAN request was answered (the asker resolved a
      // MAC) or reached the other VLAN (the VM owning the address there learned the asker).
      for (const [asker, owner] of [
        [vm1, vm3],
        [vm3, vm2],
      ] as const) {
        isolation.pings++;
        if (await neighbour(asker, owner.ip)) isolation.answered++;
        if (await neighbour(owner, asker.ip)) isolation.heard++;
      }
      const resolved = await neighbour(vm1, vm2.ip);
      const resolved6 = await neighbour(vm1, vm2.ip6);
      const s = daemon.snapshot();
      const t = s.totals;
      const mark = (ok: boolean, want: boolean): string =>
        `${ok ? 'ok      ' : 'no reply'}${ok === want ? '' : '  <-- unexpected'}`;
      process.stdout.write(
        `round ${round}\n` +
          `  vm1 -> vm2 (VLAN 10):          ping ${mark(p12, true)}   vm1 resolved ${vm2.ip} to ${resolved ?? '?'} (bound: ${vm2.mac})\n` +
          `  vm2 -> vm1 (VLAN 10):          ping ${mark(p21, true)}\n` +
          `  vm1 -> vm3 (VLAN 10 -> 20):    ping ${mark(p13, false)} (as it should: another VLAN)\n` +
          `  vm3 -> vm2 (VLAN 20 -> 10):    ping ${mark(p32, false)} (as it should: another VLAN)\n` +
          `  vm1 -> vm2 IPv6 (VLAN 10):     ping ${mark(p12v6, true)}   vm1 resolved ${vm2.ip6} to ${resolved6 ?? '?'} (bound: ${vm2.mac})\n` +
          `  IPv6: ${t.nd_solicitations} neighbor solicitations seen, ${t.nd_answers} answered by microarp\n` +
          arpLines(arpFigures(t), isolation).join('\n') +
          '\n' +
          `  switching: ${t.forwarded_unicast} unicast forwarded, ${t.flooded} flooded, FDB ${s.fdb.entries} MACs\n`,
      );
      if (round === 1 && !stopping) {
        // Once: vm2 forges a claim on vm1's address, then moves to its second port.
        const spoof = await spoofScene(daemon, log, vm2, vm1);
        process.stdout.write(`${spoofLine(spoof, vm2, vm1)}\n`);
        const move = await moveScene(daemon, log, vm2, target, vm1);
        vm2 = target;
        process.stdout.write(`${moveLine(move, topology.vms[1], target, vm1)}\n`);
      }
      process.stdout.write('\n');
      if (options.rounds !== undefined && round === options.rounds) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.interval * 1000);
      });
    }
    return EXIT_OK;
  } finally {
    process.stdout.write('microarp demo: stopping and removing the VMs\n');
    log?.close();
    await daemon?.stop();
    for (const vm of created) await removeVm(vm);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
