// The config file's one schema, in JSON Schema (draft-07): ajv checks every file against it
// (schema_issues.ts) and `microarp config schema` prints it for editors. It says which keys
// exist, their types, ranges, patterns, defaults and meaning; validate.ts checks only what it
// cannot say (names unique across ports, a key that depends on another's value, the
// environment, files).
//
// Besides JSON Schema's own keywords it uses `errorMessage` and `patternErrorMessage`, which
// VS Code and yaml-language-server show in place of their generic messages, and which
// schema_issues.ts puts in ours.
import { MAX_VLAN } from '../dataplane/address';
import { DEFAULTS } from './config';

export type Schema = { [keyword: string]: unknown };

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${OCTET}(\\.${OCTET}){3}`;
/**
 * An IPv6 address in any RFC 4291 text form, without a zone: one alternative per count of
 * groups before '::' (as Node's net.isIPv6 spells it), the last 32 bits possibly an IPv4.
 */
const IPV6 = ((): string => {
  const g = '[0-9a-fA-F]{1,4}';
  const forms = [`(${g}:){7}(${g}|:)`, `(${g}:){6}(${IPV4}|:${g}|:)`];
  for (let head = 5; head >= 1; head--) {
    const tail = 7 - head;
    forms.push(`(${g}:){${head}}((:${g}){0,${tail - 2}}:${IPV4}|(:${g}){1,${tail}}|:)`);
  }
  forms.push(`:((:${g}){0,5}:${IPV4}|(:${g}){1,7}|:)`);
  return `(${forms.join('|')})`;
})();
const IPV4_LENGTH = '(3[0-2]|[0-2]?\\d)';
const IPV6_LENGTH = '(12[0-8]|1[01]\\d|[1-9]?\\d)';
/** A valid IPv6 text that is multicast (ff00::/8: a first group of four digits, ff..). */
export const IPV6_MULTICAST = '^[fF]{2}[0-9a-fA-F]{2}:';
/** A valid IPv6 text that is the unspecified address (only zeros, with at least one ':'). */
export const IPV6_UNSPECIFIED = '^[0.]*:[0:.]*$';
/** The whole-text patterns, for tests that hold them against the parsers. */
export const IP_PATTERNS = { ipv4: `^${IPV4}$`, ipv6: `^${IPV6}$`, prefix: `^(${IPV4}/${IPV4_LENGTH}|${IPV6}/${IPV6_LENGTH})$` };
const MAC = '[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\\1[0-9a-fA-F]{2}){4}';
/** A PCI address, with or without its domain; a `device` that is not one is a vdev. */
export const PCI = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
const VDEV = /^net_[A-Za-z0-9_]+(,.*)?$/;
/** A fabric host name; the machine's hostname, when it stands in for one, must be one too. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const PORT_NUMBER = '([0-5]?\\d{1,4}|6[0-4]\\d{3}|65[0-4]\\d\\d|655[0-2]\\d|6553[0-5])';
/** 0 to 4094, leading zeros allowed: a VLAN written as a mapping key. */
const VLAN_KEY = '^0*(\\d{1,3}|[1-3]\\d{3}|40[0-8]\\d|409[0-4])$';

/** The fabric's defaults (DEFAULTS in config.ts has the rest). */
export const FABRIC_DEFAULTS = { prefix: '/microarp/', leaseSeconds: 10, passwordEnv: 'MICROARP_ETCD_PASSWORD' };

function int(minimum: number, maximum: number, description: string, fallback?: number): Schema {
  return { type: 'integer', minimum, maximum, description, ...(fallback === undefined ? {} : { default: fallback }) };
}

function bool(description: string, fallback: boolean): Schema {
  return { type: 'boolean', description, default: fallback };
}

function choice(values: (string | boolean)[], description: string, fallback: string): Schema {
  return { enum: values, description, default: fallback };
}

function text(pattern: string | RegExp, message: string, description: string): Schema {
  const source = typeof pattern === 'string' ? pattern : pattern.source;
  return { type: 'string', pattern: source, errorMessage: message, patternErrorMessage: message, description };
}

/** A mapping that refuses keys it does not list. */
function mapping(properties: Record<string, Schema>, description: string, extra: Schema = {}): Schema {
  return { type: 'object', description, properties, additionalProperties: false, ...extra };
}

/** `off` (or false), or one of `shapes`; `message` is the error when the value fits none. */
function orOff(description: string, message: string, shapes: Schema[], withFalse = true): Schema {
  const off = withFalse ? [{ const: 'off' }, { const: false }] : [{ const: 'off' }];
  return { description, anyOf: [...off, ...shapes], errorMessage: message };
}

/** A port's rate limit on `what` from an untrusted port, over which frames count as `violation`. */
const rateLimit = (what: string, violation: string): Schema => ({
  ...orOff(`{pps, burst}: ${what} accepted per second from an untrusted port; the excess is dropped and counted (violation ${violation}; only counted with enforce: observe); the port keeps working. 0 or off: no limit.`,
    'must be {pps, burst?}, 0 or off', [
      { const: 0 },
      mapping({
        pps: int(0, 10_000_000, `${what} accepted per second (0: no limit).`, DEFAULTS.rateLimit.pps),
        burst: int(1, 10_000_000, 'Frames accepted at once above the rate; default: twice pps.'),
      }, 'The rate limit.'),
    ], false),
  default: 'off',
});

const vlanId = (description: string): Schema => int(1, MAX_VLAN, description);
const vlanOrUntagged = (description: string): Schema => int(0, MAX_VLAN, description, 0);
const ref = (name: string, description: string): Schema => ({ $ref: `#/definitions/${name}`, description });

