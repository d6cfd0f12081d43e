// Config validation and EAL argument building: pure TypeScript, no DPDK.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, ConfigError } from '../src/config/load';
import { validateConfig } from '../src/config/validate';
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
      /^bindings\[0\]\.ip: must be an IPv4 address \(e\.g\. 10\.0\.0\.7\), got "10\.0\.0\.256"$/,
      /^bindings\[1\]\.mac: must be a MAC address \(aa:bb:cc:dd:ee:ff\), got "02:00:00:00:01"$/,
      /^bindings\[2\]\.mac: a multicast or broadcast MAC/,
      /^bindings\[3\]\.vlan: must be an integer from 0 to 4094/,
      /^bindings\[5\]: duplicate binding for 10\.0\.0\.4 \(also bindings\[4\]\)/,
    ];
    for (const re of expect) assert.ok(found.some((f) => re.test(f)), `${re} in\n${found.join('\n')}`);
    assert.equal(found.length, expect.length, found.join('\n'));
  });

  it('words schema problems with their path, what the value must be and what it was', () => {
    const found = issues(`
ports:
  - { name: p0, device: net_ring0, mode: access, vlan: 10, colour: blue }
  - { name: p1, device: net_ring1, mode: access, vlan: 5000 }
  - { name: p2 }
workers: [1, 1, 200]
learning: on
metrics: { listen: "127.0.0.1:70000" }
api: { token: short-secret }
fdb: { static: [{ port: p0 }] }
fabric: { host: hv-1, etcd: { endpoints: ["http://10.0.0.1:2379"], tls: { cert: /nonexistent/cert.pem } } }
`);
    assert.deepEqual(found.sort(), [
      'api.token: must be a string of at least 16 characters',
      'fabric.etcd.tls: cert and key go together',
      'fabric.etcd.tls.cert: must be a readable file, got "/nonexistent/cert.pem"',
      'fabric: a fabric needs at least one port with uplink: true (toward the other hosts)',
      'fdb.static[0].mac: missing (must be a MAC address (aa:bb:cc:dd:ee:ff))',
      'learning: must be off, or a mapping {subnets?, max_per_port?, max_per_vlan?, aging_seconds?, probe_before_seconds?, probe_mac?, enabled?}, got "on"',
      'metrics.listen: must be HOST:PORT (e.g. 127.0.0.1:9417) or off, got "127.0.0.1:70000"',
      'ports[0].colour: unknown key (expected one of: name, device, mode, vlan, vlans, native_vlan, responder, admin, trusted, uplink, allowed_subnets, arp_rate)',
      'ports[1].vlan: must be an integer from 1 to 4094, got 5000',
      'ports[2].device: missing (must be a PCI address (0000:01:00.0) or vdev devargs (net_pcap0,rx_pcap=in.pcap))',
      'workers: lists 1 twice',
      'workers[2]: must be an integer from 0 to 127, got 200',
    ].sort());
    // The token is a secret: a wrong one is not echoed.
    assert.ok(!found.join('\n').includes('short-secret'));
  });

  it('checks what the schema cannot say: VLAN keys against the mode, host bits, ports named elsewhere', () => {
    const found = issues(`
ports:
  - { name: a, device: net_ring0, vlan: 10 }
  - { name: b, device: net_ring1, mode: access, vlans: [10] }
  - { name: c, device: net_ring2, mode: trunk, vlans: [10, 20], native_vlan: 30 }
  - { name: d, device: net_ring3, mode: trunk }
  - { name: e, device: net_ring4, mode: access }
  - { name: f, device: net_ring5, uplink: true, trusted: false, allowed_subnets: [10.0.0.1/24] }
fdb: { static: [{ mac: "02:00:00:00:00:01", port: nowhere }] }
learning: { aging_seconds: 30, probe_before_seconds: 30, subnets: { 10: [10.0.10.0/16] } }
`);
    assert.deepEqual(found.sort(), [
      'fdb.static[0].port: no port named "nowhere"',
      'learning.probe_before_seconds: must be less than learning.aging_seconds',
      'learning.subnets.10[0]: host bits set in 10.0.10.0/16',
      'ports[0].vlan: needs a mode: access (with vlan) or trunk (with vlans)',
      'ports[1].vlan: an access port needs its VLAN (1-4094)',
      'ports[1].vlans: is for trunk ports',
      'ports[2].native_vlan: VLAN 30 is not in vlans',
      'ports[3].vlans: a trunk port needs a non-empty list of VLANs (1-4094)',
      'ports[4].vlan: an access port needs its VLAN (1-4094)',
      'ports[5].allowed_subnets[0]: host bits set in 10.0.0.1/24',
      'ports[5].trusted: an uplink is always trusted',
    ].sort());
  });

  it('reads secrets from the environment and refuses what needs one that is not set', () => {
    const raw = {
      ports: [{ name: 'up', device: 'net_ring0', uplink: true }],
      api: { listen: '127.0.0.1:0', token_env: 'T' },
      fabric: { host: 'hv-1', etcd: { endpoints: ['http://10.0.0.1:2379/'], username: 'u' } },
    };
    assert.deepEqual(validateConfig(raw, {}).issues.map((i) => `${i.path}: ${i.message}`).sort(), [
      'api.listen: a TCP API needs a token: set api.token or the T environment variable',
      'fabric.etcd.password_env: the environment variable MICROARP_ETCD_PASSWORD (the etcd password) is not set',
    ]);
    const { config } = validateConfig(raw, { T: 'a-token-from-the-environment', MICROARP_ETCD_PASSWORD: 'pw' });
    assert.equal(config?.api.token, 'a-token-from-the-environment');
    assert.deepEqual(config?.fabric, {
      host: 'hv-1', endpoints: ['http://10.0.0.1:2379'], prefix: '/microarp/', leaseSeconds: 10, username: 'u', password: 'pw', tls: undefined,
    });
    const alone = validateConfig({ ...raw, ports: [{ name: 'p', device: 'net_ring0' }] }, { T: 'a-token-from-the-environment', MICROARP_ETCD_PASSWORD: 'pw' });
    assert.deepEqual(alone.issues, [{ path: 'fabric', message: 'a fabric needs at least one port with uplink: true (toward the other hosts)' }]);
  });

  it('turns the file into the Config the daemon runs: off, booleans, strings and defaults', () => {
    const c = parseConfigText(`${PORTS}
    mode: trunk
    vlans: [10, 20]
    native_vlan: 20
    arp_rate: { pps: 40 }
  - { name: up, device: "3b:00.1", uplink: true, allowed_subnets: [10.0.0.0/8] }
hugepages: true
eal: "--log-level lib.eal:debug  -n 4"
workers: [1, 3]
learning: off
metrics: off
api: { socket: off, open_reads: true }
state_dir: off
fdb: { static: [{ mac: "02-00-00-00-00-0A", port: up }] }
`, 't');
    assert.equal(c.hugepages, 'on');
    assert.deepEqual(c.eal, ['--log-level', 'lib.eal:debug', '-n', '4']);
    assert.deepEqual(c.workers, { cpus: [1, 3] });
    assert.equal(c.learning.enabled, false);
    assert.equal(c.metricsListen, null);
    assert.deepEqual([c.api.socket, c.api.openReads, c.stateDir], [null, true, null]);
    assert.deepEqual(c.ports[0]!, {
      name: 'p0', device: 'net_pcap0,rx_pcap=/tmp/x.pcap', mode: 'trunk', vlan: 0, vlans: [10, 20], nativeVlan: 20,
      responder: true, adminUp: true, trusted: false, uplink: false, allowedSubnets: [], arpRate: { pps: 40, burst: 80 },
    });
    assert.deepEqual([c.ports[1]!.mode, c.ports[1]!.trusted, c.ports[1]!.allowedSubnets], ['all', true, [[0x0a000000, 8]]]);
    assert.deepEqual(c.fdb.static, [{ mac: Uint8Array.from([2, 0, 0, 0, 0, 10]), vlan: 0, port: 'up' }]);
    assert.equal(parseConfigText(`${PORTS}learning: { subnets: { "010": [] } }\n`, 't').learning.subnets.get(10)?.length, 0);
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
      assert.match(r.stderr, /bindings\[0\]\.ip: must be an IPv4 address \(e\.g\. 10\.0\.0\.7\), got "nope"/);
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
