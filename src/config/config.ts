// The validated configuration: what `microarp run` starts from.
import type { Prefix6 } from '../dataplane/address';
import { DEFAULT_IPV6_CAPACITY, type Binding, type Binding6 } from '../dataplane/updates';

export interface PortConfig {
  name: string;
  /** DPDK devargs of a vdev (`net_pcap0,rx_pcap=in.pcap`) or a PCI address. */
  device: string;
  /** 'all': every VLAN tagged, untagged = VLAN 0 (no mode given). */
  mode: 'all' | 'access' | 'trunk';
  /** access: the port's VLAN. */
  vlan: number;
  /** trunk: the VLANs it carries. */
  vlans: number[];
  /** trunk: the VLAN of untagged frames, 0 = none. */
  nativeVlan: number;
  responder: boolean;
  adminUp: boolean;
  /** Trusted ports (uplinks) skip ARP and ND inspection. */
  trusted: boolean;
  /** RA guard: Router Advertisements and redirects are let in from this port (live). */
  router: boolean;
  /** Toward the physical network (other hosts): trusted, never a source of learned bindings. */
  uplink: boolean;
  /** Sender IPv4 addresses allowed on the port; empty = any. [network (host order), length]. */
  allowedSubnets: [number, number][];
  /** Sender IPv6 addresses allowed on the port (allowed_subnets' IPv6 prefixes); empty = any. */
  allowedSubnets6: Prefix6[];
  /** ARP frames per second (and burst) accepted from the port; 0 = unlimited. */
  arpRate: RateLimit;
  /** Neighbor Discovery messages per second (and burst) accepted from the port; 0 = unlimited. */
  ndRate: RateLimit;
}

/** Frames per second accepted from an untrusted port, and the burst above that; pps 0: no limit. */
export interface RateLimit {
  pps: number;
  burst: number;
}

export interface LearningConfig {
  enabled: boolean;
  /**
   * Per VLAN, the IPv4 subnets learning may take addresses from; a VLAN not listed learns none,
   * unless both maps are empty = all. Every VLAN listed in the file is in both maps.
   */
  subnets: Map<number, [number, number][]>;
  /** The same for IPv6 (learning.subnets' IPv6 prefixes). */
  subnets6: Map<number, Prefix6[]>;
  maxPerPort: number;
  maxPerVlan: number;
  /** A learned binding not refreshed for this long is removed (0: never). */
  agingSeconds: number;
  /** This long before expiry, the owner is probed with a unicast ARP request. */
  probeBeforeSeconds: number;
  probeMac: Uint8Array;
}

export interface MigrationConfig {
  garpCount: number;
  garpIntervalMs: number;
  /** How long the current owner of a claimed IP has to answer a probe. */
  conflictProbeMs: number;
  freezeMoves: number;
  freezeWindowSeconds: number;
  freezeSeconds: number;
}

export interface StaticFdbEntry {
  mac: Uint8Array;
  vlan: number;
  port: string;
}

export type Workers = { count: number } | { cpus: number[] };

export interface Config {
  /** Extra EAL arguments, passed through after microarp's own. */
  eal: string[];
  workers: Workers;
  /** Memory for DPDK when hugepages are not used, in MiB. */
  memoryMb: number;
  hugepages: 'auto' | 'on' | 'off';
  ports: PortConfig[];
  unknown: 'flood' | 'drop';
  /** capacity: bindings of both families; ipv6Capacity: IPv6 ones at most (<= capacity). */
  table: { capacity: number; ipv6Capacity: number; updateRing: number };
  rxDescriptors: number;
  /** mbufs in the pool; 0: sized from ports, workers and descriptors. */
  mbufs: number;
  txDescriptors: number;
  /** Static IPv4 bindings. */
  bindings: Binding[];
  /** Static IPv6 bindings (`bindings` entries with an IPv6 ip). */
  bindings6: Binding6[];
  fdb: { capacity: number; agingSeconds: number; static: StaticFdbEntry[] };
  /** ARP inspection on untrusted ports: drop, or only count and report. */
  enforce: 'enforce' | 'observe';
  learning: LearningConfig;
  migration: MigrationConfig;
  api: ApiConfig;
  /** HOST:PORT for Prometheus' /metrics, or null when turned off. */
  metricsListen: HostPort | null;
  /** DPDK's own tools against the running process: the telemetry socket and dpdk-dumpcap. */
  telemetry: boolean;
  pdump: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Where API and learned bindings survive a restart, or null to keep them in memory only. */
  stateDir: string | null;
  /** `normal`: durable against a process crash; `full`: also against power loss (fsync). */
  stateSync: 'normal' | 'full';
  /** Bindings shared with other hosts through etcd, or null for a host on its own. */
  fabric: FabricConfig | null;
}

export interface FabricConfig {
  /** This host's name, unique in the fabric. */
  host: string;
  endpoints: string[];
  prefix: string;
  leaseSeconds: number;
  username?: string;
  /** From the variable fabric.etcd.password_env names; never logged. */
  password?: string;
  tls?: { ca?: string; cert?: string; key?: string };
}

export interface HostPort {
  host: string;
  port: number;
}

export interface ApiConfig {
  /** Unix socket path, or null for none. */
  socket: string | null;
  /** TCP HOST:PORT, or null for none. */
  listen: HostPort | null;
  /** Bearer token for TCP; never logged. */
  token: string | null;
  /** Reads over TCP without the token (writes always need it). */
  openReads: boolean;
}

export const DEFAULTS = {
  workers: 1,
  memoryMb: 512,
  hugepages: 'auto' as const,
  unknown: 'flood' as const,
  tableCapacity: 1 << 20,
  ipv6Capacity: DEFAULT_IPV6_CAPACITY,
  updateRing: 65536,
  rxDescriptors: 1024,
  mbufs: 0,
  txDescriptors: 1024,
  rateLimit: { pps: 0, burst: 0 },
  learning: { maxPerPort: 1024, maxPerVlan: 65536, agingSeconds: 600, probeBeforeSeconds: 30, probeMac: '02:6d:61:72:70:00' },
  migration: { garpCount: 3, garpIntervalMs: 100, conflictProbeMs: 1000, freezeMoves: 5, freezeWindowSeconds: 60, freezeSeconds: 300 },
  fdbCapacity: 65536,
  fdbAgingSeconds: 300,
  apiSocket: '/run/microarp/microarp.sock',
  metricsListen: { host: '127.0.0.1', port: 9417 },
  tokenEnv: 'MICROARP_API_TOKEN',
  stateDir: '/var/lib/microarp',
};
