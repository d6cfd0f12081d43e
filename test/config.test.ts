// Config validation and EAL argument building: pure TypeScript, no DPDK.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, ConfigError } from '../src/config/load';
import { buildEalArgs, freeHugepageMb } from '../src/config/eal_args';
import { formatIPv4, formatMac } from '../src/dataplane/address';
import { runCli, TempDir } from './helpers/daemon';
import { writeFileSync, existsSync } from 'node:fs';

const PORTS = 'ports:\n  - name: p0\n    device: net_pcap0,rx_pcap=/tmp/x.pcap\n';

function issues(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('applies documented defaults', () => {
    const c = parseConfigText(PORTS, 't');
    assert.deepEqual(c.workers, { count: 1 });
    assert.equal(c.unknown, 'flood');
    assert.equal(c.table.capacity, 1 << 20);
    assert.equal(c.memoryMb, 512);
    assert.equal(c.mbufs, 0); // sized from ports, workers and descriptors
    assert.deepEqual(c.bindings, []);
    assert.equal(parseConfigText(`${PORTS}\nmbufs: 65536\n`, 't').mbufs, 65536);
    assert.equal(parseConfigText(`${PORTS}\nmbufs: auto\n`, 't').mbufs, 0);
  });

  it('parses bindings, VLANs and accepts JSON', () => {
    const c = parseConfigText(
      JSON.stringify({
        ports: [{ name: 'a', device: 'net_ring0' }],
        bindings: [
          { ip: '10.0.0.7', mac: '02:AA:bb:cc:dd:ee' },
          { ip: '10.0.0.7', mac: '02-aa-bb-cc-dd-ef', vlan: 4094 },
        ],
      }),
      't.json',
    );
    assert.equal(c.bindings.length, 2);
    assert.equal(formatIPv4(c.bindings[0]!.ip), '10.0.0.7');
    assert.equal(formatMac(c.bindings[0]!.mac), '02:aa:bb:cc:dd:ee');
    assert.equal(c.bindings[1]!.vlan, 4094);
  });

  it('reports every problem at once, each with its path', () => {
    const found = issues(`
workers: 0
unknown: maybe
mbufs: 100
colour: blue
table: { capacity: -1 }
ports:
  - { name: p0, device: "net_pcap0,rx_pcap=a" }
  - { name: p0, device: "eth0" }
  - { name: p2, device: "net_pcap0,rx_pcap=b" }
bindings:
  - { ip: 10.0.0.256, mac: "02:00:00:00:00:01" }
  - { ip: 10.0.0.1, mac: "02:00:00:00:01" }
  - { ip: 10.0.0.2, mac: "01:00:5e:00:00:01" }
  - { ip: 10.0.0.3, mac: "02:00:00:00:00:03", vlan: 4095 }
  - { ip: 10.0.0.4, mac: "02:00:00:00:00:04" }
  - { ip: 10.0.0.4, mac: "02:00:00:00:00:05", vlan: 0 }
`);
    const expect = [
      /^workers: must be an integer from 1 to 64/,
      /^unknown: must be one of flood \| drop/,
      /^mbufs: must be an integer from 1024/,
      /^colour: unknown key/,
      /^table\.capacity: must be an integer/,
      /^ports\[1\]\.name: duplicate port name 'p0' \(also ports\[0\]\)/,
      /^ports\[1\]\.device: must be a PCI address/,
      /^ports\[2\]\.device: device 'net_pcap0' is already ports\[0\]/,
      /^bindings\[0\]\.ip: not an IPv4 address/,
      /^bindings\[1\]\.mac: not a MAC address/,
      /^bindings\[2\]\.mac: a multicast or broadcast MAC/,
      /^bindings\[3\]\.vlan: must be an integer from 0 to 4094/,
      /^bindings\[5\]: duplicate binding for 10\.0\.0\.4 \(also bindings\[4\]\)/,
    ];
    for (const re of expect) assert.ok(found.some((f) => re.test(f)), `${re} in\n${found.join('\n')}`);
    assert.equal(found.length, expect.length, found.join('\n'));
  });

  it('reports YAML syntax errors with a line number', () => {
    const found = issues('ports: [\n  - {name: p0\n');
    assert.ok(found[0]!.startsWith('line '), found.join('\n'));
  });

  it('builds EAL arguments: lcores, no-huge memory, unique prefix, vdevs, no PCI scan', () => {
    const c = parseConfigText(PORTS + 'workers: 1\n', 't');
    const args = buildEalArgs(c, { filePrefix: 'pfx', freeHugeMb: 0, cpuCount: 2 });
    assert.deepEqual(args, [
      'microarp', '--lcores', '0@(0),1@1', '--main-lcore', '0', '--no-huge', '-m', '512',
      '--file-prefix', 'pfx', '--log-level', 'lib.eal:notice', '--no-pci',
      '--vdev', 'net_pcap0,rx_pcap=/tmp/x.pcap',
    ]);
  });

  it('keeps the control side off the workers\' CPUs while there are CPUs left', () => {
    const lcores = (workers: string, cpuCount: number): string | undefined => {
      const args = buildEalArgs(parseConfigText(PORTS + workers, 't'), { filePrefix: 'p', freeHugeMb: 0, cpuCount });
      return args[args.indexOf('--lcores') + 1];
    };
    assert.equal(lcores('workers: 2\n', 4), '0@(0,3),1@1,2@2');
    assert.equal(lcores('workers: [2, 3]\n', 4), '0@(0,1),1@2,2@3');
    // Every CPU has a worker: the control side floats over all of them.
    assert.equal(lcores('workers: 2\n', 2), '0@(0,1),1@1,2@0');
  });

  it('uses hugepages when enough are free, PCI devices via -a, and lets user EAL args win', () => {
    const c = parseConfigText(
      'ports:\n  - {name: nic, device: "01:00.0"}\neal: ["--file-prefix", "mine", "-m", "1024"]\nhugepages: auto\n',
      't',
    );
    const args = buildEalArgs(c, { filePrefix: 'pfx', freeHugeMb: 2048, cpuCount: 4 });
    assert.ok(!args.includes('--no-pci'));
    assert.ok(!args.includes('pfx'));
    assert.ok(!args.includes('--no-huge'));
    assert.deepEqual(args.slice(args.indexOf('-a'), args.indexOf('-a') + 2), ['-a', '0000:01:00.0']);
    assert.deepEqual(args.slice(-4), ['--file-prefix', 'mine', '-m', '1024']);
    const meminfo = 'HugePages_Free:     512\nHugepagesize:       2048 kB\n';
    assert.equal(freeHugepageMb(meminfo, 'nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n'), 1024);
    // Reserved but not mounted: EAL could not use them, 'auto' must not pick them.
    assert.equal(freeHugepageMb(meminfo, 'proc /proc proc rw 0 0\n'), 0);
  });

  it('`microarp run` with a bad config exits 2, lists every problem and starts nothing', async () => {
    const dir = new TempDir();
    try {
      const file = dir.file('bad.yaml');
      writeFileSync(file, 'ports: []\nbindings: [{ip: nope, mac: "02:00:00:00:00:01"}]\n');
      const r = await runCli(['run', '--config', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /ports: must be a non-empty list/);
      assert.match(r.stderr, /bindings\[0\]\.ip: not an IPv4 address/);
      assert.doesNotMatch(r.stderr, /EAL/);
      const check = await runCli(['check-config', file]);
      assert.equal(check.code, 2);
      const missing = await runCli(['run', '--config', dir.file('absent.yaml')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /ENOENT/);
      assert.ok(!existsSync(`/var/run/dpdk/microarp-${process.pid}`));
    } finally {
      dir.remove();
    }
  });
});
