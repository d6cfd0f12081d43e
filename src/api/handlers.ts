// The control API's operations. Each validates everything before touching the table, and a
// write answers only once the dataplane's workers see the change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatIp, formatMac } from '../dataplane/address';
import type { Snapshot } from '../dataplane/dataplane';
import type { BindingTable, ListFilter, Outcome, TableKey, WriteOp } from '../table/binding_table';
import { describeBinding, macToNumber } from '../table/binding_table';
import { bindingFromObject, FieldError, ipField, macField, prefixAnyField, routerField, vlanField } from './binding_input';
import { ApiError, readJson, sendJson } from './http_util';
import { parseImport, type ImportFormat } from './import_parser';
import { snapshotObject } from '../cli/stats_format';
import { ConfigError } from '../config/load';
import type { FdbView } from '../table/fdb_view';
import type { EventHub } from '../learning/event_hub';
import type { Update, UpdateSummary } from '../dataplane/updates';

export interface ApiContext {
  table: BindingTable;
  fdb: FdbView;
  ports: {
    names: string[];
    setAdmin(index: number, up: boolean): void;
    setResponder(index: number, on: boolean): void;
  };
  fdbStatic(ops: Update[]): Promise<UpdateSummary>;
  events: EventHub;
  snapshot(): Snapshot;
  ready(): { ready: boolean; reason?: string; fabric?: string };
  /** In a fabric: its status, with each etcd endpoint's health. */
  fabric?(): Promise<Record<string, unknown>>;
  audit(who: string, action: string, details: Record<string, unknown>): void;
  /** Stalls of the control side the daemon noticed (FaultWatch). */
  faults?(): Record<string, number>;
  /** Re-reads the config file and applies what can change live (see Daemon.reload). */
  reload?(): Promise<{ file: string; applied: string[]; needsRestart: string[] }>;
}

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  who: string;
  /** The parsed JSON body, for routes that take one. */
  body?: unknown;
}

function field<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FieldError) throw new ApiError(400, 'INVALID', error.message, error.field);
    throw error;
  }
}

function queryInt(url: URL, name: string, min: number, max: number, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new ApiError(400, 'INVALID', `${name}: must be an integer from ${min} to ${max}`, name);
  return n;
}

function filterFrom(url: URL): ListFilter {
  const p = url.searchParams;
  for (const key of p.keys()) {
    if (!['vlan', 'prefix', 'mac', 'limit', 'cursor'].includes(key)) {
      throw new ApiError(400, 'INVALID', `${key}: unknown parameter (vlan, prefix, mac, limit, cursor)`, key);
    }
  }
  return field(() => ({
    vlan: p.has('vlan') ? vlanField(p.get('vlan'), 'vlan') : undefined,
    ...(p.has('prefix') ? prefixAnyField(p.get('prefix')) : {}),
    mac: p.has('mac') ? macToNumber(macField(p.get('mac'))) : undefined,
  }));
}

// A page's cursor is the last key it showed: an IPv4 key as its decimal number, an IPv6 key
// (a bigint, see binding_key.ts) as "v6-" and its hex digits.
const IPV6_CURSOR = /^v6-[0-9a-f]{1,35}$/;
const KEY6_END = 4095n << 128n;

function formatCursor(key: TableKey): string {
  return typeof key === 'bigint' ? `v6-${key.toString(16)}` : String(key);
}

function parseCursor(text: string): TableKey {
  const key = IPV6_CURSOR.test(text) ? BigInt(`0x${text.slice(3)}`) : /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  const valid = typeof key === 'bigint' ? key < KEY6_END : Number.isSafeInteger(key) && key < 4095 * 2 ** 32;
  if (!valid) throw new ApiError(400, 'INVALID', 'cursor: not a cursor from a previous page', 'cursor');
  return key;
}

const STATUS_OF: Partial<Record<Outcome, number>> = {
  added: 201,
  replaced: 200,
  unchanged: 200,
  removed: 200,
};

