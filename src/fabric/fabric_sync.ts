// Keeps this host's table and the fabric (etcd) in step, both ways.
//
// Out: API writes become fabric-wide intent; bindings learned on VM-facing ports are published
// under this host's lease with their mobility sequence. In: every other host's bindings are
// installed locally (source `remote` for learned ones, `api` for intent) so that requests for
// them are answered here, and never cross the physical network. Nothing read from the fabric is
// published back, and every table change still goes through BindingTable's single writer.
//
// Both address families travel the same way: the table tells IPv4 changes through onChanges
// and IPv6 ones through onChanges6, records carry the address as text (IPv6 in RFC 5952
// form, see records.ts) and an IPv6 binding's router flag, and the same sequence and takeover
// rules apply.
import { formatIp, formatMac, parseIPv4, parseIPv6, parseMac } from '../dataplane/address';
import type { Update, UpdateSummary } from '../dataplane/updates';
import type { FabricConfig } from '../config/config';
import type { Logger } from '../log/logger';
import type { EventHub } from '../learning/event_hub';
import { formatKeyAddress, vlanOfKey } from '../table/binding_key';
import { keyFor, macFromNumber, macToNumber, type BindingIp, type BindingTable, type Entry, type TableChange, type TableKey, type WriteOp } from '../table/binding_table';
import { FabricClient, type BindingKind, type BindingRecord, type FabricStatus, type SyncedBinding } from './etcd_client';

/** Events from etcd are gathered this long and applied as one table write. */
const BATCH_MS = 5;

export interface FabricDataplane {
  apply(updates: readonly Update[]): Promise<UpdateSummary>;
}

export interface MoveAnnouncer {
  announceRemoteMove(vlan: number, ips: BindingIp[], mac: Uint8Array): void;
}

export interface FabricCounters {
  published: number;
  received: number;
  movedAway: number;
  remoteBindings: number;
}

export class FabricSync {
  readonly client: FabricClient;
  readonly counters: FabricCounters = { published: 0, received: 0, movedAway: 0, remoteBindings: 0 };
  private pending: { record?: BindingRecord; kind: BindingKind; vlan: number; ip: BindingIp; remove: boolean }[] = [];
  private batchTimer?: NodeJS.Timeout;
  private applying: Promise<void> = Promise.resolve();
  announcer?: MoveAnnouncer;

  constructor(
    private readonly config: FabricConfig,
    private readonly table: BindingTable,
    private readonly dataplane: FabricDataplane,
    private readonly events: EventHub,
    private readonly log: Logger,
  ) {
    this.client = new FabricClient({
      endpoints: config.endpoints,
      prefix: config.prefix,
      host: config.host,
      leaseSeconds: config.leaseSeconds,
      username: config.username,
      password: config.password,
      tls: config.tls,
      log: (level, msg, fields) => log[level](msg, fields),
      version: require('../../../package.json').version as string,
    });
    table.hostName = config.host;
    table.onChanges = (changes) => this.publish(changes);
    table.onChanges6 = (changes) => this.publish(changes);
    // The client hands on only keys in the layout: the address parses.
    this.client.on('put', (record, kind) => this.queue({ record, kind, vlan: record.vlan, ip: parseAddress(record.ip), remove: false }));
    this.client.on('delete', (change) => this.queue({ kind: change.kind, vlan: change.vlan, ip: parseAddress(change.ip), remove: true }));
    this.client.on('sync', (records) => void this.serialise(() => this.fullSync(records)));
    this.client.on('state', (state) => {
      const fields = { state, endpoints: config.endpoints };
      if (state === 'up') log.info('fabric connected', fields);
      else log.warn('fabric not connected: answering from the last table, retrying', fields);
      events.emit('fabric', { state });
    });
  }

  private startedAt = 0;
  private synced = false;

