// The fabric's records in etcd: the key layout and the JSON values, validated both ways.
// Anything read from etcd is untrusted (other hosts, other versions, an operator's etcdctl):
// parse* return null for a malformed key or value instead of throwing.
//
// An address is a key segment, `<prefix>bindings/<kind>/<vlan>/<ip>`, in one text per address
// so that a binding has exactly one key: IPv4 dotted decimal, IPv6 in RFC 5952 form
// (`2001:db8::7`; ':' is an ordinary byte in an etcd key, and no form has a '/'). A key with
// another text for an IPv6 address (`2001:DB8:0::7`) is not in the layout.
import { isIPv4 } from 'node:net';
import { formatIPv6, parseIPv6 } from '../dataplane/address';

/** Intent comes from the API and has no lease; learned comes from a host's dataplane, under its lease. */
export type BindingKind = 'intent' | 'learned';

export interface BindingRecord {
  ip: string;
  /** Lower-case, colon-separated. */
  mac: string;
  vlan: number;
  /** The host that wrote the record. */
  host: string;
  source: 'api' | 'learned';
  /** A logical clock per binding: a learned key goes to the publisher with the higher seq. */
  seq: number;
  /** The port the binding was learned on, when it was learned. */
  port?: string;
  /** IPv6 only: the binding is a router's (R set in its Neighbor Advertisements). Present only when true. */
  router?: true;
  /** ISO time of the write. */
  updated: string;
}

/** What a caller gives to write a binding: the client adds host, source and time. */
export interface BindingInput {
  ip: string;
  mac: string;
  vlan: number;
  /** Required for learned records (the takeover rule compares it); intents default to Date.now(). */
  seq?: number;
  port?: string;
  /** IPv6 only. */
  router?: boolean;
}

export interface HostRecord {
  host: string;
  /** ISO time the host's fabric client started. */
  started: string;
  version: string;
}

export const DEFAULT_PREFIX = '/microarp/';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const MAX_VLAN = 4095;

/** The key layout under one prefix (which ends with '/'). */
export class FabricKeys {
  constructor(readonly prefix: string) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new Error(`fabric prefix must start and end with '/' (got '${prefix}')`);
    }
  }

  get bindings(): string {
    return `${this.prefix}bindings/`;
  }

  get hosts(): string {
    return `${this.prefix}hosts/`;
  }

  binding(kind: BindingKind, vlan: number, ip: string): string {
    return `${this.bindings}${kind}/${vlan}/${ip}`;
  }

  host(host: string): string {
    return `${this.hosts}${host}`;
  }

  /** What a key under the prefix names, or null for a key that is not in the layout. */
  parse(key: string): ParsedKey | null {
    if (!key.startsWith(this.prefix)) return null;
    const parts = key.slice(this.prefix.length).split('/');
    if (parts[0] === 'hosts' && parts.length === 2 && validHostName(parts[1]!)) return { type: 'host', host: parts[1]! };
    if (parts[0] !== 'bindings' || parts.length !== 4) return null;
    const [, kind, vlanText, ip] = parts as [string, string, string, string];
    if (kind !== 'intent' && kind !== 'learned') return null;
    if (!/^\d{1,4}$/.test(vlanText) || canonicalAddress(ip) !== ip) return null;
    const vlan = Number(vlanText);
    if (vlan > MAX_VLAN || String(vlan) !== vlanText) return null;
    return { type: 'binding', kind, vlan, ip };
  }
}

export type ParsedKey = { type: 'binding'; kind: BindingKind; vlan: number; ip: string } | { type: 'host'; host: string };

/**
 * The one text of the address `ip` in keys and records: itself for IPv4, the RFC 5952 form for
 * IPv6; null when it is neither (an IPv6 zone, `fe80::1%eth0`, included).
 */
export function canonicalAddress(ip: string): string | null {
  if (isIPv4(ip)) return ip;
  const bytes = ip.includes(':') ? parseIPv6(ip) : null;
  return bytes ? formatIPv6(bytes) : null;
}

/** Host names become key segments: no '/', nothing exotic. */
export function validHostName(host: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(host);
}