function writeResponse(r: Request, outcome: Outcome, binding: object, previous?: string): void {
  if (outcome === 'table_full') {
    throw new ApiError(507, 'TABLE_FULL', 'the binding table is at its capacity (table.capacity)');
  }
  if (outcome === 'conflict') {
    throw new ApiError(409, 'CONFLICT', `already bound to ${previous}; replace it with PUT (CLI: --replace)`, 'mac', { previous_mac: previous });
  }
  if (outcome === 'missing') throw new ApiError(404, 'NOT_FOUND', 'no such binding');
  if (outcome === 'outranked') {
    throw new ApiError(409, 'OUTRANKED', `bound to ${previous} by the config (static), which the API does not override`, undefined, { previous_mac: previous });
  }
  sendJson(r.res, STATUS_OF[outcome] ?? 200, { outcome, binding, ...(previous ? { previous_mac: previous } : {}) });
}

export const handlers = {
  health(r: Request): void {
    sendJson(r.res, 200, { status: 'ok' });
  },

  readiness(r: Request, ctx: ApiContext): void {
    const state = ctx.ready();
    sendJson(r.res, state.ready ? 200 : 503, state);
  },

  async fabric(r: Request, ctx: ApiContext): Promise<void> {
    if (!ctx.fabric) throw new ApiError(404, 'NO_FABRIC', 'this host is not in a fabric (no fabric key in its config)');
    sendJson(r.res, 200, await ctx.fabric());
  },

  stats(r: Request, ctx: ApiContext): void {
    sendJson(r.res, 200, { ...snapshotObject(ctx.snapshot(), false), ...(ctx.faults ? { faults: ctx.faults() } : {}) });
  },

  ports(r: Request, ctx: ApiContext): void {
    sendJson(r.res, 200, { ports: ctx.snapshot().ports.map((p) => ({ ...p })) });
  },

  list(r: Request, ctx: ApiContext): void {
    const filter = filterFrom(r.url);
    const limit = queryInt(r.url, 'limit', 1, 10000, 100);
    const cursor = r.url.searchParams.get('cursor');
    const after = cursor === null ? undefined : parseCursor(cursor);
    const page = ctx.table.list(filter, limit, after);
    const bindings = page.bindings.map((b) => {
      const port = ctx.fdb.portOf(b.vlan, b.mac) ?? b.port;
      return port ? { ...b, port } : b;
    });
    sendJson(r.res, 200, { bindings, total: ctx.table.size, ...(page.next !== undefined ? { next_cursor: formatCursor(page.next) } : {}) });
  },

  get(r: Request, ctx: ApiContext): void {
    const ip = field(() => ipField(r.params[0]));
    const vlan = field(() => vlanField(r.url.searchParams.get('vlan') ?? undefined));
    const binding = ctx.table.get(vlan, ip);
    if (!binding) throw new ApiError(404, 'NOT_FOUND', `no binding for ${describeBinding({ ip, vlan })}`);
    sendJson(r.res, 200, binding);
  },

  async add(r: Request, ctx: ApiContext): Promise<void> {
    const b = field(() => bindingFromObject(r.body));
    await writeOne(r, ctx, { op: 'add', ...b });
  },

  async put(r: Request, ctx: ApiContext): Promise<void> {
    const ip = field(() => ipField(r.params[0]));
    const body = r.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'INVALID', 'body: must be a JSON object {mac, vlan?, router?}', 'body');
    }
    const fields = body as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (key !== 'mac' && key !== 'vlan' && key !== 'router') throw new ApiError(400, 'INVALID', `${key}: unknown field (expected mac, vlan, router)`, key);
    }
    const mac = field(() => macField(fields.mac));
    const vlan = field(() => vlanField(fields.vlan ?? r.url.searchParams.get('vlan') ?? undefined));
    const router = field(() => routerField(fields.router, ip));
    await writeOne(r, ctx, { op: 'upsert', ip, vlan, mac, ...(router ? { router } : {}) });
  },

  async remove(r: Request, ctx: ApiContext): Promise<void> {
    const ip = field(() => ipField(r.params[0]));
    const vlan = field(() => vlanField(r.url.searchParams.get('vlan') ?? undefined));
    await writeOne(r, ctx, { op: 'remove', ip, vlan });
  },

  /** NDJSON, one event per line, until the client goes away; `?type=a,b` filters. */
  async eventStream(r: Request, ctx: ApiContext): Promise<void> {
    const types = r.url.searchParams.get('type')?.split(',').filter(Boolean);
    r.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    r.res.write(`${JSON.stringify({ time: new Date().toISOString(), type: 'subscribed', types: types ?? 'all' })}\n`);
    await new Promise<void>((resolve) => {
      const unsubscribe = ctx.events.subscribe((e) => {
        if (!types || types.includes(e.type)) r.res.write(`${JSON.stringify(e)}\n`);
      });
      r.res.once('close', () => {
        unsubscribe();
        resolve();
      });
    });
  },

  fdbList(r: Request, ctx: ApiContext): void {
    const p = r.url.searchParams;
    for (const key of p.keys()) {
      if (!['vlan', 'port', 'mac'].includes(key)) throw new ApiError(400, 'INVALID', `${key}: unknown parameter (vlan, port, mac)`, key);
    }
    const filter = field(() => ({
      vlan: p.has('vlan') ? vlanField(p.get('vlan')) : undefined,
      port: p.get('port') ?? undefined,
      mac: p.has('mac') ? formatMac(macField(p.get('mac'))) : undefined,
    }));
    sendJson(r.res, 200, { entries: ctx.fdb.list(filter) });
  },

  async fdbPut(r: Request, ctx: ApiContext): Promise<void> {
    const body = objectBody(r.body, ['mac', 'vlan', 'port']);
    const mac = field(() => macField(body.mac));
    const vlan = field(() => vlanField(body.vlan));
    const port = portIndex(ctx, body.port);
    const result = await ctx.fdbStatic([{ op: 'fdb_add', vlan, mac, port }]);
    if (result.tableFull) throw new ApiError(507, 'FDB_FULL', 'the FDB is at its capacity (fdb.capacity)');
    const entry = { vlan, mac: formatMac(mac), port: ctx.ports.names[port], static: true };
    ctx.audit(r.who, 'fdb.static_add', entry);
    sendJson(r.res, result.added ? 201 : 200, { outcome: result.added ? 'added' : 'replaced', entry });
  },

  async fdbDelete(r: Request, ctx: ApiContext): Promise<void> {
    const mac = field(() => macField(r.params[0]));
    const vlan = field(() => vlanField(r.url.searchParams.get('vlan') ?? undefined));
    const result = await ctx.fdbStatic([{ op: 'fdb_remove', vlan, mac }]);
    if (!result.removed) throw new ApiError(404, 'NOT_FOUND', 'no such FDB entry');
    ctx.audit(r.who, 'fdb.remove', { vlan, mac: formatMac(mac) });
    sendJson(r.res, 200, { outcome: 'removed' });
  },

  portPatch(r: Request, ctx: ApiContext): void {
    const index = portIndex(ctx, r.params[0]);
    const body = objectBody(r.body, ['admin', 'responder']);
    if (body.admin !== undefined && body.admin !== 'up' && body.admin !== 'down') {
      throw new ApiError(400, 'INVALID', 'admin: must be "up" or "down"', 'admin');
    }
    if (body.responder !== undefined && typeof body.responder !== 'boolean') {
      throw new ApiError(400, 'INVALID', 'responder: must be true or false', 'responder');
    }
    if (body.admin === undefined && body.responder === undefined) {
      throw new ApiError(400, 'INVALID', 'body: give admin ("up"/"down") and/or responder (true/false)', 'body');
    }
    if (body.admin !== undefined) ctx.ports.setAdmin(index, body.admin === 'up');
    if (body.responder !== undefined) ctx.ports.setResponder(index, body.responder as boolean);
    ctx.audit(r.who, 'port.set', { port: ctx.ports.names[index], ...body });
    const port = ctx.snapshot().ports[index];
    sendJson(r.res, 200, { port });
  },

  /**
   * Fault injection for the tests, off unless MICROARP_FAULT_INJECTION=1 is in the daemon's
   * environment: blocks the control side's thread for `ms` (as a long garbage collection would),
   * then answers.
   */
  debugStall(r: Request): void {
    if (process.env.MICROARP_FAULT_INJECTION !== '1') throw new ApiError(404, 'NOT_FOUND', 'no such route');
    const ms = Number(r.url.searchParams.get('ms') ?? '');
    if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) throw new ApiError(400, 'INVALID', 'ms: 1 to 60000', 'ms');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    sendJson(r.res, 200, { stalled_ms: ms });
  },

  async reload(r: Request, ctx: ApiContext): Promise<void> {
    if (!ctx.reload) throw new ApiError(501, 'NO_CONFIG_FILE', 'this daemon was not started from a config file');
    try {
      const report = await ctx.reload();
      ctx.audit(r.who, 'config.reload', { applied: report.applied.length, needs_restart: report.needsRestart });
      sendJson(r.res, 200, { file: report.file, applied: report.applied, needs_restart: report.needsRestart });
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new ApiError(400, 'CONFIG_INVALID', `${error.file}: the file does not validate; nothing was changed`, undefined, { problems: error.issues });
      }
      throw error;
    }
  },

  async importBindings(r: Request, ctx: ApiContext): Promise<void> {
    const format = (r.url.searchParams.get('format') ?? 'ndjson') as ImportFormat;
    if (format !== 'ndjson' && format !== 'csv') throw new ApiError(400, 'INVALID', 'format: must be ndjson or csv', 'format');
    const skipBad = ['1', 'true'].includes(r.url.searchParams.get('skip_bad') ?? '');
    const parsed = await parseImport(r.req, format);
    if (parsed.badCount > 0 && !skipBad) {
      throw new ApiError(400, 'BAD_LINES', `${parsed.badCount} bad line(s); nothing was imported (add skip_bad=true to import the good ones)`, undefined, {
        rejected: parsed.badCount,
        errors: parsed.bad,
      });
    }
    const counts = await ctx.table.importColumns(parsed, parsed.count, parsed.v6);
    const totals = { added: counts.added, replaced: counts.replaced, unchanged: counts.unchanged, outranked: counts.outranked, table_full: counts.table_full };
    // A row a static (config) binding outranks is not imported: the table keeps the static one.
    const imported = parsed.count + parsed.v6.count - totals.table_full - totals.outranked;
    const summary = { lines: parsed.lines, imported, ...totals, rejected: parsed.badCount, errors: parsed.bad };
    ctx.audit(r.who, 'bindings.import', { lines: parsed.lines, ...totals, rejected: parsed.badCount });
    sendJson(r.res, 200, summary);
  },

  async exportBindings(r: Request, ctx: ApiContext): Promise<void> {
    const filter = filterFrom(r.url);
    r.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let chunk = '';
    for (const b of ctx.table.all(filter)) {
      chunk += `${JSON.stringify(b)}\n`;
      if (chunk.length >= 65536) {
        const more = r.res.write(chunk);
        chunk = '';
        if (!more) await new Promise((resolve) => r.res.once('drain', resolve));
        if (r.res.destroyed) return;
      }
    }
    r.res.end(chunk);
  },
};

