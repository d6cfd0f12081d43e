// Turns parsed YAML/JSON into a Config, collecting every problem with its path rather than
// stopping at the first, so one run of `check-config` shows all that is wrong. The schema
// (schema.ts) checks keys, types, ranges and patterns; what it cannot say is checked here, on
// the values it passed: names and devices unique across ports, bindings unique, a key that
// depends on another's value, the environment, files.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { formatIPv4, formatIPv6, hostBitsSet6, parseIPv4, parseIPv6, parseIPv6Prefix, parseMac, type Prefix6 } from '../dataplane/address';
import type { Binding, Binding6 } from '../dataplane/updates';
import { DEFAULTS, type ApiConfig, type Config, type FabricConfig, type HostPort, type LearningConfig, type PortConfig, type RateLimit, type Workers } from './config';
import { FABRIC_DEFAULTS, HOST_NAME, PCI } from './schema';
import { schemaIssues } from './schema_issues';

export interface ConfigIssue {
  path: string;
  message: string;
}

export class Collector {
  readonly issues: ConfigIssue[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }
}

type Key = string | number;
type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const spelled = (path: Key[]): string => path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');

/** The parsed file, read through what the schema found: a value with a problem at, above or below it reads as undefined. */
class Checked {
  private readonly bad = new Set<string>();
  private readonly aboveBad = new Set<string>();

  constructor(private readonly raw: Raw, issues: readonly ConfigIssue[]) {
    for (const { path } of issues) {
      this.bad.add(path);
      for (const m of path.matchAll(/[.[]/g)) this.aboveBad.add(path.slice(0, m.index));
    }
  }

  /** Whether the schema found a problem at, above or below `path`. */
  wrong(...path: Key[]): boolean {
    if (this.bad.size === 0) return false;
    if (this.bad.has('(top)') || this.aboveBad.has(spelled(path))) return true;
    return path.some((_, i) => this.bad.has(spelled(path.slice(0, i + 1))));
  }

  /** The value as the file has it, right or wrong. */
  given(...path: Key[]): unknown {
    let value: unknown = this.raw;
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<Key, unknown>)[key] : undefined;
    return value;
  }

  get<T>(...path: Key[]): T | undefined {
    return this.wrong(...path) ? undefined : (this.given(...path) as T);
  }

  /** The indices of the list at `path`, for reading its items one by one, right or wrong. */
  indices(...path: Key[]): number[] {
    const value = this.given(...path);
    return Array.isArray(value) ? value.map((_, i) => i) : [];
  }

  /** The keys of the mapping at `path`, right or wrong. */
  keys(...path: Key[]): string[] {
    const value = this.given(...path);
    return isObject(value) ? Object.keys(value) : [];
  }
}

