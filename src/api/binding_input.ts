// Validation of bindings arriving from outside (API bodies, import lines, CLI arguments),
// with errors that name the field.
import { MAX_VLAN, macProblem, parseIPv4, parseMac } from '../dataplane/address';

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function ipField(v: unknown, field = 'ip'): number {
  const ip = typeof v === 'string' ? parseIPv4(v) : null;
  if (ip === null) throw new FieldError(field, `not an IPv4 address: ${JSON.stringify(v)}`);
  return ip;
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

export interface BindingInput {
  ip: number;
  mac: Uint8Array;
  vlan: number;
}

export function bindingFromObject(o: unknown): BindingInput {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new FieldError('body', 'must be a JSON object {ip, mac, vlan?}');
  }
  const r = o as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    // What an export adds (source, port, times, counts) is accepted and ignored, so that an
    // export can be imported again.
    if (!['ip', 'mac', 'vlan'].includes(key) && !EXPORT_ONLY.has(key)) {
      throw new FieldError(key, 'unknown field (expected ip, mac, vlan)');
    }
  }
  return { ip: ipField(r.ip), mac: macField(r.mac), vlan: vlanField(r.vlan) };
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