function objectBody(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'INVALID', `body: must be a JSON object {${allowed.join(', ')}}`, 'body');
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) throw new ApiError(400, 'INVALID', `${key}: unknown field (expected ${allowed.join(', ')})`, key);
  }
  return fields;
}

function portIndex(ctx: ApiContext, name: unknown): number {
  const index = typeof name === 'string' ? ctx.ports.names.indexOf(name) : -1;
  if (index < 0) throw new ApiError(404, 'NO_PORT', `no port named ${JSON.stringify(name)} (ports: ${ctx.ports.names.join(', ')})`, 'port');
  return index;
}

async function writeOne(r: Request, ctx: ApiContext, op: WriteOp): Promise<void> {
  const result = await ctx.table.write([op], true);
  const outcome = result.outcomes![0]!;
  const previous = result.previous![0];
  const binding = {
    ip: formatIp(op.ip),
    vlan: op.vlan,
    ...(op.op !== 'remove' ? { mac: formatMac(op.mac) } : {}),
    ...(op.op !== 'remove' && typeof op.ip !== 'number' ? { router: op.router === true } : {}),
  };
  ctx.audit(r.who, `bindings.${op.op}`, { ...binding, outcome, ...(previous ? { previous_mac: previous } : {}) });
  writeResponse(r, outcome, binding, previous);
}

export async function loadBody(r: Request): Promise<void> {
  r.body = await readJson(r.req);
}
