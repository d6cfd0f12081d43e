// Turns parsed YAML/JSON into a Config, collecting every problem with its path rather than
// stopping at the first, so one run of `check-config` shows all that is wrong.
import { MAX_VLAN, formatIPv4, macProblem, parseIPv4, parseMac } from '../dataplane/address';
import type { Binding } from '../dataplane/updates';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULTS, type ApiConfig, type FabricConfig, type Config, type HostPort, type LearningConfig, type MigrationConfig, type PortConfig, type Workers } from './config';

export interface ConfigIssue {
  path: string;
  message: string;
}

const TOP_KEYS = [
  'eal', 'workers', 'memory_mb', 'hugepages', 'ports', 'unknown', 'table',
  'rx_descriptors', 'tx_descriptors', 'mbufs', 'bindings', 'api', 'metrics', 'telemetry', 'pdump',
  'log_level', 'fdb', 'enforce', 'learning', 'migration', 'state_dir', 'state_sync', 'fabric',
];
const FABRIC_KEYS = ['host', 'etcd'];
const ETCD_KEYS = ['endpoints', 'prefix', 'lease_seconds', 'username', 'password_env', 'tls'];
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const LEARNING_KEYS = ['enabled', 'subnets', 'max_per_port', 'max_per_vlan', 'aging_seconds', 'probe_before_seconds', 'probe_mac'];
const MIGRATION_KEYS = ['garp_count', 'garp_interval_ms', 'conflict_probe_ms', 'freeze_moves', 'freeze_window_seconds', 'freeze_seconds'];
const FDB_KEYS = ['capacity', 'aging_seconds', 'static'];
const API_KEYS = ['socket', 'listen', 'token', 'token_env', 'open_reads'];
const METRICS_KEYS = ['listen'];
const TABLE_KEYS = ['capacity', 'update_ring'];
const PORT_KEYS = ['name', 'device', 'mode', 'vlan', 'vlans', 'native_vlan', 'responder', 'admin', 'trusted', 'uplink', 'allowed_subnets', 'arp_rate'];
const BINDING_KEYS = ['ip', 'mac', 'vlan'];
const PCI = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const VDEV = /^net_[A-Za-z0-9_]+(,.*)?$/;
const PORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

type Raw = Record<string, unknown>;

export class Collector {
  readonly issues: ConfigIssue[] = [];
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }
}

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(raw: Raw, allowed: string[], path: string, c: Collector): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      c.add(path ? `${path}.${key}` : key, `unknown key (expected one of: ${allowed.join(', ')})`);
    }
  }
}