const definitions: Record<string, Schema> = {
  ip: {
    type: 'string',
    description: 'An IPv4 address, dotted decimal, or an IPv6 address in any RFC 4291 form (2001:db8::7, ::ffff:10.0.0.7; no %zone); not IPv6 multicast or ::.',
    errorMessage: 'must be an IPv4 or IPv6 address (e.g. 10.0.0.7 or 2001:db8::7)',
    allOf: [
      text(`^(${IPV4}|${IPV6})$`, 'must be an IPv4 or IPv6 address (e.g. 10.0.0.7 or 2001:db8::7)', 'The address text.'),
      { not: { pattern: IPV6_MULTICAST }, errorMessage: 'a multicast address (ff00::/8) cannot be bound' },
      { not: { pattern: IPV6_UNSPECIFIED }, errorMessage: 'the unspecified address :: cannot be bound' },
    ],
  },
  subnet: text(IP_PATTERNS.prefix, 'must be an IPv4 or IPv6 prefix (e.g. 10.0.10.0/24 or 2001:db8:10::/64)',
    'An IPv4 or IPv6 prefix, ADDRESS/LENGTH (IPv6: length 0-128, no leading zeros), with no host bits set.'),
  unicast_mac: {
    type: 'string',
    description: 'A unicast MAC address, aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff; not multicast, broadcast or all-zero.',
    errorMessage: 'must be a MAC address (aa:bb:cc:dd:ee:ff)',
    allOf: [
      { pattern: `^${MAC}$`, errorMessage: 'must be a MAC address (aa:bb:cc:dd:ee:ff)', patternErrorMessage: 'must be a MAC address (aa:bb:cc:dd:ee:ff)' },
      { not: { pattern: `^[0-9a-fA-F][13579bBdDfF]([:-])[0-9a-fA-F]{2}(\\1[0-9a-fA-F]{2}){4}$` }, errorMessage: 'a multicast or broadcast MAC cannot own an address' },
      { not: { pattern: '^00([:-])00(\\1(?:00)){4}$' }, errorMessage: 'the all-zero MAC cannot own an address' },
    ],
  },
  listen: orOff('HOST:PORT (or [IPv6]:PORT) to listen on, or off.', 'must be HOST:PORT (e.g. 127.0.0.1:9417) or off', [
    text(`^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):${PORT_NUMBER}$`, 'must be HOST:PORT (e.g. 127.0.0.1:9417) or off', 'HOST:PORT, port 0 to 65535 (0: any free port).'),
  ]),
};

