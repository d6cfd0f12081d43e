// Validation of bindings arriving from outside (API bodies, import lines, CLI arguments),
// with errors that name the field.
import { hostBitsSet6, ipv6Problem, MAX_VLAN, macProblem, parseIPv4, parseIPv6, parseIPv6Prefix, parseMac, type Prefix6 } from '../dataplane/address';

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** An IPv4 address as a number, or an IPv6 one (any RFC 4291 form, no zone) as its 16 bytes. */
export function ipField(v: unknown, field = 'ip'): number | Uint8Array {
  const ip = typeof v === 'string' ? (parseIPv4(v) ?? parseIPv6(v)) : null;
  if (ip === null) {
    const zone = typeof v === 'string' && v.includes('%') && parseIPv6(v.slice(0, v.indexOf('%'))) !== null;
    throw new FieldError(field, zone ? `an address with a zone (%) names an interface, give the address alone: ${JSON.stringify(v)}` : `not an IPv4 or IPv6 address: ${JSON.stringify(v)}`);
  }
  if (typeof ip !== 'number') {
    const problem = ipv6Problem(ip);
    if (problem) throw new FieldError(field, problem);
  }
  return ip;
}

/** A binding's router flag: IPv6 only, true or false (absent: false). */
export function routerField(v: unknown, ip: number | Uint8Array, field = 'router'): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new FieldError(field, `must be true or false, got ${JSON.stringify(v)}`);
  if (typeof ip === 'number') throw new FieldError(field, 'only an IPv6 binding has a router flag (it sets R in Neighbor Advertisements)');
  return v;
}

export function macField(v: unknown, field = 'mac'): Uint8Array {
  const mac = typeof v === 'string' ? parseMac(v) : null;
  if (mac === null) throw new FieldError(field, `not a MAC address (aa:bb:cc:dd:ee:ff): ${JSON.stringify(v)}`);
  const problem = macProblem(mac);
  if (problem) throw new FieldError(field, problem);
  return mac;
}

export function vlanField(v: unknown, field = 'vlan'): number {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_VLAN) {
    throw new FieldError(field, `must be 0 (untagged) to ${MAX_VLAN}, got ${JSON.stringify(v)}`);
  }
  return n;
}

// Fields `bindings export` writes that an import ignores, so that an export (in a fabric, with
// each binding's host) can be imported back as it is.
export const EXPORT_ONLY: ReadonlySet<string> = new Set(['source', 'port', 'first_seen', 'last_seen', 'moves', 'hits', 'host']);

/** `ip` a number (IPv4) or 16 bytes (IPv6); `router` only ever true for IPv6. */
export interface BindingInput {
  ip: number | Uint8Array;
  mac: Uint8Array;
  vlan: number;
  router?: boolean;
}

export function bindingFromObject(o: unknown): BindingInput {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new FieldError('body', 'must be a JSON object {ip, mac, vlan?, router?}');
  }
  const r = o as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    // What an export adds (source, port, times, counts) is accepted and ignored, so that an
    // export can be imported again.
    if (!['ip', 'mac', 'vlan', 'router'].includes(key) && !EXPORT_ONLY.has(key)) {
      throw new FieldError(key, 'unknown field (expected ip, mac, vlan, router)');
    }
  }
  const ip = ipField(r.ip);
  const binding: BindingInput = { ip, mac: macField(r.mac), vlan: vlanField(r.vlan) };
  if (routerField(r.router, ip)) binding.router = true;
  return binding;
}

/** An IPv4 prefix as [network, length], or an IPv6 one; no host bits set in either. */
export function prefixAnyField(v: unknown, field = 'prefix'): { prefix: [number, number] } | { prefix6: Prefix6 } {
  if (typeof v === 'string' && v.includes(':')) {
    const prefix6 = parseIPv6Prefix(v);
    if (prefix6 === null) throw new FieldError(field, `not an IPv6 prefix (2001:db8::/64): ${JSON.stringify(v)}`);
    if (hostBitsSet6(prefix6.network, prefix6.length)) throw new FieldError(field, `host bits set in ${v}`);
    return { prefix6 };
  }
  return { prefix: prefixField(v, field) };
}

/** `a.b.c.d/len` with no host bits set, as [network, length]. */
export function prefixField(v: unknown, field = 'prefix'): [number, number] {
  const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(v) : null;
  const network = m ? parseIPv4(m[1]!) : null;
  const length = m ? Number(m[2]) : NaN;
  if (network === null || !(length >= 0 && length <= 32)) {
    throw new FieldError(field, `not an IPv4 prefix (10.0.0.0/24): ${JSON.stringify(v)}`);
  }
  if (network % 2 ** (32 - length) !== 0) throw new FieldError(field, `host bits set in ${v as string}`);
  return [network, length];
}
