// Config files the test suite and the demo really use, as the objects they write (most tests
// build their config inline and hand it to runDaemon/startDaemon with withTestDefaults), and
// one file that sets every key the schema has. test/config_schema.test.ts checks the printed
// schema accepts them all, and that validateConfig does too.

/** What withTestDefaults adds (test/helpers/daemon.ts), with a fixed directory. */
const testDefaults = { api: { socket: '/tmp/microarp-test-x/api.sock' }, metrics: 'off', state_dir: '/tmp/microarp-test-x/state' };
const t = (config: Record<string, unknown>): Record<string, unknown> => ({ ...testDefaults, ...config });
const afPacket = (i: number, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ name, device: `net_af_packet${i},iface=mv${i}h`, ...extra });

export const SUITE_CONFIGS: Record<string, Record<string, unknown>> = {
  'cli.test': t({
    ports: [{ name: 'p0', device: 'net_ring0' }],
    table: { capacity: 10000 },
    bindings: [{ ip: '10.90.0.1', mac: '02:90:00:00:00:01' }],
    api: { socket: '/tmp/x/cli.sock', listen: '127.0.0.1:0', token: 'a-token-of-24-characters' },
  }),
  'cli.test check-config': { ports: [{ name: 'p0', device: 'net_ring0' }], state_dir: '/tmp/x/state' },
  'control_api.test': t({
    ports: [afPacket(0, 'vm')],
    table: { capacity: 1_100_000 },
    bindings: [{ ip: '10.79.0.7', mac: '02:79:00:00:00:07' }, { ip: '2001:db8:79:0::7', mac: '02:79:00:00:00:17', router: true }],
    api: { socket: '/tmp/x/api.sock', listen: '127.0.0.1:0', token: 'a-token-of-24-characters' },
  }),
  'dpdk_tools.test': t({ ports: [{ name: 'p0', device: 'net_pcap0,rx_pcap=/tmp/x/rx.pcap,tx_pcap=/tmp/x/tx.pcap' }], table: { capacity: 1024 }, hugepages: 'off', telemetry: false }),
  'dpdk_tools.test hugepages': t({ ports: [afPacket(0, 'vm')], table: { capacity: 1024 }, bindings: [{ ip: '10.82.0.7', mac: '02:82:00:00:00:07' }], hugepages: 'on' }),
  'fabric_hosts.test': t({
    ports: [afPacket(0, 'vm'), afPacket(1, 'vm2'), afPacket(2, 'up', { uplink: true })],
    table: { capacity: 32768 },
    log_level: 'debug',
    fabric: { host: 'hv-a', etcd: { endpoints: ['http://127.0.0.1:23791', 'http://127.0.0.1:23792'], prefix: '/microarp-test-1/', lease_seconds: 3 } },
  }),
  'fabric_hosts.test degraded': t({
    ports: [{ name: 'p0', device: 'net_null0' }, { name: 'up', device: 'net_null1', uplink: true }],
    fabric: { host: 'hv-c', etcd: { endpoints: ['http://127.0.0.1:1'], prefix: '/microarp-test-1-c/' } },
  }),
  'inspection_netns.test': t({
    enforce: 'observe',
    ports: ['victim', 'peer', 'attacker', 'uplink', 'flooder'].map((n, i) => afPacket(i, n, {
      mode: 'access', vlan: 10, allowed_subnets: ['10.0.10.0/24'],
      ...(n === 'uplink' ? { trusted: true } : n === 'flooder' ? { arp_rate: { pps: 50, burst: 50 } } : {}),
    })),
    table: { capacity: 1024 },
    bindings: [{ ip: '10.0.10.1', mac: '02:00:00:00:10:01', vlan: 10 }],
  }),
  'learning_netns.test': t({
    ports: ['vmA', 'vmB', 'vmC'].map((n, i) => afPacket(i, n)),
    table: { capacity: 1024 },
    learning: { aging_seconds: 5, probe_before_seconds: 3, max_per_port: 3, subnets: { 0: ['10.0.50.0/24'] } },
  }),
  'migration_netns.test': t({
    ports: ['peer', 'vmA', 'vmB'].map((n, i) => afPacket(i, n, { mode: 'access', vlan: 10 })),
    table: { capacity: 1024 },
    bindings: [{ ip: '10.0.10.1', mac: '02:00:00:00:10:01', vlan: 10 }, { ip: '10.0.10.5', mac: '02:00:00:00:10:05', vlan: 10 }],
    migration: { freeze_moves: 3, freeze_window_seconds: 60, freeze_seconds: 120, garp_count: 1, garp_interval_ms: 20 },
  }),
  'migration_netns.test conflicts': t({
    ports: ['a', 'b', 'c', 'd'].map((n, i) => afPacket(i, n)),
    table: { capacity: 1024 },
    learning: { enabled: true },
    migration: { conflict_probe_ms: 300 },
  }),
  'prometheus.test': t({
    ports: [{ name: 'p0', device: 'net_pcap0,rx_pcap=/tmp/x/rx.pcap,tx_pcap=/tmp/x/tx.pcap' }],
    table: { capacity: 1024 },
    bindings: [10, 11, 12].map((n) => ({ ip: `10.88.0.${n}`, mac: `02:88:00:00:00:${n}` })),
    metrics: { listen: '127.0.0.1:0' },
    learning: 'off',
  }),
  'startup_errors.test': t({ memory_mb: 64, table: { capacity: 1024 }, ports: [0, 1, 2, 3].map((i) => ({ name: `p${i}`, device: `net_null${i}` })) }),
  'startup_errors.test mbufs': t({ mbufs: 2048, ports: [{ name: 'p0', device: 'net_pcap0,rx_pcap=/tmp/x/many.pcap,infinite_rx=1' }] }),
  'state_durable.test': t({ state_sync: 'full', table: { capacity: 4096 }, learning: 'off', ports: [{ name: 'p0', device: 'net_null0' }] }),
  'switching_netns.test': t({
    ports: [0, 1, 2, 3].map((i) => afPacket(i, `vm${i + 1}`, { mode: 'access', vlan: i < 3 ? 10 : 20 })),
    table: { capacity: 1024 },
    fdb: { aging_seconds: 3 },
    bindings: [{ ip: '10.0.10.1', mac: '02:00:00:00:10:01', vlan: 10 }, { ip: '10.0.10.4', mac: '02:00:00:00:10:04', vlan: 20 }],
  }),
  'switching_pcap.test': t({
    ports: [
      { name: 'a0', device: 'net_pcap0,rx_pcap=/tmp/x/a0.rx.pcap,tx_pcap=/tmp/x/a0.tx.pcap', mode: 'access', vlan: 10 },
      { name: 'a1', device: 'net_pcap1,rx_pcap=/tmp/x/a1.rx.pcap,tx_pcap=/tmp/x/a1.tx.pcap', mode: 'access', vlan: 20 },
      { name: 't0', device: 'net_pcap2,rx_pcap=/tmp/x/t0.rx.pcap,tx_pcap=/tmp/x/t0.tx.pcap', mode: 'trunk', vlans: [10, 20] },
      { name: 't1', device: 'net_pcap3,rx_pcap=/tmp/x/t1.rx.pcap,tx_pcap=/tmp/x/t1.tx.pcap', mode: 'trunk', vlans: [10, 30], native_vlan: 10 },
    ],
    bindings: [{ ip: '10.1.0.1', mac: '02:10:00:00:00:01', vlan: 10 }],
    fdb: { capacity: 16 },
  }),
  'vhost_guests.test': t({
    ports: [
      { name: 'vm-a', device: 'net_vhost0,iface=/tmp/x/a.sock', mode: 'access', vlan: 10 },
      { name: 'vm-e', device: 'net_vhost4,iface=/tmp/x/e.sock,client=1', mode: 'access', vlan: 10 },
      afPacket(0, 'pinger', { mode: 'access', vlan: 10 }),
    ],
    bindings: [{ ip: '10.10.0.7', mac: '02:aa:00:00:00:07', vlan: 10 }, { ip: '10.10.0.9', mac: '02:aa:00:00:20:09', vlan: 20 }],
  }),
  // src/cli/demo.ts configFor()
  'microarp demo': {
    ports: [1, 2, 3].map((n, i) => ({ name: `vm${n}`, device: `net_af_packet${i},iface=mad-vm${n}`, mode: 'access', vlan: n < 3 ? 10 : 20 })),
    bindings: [1, 2, 3].map((n) => ({ ip: `10.0.10.${n}`, mac: `02:00:00:0a:00:0${n}`, vlan: n < 3 ? 10 : 20 })),
    table: { capacity: 65536 },
    api: { socket: '/run/microarp/microarp.sock' },
    metrics: { listen: '127.0.0.1:9417' },
    state_dir: 'off',
    log_level: 'warn',
  },
};

