// The validated configuration: what `microarp run` starts from.
import type { Binding } from '../dataplane/updates';

export interface PortConfig {
  name: string;
  /** DPDK devargs of a vdev (`net_pcap0,rx_pcap=in.pcap`) or a PCI address. */
  device: string;
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
};