  /** Resolves after the first connection attempt; an unreachable etcd is retried in the background. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.countRemote();
    await this.client.start();
  }

  async stop(): Promise<void> {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    await this.client.stop();
  }

  status(): FabricStatus & { host: string; remoteBindings: number } {
    this.countRemote();
    return { ...this.client.status(), host: this.config.host, remoteBindings: this.counters.remoteBindings };
  }

  // ---- out: this host's changes --------------------------------------------------------

  private publish(changes: TableChange<TableKey>[]): void {
    for (const { key, entry, previous, fromFabric } of changes) {
      if (fromFabric) continue;
      const vlan = vlanOfKey(key);
      const ip = formatKeyAddress(key);
      if (entry === null) {
        if (previous?.source === 'api') void this.count(this.client.deleteIntent(vlan, ip));
        else if (previous?.source === 'learned') void this.count(this.client.deleteLearned(vlan, ip));
        continue;
      }
      const mac = formatMac(macFromNumber(entry.mac));
      const router = entry.router === true ? { router: true } : {};
      if (entry.source === 'api') {
        void this.count(this.client.putIntent({ ip, mac, vlan, ...router }));
        // An API binding replaces what this host had learned for the address.
        if (previous?.source === 'learned' && previous.host === undefined) void this.client.deleteLearned(vlan, ip);
      } else if (entry.source === 'learned') {
        void this.count(this.client.putLearned({ ip, mac, vlan, seq: entry.seq ?? 1, ...(entry.port ? { port: entry.port } : {}), ...router }));
      } else if (previous?.source === 'api' && previous.host === undefined) {
        void this.count(this.client.deleteIntent(vlan, ip));
      }
    }
  }

  private async count(write: Promise<boolean>): Promise<void> {
    if (await write.catch(() => false)) this.counters.published++;
  }

  // ---- in: the other hosts' bindings ---------------------------------------------------------

  private queue(item: FabricSync['pending'][number]): void {
    if (item.record && item.record.host === this.config.host) return; // our own write, echoed
    this.pending.push(item);
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined;
      const batch = this.pending;
      this.pending = [];
      void this.serialise(() => this.applyEvents(batch));
    }, BATCH_MS);
  }

  /** Fabric batches apply one after another, in the order etcd sent them. */
  private serialise(work: () => Promise<void>): Promise<void> {
    this.applying = this.applying.then(work).catch((error: Error) => this.log.error('fabric update failed', { error: error.message }));
    return this.applying;
  }

  private async applyEvents(batch: FabricSync['pending']): Promise<void> {
    const ops: WriteOp[] = [];
    const movedAway: { vlan: number; ip: BindingIp; mac: Uint8Array }[] = [];
    for (const item of batch) {
      this.counters.received++;
      const current = this.table.entry(item.vlan, item.ip);
      if (item.remove) {
        // An intent deleted anywhere goes everywhere; a learned one only if it is the remote copy.
        if (item.kind === 'intent' && current?.source === 'api') ops.push({ op: 'remove', ip: item.ip, vlan: item.vlan, source: 'api', origin: { host: current.host ?? this.config.host, seq: 0 } });
        else if (item.kind === 'learned' && current?.source === 'remote') ops.push({ op: 'remove', ip: item.ip, vlan: item.vlan, source: 'remote', origin: { host: current.host!, seq: 0 } });
        continue;
      }
      const op = this.installOp(item.record!, item.kind, current);
      if (!op) continue;
      if (item.kind === 'learned' && current?.source === 'learned' && current.host === undefined) movedAway.push({ vlan: item.vlan, ip: item.ip, mac: op.mac });
      ops.push(op);
    }
    if (ops.length > 0) await this.table.write(ops);
    this.followMoves(movedAway);
  }

  /** The op that installs another host's record here, or null when ours stands. */
  private installOp(record: BindingRecord, kind: BindingKind, current: Entry | undefined): (WriteOp & { op: 'upsert'; mac: Uint8Array }) | null {
    const ip = parseAddress(record.ip);
    const mac = parseMac(record.mac)!;
    const origin = { host: record.host, seq: record.seq };
    const router = record.router === true;
    // The binding's value: its MAC, and for IPv6 its router flag.
    const same = current !== undefined && current.mac === macToNumber(mac) && (current.router === true) === router;
    if (kind === 'intent') {
      if (current?.source === 'api' && same && current.host === record.host) return null;
      return { op: 'upsert', ip, vlan: record.vlan, mac, router, source: 'api', origin };
    }
    // A learned record: a local learned binding with a higher or equal sequence stands.
    if (current && current.source === 'learned' && current.host === undefined && (current.seq ?? 0) >= record.seq) return null;
    if (current && current.source === 'remote' && current.host === record.host && current.seq === record.seq && same) return null;
    return { op: 'upsert', ip, vlan: record.vlan, mac, router, source: 'remote', origin, ...(record.port ? { port: `${record.host}/${record.port}` } : {}) };
  }