const port = mapping({
  name: text(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'must be 1-32 characters of letters, digits, "_", "." or "-"',
    "The port's name: 1-32 of [A-Za-z0-9_.-], unique among the ports."),
  device: text(`^(${PCI.source.slice(1, -1)}|${VDEV.source.slice(1, -1)})$`,
    'must be a PCI address (0000:01:00.0) or vdev devargs (net_pcap0,rx_pcap=in.pcap)',
    'DPDK devargs of a virtual device (net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap, net_af_packet0,iface=veth0, ' +
    'net_tap0,iface=tap0, net_ring0, net_memif0,role=server,socket=/run/m.sock, net_vhost0,iface=/run/vm1.sock) or a ' +
    'PCI address (0000:01:00.0, bound to vfio-pci). Devices are unique among the ports.'),
  mode: { enum: ['access', 'trunk'], description: 'access (untagged, in vlan), trunk (tagged vlans, untagged = native_vlan if set, else dropped), or absent: every VLAN tagged and untagged = VLAN 0.' },
  vlan: vlanId("Access ports only, and required there: the port's VLAN."),
  vlans: {
    type: 'array', minItems: 1, uniqueItems: true, items: vlanId('A VLAN the trunk carries, tagged.'),
    description: 'Trunk ports only, and required there: the VLANs the port carries, tagged.',
    errorMessage: 'must be a non-empty list of VLANs (1-4094)',
  },
  native_vlan: vlanId('Trunk ports only: the VLAN of untagged frames, one of vlans. Without it untagged frames are dropped.'),
  responder: bool("false: this port's ARP requests are switched like any frame (e.g. toward a host being migrated). Live: PATCH /v1/ports/NAME {\"responder\": false}.", true),
  admin: choice(['up', 'down'], 'down: frames in and out of the port are dropped (port_down). Live: PATCH /v1/ports/NAME {"admin": "down"}.', 'up'),
  trusted: bool('Trusted ports (uplinks) skip ARP and ND inspection.', false),
  router: bool('true: a router is on this port: its Router Advertisements and redirects are let in. On the other untrusted ports they are dropped (ra_guard; only counted with enforce: observe). Live on reload.', false),
  uplink: bool('true: the port faces the physical network (other hosts): trusted, never a source of learned bindings (its MACs still enter the FDB), not counted in learning caps. A fabric needs at least one.', false),
  allowed_subnets: {
    type: 'array', maxItems: 8, items: ref('subnet', 'A prefix sender IPs may come from.'), default: [],
    description: 'Sender IPs accepted on an untrusted port, IPv4 and IPv6 prefixes, e.g. ["10.0.10.0/24", "2001:db8:10::/64"] (up to 8 in all); ' +
      'empty: any. A family with no prefix listed is not checked; IPv6 prefixes gate ND learning and inspection as IPv4 ones gate ARP.',
    errorMessage: 'must be a list of at most 8 prefixes, e.g. ["10.0.10.0/24", "2001:db8:10::/64"]',
  },
  arp_rate: rateLimit('ARP frames', 'rate_limited'),
  nd_rate: rateLimit('IPv6 Neighbor Discovery messages (solicitations, advertisements, router messages)', 'nd_rate_limited'),
}, 'A port: a DPDK device microarp switches frames on and answers ARP on.', { required: ['name', 'device'] });

const binding = mapping({
  ip: ref('ip', 'The bound address, IPv4 or IPv6.'),
  mac: ref('unicast_mac', 'The MAC that owns it: ARP requests and Neighbor Solicitations for ip are answered with this MAC.'),
  vlan: vlanOrUntagged('0 or absent: untagged; 1-4094: that 802.1Q VLAN.'),
  router: bool("IPv6 only: the address is a router's, and the Neighbor Advertisements for it have R set.", false),
}, 'A static binding.', { required: ['ip', 'mac'] });