/** Every key the schema has, each set to something other than its default; `dir` holds the TLS files. */
export function everyKey(dir: string): Record<string, unknown> {
  return {
    ports: [
      {
        name: 'up0', device: '0000:3b:00.0', mode: 'trunk', vlans: [10, 20], native_vlan: 10, responder: false, admin: 'down',
        trusted: true, uplink: true, allowed_subnets: ['10.0.0.0/8', '2001:db8::/32'], arp_rate: { pps: 100, burst: 10 }, nd_rate: { pps: 200, burst: 20 },
      },
      { name: 'vm1', device: `net_vhost0,iface=${dir}/vm1.sock`, mode: 'access', vlan: 10, arp_rate: 'off' },
      { name: 'p2', device: '3b:00.1', trusted: false, arp_rate: 0, router: true },
    ],
    fdb: { capacity: 1024, aging_seconds: 0, static: [{ mac: '02:00:00:00:00:aa', vlan: 10, port: 'vm1' }] },
    enforce: 'observe',
    learning: {
      enabled: true, subnets: { 10: ['10.0.10.0/24', '2001:db8:10::/64'], 0: [] }, max_per_port: 16, max_per_vlan: 256,
      aging_seconds: 60, probe_before_seconds: 10, probe_mac: '02-6d-61-72-70-01',
    },
    migration: { garp_count: 1, garp_interval_ms: 50, conflict_probe_ms: 500, freeze_moves: 3, freeze_window_seconds: 30, freeze_seconds: 60 },
    api: { socket: `${dir}/api.sock`, listen: '[::1]:7070', token: 'sixteen-chars-ok', token_env: 'OTHER_TOKEN', open_reads: true },
    metrics: { listen: '0.0.0.0:9418' },
    telemetry: false,
    pdump: false,
    log_level: 'debug',
    workers: [1],
    unknown: 'drop',
    table: { capacity: 4096, ipv6_capacity: 1024, update_ring: 1024 },
    bindings: [
      { ip: '10.0.10.7', mac: '02:00:00:00:00:07', vlan: 10 }, { ip: '10.0.0.7', mac: '02:00:00:00:00:08' },
      { ip: '2001:db8:10::1', mac: '02:00:00:00:00:09', vlan: 10, router: true },
    ],
    memory_mb: 256,
    hugepages: true,
    rx_descriptors: 512,
    tx_descriptors: 512,
    mbufs: 8192,
    fabric: {
      host: 'hv-01',
      etcd: {
        endpoints: ['https://10.0.0.1:2379'], prefix: '/mine/', lease_seconds: 20, username: 'microarp', password_env: 'ETCD_PW',
        tls: { ca: `${dir}/ca.pem`, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` },
      },
    },
    state_dir: `${dir}/state`,
    state_sync: 'full',
    eal: '--log-level lib.eal:debug',
  };
}
