// The fabric's view of etcd: this host's presence and learned bindings under its lease, API
// intent without a lease, and everyone's bindings streamed back as a full sync followed by
// a watch. etcd being down is a normal state here: start() never throws for it, writes are
// queued and flushed on reconnect, and the watch resumes where it stopped (or resyncs in full
// when etcd compacted that history away).
import { EventEmitter } from 'node:events';
import { CompareResult, CompareTarget, Etcd3, type IDuplexStream, type IKeyValue, type ILeaseKeepAliveRequest, type ILeaseKeepAliveResponse, type IWatchRequest, type IWatchResponse } from 'etcd3';
import { describeError, etcdOptions, isTransient, probeEndpoints, type EndpointHealth, type EtcdAccess } from './connection';
import {
  DEFAULT_PREFIX,
  FabricKeys,
  bindingRecord,
  checkAddress,
  mayTakeOver,
  parseBinding,
  parseHost,
  prefixEnd,
  sameBinding,
  validHostName,
  type BindingInput,
  type BindingKind,
  type BindingRecord,
} from './records';

export { DEFAULT_PREFIX };
export type { BindingInput, BindingKind, BindingRecord, EndpointHealth };

export type FabricState = 'connecting' | 'up' | 'degraded';
export type FabricLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type FabricLog = (level: FabricLogLevel, msg: string, fields: Record<string, unknown>) => void;

export interface FabricClientOptions {
  endpoints: string[];
  /** Every key lives under it; starts and ends with '/'. Default /microarp/. */
  prefix?: string;
  /** This host's name: a key segment, and the owner of its learned records. */
  host: string;
  /** TTL of the host's lease: its learned records vanish that long after it dies. */
  leaseSeconds: number;
  username?: string;
  password?: string;
  /** PEM file paths; the endpoints must be https://. */
  tls?: { ca?: string; cert?: string; key?: string };
  log?: FabricLog;
  /** Deadline of each unary etcd request (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Published in the host key (default 'unknown'). */
  version?: string;
}

export interface BindingDelete {
  vlan: number;
  ip: string;
  kind: BindingKind;
  /** The value before the delete, when etcd still had it and it was valid. */
  previous?: BindingRecord;
}

export interface SyncedBinding {
  record: BindingRecord;
  kind: BindingKind;
}

export interface FabricEvents {
  put: [record: BindingRecord, kind: BindingKind, revision: number];
  delete: [change: BindingDelete, revision: number];
  /** The complete remote state at `revision`: the consumer replaces its view with it. */
  sync: [records: SyncedBinding[], revision: number];
  state: [state: FabricState];
}

export interface FabricStatus {
  state: FabricState;
  endpoints: string[];
  /** The last revision seen (sync or watch); 0 before the first sync. */
  revision: number;
  lastSyncAt: string | null;
  /** Hosts with a live presence key. */
  hosts: string[];
  /** Writes this client made (puts, deletes, takeovers). */
  published: number;
  /** Valid binding events received from the watch. */
  received: number;
  /** Keys or values in the layout that did not validate, and were ignored. */
  malformed: number;
  /** Seconds since the last answer from etcd; null before the first. */
  lagSeconds: number | null;
  /** Writes waiting for a connection. */
  queued: number;
  /** Learned records this host publishes. */
  owned: number;
}

type WriteOp =
  | { op: 'put-intent'; record: BindingRecord }
  | { op: 'delete-intent' }
  | { op: 'put-learned'; record: BindingRecord }
  | { op: 'delete-learned' };

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;
type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
// etcd 3.4 counts the rest of the range for every page: fewer, larger pages join a 100,000-binding
// fabric in a quarter of the time (about 2 MB a page, well under gRPC's 4 MB).
const SYNC_PAGE = 10000;
/** Compare-and-swap rounds before a contended learned write gives up (it stays owned). */
const CAS_ATTEMPTS = 5;
const REVOKE_TIMEOUT_MS = 1000;
/** Queued writes in flight at once on reconnect: a big queue (a lease lost with thousands of learned keys) goes fast, without flooding etcd. */
const FLUSH_CONCURRENCY = 16;
/** etcd's default --max-txn-ops. */
const TXN_OPS = 128;

