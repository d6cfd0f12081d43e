// Durable state: what the API acknowledged and what was learned survives kill -9 and is
// answered on real frames (net_pcap) by the next start; bad state files are refused and left
// as they were; one daemon per state directory; static > api > learned across restarts; IPv6
// bindings the same, answered to Neighbor Solicitations (scapy's) by the next start; a
// schema-1 state directory migrated in place by a real start.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ApiClient, readResponse } from '../src/api/client';
import { arpFrame, decodeArp } from './helpers/frames';
import { readPcap, writePcap } from './helpers/pcap';
import { REPO, TempDir, runCli, runDaemon, withTestDefaults } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';

const REQUESTER = '02:00:00:00:00:01';
const REQUESTER_IP6 = '2001:db8:ffff::1';
const PYTHON = '/usr/bin/python3'; // Debian's, which has scapy
const ND_FRAMES = join(REPO, 'test', 'fixtures', 'nd_frames.py');
const IMPORT_LINES = 100_000;
const dirs: TempDir[] = [];
const live: LiveDaemon[] = [];
after(async () => {
  for (const d of live) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  dirs.forEach((d) => d.remove());
});

function tempDir(): TempDir {
  const dir = new TempDir();
  dirs.push(dir);
  return dir;
}

const hex = (n: number): string => n.toString(16).padStart(2, '0');
const importIp = (base: number, i: number): string => `${10 + base}.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
const importMac = (base: number, i: number): string => `02:${hex(base)}:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`;
const addIp = (i: number): string => `10.3.${i >> 8}.${i & 255}`;
const addMac = (i: number): string => `02:03:00:00:${hex(i >> 8)}:${hex(i & 255)}`;

function importCsv(base: number): string {
  const lines = ['ip,mac'];
  for (let i = 0; i < IMPORT_LINES; i++) lines.push(`${importIp(base, i)},${importMac(base, i)}`);
  return `${lines.join('\n')}\n`;
}

async function started(dir: TempDir, config: Record<string, unknown>): Promise<{ daemon: LiveDaemon; client: ApiClient }> {
  const daemon = await startDaemon(dir, config);
  live.push(daemon);
  return { daemon, client: new ApiClient({ socket: daemon.socket }) };
}

function killed(daemon: LiveDaemon): Promise<void> {
  return new Promise((resolve) => {
    daemon.child.once('exit', () => resolve());
    daemon.child.kill('SIGKILL');
  });
}

/** Replays ARP requests for `targets` into a fresh start on the same state; returns who answered what. */
async function answeredAfterRestart(dir: TempDir, config: Record<string, unknown>, targets: string[]): Promise<{ answers: Map<string, string>; bindings: number; stderr: string }> {
  const rx = dir.file('requests.pcap');
  const tx = dir.file('replies.pcap');
  writePcap(rx, targets.map((tpa) => arpFrame({ sha: REQUESTER, spa: '10.0.0.1', tpa })));
  const result = await runDaemon(
    dir,
    { ...config, ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${rx},tx_pcap=${tx}` }] },
    { until: (s) => (s.counters.rx_packets ?? 0) >= targets.length, timeoutMs: 60000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const answers = new Map<string, string>();
  for (const frame of readPcap(tx)) {
    const arp = decodeArp(frame);
    if (arp?.op === 2 && arp.tha === REQUESTER) answers.set(arp.spa, arp.sha);
  }
  return { answers, bindings: result.final!.table.bindings, stderr: result.stderr };
}