function integer(v: unknown, path: string, min: number, max: number, fallback: number, c: Collector): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    c.add(path, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, options: readonly T[], fallback: T, c: Collector): T {
  if (v === undefined) return fallback;
  if (typeof v === 'boolean' && options.includes((v ? 'on' : 'off') as T)) return (v ? 'on' : 'off') as T;
  if (typeof v !== 'string' || !options.includes(v as T)) {
    c.add(path, `must be one of ${options.join(' | ')}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return v as T;
}

function workers(v: unknown, c: Collector): Workers {
  if (v === undefined) return { count: DEFAULTS.workers };
  if (typeof v === 'number') return { count: integer(v, 'workers', 1, 64, DEFAULTS.workers, c) };
  if (Array.isArray(v) && v.length > 0) {
    const cpus = v.map((cpu, i) => integer(cpu, `workers[${i}]`, 0, 127, 0, c));
    if (new Set(cpus).size !== cpus.length) c.add('workers', 'lists the same CPU twice');
    return { cpus };
  }
  c.add('workers', 'must be a worker count (e.g. 1) or a non-empty list of CPU ids (e.g. [1, 2])');
  return { count: DEFAULTS.workers };
}

function eal(v: unknown, c: Collector): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  if (Array.isArray(v) && v.every((a) => typeof a === 'string')) return v as string[];
  c.add('eal', 'must be a list of EAL arguments (strings), e.g. ["--log-level=lib.eal:debug"]');
  return [];
}

function ports(v: unknown, c: Collector): PortConfig[] {
  if (!Array.isArray(v) || v.length === 0) {
    c.add('ports', 'must be a non-empty list of {name, device}');
    return [];
  }
  const out: PortConfig[] = [];
  const names = new Map<string, number>();
  const devices = new Map<string, number>();
  v.forEach((raw, i) => {
    const path = `ports[${i}]`;
    if (!isObject(raw)) return c.add(path, 'must be an object {name, device}');
    unknownKeys(raw, PORT_KEYS, path, c);
    const { name, device } = raw;
    let ok = true;
    if (typeof name !== 'string' || !PORT_NAME.test(name)) {
      c.add(`${path}.name`, 'must be 1-32 characters of letters, digits, "_", "." or "-"');
      ok = false;
    } else if (names.has(name)) {
      c.add(`${path}.name`, `duplicate port name '${name}' (also ports[${names.get(name)}])`);
      ok = false;
    }
    if (typeof device !== 'string' || !(PCI.test(device) || VDEV.test(device))) {
      c.add(`${path}.device`,
        'must be a PCI address (0000:01:00.0) or vdev devargs (net_pcap0,rx_pcap=in.pcap)');
      ok = false;
    } else {
      const id = deviceName(device);
      if (devices.has(id)) {
        c.add(`${path}.device`, `device '${id}' is already ports[${devices.get(id)}]`);
        ok = false;
      }
    }
    const switching = portSwitching(raw, path, c);
    if (!ok || !switching) return;
    names.set(name as string, i);
    devices.set(deviceName(device as string), i);
    out.push({ name: name as string, device: device as string, ...switching });
  });
  return out;
}

type Switching = Omit<PortConfig, 'name' | 'device'>;

function portSwitching(raw: Raw, path: string, c: Collector): Switching | null {
  const before = c.issues.length;
  const mode = oneOf(raw.mode, `${path}.mode`, ['access', 'trunk'] as const, 'access', c);
  const vlanId = (v: unknown, at: string): number => integer(v, at, 1, MAX_VLAN, 1, c);
  const result: Switching = {
    mode: raw.mode === undefined ? 'all' : mode,
    vlan: 0,
    vlans: [],
    nativeVlan: 0,
    responder: bool(raw.responder, `${path}.responder`, true, c),
    adminUp: oneOf(raw.admin, `${path}.admin`, ['up', 'down'] as const, 'up', c) === 'up',
    trusted: bool(raw.trusted, `${path}.trusted`, false, c),
    uplink: bool(raw.uplink, `${path}.uplink`, false, c),
    allowedSubnets: subnetList(raw.allowed_subnets, `${path}.allowed_subnets`, 8, c),
    arpRate: arpRate(raw.arp_rate, `${path}.arp_rate`, c),
  };
  // An uplink faces the physical network: trusted, never a source of learned bindings.
  if (result.uplink) {
    if (raw.trusted === false) c.add(`${path}.trusted`, 'an uplink is always trusted');
    result.trusted = true;
  }
  if (result.mode === 'all') {
    for (const key of ['vlan', 'vlans', 'native_vlan']) {
      if (raw[key] !== undefined) c.add(`${path}.${key}`, 'needs a mode: access (with vlan) or trunk (with vlans)');
    }
  } else if (result.mode === 'access') {
    if (raw.vlan === undefined) c.add(`${path}.vlan`, 'an access port needs its VLAN (1-4094)');
    else result.vlan = vlanId(raw.vlan, `${path}.vlan`);
    for (const key of ['vlans', 'native_vlan']) {
      if (raw[key] !== undefined) c.add(`${path}.${key}`, 'is for trunk ports');
    }
  } else {
    if (raw.vlan !== undefined) c.add(`${path}.vlan`, 'is for access ports (a trunk has vlans and native_vlan)');
    if (!Array.isArray(raw.vlans) || raw.vlans.length === 0) {
      c.add(`${path}.vlans`, 'a trunk port needs a non-empty list of VLANs (1-4094)');
    } else {
      result.vlans = raw.vlans.map((v, j) => vlanId(v, `${path}.vlans[${j}]`));
      if (new Set(result.vlans).size !== result.vlans.length) c.add(`${path}.vlans`, 'lists a VLAN twice');
    }
    if (raw.native_vlan !== undefined) {
      result.nativeVlan = vlanId(raw.native_vlan, `${path}.native_vlan`);
      if (!result.vlans.includes(result.nativeVlan)) c.add(`${path}.native_vlan`, `VLAN ${result.nativeVlan} is not in vlans`);
    }
  }
  return c.issues.length === before ? result : null;
}

function subnetList(v: unknown, path: string, max: number, c: Collector): [number, number][] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > max) {
    c.add(path, `must be a list of at most ${max} prefixes, e.g. ["10.0.10.0/24"]`);
    return [];
  }
  const out: [number, number][] = [];
  v.forEach((cidr, i) => {
    const m = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(cidr) : null;
    const network = m ? parseIPv4(m[1]!) : null;
    const length = m ? Number(m[2]) : NaN;
    if (network === null || !(length >= 0 && length <= 32)) return c.add(`${path}[${i}]`, `not an IPv4 prefix: ${JSON.stringify(cidr)}`);
    if (network % 2 ** (32 - length) !== 0) return c.add(`${path}[${i}]`, `host bits set in ${cidr as string}`);
    out.push([network, length]);
  });
  return out;
}

function arpRate(v: unknown, path: string, c: Collector): { pps: number; burst: number } {
  if (v === undefined) return { ...DEFAULTS.arpRate };
  if (v === 0 || v === 'off') return { pps: 0, burst: 0 };
  if (!isObject(v)) {
    c.add(path, 'must be {pps, burst?} or off');
    return { ...DEFAULTS.arpRate };
  }
  unknownKeys(v, ['pps', 'burst'], path, c);
  const pps = integer(v.pps, `${path}.pps`, 0, 10_000_000, DEFAULTS.arpRate.pps, c);
  return { pps, burst: integer(v.burst, `${path}.burst`, 1, 10_000_000, Math.max(1, pps * 2), c) };
}

function learning(v: unknown, c: Collector): LearningConfig {
  const d = DEFAULTS.learning;
  const out: LearningConfig = {
    enabled: true,
    subnets: new Map(),
    maxPerPort: d.maxPerPort,
    maxPerVlan: d.maxPerVlan,
    agingSeconds: d.agingSeconds,
    probeBeforeSeconds: d.probeBeforeSeconds,
    probeMac: parseMac(d.probeMac)!,
  };
  if (v === undefined) return out;
  if (v === false || v === 'off') return { ...out, enabled: false };
  if (!isObject(v)) {
    c.add('learning', 'must be a mapping or off');
    return out;
  }
  unknownKeys(v, LEARNING_KEYS, 'learning', c);
  out.enabled = bool(v.enabled, 'learning.enabled', true, c);
  if (v.subnets !== undefined) {
    if (!isObject(v.subnets)) c.add('learning.subnets', 'must map a VLAN to its prefixes, e.g. {"10": ["10.0.10.0/24"]}');
    else {
      for (const [vlanText, list] of Object.entries(v.subnets)) {
        const vlan = /^\d+$/.test(vlanText) ? Number(vlanText) : NaN;
        if (!(vlan >= 0 && vlan <= MAX_VLAN)) c.add(`learning.subnets.${vlanText}`, 'the key must be a VLAN, 0 to 4094');
        else out.subnets.set(vlan, subnetList(list, `learning.subnets.${vlanText}`, 64, c));
      }
    }
  }
  out.maxPerPort = integer(v.max_per_port, 'learning.max_per_port', 0, 1 << 24, d.maxPerPort, c);
  out.maxPerVlan = integer(v.max_per_vlan, 'learning.max_per_vlan', 0, 1 << 24, d.maxPerVlan, c);
  out.agingSeconds = integer(v.aging_seconds, 'learning.aging_seconds', 0, 1 << 24, d.agingSeconds, c);
  out.probeBeforeSeconds = integer(v.probe_before_seconds, 'learning.probe_before_seconds', 0, 1 << 24, d.probeBeforeSeconds, c);
  if (out.agingSeconds > 0 && out.probeBeforeSeconds >= out.agingSeconds) {
    c.add('learning.probe_before_seconds', 'must be less than learning.aging_seconds');
  }
  if (v.probe_mac !== undefined) {
    const mac = typeof v.probe_mac === 'string' ? parseMac(v.probe_mac) : null;
    const problem = mac ? macProblem(mac) : 'not a MAC address';
    if (problem) c.add('learning.probe_mac', problem);
    else out.probeMac = mac!;
  }
  return out;
}

function migration(v: unknown, c: Collector): MigrationConfig {
  const d = DEFAULTS.migration;
  if (v === undefined) return { ...d };
  if (!isObject(v)) {
    c.add('migration', 'must be a mapping');
    return { ...d };
  }
  unknownKeys(v, MIGRATION_KEYS, 'migration', c);
  return {
    garpCount: integer(v.garp_count, 'migration.garp_count', 0, 100, d.garpCount, c),
    garpIntervalMs: integer(v.garp_interval_ms, 'migration.garp_interval_ms', 1, 60000, d.garpIntervalMs, c),
    conflictProbeMs: integer(v.conflict_probe_ms, 'migration.conflict_probe_ms', 10, 60000, d.conflictProbeMs, c),
    freezeMoves: integer(v.freeze_moves, 'migration.freeze_moves', 2, 1000, d.freezeMoves, c),
    freezeWindowSeconds: integer(v.freeze_window_seconds, 'migration.freeze_window_seconds', 1, 86400, d.freezeWindowSeconds, c),
    freezeSeconds: integer(v.freeze_seconds, 'migration.freeze_seconds', 1, 86400, d.freezeSeconds, c),
  };
}

function fdb(v: unknown, portNames: Set<string>, c: Collector): Config['fdb'] {
  const out: Config['fdb'] = { capacity: DEFAULTS.fdbCapacity, agingSeconds: DEFAULTS.fdbAgingSeconds, static: [] };
  if (v === undefined) return out;
  if (!isObject(v)) {
    c.add('fdb', 'must be a mapping {capacity, aging_seconds, static}');
    return out;
  }
  unknownKeys(v, FDB_KEYS, 'fdb', c);
  out.capacity = integer(v.capacity, 'fdb.capacity', 16, 1 << 24, DEFAULTS.fdbCapacity, c);
  out.agingSeconds = integer(v.aging_seconds, 'fdb.aging_seconds', 0, 65000, DEFAULTS.fdbAgingSeconds, c);
  if (v.static !== undefined) {
    if (!Array.isArray(v.static)) {
      c.add('fdb.static', 'must be a list of {mac, vlan?, port}');
      return out;
    }
    v.static.forEach((raw, i) => {
      const path = `fdb.static[${i}]`;
      if (!isObject(raw)) return c.add(path, 'must be {mac, vlan?, port}');
      unknownKeys(raw, ['mac', 'vlan', 'port'], path, c);
      const mac = typeof raw.mac === 'string' ? parseMac(raw.mac) : null;
      const problem = mac ? macProblem(mac) : `not a MAC address: ${JSON.stringify(raw.mac)}`;
      if (problem) c.add(`${path}.mac`, problem);
      const vlan = integer(raw.vlan, `${path}.vlan`, 0, MAX_VLAN, 0, c);
      if (typeof raw.port !== 'string' || !portNames.has(raw.port)) c.add(`${path}.port`, `no port named ${JSON.stringify(raw.port)}`);
      else if (mac && !problem) out.static.push({ mac, vlan, port: raw.port });
    });
  }
  return out;
}

/** The name EAL gives the device: the vdev name before its first comma, or the PCI address. */
export function deviceName(device: string): string {
  if (PCI.test(device)) return device.includes(':') && device.split(':').length === 3 ? device : `0000:${device}`;
  return device.split(',')[0]!;
}

export function isPci(device: string): boolean {
  return PCI.test(device);
}

function bindings(v: unknown, c: Collector): Binding[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    c.add('bindings', 'must be a list of {ip, mac, vlan?}');
    return [];
  }
  const out: Binding[] = [];
  const seen = new Map<string, number>();
  v.forEach((raw, i) => {
    const path = `bindings[${i}]`;
    if (!isObject(raw)) return c.add(path, 'must be an object {ip, mac, vlan?}');
    unknownKeys(raw, BINDING_KEYS, path, c);
    const ip = typeof raw.ip === 'string' ? parseIPv4(raw.ip) : null;
    if (ip === null) c.add(`${path}.ip`, `not an IPv4 address: ${JSON.stringify(raw.ip)}`);
    const mac = typeof raw.mac === 'string' ? parseMac(raw.mac) : null;
    const badMac = mac ? macProblem(mac) : null;
    if (mac === null) c.add(`${path}.mac`, `not a MAC address (aa:bb:cc:dd:ee:ff): ${JSON.stringify(raw.mac)}`);
    else if (badMac) c.add(`${path}.mac`, badMac);
    const vlanBefore = c.issues.length;
    const vlan = integer(raw.vlan, `${path}.vlan`, 0, MAX_VLAN, 0, c);
    if (ip === null || mac === null || badMac || c.issues.length !== vlanBefore) return;
    const key = `${vlan}/${ip}`;
    if (seen.has(key)) {
      c.add(path, `duplicate binding for ${formatIPv4(ip)}${vlan ? ` vlan ${vlan}` : ''} (also bindings[${seen.get(key)}])`);
      return;
    }
    seen.set(key, i);
    out.push({ ip, mac, vlan });
  });
  return out;
}

function metrics(v: unknown, c: Collector): HostPort | null {
  if (v === undefined) return DEFAULTS.metricsListen;
  if (v === false || v === 'off') return null;
  if (!isObject(v)) {
    c.add('metrics', 'must be a mapping {listen: HOST:PORT} or off');
    return DEFAULTS.metricsListen;
  }
  unknownKeys(v, METRICS_KEYS, 'metrics', c);
  const listen = parseHostPort(v.listen, 'metrics.listen', c);
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

function api(v: unknown, c: Collector, env: NodeJS.ProcessEnv): ApiConfig {
  const raw = v === undefined ? {} : v;
  if (!isObject(raw)) {
    c.add('api', 'must be a mapping {socket, listen, token, token_env, open_reads}');
    return { socket: DEFAULTS.apiSocket, listen: null, token: null, openReads: false };
  }
  unknownKeys(raw, API_KEYS, 'api', c);
  let socket: string | null = DEFAULTS.apiSocket;
  if (raw.socket === false || raw.socket === 'off') socket = null;
  else if (typeof raw.socket === 'string' && raw.socket.startsWith('/')) socket = raw.socket;
  else if (raw.socket !== undefined) c.add('api.socket', 'must be an absolute path or off');
  const listen = parseHostPort(raw.listen, 'api.listen', c) ?? null;
  const tokenEnv = typeof raw.token_env === 'string' ? raw.token_env : DEFAULTS.tokenEnv;
  if (raw.token_env !== undefined && typeof raw.token_env !== 'string') c.add('api.token_env', 'must be a variable name');
  if (raw.token !== undefined && (typeof raw.token !== 'string' || raw.token.length < 16)) {
    c.add('api.token', 'must be a string of at least 16 characters');
  }
  const token = (typeof raw.token === 'string' ? raw.token : undefined) ?? env[tokenEnv] ?? null;
  if (listen && !token) {
    c.add('api.listen', `a TCP API needs a token: set api.token or the ${tokenEnv} environment variable`);
  }
  if (raw.open_reads !== undefined && typeof raw.open_reads !== 'boolean') c.add('api.open_reads', 'must be true or false');
  return { socket, listen, token, openReads: raw.open_reads === true };
}

function stateDir(v: unknown, c: Collector): string | null {
  if (v === undefined) return DEFAULTS.stateDir;
  if (v === 'off' || v === false) return null;
  if (typeof v !== 'string' || !v.startsWith('/') || v.includes('\0')) {
    c.add('state_dir', `must be an absolute directory path, or off to keep bindings in memory only; got ${JSON.stringify(v)}`);
    return null;
  }
  return v;
}

function fabric(v: unknown, c: Collector, env: NodeJS.ProcessEnv): FabricConfig | null {
  if (v === undefined || v === 'off') return null;
  if (!isObject(v)) {
    c.add('fabric', 'must be a mapping {host?, etcd: {endpoints, ...}}');
    return null;
  }
  unknownKeys(v, FABRIC_KEYS, 'fabric', c);
  const host = v.host ?? hostname();
  if (typeof host !== 'string' || !HOST_NAME.test(host)) c.add('fabric.host', `must be 1-63 characters of letters, digits, "_", "." or "-", unique in the fabric; got ${JSON.stringify(host)}`);
  if (!isObject(v.etcd)) {
    c.add('fabric.etcd', 'must be a mapping {endpoints: [http://HOST:2379, ...], prefix?, lease_seconds?, username?, password_env?, tls?}');
    return null;
  }
  const etcd = v.etcd;
  unknownKeys(etcd, ETCD_KEYS, 'fabric.etcd', c);
  const endpoints: string[] = [];
  if (!Array.isArray(etcd.endpoints) || etcd.endpoints.length === 0) c.add('fabric.etcd.endpoints', 'must be a non-empty list of URLs (http://10.0.0.1:2379)');
  else {
    etcd.endpoints.forEach((e, i) => {
      let url: URL | undefined;
      try {
        url = typeof e === 'string' ? new URL(e) : undefined;
      } catch {
        url = undefined;
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || !url.port) c.add(`fabric.etcd.endpoints[${i}]`, `must be http(s)://HOST:PORT, got ${JSON.stringify(e)}`);
      else endpoints.push(`${url.protocol}//${url.host}`);
    });
  }
  const prefix = etcd.prefix ?? '/microarp/';
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || !prefix.endsWith('/')) c.add('fabric.etcd.prefix', `must start and end with "/", got ${JSON.stringify(prefix)}`);
  const leaseSeconds = integer(etcd.lease_seconds, 'fabric.etcd.lease_seconds', 2, 3600, 10, c);
  let username: string | undefined;
  let password: string | undefined;
  if (etcd.username !== undefined) {
    if (typeof etcd.username !== 'string' || etcd.username === '') c.add('fabric.etcd.username', 'must be a non-empty string');
    else username = etcd.username;
    const variable = etcd.password_env ?? 'MICROARP_ETCD_PASSWORD';
    if (typeof variable !== 'string') c.add('fabric.etcd.password_env', 'must name an environment variable');
    else if (!env[variable]) c.add('fabric.etcd.password_env', `the environment variable ${variable} (the etcd password) is not set`);
    else password = env[variable];
  }
  let tls: FabricConfig['tls'];
  if (etcd.tls !== undefined) {
    if (!isObject(etcd.tls)) c.add('fabric.etcd.tls', 'must be a mapping {ca?, cert?, key?} of file paths');
    else {
      unknownKeys(etcd.tls, ['ca', 'cert', 'key'], 'fabric.etcd.tls', c);
      tls = {};
      for (const key of ['ca', 'cert', 'key'] as const) {
        const file = etcd.tls[key];
        if (file === undefined) continue;
        if (typeof file !== 'string' || !existsSync(file)) c.add(`fabric.etcd.tls.${key}`, `must be a readable file, got ${JSON.stringify(file)}`);
        else tls[key] = file;
      }
      if (!!tls.cert !== !!tls.key) c.add('fabric.etcd.tls', 'cert and key go together');
    }
  }
  return { host: host as string, endpoints, prefix: prefix as string, leaseSeconds, username, password, tls };
}