export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): { config?: Config; issues: ConfigIssue[] } {
  const c = new Collector();
  c.issues.push(...schemaIssues(raw));
  if (!isObject(raw)) return { issues: c.issues };
  const v = new Checked(raw, c.issues);
  const eal = v.get<string | string[]>('eal') ?? [];
  const mbufs = v.get<number | 'auto'>('mbufs') ?? 'auto';
  const hugepages = v.get<Config['hugepages'] | boolean>('hugepages') ?? DEFAULTS.hugepages;
  const capacity = v.get<number>('table', 'capacity') ?? DEFAULTS.tableCapacity;
  const config: Config = {
    eal: typeof eal === 'string' ? eal.split(/\s+/).filter(Boolean) : [...eal],
    workers: workers(v.get('workers')),
    memoryMb: v.get('memory_mb') ?? DEFAULTS.memoryMb,
    hugepages: hugepages === true ? 'on' : hugepages === false ? 'off' : hugepages,
    ports: ports(v, c),
    unknown: v.get('unknown') ?? DEFAULTS.unknown,
    table: {
      capacity,
      ipv6Capacity: v.get('table', 'ipv6_capacity') ?? Math.min(DEFAULTS.ipv6Capacity, capacity),
      updateRing: v.get('table', 'update_ring') ?? DEFAULTS.updateRing,
    },
    rxDescriptors: v.get('rx_descriptors') ?? DEFAULTS.rxDescriptors,
    txDescriptors: v.get('tx_descriptors') ?? DEFAULTS.txDescriptors,
    mbufs: mbufs === 'auto' ? DEFAULTS.mbufs : mbufs,
    ...bindings(v, c),
    fdb: { capacity: 0, agingSeconds: 0, static: [] },
    enforce: v.get('enforce') ?? 'enforce',
    learning: learning(v, c),
    migration: migration(v),
    api: api(v, c, env),
    metricsListen: metrics(v),
    telemetry: v.get('telemetry') ?? true,
    pdump: v.get('pdump') ?? true,
    logLevel: v.get('log_level') ?? 'info',
    stateDir: off(v.given('state_dir')) ? null : v.get('state_dir') ?? DEFAULTS.stateDir,
    stateSync: v.get('state_sync') ?? 'normal',
    fabric: fabric(v, c, env),
  };
  const given = (key: string): unknown[] => v.indices('ports').map((i) => v.given('ports', i, key));
  if (config.fabric && !given('uplink').includes(true)) {
    c.add('fabric', 'a fabric needs at least one port with uplink: true (toward the other hosts)');
  }
  config.fdb = fdb(v, new Set(given('name')), c);
  const { table } = config;
  if (table.ipv6Capacity > table.capacity && !v.wrong('table', 'capacity')) {
    c.add('table.ipv6_capacity', `must be at most table.capacity (${table.capacity}), which counts IPv4 and IPv6 bindings together; got ${table.ipv6Capacity}`);
  }
  const bound = config.bindings.length + config.bindings6.length;
  if (bound > table.capacity) c.add('bindings', `${bound} bindings do not fit table.capacity ${table.capacity}`);
  else if (config.bindings6.length > table.ipv6Capacity) {
    c.add('bindings', `${config.bindings6.length} IPv6 bindings do not fit table.ipv6_capacity ${table.ipv6Capacity}`);
  }
  return c.issues.length ? { issues: c.issues } : { config, issues: [] };
}

const off = (v: unknown): boolean => v === 'off' || v === false;

function workers(v: number | number[] | undefined): Workers {
  return Array.isArray(v) ? { cpus: [...v] } : { count: v ?? DEFAULTS.workers };
}

function ports(v: Checked, c: Collector): PortConfig[] {
  const names = new Map<string, number>();
  const devices = new Map<string, number>();
  return v.indices('ports').map((i) => {
    const path = `ports[${i}]`;
    const name = v.get<string>('ports', i, 'name') ?? '';
    const device = v.get<string>('ports', i, 'device') ?? '';
    if (names.has(name)) c.add(`${path}.name`, `duplicate port name '${name}' (also ports[${names.get(name)}])`);
    else if (name) names.set(name, i);
    const id = device && deviceName(device);
    if (devices.has(id)) c.add(`${path}.device`, `device '${id}' is already ports[${devices.get(id)}]`);
    else if (id) devices.set(id, i);
    return { name, device, ...portSwitching(v, i, c) };
  });
}