/** Runs test/fixtures/nd_frames.py (scapy) with `args` and `input` on stdin; its stdout as JSON. */
function ndFrames<T>(args: string[], input?: unknown): T {
  const r = spawnSync(PYTHON, [ND_FRAMES, ...args], { input: input === undefined ? undefined : JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `nd_frames.py ${args[0]}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Frames built by scapy from nd_frames.py specs, in order. */
function buildNd(specs: Record<string, unknown>[]): Buffer[] {
  return ndFrames<{ frames: { hex: string }[] }>(['build'], specs.map((spec, i) => ({ name: `f${i}`, ...spec }))).frames.map((f) => Buffer.from(f.hex, 'hex'));
}

/**
 * Sends a Neighbor Solicitation for each of `targets` into a fresh start on the same state;
 * returns, per target, the MAC of the advertisement's TLLAO and its R flag.
 */
async function advertisedAfterRestart(dir: TempDir, config: Record<string, unknown>, targets: string[]): Promise<Map<string, { mac: string; router: boolean }>> {
  const rx = dir.file('solicitations.pcap');
  const tx = dir.file('advertisements.pcap');
  writePcap(rx, buildNd(targets.map((target) => ({ kind: 'ns', eth_src: REQUESTER, src: REQUESTER_IP6, target, sllao: true }))));
  const result = await runDaemon(
    dir,
    { ...config, learning: 'off', ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${rx},tx_pcap=${tx}` }] },
    { until: (s) => (s.counters.rx_packets ?? 0) >= targets.length, timeoutMs: 60000 },
  );
  assert.equal(result.code, 0, result.stderr);
  type Seen = { eth: { dst: string }; icmpv6: { type: number; R: number; tgt: string } | null; options: { type: number; lladdr?: string }[] };
  const seen = ndFrames<Record<string, Seen[]>>(['dissect', tx])[tx]!;
  const answers = new Map<string, { mac: string; router: boolean }>();
  for (const frame of seen) {
    if (frame.icmpv6?.type !== 136 || frame.eth.dst !== REQUESTER) continue;
    answers.set(frame.icmpv6.tgt, { mac: frame.options.find((o) => o.type === 2)?.lladdr ?? '', router: frame.icmpv6.R === 1 });
  }
  return answers;
}

interface ListedBinding {
  ip: string;
  mac: string;
  vlan: number;
  source: string;
  port?: string;
  router?: boolean;
}