/** Thrown inside a connection attempt that a newer one (or stop) replaced: not an error. */
class Superseded extends Error {}

export class FabricClient extends EventEmitter<FabricEvents> {
  readonly host: string;
  private readonly keys: FabricKeys;
  private readonly access: EtcdAccess;
  private readonly leaseSeconds: number;
  private readonly version: string;
  private readonly logFn: FabricLog;

  private etcd: Etcd3 | null = null;
  private currentState: FabricState = 'connecting';
  private started = false;
  private stopped = false;
  private startedAt = '';
  /** Bumped by every connection attempt and every failure: stale callbacks compare and bail out. */
  private session = 0;
  private backoffMs = BACKOFF_MIN_MS;
  /** Failed attempts since the last success. */
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private firstRound: (() => void) | null = null;

  private leaseId: string | null = null;
  private leaseTtl = 0;
  private leaseLost = false;
  /** The lease the host key was last written under (a new lease needs it again). */
  private hostKeyLease: string | null = null;
  private keepAlive: KeepAliveStream | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private lastAck = 0;
  private ackWaiter: ((ttl: number) => void) | null = null;

  private watch: WatchStream | null = null;
  private createdWaiter: (() => void) | null = null;
  private revision = 0;
  private needsSync = true;
  private lastSyncAt: string | null = null;
  private readonly liveHosts = new Set<string>();

  /** Learned records this host publishes, by key: republished under a new lease. */
  private readonly owned = new Map<string, BindingRecord>();
  /** Writes waiting for a connection, the latest per key, flushed in order. */
  private readonly queue = new Map<string, WriteOp>();
  /** The newest write call per key in flight: an older one that fails must not queue over it. */
  private readonly latestCall = new Map<string, number>();
  private callSeq = 0;
  private flushing = false;

  private published = 0;
  private received = 0;
  private malformed = 0;
  private lastContact = 0;

  constructor(options: FabricClientOptions) {
    super();
    if (!validHostName(options.host)) throw new Error(`fabric: host name '${options.host}' is not usable in a key (letters, digits, '.', '_', '-')`);
    if (!Number.isInteger(options.leaseSeconds) || options.leaseSeconds < 1) {
      throw new Error(`fabric: leaseSeconds must be an integer >= 1 (got ${options.leaseSeconds})`);
    }
    this.host = options.host;
    this.keys = new FabricKeys(options.prefix ?? DEFAULT_PREFIX);
    this.leaseSeconds = options.leaseSeconds;
    this.version = options.version ?? 'unknown';
    this.logFn = options.log ?? (() => undefined);
    this.access = {
      endpoints: [...options.endpoints],
      username: options.username,
      password: options.password,
      tls: options.tls,
      requestTimeoutMs: options.requestTimeoutMs ?? 2000,
    };
    // Validate now: a bad endpoint or an unreadable TLS file is a configuration error.
    etcdOptions(this.access);
  }

  get state(): FabricState {
    return this.currentState;
  }

  /**
   * Connects, and resolves once up or once every endpoint had a try (a dead member is not
   * the end of it), whatever the outcome: an unreachable etcd leaves the state 'connecting'
   * and the client retrying in the background with backoff.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.startedAt = new Date().toISOString();
    this.etcd = new Etcd3(etcdOptions(this.access));
    await new Promise<void>((resolve) => {
      this.firstRound = resolve;
      void this.connect();
    });
  }

  /** Ends start()'s wait. */
  private endFirstRound(): void {
    const resolve = this.firstRound;
    this.firstRound = null;
    resolve?.();
  }

