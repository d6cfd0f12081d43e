// The raw addon and its type. Nothing outside src/dataplane/ touches it: the Dataplane class
// validates before calling in.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface AddonPort {
  name: string;
  device: string;
  /** The whole device string with its arguments (`net_af_packet0,iface=veth1`); the addon ignores it. */
  devargs?: string;
  mode?: 'all' | 'access' | 'trunk';
  vlan?: number;
  vlans?: number[];
  nativeVlan?: number;
  adminUp?: boolean;
  responder?: boolean;
  trusted?: boolean;
  /** RA guard lets Router Advertisements and Redirects in from this port. */
  router?: boolean;
  /** Sender IPs allowed on the port (host-order network, prefix length); none = any. */
  subnets?: { network: number; length: number }[];
  /** IPv6 prefixes for the addresses ND messages speak for (link-local always passes); none = any. */
  subnets6?: { bytes: number[]; length: number }[];
  arpRatePps?: number;
  arpBurst?: number;
  ndRatePps?: number;
  ndBurst?: number;
}

/** A port's ARP security settings, replaced whole by a reload. */
export interface AddonPortSecurity {
  trusted: boolean;
  router: boolean;
  enforce: boolean;
  subnets: { network: number; length: number }[];
  subnets6: { bytes: number[]; length: number }[];
  arpRatePps: number;
  arpBurst: number;
  ndRatePps: number;
  ndBurst: number;
}

export interface AddonConfig {
  ealArgs: string[];
  ports: AddonPort[];
  fdbCapacity: number;
  fdbAgingSeconds: number;
  rxDescriptors: number;
  txDescriptors: number;
  mbufs: number;
  tableCapacity: number;
  /** IPv6 bindings at most (the NdTable is sized for them); table_full is still decided over both families. */
  tableIpv6Capacity: number;
  updateRingSize: number;
  dropUnbound: boolean;
  pdump: boolean;
  enforce: boolean;
  probeMac?: Uint8Array;
}

export interface AddonLcoreCounters {
  lcore: number;
  counters: Float64Array;
  drops: Float64Array;
  violations: Float64Array;
}

export interface AddonPortStats {
  name: string;
  device: string;
  portId: number;
  ipackets: number;
  opackets: number;
  ibytes: number;
  obytes: number;
  imissed: number;
  ierrors: number;
  oerrors: number;
  rxNombuf: number;
  linkUp: boolean;
  linkUps: number;
  linkDowns: number;
  linkFullDuplex: boolean;
  linkSpeedMbps: number;
  adminUp: boolean;
  responder: boolean;
}

export interface AddonFdbInfo {
  entries: number;
  learned: number;
  moved: number;
  aged: number;
  overflow: number;
  eventsLost: number;
}

export interface Addon {
  init(config: AddonConfig): void;
  startWorkers(): void;
  stop(): void;
  applyUpdates(packed: Uint8Array): Promise<import('./updates').UpdateSummary>;
  counters(): AddonLcoreCounters[];
  portStats(): AddonPortStats[];
  tableInfo(): {
    /** Both families. */
    bindings: number;
    capacity: number;
    ipv6Bindings: number;
    ipv6Capacity: number;
    ringDepth: number;
    ringFullWaits: number;
    workersRunning: boolean;
    mbufsInUse: number;
    mbufsTotal: number;
    heapTotalBytes: number;
    heapAllocatedBytes: number;
  };
  setPortAdmin(index: number, up: boolean): void;
  setPortResponder(index: number, on: boolean): void;
  setPortSecurity(index: number, security: AddonPortSecurity): void;
  reattachPort(index: number, devargs: string): void;
  fdbInfo(): AddonFdbInfo;
  drainFdbEvents(): Uint8Array;
  inject(port: number, frame: Uint8Array): boolean;
  drainArpEvents(): Uint8Array;
  /** NdEvent records, 56 bytes each (native/core/nd_event.h). */
  drainNdEvents(): Uint8Array;
  readonly violationNames: readonly string[];
  readonly counterNames: readonly string[];
  readonly dropReasonNames: readonly string[];
}

export const REPO_ROOT = join(__dirname, '..', '..', '..');
const ADDON_PATH = join(REPO_ROOT, 'build', 'Release', 'microarp.node');

let loaded: Addon | undefined;

export function loadAddon(): Addon {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    throw new Error(
      `the native addon is not built (${ADDON_PATH} is missing): run 'bash scripts/setup.sh' ` +
        `(or 'npm run build') from ${REPO_ROOT}`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  loaded = require(ADDON_PATH) as Addon;
  return loaded;
}