async function listed(client: ApiClient, query: string): Promise<ListedBinding[]> {
  const r = await client.call('GET', `/v1/bindings?limit=1000&${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body as { bindings: ListedBinding[] }).bindings;
}

describe('durable state', () => {
  it('kill -9 during an import and a stream of adds: every acknowledged binding is answered after restart, no partial import', async (t) => {
    const dir = tempDir();
    const config = { table: { capacity: 400_000 }, learning: 'off', bindings: [{ ip: '10.9.9.9', mac: '02:09:09:09:09:09' }] };
    const { daemon, client } = await started(dir, { ...config, ports: [{ name: 'p0', device: 'net_null0' }] });

    // A first import, acknowledged: it must all come back.
    let t0 = Date.now();
    const first = await readResponse(await client.raw('POST', '/v1/bindings/import?format=csv', importCsv(1)));
    const importMs = Date.now() - t0;
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((first.body as { added: number }).added, IMPORT_LINES);

    // Four writers adding one binding at a time; each add counts once its 201 is in.
    const acked: number[] = [];
    let next = 0;
    let crashed = false;
    const writer = async (): Promise<void> => {
      while (!crashed) {
        const i = next++;
        try {
          const r = await client.call('POST', '/v1/bindings', { ip: addIp(i), mac: addMac(i) });
          if (r.status === 201) acked.push(i);
        } catch {
          return; // the daemon is gone
        }
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    await new Promise((r) => setTimeout(r, 300));

    // A second import, killed half way through its own (measured) duration.
    const body = importCsv(2);
    let secondAcked = false;
    t0 = Date.now();
    const second = client.raw('POST', '/v1/bindings/import?format=csv', body).then(
      (res) => readResponse(res).then((r) => (secondAcked = r.status === 200)),
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, Math.max(20, importMs / 2)));
    crashed = true;
    await killed(daemon);
    await Promise.all([...writers, second]);
    const prefix = daemon.started.file_prefix;
    assert.ok(acked.length > 50, `only ${acked.length} adds acknowledged before the kill`);
    const killedAfterMs = Date.now() - t0;

    // Restart on the same state_dir; a pcap port asks for every acknowledged add, samples of
    // both imports and the static binding.
    const sample = Array.from({ length: 1000 }, (_, k) => (k * 97) % IMPORT_LINES);
    const targets = [
      ...acked.map(addIp),
      ...sample.map((i) => importIp(1, i)),
      ...sample.map((i) => importIp(2, i)),
      '10.9.9.9',
    ];
    const { answers, bindings, stderr } = await answeredAfterRestart(dir, config, targets);
    t.diagnostic(`import of ${IMPORT_LINES}: ${importMs} ms; ${acked.length} single adds acknowledged; second import killed after ${killedAfterMs} ms, acknowledged: ${secondAcked}`);
    for (const i of acked) assert.equal(answers.get(addIp(i)), addMac(i), `acknowledged add ${addIp(i)} answered after the crash`);
    for (const i of sample) assert.equal(answers.get(importIp(1, i)), importMac(1, i), `first import's ${importIp(1, i)}`);
    assert.equal(answers.get('10.9.9.9'), '02:09:09:09:09:09');
    const secondAnswered = sample.filter((i) => answers.get(importIp(2, i)) === importMac(2, i)).length;
    // All or nothing. Unacknowledged may still be all: the kill can fall between the commit
    // and the answer reaching the client.
    if (secondAcked) assert.equal(secondAnswered, sample.length, `second import (acknowledged, killed after ${killedAfterMs} ms): all of it`);
    else assert.ok(secondAnswered === 0 || secondAnswered === sample.length, `second import (not acknowledged, killed after ${killedAfterMs} ms): all or nothing, not ${secondAnswered} of ${sample.length}`);
    // Adds in flight at the kill may have been stored without their answer reaching us.
    const expected = 1 + IMPORT_LINES + acked.length + (secondAcked ? IMPORT_LINES : 0);
    assert.ok(bindings >= expected && bindings <= expected + 4, `bindings after restart: ${bindings}, acknowledged ${expected}`);
    // The killed instance's EAL runtime directory was removed by the next start.
    assert.ok(!existsSync(`/var/run/dpdk/${prefix}`), `${prefix} left behind`);
    assert.match(stderr, new RegExp(`removed DPDK runtime files of dead microarp instances.*${prefix}`));
  });

  it('learned bindings survive kill -9 (batched within a second), with their source', async () => {
    const dir = tempDir();
    const garps = dir.file('garps.pcap');
    const senders = Array.from({ length: 50 }, (_, i) => ({ ip: `10.20.0.${i + 10}`, mac: `02:20:00:00:00:${hex(i + 10)}` }));
    writePcap(garps, senders.map((s) => arpFrame({ sha: s.mac, spa: s.ip, tpa: s.ip })));
    const config = { state_sync: 'full', table: { capacity: 4096 } };
    const { daemon, client } = await started(dir, { ...config, ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${garps},tx_pcap=${dir.file('out.pcap')}` }] });
    let total = 0;
    for (let i = 0; i < 100 && total < senders.length; i++) {
      total = ((await client.call('GET', '/v1/bindings?limit=1')).body as { total: number }).total;
      if (total < senders.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(total, senders.length, 'every GARP sender learned');
    await new Promise((r) => setTimeout(r, 1100)); // learning reaches the store within a second
    await killed(daemon);

    const again = await started(dir, { ...config, ports: [{ name: 'p0', device: 'net_null0' }] });
    const list = (await again.client.call('GET', '/v1/bindings?limit=1000')).body as { bindings: { ip: string; mac: string; source: string; port?: string }[] };
    assert.deepEqual(
      list.bindings.map((b) => [b.ip, b.mac, b.source, b.port]).sort(),
      senders.map((s) => [s.ip, s.mac, 'learned', 'p0']).sort(),
    );
    await again.daemon.stop();
    const { answers } = await answeredAfterRestart(dir, { ...config, learning: 'off' }, senders.map((s) => s.ip));
    for (const s of senders) assert.equal(answers.get(s.ip), s.mac, `learned ${s.ip} answered after restart`);
  });

  it('static > api across restarts: a static binding removed from the file is gone, an api one stays', async () => {
    const dir = tempDir();
    const ports = [{ name: 'p0', device: 'net_null0' }];
    const get = async (client: ApiClient, ip: string): Promise<{ mac: string; source: string } | undefined> => {
      const r = await client.call('GET', `/v1/bindings/${ip}`);
      return r.status === 200 ? (r.body as { mac: string; source: string }) : undefined;
    };
    let run = await started(dir, { ports, bindings: [{ ip: '10.30.0.1', mac: '02:30:00:00:00:01' }] });
    assert.equal((await run.client.call('PUT', '/v1/bindings/10.30.0.1', { mac: '02:30:00:00:00:aa' })).status, 409, 'the API does not override static');
    assert.equal((await run.client.call('POST', '/v1/bindings', { ip: '10.30.0.2', mac: '02:30:00:00:00:02' })).status, 201);
    await run.daemon.stop();

    // The file drops 10.30.0.1 and binds 10.30.0.2 statically to another MAC.
    run = await started(dir, { ports, bindings: [{ ip: '10.30.0.2', mac: '02:30:00:00:00:cc' }] });
    assert.equal(await get(run.client, '10.30.0.1'), undefined, 'a static binding removed from the file is gone');
    assert.deepEqual(await get(run.client, '10.30.0.2').then((b) => [b?.mac, b?.source]), ['02:30:00:00:00:cc', 'static']);
    await run.daemon.stop();

    // Without the static one, the API's binding is back: it stays until deleted.
    run = await started(dir, { ports });
    assert.deepEqual(await get(run.client, '10.30.0.2').then((b) => [b?.mac, b?.source]), ['02:30:00:00:00:02', 'api']);
    assert.equal((await run.client.call('DELETE', '/v1/bindings/10.30.0.2')).status, 200);
    await killed(run.daemon);
    run = await started(dir, { ports });
    assert.equal(await get(run.client, '10.30.0.2'), undefined, 'a deleted binding stays deleted after kill -9');
    await run.daemon.stop();
  });

  it('IPv6 API and learned bindings survive kill -9 with source, port, VLAN and router flag, and are advertised by the next start', async () => {
    const dir = tempDir();
    // Unsolicited advertisements (S clear, override set) from 20 hosts: each is learned.
    const senders = Array.from({ length: 20 }, (_, i) => ({ ip: `2001:db8:20::${(i + 10).toString(16)}`, mac: `02:20:06:00:00:${hex(i + 10)}` }));
    const nas = dir.file('nas.pcap');
    writePcap(nas, buildNd(senders.map((h) => ({ kind: 'na', eth_src: h.mac, src: h.ip, target: h.ip, S: 0, O: 1, tllao: true }))));
    const config = { state_sync: 'full', table: { capacity: 4096 } };
    const { daemon, client } = await started(dir, { ...config, ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${nas},tx_pcap=${dir.file('out.pcap')}` }] });

    const api = [
      { ip: '2001:db8:1::1', mac: '02:61:00:00:00:01', vlan: 0, router: true },
      { ip: '2001:db8:1::2', mac: '02:61:00:00:00:02', vlan: 12, router: false },
    ];
    for (const b of api) assert.equal((await client.call('POST', '/v1/bindings', b)).status, 201);
    // Written, replaced by another spelling, then deleted: gone for good.
    assert.equal((await client.call('POST', '/v1/bindings', { ip: '2001:db8:1::3', mac: '02:61:00:00:00:03' })).status, 201);
    assert.equal((await client.call('PUT', '/v1/bindings/2001:DB8:1:0::3', { mac: '02:61:00:00:00:33' })).status, 200);
    assert.equal((await client.call('DELETE', '/v1/bindings/2001:db8:1::3')).status, 200);
    // And an IPv4 one beside them.
    assert.equal((await client.call('POST', '/v1/bindings', { ip: '10.61.0.1', mac: '02:61:04:00:00:01' })).status, 201);

    let learned: ListedBinding[] = [];
    for (let i = 0; i < 100 && learned.length < senders.length; i++) {
      learned = await listed(client, 'prefix=2001:db8:20::/64');
      if (learned.length < senders.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(learned.length, senders.length, 'every advertiser learned');
    await new Promise((r) => setTimeout(r, 1100)); // learning reaches the store within a second
    await killed(daemon);

    const again = await started(dir, { ...config, ports: [{ name: 'p0', device: 'net_null0' }] });
    assert.match(again.daemon.logs(), /"msg":"state loaded".*"bindings":23,"ipv6":22,"api":3,"learned":20/);
    const six = await listed(again.client, 'prefix=2001:db8::/32');
    assert.deepEqual(
      six.map((b) => [b.ip, b.vlan, b.mac, b.source, b.port, b.router]).sort(),
      [
        ...api.map((b) => [b.ip, b.vlan, b.mac, 'api', undefined, b.router]),
        ...senders.map((h) => [h.ip, 0, h.mac, 'learned', 'p0', false]),
      ].sort(),
    );
    assert.equal((await again.client.call('GET', '/v1/bindings/10.61.0.1')).status, 200);
    await again.daemon.stop();

    // The dataplane's NdTable was loaded from the store: scapy's solicitations are answered.
    const targets = [...senders.map((h) => h.ip), '2001:db8:1::1', '2001:db8:1::3'];
    const answers = await advertisedAfterRestart(dir, config, targets);
    for (const h of senders) assert.deepEqual(answers.get(h.ip), { mac: h.mac, router: false }, `learned ${h.ip} advertised after restart`);
    assert.deepEqual(answers.get('2001:db8:1::1'), { mac: '02:61:00:00:00:01', router: true }, 'the API binding, R set');
    assert.equal(answers.has('2001:db8:1::3'), false, 'the deleted binding stays deleted');
  });

  it('static > api for IPv6 across restarts: a stored row shadowed by a static binding comes back when the static one goes', async () => {
    const dir = tempDir();
    const ports = [{ name: 'p0', device: 'net_null0' }];
    const get = async (client: ApiClient, ip: string): Promise<[string, string, boolean] | undefined> => {
      const r = await client.call('GET', `/v1/bindings/${ip}`);
      const b = r.body as { mac: string; source: string; router: boolean };
      return r.status === 200 ? [b.mac, b.source, b.router] : undefined;
    };
    let run = await started(dir, { ports, bindings: [{ ip: '2001:db8:30::1', mac: '02:30:06:00:00:01' }] });
    assert.equal((await run.client.call('PUT', '/v1/bindings/2001:db8:30::1', { mac: '02:30:06:00:00:aa' })).status, 409, 'the API does not override static');
    assert.equal((await run.client.call('POST', '/v1/bindings', { ip: '2001:db8:30::2', mac: '02:30:06:00:00:02' })).status, 201);
    await run.daemon.stop();

    // The file drops ::1 and binds ::2 statically to another MAC, as a router.
    run = await started(dir, { ports, bindings: [{ ip: '2001:db8:30:0::2', mac: '02:30:06:00:00:cc', router: true }] });
    assert.equal(await get(run.client, '2001:db8:30::1'), undefined, 'a static binding removed from the file is gone');
    assert.deepEqual(await get(run.client, '2001:db8:30::2'), ['02:30:06:00:00:cc', 'static', true]);
    assert.match(run.daemon.logs(), /"msg":"state loaded".*"bindings":0,"ipv6":0.*"shadowed_by_config":1/);
    await run.daemon.stop();

    // Without the static one, the API's binding is back: it stays until deleted.
    run = await started(dir, { ports });
    assert.deepEqual(await get(run.client, '2001:db8:30::2'), ['02:30:06:00:00:02', 'api', false]);
    assert.equal((await run.client.call('DELETE', '/v1/bindings/2001:db8:30::2')).status, 200);
    await killed(run.daemon);
    run = await started(dir, { ports });
    assert.equal(await get(run.client, '2001:db8:30::2'), undefined, 'a deleted binding stays deleted after kill -9');
    await run.daemon.stop();
  });

  it('a schema-1 state directory is migrated in place by the next start: its IPv4 bindings kept, IPv6 ones stored from then on', async () => {
    const dir = tempDir();
    const state = dir.file('state');
    const file = `${state}/bindings.db`;
    // The directory as a schema-1 microarp left it (the layout of that version, written here).
    mkdirSync(state, { recursive: true });
    const v1 = new Database(file);
    v1.pragma('journal_mode = WAL');
    v1.exec(`CREATE TABLE IF NOT EXISTS bindings (
      vlan INTEGER NOT NULL, ip INTEGER NOT NULL, mac INTEGER NOT NULL, source TEXT NOT NULL,
      port TEXT, host TEXT, seq INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      moves INTEGER NOT NULL DEFAULT 0, hits INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (vlan, ip)) WITHOUT ROWID`);
    v1.pragma('user_version = 1');
    const now = Date.now();
    const insert = v1.prepare('INSERT INTO bindings VALUES (?, ?, ?, ?, ?, NULL, 1, ?, ?, 0, 0)');
    const rows = Array.from({ length: 300 }, (_, i) => ({ vlan: i % 2 ? 7 : 0, ip: 0x0a470000 + i, mac: 0x024700000000 + i, source: i % 3 ? 'api' : 'learned', port: i % 3 ? null : 'p0' }));
    v1.transaction(() => rows.forEach((r) => insert.run(r.vlan, r.ip, r.mac, r.source, r.port, now, now)))();
    v1.close();

    const ports = [{ name: 'p0', device: 'net_null0' }];
    const config = { learning: { aging_seconds: 0 }, ports };
    let run = await started(dir, config);
    assert.match(run.daemon.logs(), /"msg":"state migrated".*"from_schema":1,"to_schema":2/);
    const ipText = (ip: number): string => [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
    const macText = (mac: number): string => mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
    const expected = rows.map((r) => [ipText(r.ip), r.vlan, macText(r.mac), r.source, r.port ?? undefined]).sort();
    const list = async (): Promise<unknown[]> => (await listed(run.client, 'prefix=10.71.0.0/16')).map((b) => [b.ip, b.vlan, b.mac, b.source, b.port]).sort();
    assert.deepEqual(await list(), expected, 'every IPv4 row of the schema-1 file');
    assert.equal((await run.client.call('POST', '/v1/bindings', { ip: '2001:db8:71::1', mac: '02:71:06:00:00:01', router: true })).status, 201);
    await run.daemon.stop();

    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    db.close();
    run = await started(dir, config);
    assert.doesNotMatch(run.daemon.logs(), /state migrated/);
    assert.deepEqual(await list(), expected);
    const six = (await run.client.call('GET', '/v1/bindings/2001:db8:71::1')).body as ListedBinding;
    assert.deepEqual([six.mac, six.source, six.router], ['02:71:06:00:00:01', 'api', true]);
    await run.daemon.stop();
  });

  it('one daemon per state_dir: the second is refused with the PID of the first', async () => {
    const dir = tempDir();
    const first = await started(dir, { ports: [{ name: 'p0', device: 'net_null0' }] });
    const other = tempDir();
    const file = other.file('second.yaml');
    writeFileSync(file, JSON.stringify({ ...withTestDefaults(other, { ports: [{ name: 'p0', device: 'net_null1' }] }), state_dir: dir.file('state') }));
    const r = await runCli(['run', '--config', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`state_dir ${dir.file('state')} is in use by another microarp \\(PID ${first.daemon.child.pid}\\)`));
    assert.equal((await first.client.call('GET', '/readyz')).status, 200, 'the first daemon is untouched');
    await first.daemon.stop();
  });

  it('a broken, foreign or newer state database is refused, named and left as it was; --reset-state moves it aside', async () => {
    const dir = tempDir();
    const state = dir.file('state');
    const db = `${state}/bindings.db`;
    const file = dir.file('c.yaml');
    writeFileSync(file, JSON.stringify(withTestDefaults(dir, { ports: [{ name: 'p0', device: 'net_null0' }] })));
    // Create the directory and a valid store with one API binding.
    const run = await started(dir, { ports: [{ name: 'p0', device: 'net_null0' }] });
    await run.client.call('POST', '/v1/bindings', { ip: '10.40.0.1', mac: '02:40:00:00:00:01' });
    await run.daemon.stop();
    const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

    // Not a database at all.
    const good = readFileSync(db);
    writeFileSync(db, Buffer.concat([Buffer.from('this is not SQLite'), good.subarray(18)]));
    let before = sha(db);
    let r = await runCli(['run', '--config', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${db}.*--reset-state`));
    assert.equal(sha(db), before, 'the broken file is left as it was');

    // A newer schema.
    writeFileSync(db, good);
    const newer = new Database(db);
    newer.pragma('user_version = 99');
    newer.close();
    before = sha(db);
    r = await runCli(['run', '--config', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${db} was written by a newer microarp \\(schema 99`));
    assert.equal(sha(db), before);

    // Rows that are not bindings (a hand edit) are skipped and counted; the rest loads.
    writeFileSync(db, good);
    const edit = new Database(db);
    edit.prepare("INSERT INTO bindings VALUES (5, 167772161, 1, 'bogus', NULL, NULL, 0, 0, 0, 0, 0)").run();
    // An IPv6 row whose address is 15 bytes.
    edit.prepare("INSERT INTO bindings6 VALUES (5, zeroblob(15), 2, 'api', 0, NULL, NULL, 0, 0, 0, 0, 0)").run();
    edit.close();
    const withBadRow = await started(dir, { ports: [{ name: 'p0', device: 'net_null0' }] });
    assert.match(withBadRow.daemon.logs(), /skipped state rows that are not valid bindings.*"rows":2/);
    assert.equal(((await withBadRow.client.call('GET', '/v1/bindings')).body as { total: number }).total, 1);
    await withBadRow.daemon.stop();

    // --reset-state moves the broken file aside and starts empty.
    writeFileSync(db, 'garbage');
    const startedReset = await runCli(['run', '--config', file, '--reset-state', '--json', '--stats-period', '0.1'], { until: () => true });
    assert.equal(startedReset.code, 0, startedReset.stderr);
    const aside = readdirSync(state).filter((f) => /^bindings\.db\.\d{8}T\d{6}Z$/.test(f));
    assert.equal(aside.length, 1, `moved aside: ${readdirSync(state).join(', ')}`);
    assert.equal(readFileSync(`${state}/${aside[0]}`, 'utf8'), 'garbage');
    assert.match(startedReset.stderr, /state reset/);
  });

  it('bad state_dir values are config errors', async () => {
    const dir = tempDir();
    const file = dir.file('c.yaml');
    writeFileSync(file, 'ports: [{name: p0, device: net_null0}]\nstate_dir: relative/dir\nstate_sync: sometimes\n');
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /state_dir: must be an absolute directory path, or off/);
    assert.match(r.stderr, /state_sync: must be one of normal \| full/);
  });
});
