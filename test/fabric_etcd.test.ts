// The fabric's etcd client against a real 3-member etcd 3.4 cluster on loopback: bindings
// travel between hosts, learned keys follow the higher seq and die with their host's lease,
// writes survive a member's death and a whole-cluster restart, compacted history means a
// full resync, and garbage in etcd is counted, never trusted.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { FabricClient, type BindingDelete, type BindingKind, type BindingRecord, type FabricClientOptions, type FabricLog, type FabricState, type SyncedBinding } from '../src/fabric/etcd_client';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd';

/** Everything a client emitted, for assertions and waits. */
class Recorder {
  readonly puts: { record: BindingRecord; kind: BindingKind; revision: number }[] = [];
  readonly deletes: { change: BindingDelete; revision: number }[] = [];
  readonly syncs: { records: SyncedBinding[]; revision: number }[] = [];
  readonly states: FabricState[] = [];

  constructor(client: FabricClient) {
    client.on('put', (record, kind, revision) => this.puts.push({ record, kind, revision }));
    client.on('delete', (change, revision) => this.deletes.push({ change, revision }));
    client.on('sync', (records, revision) => this.syncs.push({ records, revision }));
    client.on('state', (state) => this.states.push(state));
  }

  put(kind: BindingKind, ip: string, host?: string): BindingRecord | undefined {
    return this.puts.find((p) => p.kind === kind && p.record.ip === ip && (host === undefined || p.record.host === host))?.record;
  }