  /** Revokes the lease (best effort, bounded) so this host's learned records go at once, and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const leaseId = this.leaseLost ? null : this.leaseId;
    const etcd = this.shutDown();
    if (etcd && leaseId) {
      try {
        await etcd.leaseClient.leaseRevoke({ ID: leaseId }, { deadline: Date.now() + REVOKE_TIMEOUT_MS });
      } catch (error) {
        this.log('warn', 'fabric lease revoke failed: the records expire with the lease', { lease: leaseId, error: describeError(error) });
      }
    }
    if (this.queue.size > 0) this.log('warn', 'fabric stopped with unsent writes', { queued: this.queue.size });
    etcd?.close();
  }

  /** Test hook: drops the connection the way a crashed process would, lease left to expire. */
  crash(): void {
    this.shutDown()?.close();
  }

  private shutDown(): Etcd3 | null {
    this.stopped = true;
    this.session++;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.teardown();
    this.endFirstRound();
    const etcd = this.etcd;
    this.etcd = null;
    return etcd;
  }

  // ---- writes -------------------------------------------------------------------------

  // The writes are async so that invalid input (a TypeError: the caller's bug) rejects
  // rather than throws in the middle of a caller's loop.

  /** Writes API intent (no lease). False: etcd is unreachable; the write is queued for later. */
  async putIntent(input: BindingInput): Promise<boolean> {
    const record = bindingRecord(input, 'intent', this.host);
    return this.write(this.keys.binding('intent', record.vlan, record.ip), { op: 'put-intent', record });
  }

  /** Deletes API intent. False: queued (etcd unreachable). */
  async deleteIntent(vlan: number, ip: string): Promise<boolean> {
    return this.write(this.keys.binding('intent', vlan, checkAddress(vlan, ip)), { op: 'delete-intent' });
  }

  /**
   * Publishes a learned binding under this host's lease, unless the key holds a higher seq
   * (another host saw a newer move): false then, and false when queued (etcd unreachable).
   * Re-publishing what this host already published (same mac and port) writes nothing.
   */
  async putLearned(input: BindingInput): Promise<boolean> {
    const record = bindingRecord(input, 'learned', this.host);
    const key = this.keys.binding('learned', record.vlan, record.ip);
    const mine = this.owned.get(key);
    if (mine && sameBinding(mine, record) && !this.queue.has(key) && !this.latestCall.has(key)) return true;
    this.owned.set(key, record);
    return this.write(key, { op: 'put-learned', record });
  }

  /** Deletes a learned binding if this host holds it. True when a key was deleted. */
  async deleteLearned(vlan: number, ip: string): Promise<boolean> {
    const key = this.keys.binding('learned', vlan, checkAddress(vlan, ip));
    this.owned.delete(key);
    return this.write(key, { op: 'delete-learned' });
  }

  private async write(key: string, op: WriteOp): Promise<boolean> {
    if (this.stopped) return false;
    const call = ++this.callSeq;
    this.latestCall.set(key, call);
    this.queue.delete(key); // this call supersedes whatever was waiting for the key
    if (this.currentState !== 'up') {
      this.queue.set(key, op);
      this.latestCall.delete(key);
      return false;
    }
    const session = this.session;
    try {
      return await this.apply(key, op);
    } catch (error) {
      if (this.stopped) return false;
      if (!isTransient(error)) {
        this.log('error', 'fabric write failed', { key, op: op.op, error: describeError(error) });
        return false;
      }
      // Only the newest call for a key may queue: an older one failing must not undo it.
      if (this.latestCall.get(key) === call && !this.queue.has(key)) this.queue.set(key, op);
      this.fail(session, error);
      // Already reconnected while this write hung (its session is stale): send it now.
      this.kickFlush();
      return false;
    } finally {
      if (this.latestCall.get(key) === call) this.latestCall.delete(key);
    }
  }