function portSwitching(v: Checked, i: number, c: Collector): Omit<PortConfig, 'name' | 'device'> {
  const path = `ports[${i}]`;
  const get = <T>(key: string): T | undefined => v.get<T>('ports', i, key);
  const has = (key: string): boolean => v.given('ports', i, key) !== undefined;
  const mode: PortConfig['mode'] | undefined = has('mode') ? get<'access' | 'trunk'>('mode') : 'all';
  // {pps, burst?}, 0 or off; the burst defaults to twice the rate.
  const rateLimit = (key: string): RateLimit => {
    const rate = get<Raw>(key);
    if (!isObject(rate)) return { ...DEFAULTS.rateLimit };
    const pps = (rate.pps as number | undefined) ?? DEFAULTS.rateLimit.pps;
    return { pps, burst: (rate.burst as number | undefined) ?? Math.max(1, pps * 2) };
  };
  const subnets = allowedSubnets(v, ['ports', i, 'allowed_subnets'], c);
  const result = {
    mode: mode ?? 'all',
    vlan: (mode === 'access' && get<number>('vlan')) || 0,
    vlans: [...((mode === 'trunk' && get<number[]>('vlans')) || [])],
    nativeVlan: (mode === 'trunk' && get<number>('native_vlan')) || 0,
    responder: get<boolean>('responder') ?? true,
    adminUp: get<string>('admin') !== 'down',
    // An uplink faces the physical network: trusted, never a source of learned bindings.
    trusted: get<boolean>('uplink') === true || get<boolean>('trusted') === true,
    uplink: get<boolean>('uplink') === true,
    router: get<boolean>('router') === true,
    allowedSubnets: subnets.v4,
    allowedSubnets6: subnets.v6,
    arpRate: rateLimit('arp_rate'),
    ndRate: rateLimit('nd_rate'),
  };
  if (result.uplink && v.given('ports', i, 'trusted') === false) c.add(`${path}.trusted`, 'an uplink is always trusted');
  if (mode === 'all') {
    for (const key of ['vlan', 'vlans', 'native_vlan']) {
      if (has(key)) c.add(`${path}.${key}`, 'needs a mode: access (with vlan) or trunk (with vlans)');
    }
  } else if (mode === 'access') {
    if (!has('vlan')) c.add(`${path}.vlan`, 'an access port needs its VLAN (1-4094)');
    for (const key of ['vlans', 'native_vlan']) {
      if (has(key)) c.add(`${path}.${key}`, 'is for trunk ports');
    }
  } else if (mode === 'trunk') {
    if (has('vlan')) c.add(`${path}.vlan`, 'is for access ports (a trunk has vlans and native_vlan)');
    if (!has('vlans')) c.add(`${path}.vlans`, 'a trunk port needs a non-empty list of VLANs (1-4094)');
    const vlans = v.given('ports', i, 'vlans');
    if (Array.isArray(vlans) && result.nativeVlan && !vlans.includes(result.nativeVlan)) c.add(`${path}.native_vlan`, `VLAN ${result.nativeVlan} is not in vlans`);
  }
  return result;
}

/**
 * The IPv4 prefixes of the list at `path` the schema passed, each checked for host bits. An
 * IPv6 one (where the schema allows them) goes to `ipv6`, with the path to report at.
 */
function prefixes(v: Checked, path: Key[], c: Collector, ipv6?: (cidr: string, at: string) => void): [number, number][] {
  return v.indices(...path).flatMap((j) => {
    const cidr = v.get<string>(...path, j);
    if (cidr === undefined) return [];
    if (ipv6 && cidr.includes(':')) {
      ipv6(cidr, spelled([...path, j]));
      return [];
    }
    const [address, bits] = cidr.split('/');
    const [network, length] = [parseIPv4(address!)!, Number(bits)];
    if (network % 2 ** (32 - length) !== 0) {
      c.add(spelled([...path, j]), `host bits set in ${cidr}`);
      return [];
    }
    return [[network, length] as [number, number]];
  });
}

/** A list of IPv4 and IPv6 prefixes (allowed_subnets, learning.subnets), the families apart, each checked for host bits. */
function allowedSubnets(v: Checked, path: Key[], c: Collector): { v4: [number, number][]; v6: Prefix6[] } {
  const v6: Prefix6[] = [];
  const v4 = prefixes(v, path, c, (cidr, at) => {
    const prefix = parseIPv6Prefix(cidr)!;
    if (hostBitsSet6(prefix.network, prefix.length)) c.add(at, `host bits set in ${cidr} (the network is ${formatIPv6(masked(prefix))}/${prefix.length})`);
    else v6.push(prefix);
  });
  return { v4, v6 };
}

/** The prefix's network with its host bits cleared. */
function masked({ network, length }: Prefix6): Uint8Array {
  return network.map((byte, i) => byte & (0xff00 >>> Math.max(0, Math.min(8, length - 8 * i))));
}