  /**
   * Bindings of ours that another host now holds with a higher sequence: the VM moved there.
   * Forget where its MAC was here (frames to it flood, the uplink among them, until it is seen
   * on the uplink) and announce the move on our ports.
   */
  private followMoves(moved: { vlan: number; ip: BindingIp; mac: Uint8Array }[]): void {
    if (moved.length === 0) return;
    const byMac = new Map<string, { vlan: number; mac: Uint8Array; ips: BindingIp[] }>();
    for (const m of moved) {
      const id = `${m.vlan}/${formatMac(m.mac)}`;
      if (!byMac.has(id)) byMac.set(id, { vlan: m.vlan, mac: m.mac, ips: [] });
      byMac.get(id)!.ips.push(m.ip);
    }
    for (const { vlan, mac, ips } of byMac.values()) {
      this.counters.movedAway += ips.length;
      void this.dataplane.apply([{ op: 'fdb_remove', vlan, mac }]);
      this.announcer?.announceRemoteMove(vlan, ips, mac);
      for (const ip of ips) {
        const holder = this.table.entry(vlan, ip)?.host;
        this.events.emit('moved', { ip: formatIp(ip), vlan, mac: formatMac(mac), from: this.config.host, to: holder ?? 'fabric', reason: 'seen on another host' });
      }
    }
  }

  /** The complete fabric: install what we lack, drop other hosts' bindings it no longer has. */
  private async fullSync(records: SyncedBinding[]): Promise<void> {
    const seen = new Set<TableKey>();
    const batch: FabricSync['pending'] = [];
    for (const { record, kind } of records) {
      const ip = parseAddress(record.ip);
      seen.add(keyFor(record.vlan, ip));
      if (record.host !== this.config.host) batch.push({ record, kind, vlan: record.vlan, ip, remove: false });
    }
    const stale: WriteOp[] = [];
    for (const entry of this.table.scan()) {
      const host = entry.host;
      if (host === undefined || seen.has(entry.key)) continue;
      stale.push({ op: 'remove', ip: entry.ip, vlan: entry.vlan, source: entry.source, origin: { host, seq: 0 } });
    }
    for (const entry of this.table.scan6()) {
      const host = entry.host;
      if (host === undefined || seen.has(entry.key)) continue;
      stale.push({ op: 'remove', ip: entry.ip, vlan: entry.vlan, source: entry.source, origin: { host, seq: 0 } });
    }
    await this.applyEvents(batch);
    if (stale.length > 0) await this.table.write(stale);
    // What this host learned (before a restart, or while etcd was away) is published again;
    // the client writes only what etcd does not already hold from us.
    for (const entry of this.table.scan('learned')) {
      if (entry.host !== undefined) continue;
      const port = entry.port;
      void this.count(this.client.putLearned({ ip: formatIp(entry.ip), mac: formatMac(macFromNumber(entry.mac)), vlan: entry.vlan, seq: entry.seq ?? 1, ...(port ? { port } : {}) }));
    }
    for (const entry of this.table.scan6('learned')) {
      if (entry.host !== undefined) continue;
      const port = entry.port;
      const router = entry.router ? { router: true } : {};
      void this.count(this.client.putLearned({ ip: formatIp(entry.ip), mac: formatMac(macFromNumber(entry.mac)), vlan: entry.vlan, seq: entry.seq ?? 1, ...(port ? { port } : {}), ...router }));
    }
    this.log.info('fabric synchronised', {
      records: records.length,
      installed: batch.length,
      removed_stale: stale.length,
      // The first one: how long joining the fabric took, from the first connection attempt.
      ...(this.synced ? {} : { ms_since_start: Date.now() - this.startedAt }),
    });
    this.synced = true;
  }

  private countRemote(): void {
    let n = 0;
    for (const entry of this.table.scan()) if (entry.host !== undefined) n++;
    for (const entry of this.table.scan6()) if (entry.host !== undefined) n++;
    this.counters.remoteBindings = n;
  }
}

/** An address from a record or key the client validated (records.ts): IPv6 when it has a ':'. */
function parseAddress(text: string): BindingIp {
  return text.includes(':') ? parseIPv6(text)! : parseIPv4(text)!;
}