const learning = orOff('On by default: off, or how bindings are learned from ARP and GARP senders (only inside subnets, never zero, multicast or broadcast senders, up to the caps).',
  'must be off, or a mapping {subnets?, max_per_port?, max_per_vlan?, aging_seconds?, probe_before_seconds?, probe_mac?, enabled?}', [
    mapping({
      enabled: bool('false: learn nothing (as learning: off).', true),
      subnets: {
        type: 'object',
        description: 'Per VLAN (0: untagged), the IPv4 and IPv6 prefixes addresses may be learned from, e.g. {"10": ["10.0.10.0/24", "2001:db8:10::/64"]}. With subnets given, only listed VLANs and prefixes are learned; absent or empty: every VLAN and address.',
        propertyNames: { pattern: VLAN_KEY, errorMessage: 'the key must be a VLAN, 0 to 4094', patternErrorMessage: 'the key must be a VLAN, 0 to 4094' },
        additionalProperties: {
          type: 'array', maxItems: 64, items: ref('subnet', 'A prefix the VLAN learns from.'),
          description: 'The prefixes this VLAN learns from, IPv4 and IPv6 (up to 64; an empty list: none).',
          errorMessage: 'must be a list of at most 64 prefixes, e.g. ["10.0.10.0/24", "2001:db8:10::/64"]',
        },
        errorMessage: 'must map a VLAN to its prefixes, e.g. {"10": ["10.0.10.0/24"]}',
      },
      max_per_port: int(0, 1 << 24, 'Learned bindings per port at most; past it, overflow is counted and logged.', DEFAULTS.learning.maxPerPort),
      max_per_vlan: int(0, 1 << 24, 'Learned bindings per VLAN at most; past it, overflow is counted and logged.', DEFAULTS.learning.maxPerVlan),
      aging_seconds: int(0, 1 << 24, 'A learned binding not refreshed for this long is removed (0: never). Static and API bindings never age.', DEFAULTS.learning.agingSeconds),
      probe_before_seconds: int(0, 1 << 24, 'This long before a learned binding would age out, its owner is sent up to three unicast probes, spread over this time, from probe_mac (an ARP probe with sender 0.0.0.0, or for IPv6 a Neighbor Solicitation from probe_mac\'s link-local address); the binding stays if it answers. Less than aging_seconds.', DEFAULTS.learning.probeBeforeSeconds),
      probe_mac: { ...ref('unicast_mac', 'The source MAC of the probes.'), default: DEFAULTS.learning.probeMac },
    }, 'Learning settings.'),
  ]);

const m = DEFAULTS.migration;
const migration = mapping({
  garp_count: int(0, 100, "Gratuitous ARPs sent from a moved binding's MAC on every other port of its VLAN.", m.garpCount),
  garp_interval_ms: int(1, 60000, 'Milliseconds between those gratuitous ARPs.', m.garpIntervalMs),
  conflict_probe_ms: int(10, 60000, 'How long the current owner of a claimed IP has to answer a probe; if it stays silent, a learned binding is replaced by the claim.', m.conflictProbeMs),
  freeze_moves: int(2, 1000, 'A binding that moves this many times within freeze_window_seconds is frozen: its MAC is pinned to its port and further claims are refused.', m.freezeMoves),
  freeze_window_seconds: int(1, 86400, 'The window freeze_moves is counted in.', m.freezeWindowSeconds),
  freeze_seconds: int(1, 86400, 'How long a frozen binding stays frozen.', m.freezeSeconds),
}, 'How a binding that moves to another port is announced, and when flapping freezes it.');

const fdb = mapping({
  capacity: int(16, 1 << 24, 'Forwarding database size; MACs past it are not learned (microarp_fdb_overflow_total).', DEFAULTS.fdbCapacity),
  aging_seconds: int(0, 65000, 'A learned MAC silent this long is forgotten (0: never).', DEFAULTS.fdbAgingSeconds),
  static: {
    type: 'array', default: [],
    description: 'Entries that never age or move.',
    items: mapping({
      mac: ref('unicast_mac', 'The MAC.'),
      vlan: vlanOrUntagged('Its VLAN (0: untagged).'),
      port: { type: 'string', description: 'The name of the port it is on (one of ports[].name).' },
    }, 'A static FDB entry.', { required: ['mac', 'port'] }),
    errorMessage: 'must be a list of {mac, vlan?, port}',
  },
}, 'The forwarding database: which port each MAC is on.');