  /** Performs one write against etcd; throws on etcd errors. */
  private async apply(key: string, op: WriteOp): Promise<boolean> {
    const etcd = this.client();
    const k = Buffer.from(key);
    switch (op.op) {
      case 'put-intent':
        await etcd.kv.put({ key: k, value: Buffer.from(JSON.stringify(op.record)) });
        this.contact();
        this.published++;
        return true;
      case 'delete-intent':
        await etcd.kv.deleteRange({ key: k });
        this.contact();
        this.published++;
        return true;
      case 'put-learned':
        return this.casLearned(key, op.record);
      case 'delete-learned':
        return this.casDeleteLearned(key);
    }
  }

  /** Up to TXN_OPS queued intent writes (distinct keys: the queue has one op per key). */
  private takeIntents(): [string, WriteOp][] {
    const batch: [string, WriteOp][] = [];
    for (const entry of this.queue) {
      if (!entry[1].op.endsWith('-intent')) continue;
      batch.push(entry);
      if (batch.length === TXN_OPS) break;
    }
    return batch;
  }

  /** Several intent writes in one transaction; throws on etcd errors (none of them applied). */
  private async applyIntents(batch: [string, WriteOp][]): Promise<void> {
    await this.client().kv.txn({
      compare: [],
      success: batch.map(([key, op]) =>
        op.op === 'put-intent'
          ? { request_put: { key: Buffer.from(key), value: Buffer.from(JSON.stringify(op.record)) } }
          : { request_delete_range: { key: Buffer.from(key) } },
      ),
      failure: [],
    });
    this.contact();
    this.published += batch.length;
  }

