// What a reload of the config file changes, decided before anything is touched: the settings
// the running daemon can take live, and those that only a restart can change (the ports
// themselves, workers, EAL, memory, table sizes, listeners, the state store, the fabric).
//
// Only what differs between the file as it was loaded and the file as it is now counts: a
// port an operator took down through the API stays down across a reload of a file that did
// not change that port's `admin`.
import { formatIp, formatIPv4, formatIPv6 } from '../dataplane/address';
import type { Binding, Binding6 } from '../dataplane/updates';
import { describeBinding } from '../table/binding_table';
import type { Config, LearningConfig, MigrationConfig, PortConfig, StaticFdbEntry } from '../config/config';

/** A port's settings a reload applies live. */
export interface PortSecurityChange {
  index: number;
  name: string;
  /** trusted, router, allowed_subnets, arp_rate, nd_rate or the global enforce changed: the workers' snapshot is replaced. */
  security: boolean;
  adminUp?: boolean;
  responder?: boolean;
}

export interface ConfigDiff {
  /** What will be applied, one line each, for the log and the API's answer. */
  applied: string[];
  /** Settings that differ but need a restart: left as they run now. */
  needsRestart: string[];
  enforce?: Config['enforce'];
  ports: PortSecurityChange[];
  learning?: LearningConfig;
  migration?: MigrationConfig;
  /** Static bindings of either family to add or replace (an IPv6 one's router flag included), and to remove. */
  bindingsUpsert: (Binding | Binding6)[];
  bindingsRemove: (Binding | Binding6)[];
  fdbAdd: StaticFdbEntry[];
  fdbRemove: StaticFdbEntry[];
}

/** JSON with Maps and byte arrays spelled out, so that equal settings compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Map) return [...v.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (v instanceof Uint8Array) return [...v];
    return v;
  });
}

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** Config keys (file spelling) a reload cannot apply, with how to read each from a Config. */
const RESTART_ONLY: [string, (c: Config) => unknown][] = [
  ['eal', (c) => c.eal],
  ['workers', (c) => c.workers],
  ['memory_mb', (c) => c.memoryMb],
  ['hugepages', (c) => c.hugepages],
  ['unknown', (c) => c.unknown],
  ['table', (c) => c.table],
  ['rx_descriptors', (c) => c.rxDescriptors],
  ['tx_descriptors', (c) => c.txDescriptors],
  ['mbufs', (c) => c.mbufs],
  ['api', (c) => c.api],
  ['metrics', (c) => c.metricsListen],
  ['telemetry', (c) => c.telemetry],
  ['pdump', (c) => c.pdump],
  ['log_level', (c) => c.logLevel],
  ['state_dir', (c) => c.stateDir],
  ['state_sync', (c) => c.stateSync],
  ['fabric', (c) => c.fabric],
  ['fdb.capacity', (c) => c.fdb.capacity],
  ['fdb.aging_seconds', (c) => c.fdb.agingSeconds],
  ['learning.probe_mac', (c) => c.learning.probeMac],
];

/** What makes a port the port it is: a change is a different port, which needs a restart. */
function portIdentity(p: PortConfig): unknown {
  return [p.name, p.device, p.mode, p.vlan, p.vlans, p.nativeVlan, p.uplink];
}

const bindingKey = (b: Binding | Binding6): string => `${b.vlan}/${formatIp(b.ip)}`;
/** What a static binding binds its address to: a change of either replaces it. */
const bindingValue = (b: Binding | Binding6): unknown => [[...b.mac], 'router' in b && b.router === true];
/** A port's allowed_subnets as CIDR texts, IPv4 then IPv6. */
const subnetsOf = (p: PortConfig): string[] => [
  ...p.allowedSubnets.map(([network, length]) => `${formatIPv4(network)}/${length}`),
  ...p.allowedSubnets6.map(({ network, length }) => `${formatIPv6(network)}/${length}`),
];
const fdbKey = (e: StaticFdbEntry): string => `${e.vlan}/${[...e.mac].join(':')}`;