const api = mapping({
  socket: {
    ...orOff('Control API Unix socket, mode 0660; off for none.', 'must be an absolute path or off', [
      text('^/', 'must be an absolute path or off', 'An absolute path.'),
    ]),
    default: DEFAULTS.apiSocket,
  },
  listen: ref('listen', 'HOST:PORT for the control API over TCP; needs a token. Default: none.'),
  token: { type: 'string', minLength: 16, writeOnly: true, description: 'Bearer token (16+ characters) for TCP. Default: the variable token_env names.' },
  token_env: { type: 'string', minLength: 1, description: 'The environment variable the token is read from when token is not given.', default: DEFAULTS.tokenEnv },
  open_reads: bool('true: TCP reads need no token (writes always do).', false),
}, 'The control API.');

const metrics = orOff('Prometheus /metrics; off for none.', 'must be a mapping {listen: HOST:PORT} or off', [
  mapping({ listen: { ...ref('listen', 'Where /metrics is served.'), default: `${DEFAULTS.metricsListen.host}:${DEFAULTS.metricsListen.port}` } }, 'The metrics endpoint.'),
]);

const fabric = orOff('Share bindings with other hosts through etcd. Default: none (a host on its own).', 'must be off or a mapping {host?, etcd: {endpoints, ...}}', [
  mapping({
    host: text(HOST_NAME, 'must be 1-63 characters of letters, digits, "_", "." or "-"', "This host's name, unique in the fabric. Default: the hostname."),
    etcd: mapping({
      endpoints: {
        type: 'array', minItems: 1,
        items: text('^[hH][tT][tT][pP][sS]?://\\S+:\\d+', 'must be http(s)://HOST:PORT', 'An etcd client URL, e.g. http://10.0.0.1:2379.'),
        description: "The etcd cluster's client URLs.",
        errorMessage: 'must be a non-empty list of URLs (http://10.0.0.1:2379)',
      },
      prefix: { ...text('^/([\\s\\S]*/)?$', 'must start and end with "/"', 'The key prefix the fabric keeps its keys under.'), default: FABRIC_DEFAULTS.prefix },
      lease_seconds: int(2, 3600, "A host's learned bindings leave every other host this long after it dies.", FABRIC_DEFAULTS.leaseSeconds),
      username: { type: 'string', minLength: 1, description: 'etcd user; its password is read from the variable password_env names.' },
      password_env: { type: 'string', minLength: 1, description: 'The environment variable holding the etcd password (with username).', default: FABRIC_DEFAULTS.passwordEnv },
      tls: mapping({
        ca: { type: 'string', description: 'CA certificate file.' },
        cert: { type: 'string', description: 'Client certificate file (with key).' },
        key: { type: 'string', description: 'Client key file (with cert).' },
      }, 'TLS to etcd: files that must exist.', { dependencies: { cert: ['key'], key: ['cert'] } }),
    }, 'The etcd cluster.', { required: ['endpoints'] }),
  }, 'The fabric.', { required: ['etcd'] }),
], false);