  /** The learned-key takeover rule as a compare-and-swap on the key's mod revision. */
  private async casLearned(key: string, record: BindingRecord): Promise<boolean> {
    const etcd = this.client();
    const k = Buffer.from(key);
    const lease = this.leaseId;
    if (!lease) throw new Error('fabric: no lease for a learned write');
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.readKey(k);
      const stored = current ? this.parseLearned(key, current.value) : null;
      if (stored && stored.host === this.host && sameBinding(stored, record) && stored.seq >= record.seq && current!.lease === lease) {
        return true; // already there, under our current lease
      }
      if (!mayTakeOver(record, stored)) {
        // Someone else saw a newer move: it is theirs now, and we stop republishing it.
        if (this.owned.get(key) === record) this.owned.delete(key);
        this.log('debug', 'fabric learned binding held with a higher seq', { key, seq: record.seq, holder: stored?.host, held_seq: stored?.seq });
        return false;
      }
      const res = await etcd.kv.txn({
        compare: [
          current
            ? { key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: current.mod_revision }
            : { key: k, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(JSON.stringify(record)), lease } }],
        failure: [],
      });
      this.contact();
      if (res.succeeded) {
        this.published++;
        return true;
      }
    }
    this.log('warn', 'fabric learned write kept losing a race; it stays owned and is retried under the next lease', { key });
    return false;
  }

  private async casDeleteLearned(key: string): Promise<boolean> {
    const etcd = this.client();
    const k = Buffer.from(key);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.readKey(k);
      if (!current) return false;
      const stored = this.parseLearned(key, current.value);
      if (!stored || stored.host !== this.host) return false;
      const res = await etcd.kv.txn({
        compare: [{ key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: current.mod_revision }],
        success: [{ request_delete_range: { key: k } }],
        failure: [],
      });
      this.contact();
      if (res.succeeded) {
        this.published++;
        return true;
      }
    }
    return false;
  }

  private async readKey(k: Buffer): Promise<IKeyValue | null> {
    const res = await this.client().kv.range({ key: k });
    this.contact();
    return res.kvs[0] ?? null;
  }

  private parseLearned(key: string, value: Buffer): BindingRecord | null {
    const parsed = this.keys.parse(key);
    if (parsed?.type !== 'binding') return null;
    return parseBinding(value, parsed.kind, parsed.vlan, parsed.ip);
  }

  // ---- connection -----------------------------------------------------------------------

  /** One connection attempt: lease, sync or resumed watch, queued writes; then 'up'. */
  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.reconnectTimer = null;
    const session = ++this.session;
    try {
      await this.ensureLease(session);
      await this.putHostKey(session);
      await this.startWatch(session);
      await this.flushQueue(session);
      this.check(session);
      this.backoffMs = BACKOFF_MIN_MS;
      this.failures = 0;
      this.setState('up');
      this.log('info', 'fabric connected to etcd', { revision: this.revision, lease: this.leaseId, ttl: this.leaseTtl });
      this.endFirstRound();
    } catch (error) {
      if (error instanceof Superseded) return;
      this.fail(session, error);
    }
  }

  /** Gives up the current connection: streams closed, state degraded, a reconnect scheduled. */
  private fail(session: number, error: unknown): void {
    if (session !== this.session || this.stopped) return;
    this.session++;
    this.teardown();
    const wasUp = this.currentState === 'up';
    if (wasUp) this.setState('degraded');
    const delay = this.backoffMs;
    // etcd3 retries unary requests on another member, but a stream (watch, keepalive) opened
    // on a dead member just fails: give every member a quick try before backing off.
    if (++this.failures % this.access.endpoints.length === 0) this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    // The first failure says so; the retries of an etcd that stays away are debug noise.
    this.log(wasUp || this.failures === 1 ? 'warn' : 'debug', wasUp ? 'fabric etcd connection lost' : 'fabric cannot reach etcd', { error: describeError(error), retry_ms: delay, queued: this.queue.size });
    // A little jitter so that a fleet of hosts does not reconnect in lockstep.
    this.reconnectTimer = setTimeout(() => void this.connect(), Math.round(delay * (0.8 + 0.4 * Math.random())));
    if (this.failures >= this.access.endpoints.length) this.endFirstRound();
  }

  private teardown(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
    // Error listeners stay attached: a cancelled stream still emits 'error' (CANCELLED).
    this.keepAlive?.cancel();
    this.keepAlive = null;
    this.watch?.cancel();
    this.watch = null;
    this.ackWaiter = null;
    this.createdWaiter = null;
  }

  private check(session: number): void {
    if (session !== this.session || this.stopped) throw new Superseded();
  }

  private client(): Etcd3 {
    if (!this.etcd) throw new Error('fabric: the etcd client is not started');
    return this.etcd;
  }

  /**
   * Opens the keepalive stream and keeps the lease it can: the current one if etcd still
   * knows it, else a new one (after a partition longer than the TTL), which then needs the
   * host key and every learned record this host owns written again.
   */
  private async ensureLease(session: number): Promise<void> {
    const stream = await this.client().leaseClient.leaseKeepAlive();
    if (session !== this.session || this.stopped) {
      stream.on('error', () => undefined).cancel();
      throw new Superseded();
    }
    this.keepAlive = stream;
    stream.on('data', (res) => this.onKeepAlive(session, res));
    stream.on('error', (error) => this.fail(session, error));
    stream.on('end', () => this.fail(session, new Error('lease keepalive stream ended')));

    if (this.leaseId && !this.leaseLost) {
      const ttl = await this.keepAliveOnce(session, this.leaseId);
      if (ttl <= 0) {
        this.leaseLost = true;
        this.log('warn', 'fabric lease expired while disconnected; republishing under a new one', { lease: this.leaseId, owned: this.owned.size });
      }
    }
    if (!this.leaseId || this.leaseLost) {
      const res = await this.client().leaseClient.leaseGrant({ TTL: this.leaseSeconds });
      this.check(session);
      this.contact();
      this.leaseId = res.ID;
      // etcd raises a TTL below its minimum (about 1.5 election timeouts): use what it granted.
      this.leaseTtl = Number(res.TTL);
      this.leaseLost = false;
      // Everything this host owns goes back under the new lease, before queued writes.
      const waiting = new Map(this.queue);
      this.queue.clear();
      for (const [key, record] of this.owned) this.queue.set(key, { op: 'put-learned', record });
      for (const [key, op] of waiting) {
        this.queue.delete(key);
        this.queue.set(key, op);
      }
    }
    this.lastAck = Date.now();
    const period = Math.max(100, (this.leaseTtl * 1000) / 3);
    this.keepAliveTimer = setInterval(() => {
      // Two periods unanswered: this member is no good (partitioned, no leader), try another
      // before the lease runs out.
      if (Date.now() - this.lastAck > 2 * period) {
        this.fail(session, new Error(`lease keepalive unanswered for ${Date.now() - this.lastAck} ms`));
        return;
      }
      this.keepAlive?.write({ ID: this.leaseId! });
    }, period);
  }

  /** One keepalive round trip on the stream; resolves with the TTL (0: etcd forgot the lease). */
  private keepAliveOnce(session: number, id: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const waiter = (ttl: number): void => {
        clearTimeout(timer);
        if (session !== this.session || this.stopped) reject(new Superseded());
        else resolve(ttl);
      };
      const timer = setTimeout(() => {
        // Only our own waiter: a newer connection attempt may have installed its own since.
        if (this.ackWaiter === waiter) this.ackWaiter = null;
        reject(new Error(`lease keepalive unanswered for ${this.access.requestTimeoutMs} ms`));
      }, this.access.requestTimeoutMs);
      this.ackWaiter = waiter;
      this.keepAlive!.write({ ID: id });
    });
  }

  private onKeepAlive(session: number, res: ILeaseKeepAliveResponse): void {
    if (session !== this.session) return;
    this.contact();
    const ttl = Number(res.TTL);
    const waiter = this.ackWaiter;
    if (waiter) {
      this.ackWaiter = null;
      waiter(ttl);
      return;
    }
    if (res.ID !== this.leaseId) return;
    if (ttl <= 0) {
      this.leaseLost = true;
      this.fail(session, new Error(`lease ${res.ID} expired`));
      return;
    }
    this.lastAck = Date.now();
  }

  private async putHostKey(session: number): Promise<void> {
    if (this.hostKeyLease === this.leaseId) return;
    const value = JSON.stringify({ host: this.host, started: this.startedAt, version: this.version });
    await this.client().kv.put({ key: Buffer.from(this.keys.host(this.host)), value: Buffer.from(value), lease: this.leaseId! });
    this.check(session);
    this.contact();
    this.published++;
    this.hostKeyLease = this.leaseId;
  }

  /** Flushes in the background while up (for writes that failed after a reconnect). */
  private kickFlush(): void {
    if (this.currentState !== 'up' || this.flushing || this.queue.size === 0) return;
    const session = this.session;
    this.flushing = true;
    this.flushQueue(session)
      .catch((error: unknown) => {
        if (!(error instanceof Superseded)) this.fail(session, error);
      })
      .finally(() => (this.flushing = false));
  }

  /**
   * Sends what waited for the connection, a few writes at a time (a key has one queued write,
   * so the order between keys does not matter); the first transient failure ends the flush.
   */
  private async flushQueue(session: number): Promise<void> {
    let flushed = 0;
    let failure: unknown = null;
    const worker = async (): Promise<void> => {
      while (failure === null) {
        const next = this.queue.entries().next();
        if (next.done) return;
        this.check(session);
        // Intent writes go in transactions of up to TXN_OPS: one raft entry and one fsync for
        // many keys, so a backlog of thousands drains in a second, not in a minute.
        const batch = next.value[1].op.endsWith('-intent') ? this.takeIntents() : [next.value];
        for (const [key] of batch) this.queue.delete(key);
        try {
          if (batch.length > 1) await this.applyIntents(batch);
          else await this.apply(batch[0]![0], batch[0]![1]);
          flushed += batch.length;
        } catch (error) {
          if (!isTransient(error)) {
            this.log('error', 'fabric queued write failed', { keys: batch.length, first: batch[0]![0], error: describeError(error) });
            continue;
          }
          for (const [key, op] of batch) if (!this.queue.has(key)) this.queue.set(key, op);
          failure = error;
        }
      }
    };
    await Promise.all(Array.from({ length: FLUSH_CONCURRENCY }, worker));
    if (flushed > 0) this.log('info', 'fabric sent queued writes', { writes: flushed, left: this.queue.size });
    if (failure !== null) throw failure;
  }

  // ---- reading: sync and watch --------------------------------------------------------------

  private async startWatch(session: number): Promise<void> {
    if (this.needsSync) await this.fullSync(session);
    const stream = await this.client().watchClient.watch();
    if (session !== this.session || this.stopped) {
      stream.on('error', () => undefined).cancel();
      throw new Superseded();
    }
    this.watch = stream;
    stream.on('data', (res) => this.onWatch(session, res));
    stream.on('error', (error) => this.fail(session, error));
    stream.on('end', () => this.fail(session, new Error('watch stream ended')));
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        if (this.createdWaiter === waiter) this.createdWaiter = null;
        reject(new Error(`watch not created within ${this.access.requestTimeoutMs} ms`));
      }, this.access.requestTimeoutMs);
      this.createdWaiter = waiter;
      this.createWatch(stream);
    });
    this.check(session);
  }

  /** Watches the whole prefix (bindings and hosts) from just after the last revision seen. */
  private createWatch(stream: WatchStream): void {
    const key = Buffer.from(this.keys.prefix);
    stream.write({ create_request: { key, range_end: prefixEnd(key), start_revision: this.revision + 1, prev_kv: true, progress_notify: true } });
  }

  /** Reads every key under the prefix at one revision, page by page, and emits 'sync'. */
  private async fullSync(session: number): Promise<void> {
    const kv = this.client().kv;
    const prefix = Buffer.from(this.keys.prefix);
    const end = prefixEnd(prefix);
    const records: { record: BindingRecord; kind: BindingKind }[] = [];
    const hosts = new Set<string>();
    let revision = 0;
    let from = prefix;
    for (;;) {
      // Pages after the first read at the first page's revision: one consistent snapshot.
      const res = await kv.range({ key: from, range_end: end, limit: SYNC_PAGE, ...(revision ? { revision } : {}) });
      this.check(session);
      this.contact();
      if (!revision) revision = Number(res.header.revision);
      for (const item of res.kvs) {
        const key = item.key.toString();
        const parsed = this.keys.parse(key);
        if (!parsed) {
          this.countIfOurs(key);
        } else if (parsed.type === 'host') {
          if (parseHost(item.value, parsed.host)) hosts.add(parsed.host);
          else this.malformed++;
        } else {
          const record = parseBinding(item.value, parsed.kind, parsed.vlan, parsed.ip);
          if (!record) {
            this.malformed++;
            continue;
          }
          records.push({ record, kind: parsed.kind });
          if (parsed.kind === 'learned') this.noticeHolder(key, record);
        }
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    this.revision = revision;
    this.needsSync = false;
    this.lastSyncAt = new Date().toISOString();
    this.liveHosts.clear();
    for (const h of hosts) this.liveHosts.add(h);
    this.log('info', 'fabric synced', { revision, bindings: records.length, hosts: hosts.size });
    this.fire('sync', records, revision);
  }

  private onWatch(session: number, res: IWatchResponse): void {
    if (session !== this.session) return;
    this.contact();
    if (res.created && !res.canceled) {
      const waiter = this.createdWaiter;
      this.createdWaiter = null;
      waiter?.();
      return;
    }
    if (res.canceled) {
      if (Number(res.compact_revision) > 0) {
        // etcd compacted the history we would resume from: only a full read is complete.
        this.log('info', 'fabric watch history compacted; resyncing', { from_revision: this.revision + 1, compact_revision: Number(res.compact_revision) });
        this.needsSync = true;
        // etcd 3.4 sends 'created' first; should one answer both at once, the stream still works.
        const waiter = this.createdWaiter;
        this.createdWaiter = null;
        waiter?.();
        void this.resync(session);
      } else {
        this.fail(session, new Error(`watch canceled by etcd: ${res.cancel_reason || 'no reason given'}`));
      }
      return;
    }
    if (res.events.length === 0) {
      // A progress notification: everything up to the header revision has been delivered.
      this.revision = Math.max(this.revision, Number(res.header.revision));
      return;
    }
    for (const event of res.events) this.onEvent(event.type.toUpperCase() === 'DELETE' ? 'delete' : 'put', event.kv, event.prev_kv);
  }

  /** A resync on the live connection: no state change, consumers get a new 'sync'. */
  private async resync(session: number): Promise<void> {
    try {
      await this.fullSync(session);
      const stream = this.watch;
      if (!stream) return;
      this.createWatch(stream);
    } catch (error) {
      if (!(error instanceof Superseded)) this.fail(session, error);
    }
  }

  private onEvent(type: 'put' | 'delete', kv: IKeyValue, prev: IKeyValue | null): void {
    const revision = Number(kv.mod_revision);
    this.revision = Math.max(this.revision, revision);
    const key = kv.key.toString();
    const parsed = this.keys.parse(key);
    if (!parsed) {
      if (type === 'put') this.countIfOurs(key);
      return;
    }
    if (parsed.type === 'host') {
      if (type === 'delete') this.liveHosts.delete(parsed.host);
      else if (parseHost(kv.value, parsed.host)) this.liveHosts.add(parsed.host);
      else this.malformed++;
      return;
    }
    const { kind, vlan, ip } = parsed;
    const previous = prev ? (parseBinding(prev.value, kind, vlan, ip) ?? undefined) : undefined;
    if (type === 'delete') {
      this.received++;
      this.fire('delete', { vlan, ip, kind, ...(previous ? { previous } : {}) }, revision);
      return;
    }
    const record = parseBinding(kv.value, kind, vlan, ip);
    if (!record) {
      this.malformed++;
      this.log('warn', 'fabric ignored a malformed binding', { key, revision });
      // The key no longer holds the binding the consumer has: drop it, as a resync would.
      if (previous) this.fire('delete', { vlan, ip, kind, previous }, revision);
      return;
    }
    this.received++;
    if (kind === 'learned') this.noticeHolder(key, record);
    this.fire('put', record, kind, revision);
  }

  /** A learned key another host took over is no longer ours to republish. */
  private noticeHolder(key: string, record: BindingRecord): void {
    if (record.host === this.host) return;
    const mine = this.owned.get(key);
    if (mine && mine.seq <= record.seq) {
      this.owned.delete(key);
      this.log('info', 'fabric learned binding taken over', { key, by: record.host, seq: record.seq });
    }
  }

  /** Keys under bindings/ or hosts/ that do not parse are malformed; other keys are someone else's. */
  private countIfOurs(key: string): void {
    if (key.startsWith(this.keys.bindings) || key.startsWith(this.keys.hosts)) this.malformed++;
  }

  // ---- status ------------------------------------------------------------------------------

  status(): FabricStatus {
    return {
      state: this.currentState,
      endpoints: [...this.access.endpoints],
      revision: this.revision,
      lastSyncAt: this.lastSyncAt,
      hosts: [...this.liveHosts].sort(),
      published: this.published,
      received: this.received,
      malformed: this.malformed,
      lagSeconds: this.lastContact ? Math.round(Date.now() - this.lastContact) / 1000 : null,
      queued: this.queue.size,
      owned: this.owned.size,
    };
  }

  /** Asks every endpoint on its own (not through this client's connection). */
  health(): Promise<EndpointHealth[]> {
    return probeEndpoints(this.access);
  }

  private contact(): void {
    this.lastContact = Date.now();
  }

  private setState(state: FabricState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.fire('state', state);
  }

  /** A throwing listener is the consumer's bug: log it, never let it break the stream. */
  private fire<K extends keyof FabricEvents>(event: K, ...args: FabricEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: FabricEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log('error', 'fabric event listener threw', { event, error: describeError(error) });
    }
  }

  private log(level: FabricLogLevel, msg: string, fields: Record<string, unknown>): void {
    this.logFn(level, msg, { host: this.host, ...fields });
  }
}
