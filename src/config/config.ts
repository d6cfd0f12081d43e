// The validated configuration: what `microarp run` starts from.
import type { Binding } from '../dataplane/updates';

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
  table: { capacity: number; updateRing: number };
  rxDescriptors: number;
  txDescriptors: number;
  bindings: Binding[];
  fdb: { capacity: number; agingSeconds: number; static: StaticFdbEntry[] };
  api: ApiConfig;
  /** HOST:PORT for Prometheus' /metrics, or null when turned off. */
  metricsListen: HostPort | null;
  /** DPDK's own tools against the running process: the telemetry socket and dpdk-dumpcap. */
  telemetry: boolean;
  pdump: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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
  updateRing: 65536,
  rxDescriptors: 1024,
  txDescriptors: 1024,
  fdbCapacity: 65536,
  fdbAgingSeconds: 300,
  apiSocket: '/run/microarp/microarp.sock',
  metricsListen: { host: '127.0.0.1', port: 9417 },
  tokenEnv: 'MICROARP_API_TOKEN',
};