function learning(v: Checked, c: Collector): LearningConfig {
  const d = DEFAULTS.learning;
  const get = <T>(key: string): T | undefined => v.get<T>('learning', key);
  const out: LearningConfig = {
    enabled: !off(v.given('learning')) && get<boolean>('enabled') !== false,
    subnets: new Map(),
    subnets6: new Map(),
    maxPerPort: get('max_per_port') ?? d.maxPerPort,
    maxPerVlan: get('max_per_vlan') ?? d.maxPerVlan,
    agingSeconds: get('aging_seconds') ?? d.agingSeconds,
    probeBeforeSeconds: get('probe_before_seconds') ?? d.probeBeforeSeconds,
    probeMac: parseMac(get('probe_mac') ?? d.probeMac)!,
  };
  for (const vlan of v.keys('learning', 'subnets')) {
    if (v.wrong('learning', 'subnets', vlan)) continue;
    const { v4, v6 } = allowedSubnets(v, ['learning', 'subnets', vlan], c);
    out.subnets.set(Number(vlan), v4);
    out.subnets6.set(Number(vlan), v6);
  }
  const timed = !v.wrong('learning', 'aging_seconds') && !v.wrong('learning', 'probe_before_seconds');
  if (timed && out.agingSeconds > 0 && out.probeBeforeSeconds >= out.agingSeconds) {
    c.add('learning.probe_before_seconds', 'must be less than learning.aging_seconds');
  }
  return out;
}

function migration(v: Checked): Config['migration'] {
  const d = DEFAULTS.migration;
  const get = (key: string): number | undefined => v.get<number>('migration', key);
  return {
    garpCount: get('garp_count') ?? d.garpCount,
    garpIntervalMs: get('garp_interval_ms') ?? d.garpIntervalMs,
    conflictProbeMs: get('conflict_probe_ms') ?? d.conflictProbeMs,
    freezeMoves: get('freeze_moves') ?? d.freezeMoves,
    freezeWindowSeconds: get('freeze_window_seconds') ?? d.freezeWindowSeconds,
    freezeSeconds: get('freeze_seconds') ?? d.freezeSeconds,
  };
}

function fdb(v: Checked, portNames: Set<unknown>, c: Collector): Config['fdb'] {
  const entries = v.indices('fdb', 'static').flatMap((i) => {
    const port = v.get<string>('fdb', 'static', i, 'port');
    if (port !== undefined && !portNames.has(port)) c.add(`fdb.static[${i}].port`, `no port named ${JSON.stringify(port)}`);
    const entry = v.get<{ mac: string; vlan?: number; port: string }>('fdb', 'static', i);
    return entry ? [{ mac: parseMac(entry.mac)!, vlan: entry.vlan ?? 0, port: entry.port }] : [];
  });
  return {
    capacity: v.get('fdb', 'capacity') ?? DEFAULTS.fdbCapacity,
    agingSeconds: v.get('fdb', 'aging_seconds') ?? DEFAULTS.fdbAgingSeconds,
    static: entries,
  };
}

/** The name EAL gives the device: the vdev name before its first comma, or the PCI address. */
export function deviceName(device: string): string {
  if (PCI.test(device)) return device.includes(':') && device.split(':').length === 3 ? device : `0000:${device}`;
  return device.split(',')[0]!;
}

export function isPci(device: string): boolean {
  return PCI.test(device);
}

/** The static bindings, IPv4 and IPv6 apart; a (vlan, address) once, however it is spelled. */
function bindings(v: Checked, c: Collector): { bindings: Binding[]; bindings6: Binding6[] } {
  const seen = new Map<string, number>();
  const ipv4: Binding[] = [];
  const ipv6: Binding6[] = [];
  for (const i of v.indices('bindings')) {
    const raw = v.get<{ ip: string; mac: string; vlan?: number; router?: boolean }>('bindings', i);
    if (raw === undefined) continue;
    const vlan = raw.vlan ?? 0;
    const address = parseIPv4(raw.ip) ?? parseIPv6(raw.ip)!;
    const text = typeof address === 'number' ? formatIPv4(address) : formatIPv6(address);
    if (typeof address === 'number' && raw.router !== undefined) {
      c.add(`bindings[${i}].router`, `is for IPv6 bindings (it sets R in Neighbor Advertisements); ${text} is IPv4`);
      continue;
    }
    const key = `${vlan}/${text}`;
    if (seen.has(key)) {
      c.add(`bindings[${i}]`, `duplicate binding for ${text}${vlan ? ` vlan ${vlan}` : ''} (also bindings[${seen.get(key)}])`);
      continue;
    }
    seen.set(key, i);
    const mac = parseMac(raw.mac)!;
    if (typeof address === 'number') ipv4.push({ ip: address, mac, vlan });
    else ipv6.push({ ip: address, mac, vlan, ...(raw.router ? { router: true } : {}) });
  }
  return { bindings: ipv4, bindings6: ipv6 };
}