/** The source a record of each kind must carry. */
export function sourceOf(kind: BindingKind): BindingRecord['source'] {
  return kind === 'intent' ? 'api' : 'learned';
}

/**
 * Parses a binding value read from etcd under a key of `kind`, vlan and ip: null when it is
 * not JSON, misses or mistypes a field, or disagrees with its key.
 */
export function parseBinding(value: Buffer | string, kind: BindingKind, vlan: number, ip: string): BindingRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(value.toString());
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (o.ip !== ip || o.vlan !== vlan) return null;
  if (typeof o.mac !== 'string' || !MAC.test(o.mac)) return null;
  if (typeof o.host !== 'string' || !validHostName(o.host)) return null;
  if (o.source !== sourceOf(kind)) return null;
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) return null;
  if (o.port !== undefined && (typeof o.port !== 'string' || o.port.length === 0)) return null;
  // A router flag only on an IPv6 binding, and only as true (absent: false).
  if (o.router !== undefined && (o.router !== true || !ip.includes(':'))) return null;
  if (typeof o.updated !== 'string' || Number.isNaN(Date.parse(o.updated))) return null;
  const record: BindingRecord = { ip, mac: o.mac, vlan, host: o.host, source: sourceOf(kind), seq: o.seq, updated: o.updated };
  if (o.port !== undefined) record.port = o.port as string;
  if (o.router === true) record.router = true;
  return record;
}

/** Parses a host presence value; null when malformed or when it names another host than its key. */
export function parseHost(value: Buffer | string, host: string): HostRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(value.toString());
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.host !== host || typeof o.started !== 'string' || typeof o.version !== 'string') return null;
  return { host, started: o.started, version: o.version };
}

/**
 * Checks the address of a write (a programming error throws, as in bindingRecord) and returns
 * its text as keys hold it (see canonicalAddress).
 */
export function checkAddress(vlan: number, ip: string): string {
  const text = canonicalAddress(ip);
  if (text === null) throw new TypeError(`fabric: '${ip}' is not an IPv4 or IPv6 address`);
  if (!Number.isInteger(vlan) || vlan < 0 || vlan > MAX_VLAN) throw new TypeError(`fabric: vlan ${vlan} is not an integer in 0..${MAX_VLAN}`);
  return text;
}

/**
 * Checks and normalizes what a caller wants written (a programming error throws: the API
 * validates user input before it gets here).
 */
export function bindingRecord(input: BindingInput, kind: BindingKind, host: string, now = new Date()): BindingRecord {
  const ip = checkAddress(input.vlan, input.ip);
  const mac = String(input.mac).toLowerCase();
  if (!MAC.test(mac)) throw new TypeError(`fabric: '${input.mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  if (kind === 'learned' && input.seq === undefined) throw new TypeError('fabric: a learned binding needs a seq');
  const seq = input.seq ?? now.getTime();
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`fabric: seq ${seq} is not a non-negative integer`);
  if (input.port !== undefined && (typeof input.port !== 'string' || input.port.length === 0)) {
    throw new TypeError('fabric: port must be a non-empty string when given');
  }
  if (input.router && !ip.includes(':')) throw new TypeError(`fabric: '${ip}' is IPv4: only an IPv6 binding has a router flag`);
  const record: BindingRecord = { ip, mac, vlan: input.vlan, host, source: sourceOf(kind), seq, updated: now.toISOString() };
  if (input.port !== undefined) record.port = input.port;
  if (input.router) record.router = true;
  return record;
}

/** The same binding as far as the fabric's consumers care (seq and time aside). */
export function sameBinding(a: BindingRecord, b: BindingRecord): boolean {
  return a.mac === b.mac && a.host === b.host && a.port === b.port && a.router === b.router;
}

/**
 * Whether a learned record `mine` may replace what is stored: the higher seq wins; at an equal
 * seq the holder keeps the key (so two hosts never flip it back and forth), unless the holder is us.
 */
export function mayTakeOver(mine: BindingRecord, stored: BindingRecord | null): boolean {
  if (!stored) return true;
  if (mine.seq !== stored.seq) return mine.seq > stored.seq;
  return stored.host === mine.host;
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: etcd's "to the end of the keyspace".
  return Buffer.from([0]);
}
