// Config validation and EAL argument building: pure TypeScript, no DPDK.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText, ConfigError } from '../src/config/load';
import { validateConfig } from '../src/config/validate';
import { buildEalArgs, freeHugepageMb } from '../src/config/eal_args';
import { isIPv6 } from 'node:net';
import { formatIPv4, formatIPv6, formatMac, ipv6Problem, parseIPv4, parseIPv6, parseIPv6Prefix } from '../src/dataplane/address';
import { IP_PATTERNS, IPV6_MULTICAST, IPV6_UNSPECIFIED } from '../src/config/schema';
import { runCli, TempDir } from './helpers/daemon';
import { mutated, seededRandom } from './helpers/random';
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

  it('takes IPv6 bindings in any RFC 4291 spelling, with a router flag, apart from the IPv4 ones', () => {
    const c = parseConfigText(
      JSON.stringify({
        ports: [{ name: 'a', device: 'net_ring0', router: true, allowed_subnets: ['10.0.10.0/24', '2001:DB8:10::/64', '::/0'] }],
        table: { capacity: 100, ipv6_capacity: 10 },
        bindings: [
          { ip: '10.0.0.7', mac: '02:00:00:00:00:07' },
          { ip: '2001:0db8:0000::0007', mac: '02:00:00:00:00:17' },
          { ip: '2001:db8::7', mac: '02:00:00:00:00:27', vlan: 10, router: true },
          { ip: '::ffff:10.0.0.7', mac: '02:00:00:00:00:37', router: false },
        ],
      }),
      't.json',
    );
    assert.deepEqual(c.bindings.map((b) => formatIPv4(b.ip)), ['10.0.0.7']);
    assert.deepEqual(c.bindings6.map((b) => [formatIPv6(b.ip), b.vlan, formatMac(b.mac), b.router ?? false]), [
      ['2001:db8::7', 0, '02:00:00:00:00:17', false],
      ['2001:db8::7', 10, '02:00:00:00:00:27', true],
      ['::ffff:10.0.0.7', 0, '02:00:00:00:00:37', false],
    ]);
    assert.deepEqual(c.table, { capacity: 100, ipv6Capacity: 10, updateRing: 65536 });
    const port = c.ports[0]!;
    assert.equal(port.router, true);
    assert.deepEqual(port.allowedSubnets, [[0x0a000a00, 24]]);
    assert.deepEqual(port.allowedSubnets6.map((p) => `${formatIPv6(p.network)}/${p.length}`), ['2001:db8:10::/64', '::/0']);
    // ipv6_capacity defaults to 65,536, or the capacity when that is smaller.
    assert.equal(parseConfigText(PORTS, 't').table.ipv6Capacity, 65536);
    assert.equal(parseConfigText(`${PORTS}table: { capacity: 1000 }\n`, 't').table.ipv6Capacity, 1000);
    assert.equal(parseConfigText(PORTS, 't').ports[0]!.router, false);
  });

  it('learning.subnets takes IPv6 prefixes beside IPv4 ones, each family in its own map', () => {
    const c = parseConfigText(`${PORTS}learning: { subnets: { 10: [10.0.10.0/24, "2001:db8:10::/64"], 20: ["2001:db8:20::/64"], 0: [] } }\n`, 't');
    const { subnets, subnets6 } = c.learning;
    assert.deepEqual([...subnets.entries()], [[0, []], [10, [[0x0a000a00, 24]]], [20, []]]);
    assert.deepEqual([...subnets6.entries()].map(([vlan, list]) => [vlan, list.map((p) => `${formatIPv6(p.network)}/${p.length}`)]), [[0, []], [10, ['2001:db8:10::/64']], [20, ['2001:db8:20::/64']]]);
    assert.equal(parseConfigText(PORTS, 't').learning.subnets6.size, 0);
    assert.deepEqual(issues(`${PORTS}learning: { subnets: { 10: ["2001:db8:10::1/64"], 20: ["2001:db8::/200"] } }\n`).sort(), [
      'learning.subnets.10[0]: host bits set in 2001:db8:10::1/64 (the network is 2001:db8:10::/64)',
      'learning.subnets.20[0]: must be an IPv4 or IPv6 prefix (e.g. 10.0.10.0/24 or 2001:db8:10::/64), got "2001:db8::/200"',
    ]);
  });

  it('refuses IPv6 values it cannot use, each with a message that says why', () => {
    const found = issues(`
ports:
  - { name: p0, device: net_ring0, router: yes, allowed_subnets: ["2001:db8::1/64", "2001:db8::/129", "fe80::/10", "2001:db8:0:0:1::/64"] }
table: { capacity: 3, ipv6_capacity: 4 }
bindings:
  - { ip: "10.0.0.1", mac: "02:00:00:00:00:01", router: true }
  - { ip: "ff02::1", mac: "02:00:00:00:00:02" }
  - { ip: "::", mac: "02:00:00:00:00:03" }
  - { ip: "fe80::1%eth0", mac: "02:00:00:00:00:04" }
  - { ip: "2001:db8::1", mac: "02:00:00:00:00:05", router: "yes" }
  - { ip: "2001:db8::2", mac: "02:00:00:00:00:06" }
  - { ip: "2001:DB8:0::2", mac: "02:00:00:00:00:07" }
  - { ip: "1:2:3:4:5:6:7:8:9", mac: "02:00:00:00:00:08" }
`);
    assert.deepEqual(found.sort(), [
      'bindings[0].router: is for IPv6 bindings (it sets R in Neighbor Advertisements); 10.0.0.1 is IPv4',
      'bindings[1].ip: a multicast address (ff00::/8) cannot be bound, got "ff02::1"',
      'bindings[2].ip: the unspecified address :: cannot be bound, got "::"',
      'bindings[3].ip: must be an IPv4 or IPv6 address (e.g. 10.0.0.7 or 2001:db8::7), got "fe80::1%eth0"',
      'bindings[4].router: must be true or false, got "yes"',
      'bindings[6]: duplicate binding for 2001:db8::2 (also bindings[5])',
      'bindings[7].ip: must be an IPv4 or IPv6 address (e.g. 10.0.0.7 or 2001:db8::7), got "1:2:3:4:5:6:7:8:9"',
      'ports[0].allowed_subnets[0]: host bits set in 2001:db8::1/64 (the network is 2001:db8::/64)',
      'ports[0].allowed_subnets[1]: must be an IPv4 or IPv6 prefix (e.g. 10.0.10.0/24 or 2001:db8:10::/64), got "2001:db8::/129"',
      'ports[0].allowed_subnets[3]: host bits set in 2001:db8:0:0:1::/64 (the network is 2001:db8::/64)',
      'ports[0].router: must be true or false, got "yes"',
      'table.ipv6_capacity: must be at most table.capacity (3), which counts IPv4 and IPv6 bindings together; got 4',
    ].sort());
  });

  it('counts IPv4 and IPv6 bindings together against table.capacity, and IPv6 ones against table.ipv6_capacity', () => {
    const config = (capacity: number, ipv6Capacity: number, v4: number, v6: number): string[] => {
      const bindings = [
        ...Array.from({ length: v4 }, (_, i) => ({ ip: `10.0.0.${i + 1}`, mac: '02:00:00:00:00:01' })),
        ...Array.from({ length: v6 }, (_, i) => ({ ip: `2001:db8::${i + 1}`, mac: '02:00:00:00:00:01' })),
      ];
      return validateConfig({ ports: [{ name: 'p', device: 'net_ring0' }], table: { capacity, ipv6_capacity: ipv6Capacity }, bindings }, {}).issues.map((i) => `${i.path}: ${i.message}`);
    };
    assert.deepEqual(config(4, 2, 2, 2), []);
    assert.deepEqual(config(4, 2, 3, 2), ['bindings: 5 bindings do not fit table.capacity 4']);
    assert.deepEqual(config(4, 2, 1, 3), ['bindings: 3 IPv6 bindings do not fit table.ipv6_capacity 2']);
  });

  it("the schema's address and prefix patterns accept exactly what the parsers do", () => {
    const next = seededRandom(31);
    const ipv6 = new RegExp(IP_PATTERNS.ipv6, 'u');
    const ipv4 = new RegExp(IP_PATTERNS.ipv4, 'u');
    const prefix = new RegExp(IP_PATTERNS.prefix, 'u');
    const bases = ['::', '::1', '2001:db8::7', 'fe80::1:2', '1:2:3:4:5:6:7:8', '::ffff:10.0.0.1', '1:2:3:4:5:6:1.2.3.4', 'ff02::1', '0:0::0', '::0.0.0.0', '10.0.0.1'];
    let valid = 0;
    for (let n = 0; n < 60000; n++) {
      const text = mutated(bases[n % bases.length]!, '0123456789abcdefF:.%', next);
      const address = parseIPv6(text);
      assert.equal(ipv6.test(text), address !== null, JSON.stringify(text));
      assert.equal(address !== null, isIPv6(text) && !text.includes('%'), JSON.stringify(text));
      assert.equal(ipv4.test(text), parseIPv4(text) !== null, JSON.stringify(text));
      if (address) {
        valid++;
        // What the binding's `not` patterns refuse is what ipv6Problem refuses.
        const problem = ipv6Problem(address);
        assert.equal(new RegExp(IPV6_MULTICAST).test(text), problem !== null && problem.includes('multicast'), JSON.stringify(text));
        assert.equal(new RegExp(IPV6_UNSPECIFIED).test(text), problem !== null && problem.includes('unspecified'), JSON.stringify(text));
      }
      const length = ['0', '7', '64', '128', '129', '032', ''][n % 7]!;
      const cidr = `${text}/${length}`;
      const parsed = parseIPv6Prefix(cidr) ?? (parseIPv4(text) !== null && /^(3[0-2]|[0-2]?\d)$/.test(length) ? 'ipv4' : null);
      assert.equal(prefix.test(cidr), parsed !== null, cidr);
    }
    assert.ok(valid > 10000, `${valid} valid addresses`);
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
      /^bindings\[0\]\.ip: must be an IPv4 or IPv6 address \(e\.g\. 10\.0\.0\.7 or 2001:db8::7\), got "10\.0\.0\.256"$/,
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
      'ports[0].colour: unknown key (expected one of: name, device, mode, vlan, vlans, native_vlan, responder, admin, trusted, router, uplink, allowed_subnets, arp_rate, nd_rate)',
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
    nd_rate: { pps: 25, burst: 5 }
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
      responder: true, adminUp: true, trusted: false, router: false, uplink: false, allowedSubnets: [], allowedSubnets6: [], arpRate: { pps: 40, burst: 80 },
      ndRate: { pps: 25, burst: 5 },
    });
    assert.deepEqual(c.ports[1]!.ndRate, { pps: 0, burst: 0 }, 'no nd_rate: no limit');
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
      assert.match(r.stderr, /bindings\[0\]\.ip: must be an IPv4 or IPv6 address \(e\.g\. 10\.0\.0\.7 or 2001:db8::7\), got "nope"/);
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