  deleted(kind: BindingKind, ip: string): boolean {
    return this.deletes.some((d) => d.change.kind === kind && d.change.ip === ip);
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** FABRIC_TEST_LOG=1 shows the clients' logs on stderr. */
const TEST_LOG: FabricLog | undefined = process.env.FABRIC_TEST_LOG
  ? (level, msg, fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`)
  : undefined;

const mac = (n: number): string => `02:00:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;

describe('fabric client over a 3-member etcd cluster', () => {
  let cluster: EtcdCluster;
  const clients: FabricClient[] = [];
  let prefixes = 0;

  /** A started client on its own prefix family (each test gets a fresh prefix). */
  async function client(host: string, prefix: string, options: Partial<FabricClientOptions> = {}): Promise<{ c: FabricClient; rec: Recorder }> {
    const c = new FabricClient({ endpoints: cluster.endpoints, prefix, host, leaseSeconds: 2, log: TEST_LOG, ...options });
    const rec = new Recorder(c);
    clients.push(c);
    await c.start();
    await until(`${host} to connect`, () => c.state === 'up');
    return { c, rec };
  }
  const newPrefix = (): string => `/fabric-test-${process.pid}-${++prefixes}/`;

  async function revisionNow(): Promise<number> {
    const out = await cluster.etcdctl(['get', '/', '--prefix', '--keys-only', '--limit', '1', '-w', 'json']);
    return Number(/"revision":(\d+)/.exec(out)![1]);
  }

  async function count(prefix: string): Promise<number> {
    // etcdctl 3.4 has no --count-only; "count" is left out of the JSON when it is 0.
    const out = await cluster.etcdctl(['get', prefix, '--prefix', '--keys-only', '-w', 'json']);
    return Number(/"count":(\d+)/.exec(out)?.[1] ?? 0);
  }

  /** The member that is the raft leader now. */
  async function leaderIndex(): Promise<number> {
    const out = await cluster.etcdctl(['endpoint', 'status', '-w', 'json']);
    // One entry per endpoint. Member ids are 64-bit, past JSON.parse's precision: compare digits.
    for (const entry of out.split('{"Endpoint":').slice(1)) {
      const url = /^"([^"]+)"/.exec(entry)?.[1];
      const id = /"member_id":(\d+)/.exec(entry)?.[1];
      if (url && id && id === /"leader":(\d+)/.exec(entry)?.[1]) return cluster.endpoints.indexOf(url);
    }
    throw new Error(`no leader in: ${out}`);
  }

  before(async () => {
    cluster = await startEtcdCluster({ members: 3 });
  });

  // A test that failed halfway must not leave a member down for the next one.
  afterEach(async () => {
    for (let i = 0; i < cluster.members.length; i++) if (cluster.members[i]!.pid === 0) await cluster.restart(i);
    await cluster.waitHealthy();
  });

  after(async () => {
    for (const c of clients) await c.stop();
    await cluster?.stop();
  });

  it('starts against an unreachable etcd without throwing, and queues writes', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve)); // nothing listens there now
    const c = new FabricClient({ endpoints: [`http://127.0.0.1:${port}`], prefix: newPrefix(), host: 'hv-lonely', leaseSeconds: 2, log: TEST_LOG });
    clients.push(c);
    const started = Date.now();
    await c.start();
    assert.ok(Date.now() - started < 3000, `start() took ${Date.now() - started} ms`);
    assert.equal(c.state, 'connecting');
    assert.equal(await c.putIntent({ ip: '10.0.9.1', mac: '02:00:00:00:09:01', vlan: 0 }), false);
    assert.equal(c.status().queued, 1);
    assert.equal(c.status().lagSeconds, null);
    const [health] = await c.health();
    assert.equal(health?.endpoint, `http://127.0.0.1:${port}`);
    assert.equal(health?.healthy, false);
    assert.match(health?.error ?? '', /ECONNREFUSED|UNAVAILABLE/);
    await c.stop();
  });

  it('carries a learned binding and an intent from one host to the other', async () => {
    const prefix = newPrefix();
    const { c: a } = await client('hv-a', prefix);
    const { c: b, rec: recB } = await client('hv-b', prefix);
    assert.equal(a.state, 'up');
    assert.equal(b.state, 'up');
    assert.equal(recB.syncs.length, 1, 'a first connection starts with one full sync');

    assert.equal(await a.putLearned({ ip: '10.0.0.5', mac: '02:00:00:00:00:01', vlan: 10, seq: 1, port: 'vm1' }), true);
    assert.equal(await a.putIntent({ ip: '10.0.0.6', mac: '02:00:00:00:00:06', vlan: 10 }), true);
    await until('b to see both bindings', () => !!recB.put('learned', '10.0.0.5') && !!recB.put('intent', '10.0.0.6'));
    assert.deepEqual(
      { ...recB.put('learned', '10.0.0.5'), updated: '' },
      { ip: '10.0.0.5', mac: '02:00:00:00:00:01', vlan: 10, host: 'hv-a', source: 'learned', seq: 1, port: 'vm1', updated: '' },
    );
    assert.equal(recB.put('intent', '10.0.0.6')?.source, 'api');
    assert.deepEqual(b.status().hosts, ['hv-a', 'hv-b']);

    // The same binding again (a newer seq, same mac and port) costs etcd nothing.
    const published = a.status().published;
    assert.equal(await a.putLearned({ ip: '10.0.0.5', mac: '02:00:00:00:00:01', vlan: 10, seq: 2, port: 'vm1' }), true);
    assert.equal(a.status().published, published);

    assert.deepEqual((await a.health()).map((h) => h.healthy), [true, true, true]);
    // A caller's bad input rejects (it never reaches etcd, and never throws mid-loop).
    await assert.rejects(a.deleteIntent(10, '10.0.0/5'), TypeError);
    await assert.rejects(a.putLearned({ ip: '10.0.0.7', mac: 'zz', vlan: 10, seq: 1 }), TypeError);
  });

  it('carries IPv6 bindings under one canonical key each, with the router flag, and the higher seq takes a learned one over', async () => {
    const prefix = newPrefix();
    const { c: a, rec: recA } = await client('hv-a', prefix);
    const { c: b, rec: recB } = await client('hv-b', prefix);
    // Any spelling in; the key and the record hold the RFC 5952 form.
    assert.equal(await a.putLearned({ ip: '2001:DB8:0:0::5', mac: '02:00:00:00:06:05', vlan: 10, seq: 1, port: 'vm1', router: true }), true);
    assert.equal(await a.putIntent({ ip: '2001:db8:0:0:0:0:0:6', mac: '02:00:00:00:06:06', vlan: 10 }), true);
    assert.equal(await a.putIntent({ ip: '::ffff:10.0.0.9', mac: '02:00:00:00:06:09', vlan: 0 }), true);
    await until('b to see the IPv6 bindings', () => !!recB.put('learned', '2001:db8::5') && !!recB.put('intent', '2001:db8::6') && !!recB.put('intent', '::ffff:10.0.0.9'));
    assert.deepEqual(
      { ...recB.put('learned', '2001:db8::5'), updated: '' },
      { ip: '2001:db8::5', mac: '02:00:00:00:06:05', vlan: 10, host: 'hv-a', source: 'learned', seq: 1, port: 'vm1', router: true, updated: '' },
    );
    assert.equal(recB.put('intent', '2001:db8::6')?.router, undefined, 'no router flag: none in the record');
    const keys = (await cluster.etcdctl(['get', '--prefix', '--keys-only', `${prefix}bindings/`])).split('\n').filter((l) => l.trim()).sort();
    assert.deepEqual(keys, [
      `${prefix}bindings/intent/0/::ffff:10.0.0.9`,
      `${prefix}bindings/intent/10/2001:db8::6`,
      `${prefix}bindings/learned/10/2001:db8::5`,
    ]);

    // The router flag is part of the binding: a change of it alone is published.
    const published = a.status().published;
    assert.equal(await a.putLearned({ ip: '2001:db8::5', mac: '02:00:00:00:06:05', vlan: 10, seq: 1, port: 'vm1' }), true);
    assert.equal(a.status().published, published + 1);
    await until('b to see the flag cleared', () => recB.puts.some((p) => p.record.ip === '2001:db8::5' && p.record.router === undefined));

    // A move: the higher seq takes the learned key over, a lower one is refused.
    assert.equal(await b.putLearned({ ip: '2001:db8::5', mac: '02:00:00:00:06:55', vlan: 10, seq: 1 }), false, 'an equal seq stays with the holder');
    assert.equal(await b.putLearned({ ip: '2001:db8::5', mac: '02:00:00:00:06:55', vlan: 10, seq: 2 }), true, 'a higher seq takes over');
    await until('a to see the takeover by hv-b', () => !!recA.put('learned', '2001:db8::5', 'hv-b'));
    assert.equal(a.status().owned, 0, 'a no longer republishes what b took over');

    // Deleted by any spelling of the address.
    assert.equal(await a.deleteIntent(10, '2001:DB8::6'), true);
    await until('b to see the delete', () => recB.deleted('intent', '2001:db8::6'));
    await assert.rejects(a.putIntent({ ip: 'fe80::1%eth0', mac: '02:00:00:00:06:01', vlan: 0 }), TypeError);
    await assert.rejects(a.putIntent({ ip: '10.0.0.1', mac: '02:00:00:00:06:01', vlan: 0, router: true }), TypeError);

    // A key with another spelling of an address, or a router flag on an IPv4 binding, is not in the layout.
    const before = b.status().malformed;
    const value = (ip: string, extra = {}): string => JSON.stringify({ ip, vlan: 10, mac: '02:00:00:00:06:07', host: 'x', source: 'api', seq: 1, updated: new Date().toISOString(), ...extra });
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/2001:DB8::7`, value('2001:DB8::7')]);
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/2001:db8:0::7`, value('2001:db8:0::7')]);
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/10.0.6.7`, value('10.0.6.7', { router: true })]);
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/2001:db8::8`, value('2001:db8::8', { router: 'yes' })]);
    await until('four malformed values counted', () => b.status().malformed === before + 4);
    assert.equal(recB.put('intent', '2001:db8::7'), undefined);
  });

  it('gives a learned key to the higher seq and refuses a lower one', async () => {
    const prefix = newPrefix();
    const { c: a, rec: recA } = await client('hv-a', prefix);
    const { c: b } = await client('hv-b', prefix);
    assert.equal(await a.putLearned({ ip: '10.0.1.1', mac: '02:00:00:00:01:01', vlan: 0, seq: 5 }), true);
    assert.equal(await b.putLearned({ ip: '10.0.1.1', mac: '02:00:00:00:01:02', vlan: 0, seq: 4 }), false, 'a lower seq loses');
    assert.equal(await b.putLearned({ ip: '10.0.1.1', mac: '02:00:00:00:01:02', vlan: 0, seq: 6 }), true, 'a higher seq takes over');
    await until('a to see the takeover by hv-b', () => !!recA.put('learned', '10.0.1.1', 'hv-b'));
    assert.equal(recA.put('learned', '10.0.1.1', 'hv-b')?.mac, '02:00:00:00:01:02');
    assert.equal(a.status().owned, 0, 'a no longer republishes what b took over');
    // Only the holder may delete a learned key.
    assert.equal(await a.deleteLearned(0, '10.0.1.1'), false);
    assert.equal(await count(`${prefix}bindings/learned/`), 1);
  });

  it("drops a crashed host's learned keys when its lease expires, and keeps its intent", async (t) => {
    const prefix = newPrefix();
    const { c: crashy } = await client('hv-crash', prefix);
    const { c: b, rec: recB } = await client('hv-b', prefix);
    for (const ip of ['10.0.2.1', '10.0.2.2']) assert.equal(await crashy.putLearned({ ip, mac: '02:00:00:00:02:01', vlan: 20, seq: 1 }), true);
    assert.equal(await crashy.putIntent({ ip: '10.0.2.9', mac: '02:00:00:00:02:09', vlan: 20 }), true);
    await until('b to see the learned keys', () => !!recB.put('learned', '10.0.2.2'));

    const crashedAt = Date.now();
    crashy.crash();
    await until('the learned keys to expire', () => recB.deleted('learned', '10.0.2.1') && recB.deleted('learned', '10.0.2.2'), 8000);
    const expiredAfter = Date.now() - crashedAt;
    t.diagnostic(`learned keys deleted ${expiredAfter} ms after the crash (lease 2 s)`);
    assert.ok(expiredAfter >= 1000, `the keys went after ${expiredAfter} ms: before the 2 s lease could expire`);
    assert.equal(recB.deletes.find((d) => d.change.ip === '10.0.2.1')?.change.previous?.host, 'hv-crash', 'a delete carries the previous record');
    assert.equal(recB.deleted('intent', '10.0.2.9'), false);
    assert.equal(await count(`${prefix}bindings/intent/`), 1, 'intent has no lease: it outlives its host');
    await until('hv-crash to leave the host list', () => !b.status().hosts.includes('hv-crash'));
  });

  it('counts and ignores malformed values', async () => {
    const prefix = newPrefix();
    const { c: b, rec: recB } = await client('hv-b', prefix);
    const before = b.status().malformed;
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/10.0.3.1`, 'not json']);
    await cluster.etcdctl(['put', `${prefix}bindings/learned/10/10.0.3.2`, JSON.stringify({ ip: '10.0.3.2', vlan: 10, mac: 'nope', host: 'x', source: 'learned', seq: 1, updated: new Date().toISOString() })]);
    await cluster.etcdctl(['put', `${prefix}bindings/intent/10/10.0.3.3`, JSON.stringify({ ip: '10.0.3.99', vlan: 10, mac: '02:00:00:00:03:03', host: 'x', source: 'api', seq: 1, updated: new Date().toISOString() })]);
    await until('three malformed values counted', () => b.status().malformed === before + 3);
    assert.equal(recB.puts.length, 0);
    assert.equal(b.state, 'up');
    // A resync reads them again and still ignores them.
    const { rec: recC } = await client('hv-c', prefix);
    assert.deepEqual(recC.syncs[0]?.records, []);
  });

  it('keeps all 2,000 intent writes through the SIGKILL of the leader', async (t) => {
    const prefix = newPrefix();
    const { c: w } = await client('hv-w', prefix);
    const leader = await leaderIndex();

    const total = 2000;
    let next = 0;
    let queued = 0;
    let killed: Promise<void> | undefined;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        if (n === 500) killed = cluster.kill(leader);
        if (!(await w.putIntent({ ip: `10.1.${n >> 8}.${n & 0xff}`, mac: mac(n), vlan: 30 }))) queued++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await killed;
    await until('the queued writes to be flushed', () => w.state === 'up' && w.status().queued === 0, 20_000);
    const elapsed = Date.now() - started;
    t.diagnostic(`2000 writes in ${elapsed} ms, ${queued} queued while the leader (m${leader}) was down`);
    assert.equal(await count(`${prefix}bindings/intent/`), total, `all writes present (${queued} were queued; ${elapsed} ms)`);
  });

  it('goes degraded while the whole cluster is down, then resumes and receives what was written meanwhile', async () => {
    const prefix = newPrefix();
    const { c: a, rec: recA } = await client('hv-a', prefix);
    const { c: b } = await client('hv-b', prefix);
    assert.equal(await a.putLearned({ ip: '10.0.4.1', mac: '02:00:00:00:04:01', vlan: 40, seq: 1 }), true);
    const syncsBefore = recA.syncs.length;

    for (let i = 0; i < cluster.members.length; i++) await cluster.kill(i);
    await until('a to notice the outage', () => a.state === 'degraded');
    // b's write cannot reach etcd: it is queued and sent on reconnect.
    assert.equal(await b.putIntent({ ip: '10.0.4.2', mac: '02:00:00:00:04:02', vlan: 40 }), false);
    assert.equal(b.status().queued, 1);

    for (let i = 0; i < cluster.members.length; i++) await cluster.restart(i);
    await cluster.waitHealthy();
    await until('a to be up again', () => a.state === 'up', 15_000);
    await until('a to receive the write b made during the outage', () => !!recA.put('intent', '10.0.4.2', 'hv-b'), 15_000);
    assert.deepEqual(recA.states.slice(-2), ['degraded', 'up']);
    assert.equal(recA.syncs.length, syncsBefore, 'the watch resumed from its revision: no full resync needed');
    assert.equal(b.status().queued, 0);
    // Still there: etcd restores leases on restart (and a would republish under a new one).
    assert.equal(await count(`${prefix}bindings/learned/`), 1);
  });

  it('republishes its learned keys under a new lease when the old one expired during a partition', async () => {
    const prefix = newPrefix();
    // p talks to member 0 only: killing it cuts p off while the others keep the quorum.
    const { c: p, rec: recP } = await client('hv-p', prefix, { endpoints: [cluster.endpoints[0]!] });
    const { c: b, rec: recB } = await client('hv-b', prefix, { endpoints: cluster.endpoints.slice(1) });
    for (const ip of ['10.0.6.1', '10.0.6.2']) assert.equal(await p.putLearned({ ip, mac: '02:00:00:00:06:01', vlan: 60, seq: 1 }), true);
    await until('b to see them', () => !!recB.put('learned', '10.0.6.2', 'hv-p'));

    await cluster.kill(0);
    await until("p's lease to expire (b sees the deletes)", () => recB.deleted('learned', '10.0.6.1') && recB.deleted('learned', '10.0.6.2'), 8000);
    await until('hv-p to leave the host list', () => !b.status().hosts.includes('hv-p'));
    const putsBefore = recB.puts.length;

    await cluster.restart(0);
    await until('p to be up again', () => p.state === 'up', 15_000);
    await until('b to see both keys again, from p', () => recB.puts.slice(putsBefore).filter((x) => x.record.host === 'hv-p').length === 2, 5000);
    await until('hv-p to be back in the host list', () => b.status().hosts.includes('hv-p'));
    assert.equal(p.status().owned, 2);
    assert.equal(await count(`${prefix}bindings/learned/`), 2);
    assert.deepEqual(recP.states.slice(-2), ['degraded', 'up']);
  });

  it('resyncs in full when etcd compacted the history it would resume from', async () => {
    const prefix = newPrefix();
    // c talks to member 0 only, so it can be cut off while the others take writes.
    const { c, rec: recC } = await client('hv-c', prefix, { endpoints: [cluster.endpoints[0]!] });
    const { c: w } = await client('hv-w', prefix, { endpoints: cluster.endpoints.slice(1) });
    assert.equal(await w.putIntent({ ip: '10.0.5.1', mac: '02:00:00:00:05:01', vlan: 50 }), true);
    await until('c to see the first write', () => !!recC.put('intent', '10.0.5.1'));
    const syncsBefore = recC.syncs.length;

    await cluster.kill(0);
    await until('c to notice', () => c.state === 'degraded');
    assert.equal(await w.putIntent({ ip: '10.0.5.2', mac: '02:00:00:00:05:02', vlan: 50 }), true);
    assert.equal(await w.deleteIntent(50, '10.0.5.1'), true);
    await cluster.etcdctl(['compact', String(await revisionNow())]);

    await cluster.restart(0);
    await cluster.waitHealthy();
    await until('c to resync', () => recC.syncs.length > syncsBefore && c.state === 'up', 15_000);
    const synced = recC.syncs[recC.syncs.length - 1]!.records.map((r) => r.record.ip);
    assert.deepEqual(synced, ['10.0.5.2'], 'the full list replaces the view: 10.0.5.1 is gone, 10.0.5.2 is there');
  });
});