function bool(v: unknown, path: string, fallback: boolean, c: Collector): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') {
    c.add(path, `must be true or false, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return v;
}

export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): { config?: Config; issues: ConfigIssue[] } {
  const c = new Collector();
  if (!isObject(raw)) {
    c.add('(top)', 'the config must be a mapping with at least a "ports" key');
    return { issues: c.issues };
  }
  unknownKeys(raw, TOP_KEYS, '', c);
  const table = raw.table === undefined ? {} : raw.table;
  if (!isObject(table)) c.add('table', 'must be a mapping {capacity, update_ring}');
  const tableRaw = isObject(table) ? table : {};
  unknownKeys(tableRaw, TABLE_KEYS, 'table', c);

  const config: Config = {
    eal: eal(raw.eal, c),
    workers: workers(raw.workers, c),
    memoryMb: integer(raw.memory_mb, 'memory_mb', 64, 1 << 20, DEFAULTS.memoryMb, c),
    hugepages: oneOf(raw.hugepages, 'hugepages', ['auto', 'on', 'off'] as const, DEFAULTS.hugepages, c),
    ports: ports(raw.ports, c),
    unknown: oneOf(raw.unknown, 'unknown', ['flood', 'drop'] as const, DEFAULTS.unknown, c),
    table: {
      capacity: integer(tableRaw.capacity, 'table.capacity', 1, 1 << 30, DEFAULTS.tableCapacity, c),
      updateRing: integer(tableRaw.update_ring, 'table.update_ring', 64, 1 << 24, DEFAULTS.updateRing, c),
    },
    rxDescriptors: integer(raw.rx_descriptors, 'rx_descriptors', 32, 16384, DEFAULTS.rxDescriptors, c),
    txDescriptors: integer(raw.tx_descriptors, 'tx_descriptors', 32, 16384, DEFAULTS.txDescriptors, c),
    mbufs: raw.mbufs === 'auto' ? 0 : integer(raw.mbufs, 'mbufs', 1024, 1 << 26, DEFAULTS.mbufs, c),
    bindings: bindings(raw.bindings, c),
    fdb: { capacity: 0, agingSeconds: 0, static: [] },
    enforce: oneOf(raw.enforce, 'enforce', ['enforce', 'observe'] as const, 'enforce', c),
    learning: learning(raw.learning, c),
    migration: migration(raw.migration, c),
    api: api(raw.api, c, env),
    metricsListen: metrics(raw.metrics, c),
    telemetry: bool(raw.telemetry, 'telemetry', true, c),
    pdump: bool(raw.pdump, 'pdump', true, c),
    logLevel: oneOf(raw.log_level, 'log_level', ['debug', 'info', 'warn', 'error'] as const, 'info', c),
    stateDir: stateDir(raw.state_dir, c),
    stateSync: oneOf(raw.state_sync, 'state_sync', ['normal', 'full'] as const, 'normal', c),
    fabric: fabric(raw.fabric, c, env),
  };
  if (config.fabric && !config.ports.some((p) => p.uplink)) {
    c.add('fabric', 'a fabric needs at least one port with uplink: true (toward the other hosts)');
  }
  config.fdb = fdb(raw.fdb, new Set(config.ports.map((p) => p.name)), c);
  if (config.bindings.length > config.table.capacity) {
    c.add('bindings', `${config.bindings.length} bindings do not fit table.capacity ${config.table.capacity}`);
  }
  return c.issues.length ? { issues: c.issues } : { config, issues: [] };
}