function metrics(v: Checked): HostPort | null {
  if (off(v.given('metrics'))) return null;
  const listen = parseHostPort(v.get('metrics', 'listen'), 'metrics.listen', null);
  return listen === undefined ? DEFAULTS.metricsListen : listen;
}

/** "HOST:PORT" or "[v6]:PORT"; `off`/false turns the listener off. */
export function parseHostPort(v: unknown, path: string, c: Collector | null): HostPort | null | undefined {
  if (v === undefined) return undefined;
  if (v === false || v === 'off') return null;
  const m = typeof v === 'string' ? /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    c?.add(path, `must be HOST:PORT (e.g. 127.0.0.1:9417) or off, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return { host: m[1] ?? m[2]!, port };
}

function api(v: Checked, c: Collector, env: NodeJS.ProcessEnv): ApiConfig {
  const get = <T>(key: string): T | undefined => v.get<T>('api', key);
  const listen = parseHostPort(get('listen'), 'api.listen', null) ?? null;
  const tokenEnv = get<string>('token_env') ?? DEFAULTS.tokenEnv;
  const token = get<string>('token') ?? env[tokenEnv] ?? null;
  if (listen && !token && !v.wrong('api', 'token')) {
    c.add('api.listen', `a TCP API needs a token: set api.token or the ${tokenEnv} environment variable`);
  }
  return {
    socket: off(v.given('api', 'socket')) ? null : get('socket') ?? DEFAULTS.apiSocket,
    listen,
    token,
    openReads: get('open_reads') === true,
  };
}

function fabric(v: Checked, c: Collector, env: NodeJS.ProcessEnv): FabricConfig | null {
  if (!isObject(v.given('fabric'))) return null;
  const get = <T>(...path: Key[]): T | undefined => v.get<T>('fabric', ...path);
  const host = get<string>('host') ?? hostname();
  if (v.given('fabric', 'host') === undefined && !HOST_NAME.test(host)) {
    c.add('fabric.host', `must be 1-63 characters of letters, digits, "_", "." or "-", unique in the fabric; got the hostname ${JSON.stringify(host)}`);
  }
  const endpoints = v.indices('fabric', 'etcd', 'endpoints').flatMap((i) => {
    const endpoint = get<string>('etcd', 'endpoints', i);
    let url: URL | undefined;
    try {
      url = endpoint === undefined ? undefined : new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (endpoint !== undefined && (!url || !url.port)) c.add(`fabric.etcd.endpoints[${i}]`, `must be http(s)://HOST:PORT, got ${JSON.stringify(endpoint)}`);
    return url?.port ? [`${url.protocol}//${url.host}`] : [];
  });
  let password: string | undefined;
  const username = get<string>('etcd', 'username');
  if (v.given('fabric', 'etcd', 'username') !== undefined && !v.wrong('fabric', 'etcd', 'password_env')) {
    const variable = get<string>('etcd', 'password_env') ?? FABRIC_DEFAULTS.passwordEnv;
    password = env[variable];
    if (!password) c.add('fabric.etcd.password_env', `the environment variable ${variable} (the etcd password) is not set`);
  }
  let tls: FabricConfig['tls'];
  if (isObject(v.given('fabric', 'etcd', 'tls'))) {
    tls = {};
    for (const key of ['ca', 'cert', 'key'] as const) {
      const file = v.given('fabric', 'etcd', 'tls', key);
      if (typeof file !== 'string') continue;
      if (!existsSync(file)) c.add(`fabric.etcd.tls.${key}`, `must be a readable file, got ${JSON.stringify(file)}`);
      else tls[key] = file;
    }
  }
  return {
    host,
    endpoints,
    prefix: get('etcd', 'prefix') ?? FABRIC_DEFAULTS.prefix,
    leaseSeconds: get('etcd', 'lease_seconds') ?? FABRIC_DEFAULTS.leaseSeconds,
    username,
    password,
    tls,
  };
}