export function diffConfig(current: Config, next: Config): ConfigDiff {
  const diff: ConfigDiff = { applied: [], needsRestart: [], ports: [], bindingsUpsert: [], bindingsRemove: [], fdbAdd: [], fdbRemove: [] };
  for (const [key, read] of RESTART_ONLY) if (!same(read(current), read(next))) diff.needsRestart.push(key);

  const enforceChanged = current.enforce !== next.enforce;
  if (enforceChanged) {
    diff.enforce = next.enforce;
    diff.applied.push(`enforce: ${current.enforce} -> ${next.enforce}`);
  }
  if (current.ports.length !== next.ports.length) diff.needsRestart.push('ports (a port added or removed)');
  current.ports.forEach((was, index) => {
    const now = next.ports[index];
    if (!now) return;
    if (!same(portIdentity(was), portIdentity(now))) {
      diff.needsRestart.push(`ports[${index}] (${was.name}: name, device, mode, VLANs or uplink)`);
      return;
    }
    const change: PortSecurityChange = { index, name: was.name, security: enforceChanged };
    for (const [key, a, b] of [
      ['trusted', was.trusted, now.trusted],
      ['router', was.router, now.router],
      ['allowed_subnets', subnetsOf(was), subnetsOf(now)],
      ['arp_rate', was.arpRate, now.arpRate],
      ['nd_rate', was.ndRate, now.ndRate],
    ] as const) {
      if (same(a, b)) continue;
      change.security = true;
      diff.applied.push(`ports.${was.name}.${key}: ${canonical(a)} -> ${canonical(b)}`);
    }
    if (was.adminUp !== now.adminUp) {
      change.adminUp = now.adminUp;
      diff.applied.push(`ports.${was.name}.admin: ${now.adminUp ? 'up' : 'down'}`);
    }
    if (was.responder !== now.responder) {
      change.responder = now.responder;
      diff.applied.push(`ports.${was.name}.responder: ${now.responder}`);
    }
    if (change.security || change.adminUp !== undefined || change.responder !== undefined) diff.ports.push(change);
  });

  // The probe MAC is the dataplane's (it recognises the answers to its probes): restart only.
  const learningLive = (l: LearningConfig): unknown => ({ ...l, probeMac: undefined });
  if (!same(learningLive(current.learning), learningLive(next.learning))) {
    diff.learning = { ...next.learning, probeMac: current.learning.probeMac };
    diff.applied.push('learning');
  }
  if (!same(current.migration, next.migration)) {
    diff.migration = next.migration;
    diff.applied.push('migration');
  }

  const was = new Map([...current.bindings, ...current.bindings6].map((b) => [bindingKey(b), b]));
  const now = new Map([...next.bindings, ...next.bindings6].map((b) => [bindingKey(b), b]));
  for (const [key, b] of now) if (!was.has(key) || !same(bindingValue(was.get(key)!), bindingValue(b))) diff.bindingsUpsert.push(b);
  for (const [key, b] of was) if (!now.has(key)) diff.bindingsRemove.push(b);
  if (diff.bindingsUpsert.length > 0) diff.applied.push(`bindings: ${diff.bindingsUpsert.length} added or changed (${diff.bindingsUpsert.slice(0, 3).map(describeBinding).join(', ')}${diff.bindingsUpsert.length > 3 ? ', ...' : ''})`);
  if (diff.bindingsRemove.length > 0) diff.applied.push(`bindings: ${diff.bindingsRemove.length} removed (${diff.bindingsRemove.slice(0, 3).map(describeBinding).join(', ')}${diff.bindingsRemove.length > 3 ? ', ...' : ''})`);

  const fdbWas = new Map(current.fdb.static.map((e) => [fdbKey(e), e]));
  const fdbNow = new Map(next.fdb.static.map((e) => [fdbKey(e), e]));
  for (const [key, e] of fdbNow) if (fdbWas.get(key)?.port !== e.port) diff.fdbAdd.push(e);
  for (const [key, e] of fdbWas) if (!fdbNow.has(key)) diff.fdbRemove.push(e);
  if (diff.fdbAdd.length + diff.fdbRemove.length > 0) diff.applied.push(`fdb.static: ${diff.fdbAdd.length} added or moved, ${diff.fdbRemove.length} removed`);
  return diff;
}