/** The whole file. */
export const CONFIG_SCHEMA: Schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'microarp config',
  ...mapping({
    ports: { type: 'array', minItems: 1, items: port, description: 'The ports: names and devices unique.', errorMessage: 'must be a non-empty list of {name, device}' },
    fdb,
    enforce: choice(['enforce', 'observe'], 'observe: ARP inspection counts and reports violations but drops nothing (for a safe roll-out).', 'enforce'),
    learning,
    migration,
    api,
    metrics,
    telemetry: bool("DPDK's telemetry socket (dpdk-telemetry.py); false adds --no-telemetry.", true),
    pdump: bool('Serve dpdk-dumpcap (a secondary process; needs hugepages).', true),
    log_level: choice(['debug', 'info', 'warn', 'error'], 'Log lines at this level and above go to stderr.', 'info'),
    workers: {
      description: 'Worker lcores: a count (worker i runs on CPU i mod CPUs) or a list of CPU ids. Each worker owns one RX and one TX queue on every port. The control side runs on the CPUs no worker uses.',
      anyOf: [
        int(1, 64, 'How many workers.'),
        { type: 'array', minItems: 1, uniqueItems: true, items: int(0, 127, 'A CPU id.'), description: 'The CPU of each worker.' },
      ],
      default: DEFAULTS.workers,
      errorMessage: 'must be a worker count (e.g. 1) or a non-empty list of CPU ids (e.g. [1, 2])',
    },
    unknown: choice(['flood', 'drop'], 'ARP requests for unbound targets: flood to the other ports, or drop (counted as unbound_target).', DEFAULTS.unknown),
    table: mapping({
      capacity: int(1, 1 << 30, 'Live bindings guaranteed, IPv4 and IPv6 together; the hash gets 25% headroom for slots waiting out an RCU grace period.', DEFAULTS.tableCapacity),
      ipv6_capacity: int(1, 1 << 30, `IPv6 bindings at most (the IPv6 table is sized for them), within capacity. Default: ${DEFAULTS.ipv6Capacity}, or capacity if that is smaller.`, DEFAULTS.ipv6Capacity),
      update_ring: int(64, 1 << 24, 'Slots of the update ring between the control side and the table writer.', DEFAULTS.updateRing),
    }, 'The binding table.'),
    bindings: {
      type: 'array', items: binding, default: [],
      description: 'Static bindings {ip, mac, vlan?, router?}, IPv4 or IPv6; a (vlan, ip) appears once, and they must fit table.capacity (the IPv6 ones also table.ipv6_capacity).',
      errorMessage: 'must be a list of {ip, mac, vlan?, router?}',
    },
    memory_mb: int(64, 1 << 20, 'DPDK memory in MiB when hugepages are not used (--no-huge -m).', DEFAULTS.memoryMb),
    hugepages: choice(['auto', 'on', 'off', true, false], 'auto uses hugepages when at least memory_mb of them are free; on (or true); off (or false).', DEFAULTS.hugepages),
    rx_descriptors: int(32, 16384, 'RX descriptors per queue. The mbuf pool is sized from ports x workers x descriptors.', DEFAULTS.rxDescriptors),
    tx_descriptors: int(32, 16384, 'TX descriptors per queue.', DEFAULTS.txDescriptors),
    mbufs: {
      description: 'mbufs in the pool (like dpdk-testpmd --total-num-mbufs); auto sizes it from ports x workers x (descriptors + a 2,048-frame backlog).',
      anyOf: [{ const: 'auto' }, int(1024, 1 << 26, 'mbufs in the pool.')],
      default: 'auto',
      errorMessage: 'must be auto or an integer from 1024 to 67108864',
    },
    fabric,
    state_dir: {
      ...orOff('Where API and learned bindings are kept across restarts; off keeps them in memory only.',
        'must be an absolute directory path, or off to keep bindings in memory only', [
          text('^/[^\\u0000]*$', 'must be an absolute directory path, or off to keep bindings in memory only', 'An absolute directory path.'),
        ]),
      default: DEFAULTS.stateDir,
    },
    state_sync: choice(['normal', 'full'], 'normal: every API write is durable against a crash of the process before it is answered; full: also against power loss (an fsync per write).', 'normal'),
    eal: {
      description: "Extra EAL arguments, appended last (a string is split at spaces). Any choice made there (-l/--lcores, -m/--socket-mem/--no-huge, --file-prefix, -a/-b/--no-pci, --log-level) replaces microarp's own.",
      anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }],
      default: [],
      errorMessage: 'must be a list of EAL arguments (strings), e.g. ["--log-level=lib.eal:debug"]',
    },
  }, 'The config file of `microarp run` and `microarp check-config` (YAML, or JSON).', { required: ['ports'] }),
  errorMessage: 'the config must be a mapping with at least a "ports" key',
  definitions,
};
