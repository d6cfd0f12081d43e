// The control API of a running daemon: every operation, every validation error, the token on
// TCP, concurrent writers, IPv6 bindings (any spelling in, RFC 5952 out, answered to the
// peer's own ndisc6), and a bulk import of 1,000,000 bindings answered on real frames.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApiClient, readResponse } from '../src/api/client';
import { REPO, TempDir } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { addAddress6, NetnsPeer } from './helpers/netns';

const TOKEN = 'test-token-0123456789abcdef';

/** The address part of a binding as the API shows it (it also carries source, times, counts). */
const addr = (b: unknown): { ip: string; mac: string; vlan: number } => {
  const { ip, mac, vlan } = b as { ip: string; mac: string; vlan: number };
  return { ip, mac, vlan };
};

describe('control API', () => {
  const dir = new TempDir();
  const peer = new NetnsPeer('10.79.0.1/24', { ipv6: true });
  let daemon: LiveDaemon;
  let unix: ApiClient;
  let tcp: ApiClient;
  let tcpNoToken: ApiClient;

  before(async () => {
    peer.create();
    // An address of its own for the peer's solicitations (no duplicate address detection).
    addAddress6(peer, '2001:db8:79::100', false);
    daemon = await startDaemon(dir, {
      ports: [{ name: 'vm', device: `net_af_packet0,iface=${peer.hostIf}` }],
      table: { capacity: 1_100_000 },
      bindings: [{ ip: '10.79.0.7', mac: '02:79:00:00:00:07' }, { ip: '2001:db8:79:0::7', mac: '02:79:00:00:00:17', router: true }],
      api: { socket: dir.file('api.sock'), listen: '127.0.0.1:0', token: TOKEN },
    });
    const url = daemon.started.api.find((a) => a.startsWith('http://'))!;
    unix = new ApiClient({ socket: daemon.socket });
    tcp = new ApiClient({ url, token: TOKEN });
    tcpNoToken = new ApiClient({ url });
  });

  after(async () => {
    const { code } = await daemon.stop();
    assert.equal(code, 0);
    peer.remove();
    dir.remove();
  });

  it('serves health and readiness', async () => {
    assert.deepEqual((await unix.call('GET', '/healthz')).body, { status: 'ok' });
    const ready = await tcpNoToken.call('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ready: true });
  });

  it('adds, refuses a conflicting add, replaces, reads and deletes one binding', async () => {
    const add = await unix.call('POST', '/v1/bindings', { ip: '10.79.1.1', mac: '02:79:01:00:00:01' });
    assert.equal(add.status, 201);
    assert.deepEqual(add.body, { outcome: 'added', binding: { ip: '10.79.1.1', vlan: 0, mac: '02:79:01:00:00:01' } });
    const again = await unix.call('POST', '/v1/bindings', { ip: '10.79.1.1', mac: '02:79:01:00:00:01' });
    assert.equal(again.status, 200);
    assert.equal((again.body as { outcome: string }).outcome, 'unchanged');
    const conflict = await unix.call('POST', '/v1/bindings', { ip: '10.79.1.1', mac: '02:79:01:00:00:02' });
    assert.equal(conflict.status, 409);
    assert.equal((conflict.body as { previous_mac: string }).previous_mac, '02:79:01:00:00:01');
    const put = await unix.call('PUT', '/v1/bindings/10.79.1.1', { mac: '02:79:01:00:00:02' });
    assert.equal(put.status, 200);
    assert.equal((put.body as { outcome: string }).outcome, 'replaced');
    const tagged = await unix.call('PUT', '/v1/bindings/10.79.1.1', { mac: '02:79:01:00:00:03', vlan: 12 });
    assert.equal(tagged.status, 201);
    const one = (await unix.call('GET', '/v1/bindings/10.79.1.1')).body as { source: string; first_seen: string };
    assert.deepEqual(addr(one), { ip: '10.79.1.1', mac: '02:79:01:00:00:02', vlan: 0 });
    assert.equal(one.source, 'api');
    assert.ok(!Number.isNaN(Date.parse(one.first_seen)));
    assert.deepEqual(addr((await unix.call('GET', '/v1/bindings/10.79.1.1?vlan=12')).body), { ip: '10.79.1.1', mac: '02:79:01:00:00:03', vlan: 12 });
    assert.equal((await unix.call('DELETE', '/v1/bindings/10.79.1.1?vlan=12')).status, 200);
    assert.equal((await unix.call('DELETE', '/v1/bindings/10.79.1.1?vlan=12')).status, 404);
    assert.equal((await unix.call('GET', '/v1/bindings/10.79.1.1?vlan=12')).status, 404);
    assert.equal((await unix.call('DELETE', '/v1/bindings/10.79.1.1')).status, 200);
  });

  it('answers every bad request with a 4xx that names the field, and changes nothing', async () => {
    const before = (await unix.call('GET', '/v1/stats')).body as { table: { bindings: number } };
    const cases: [string, string, unknown, number, string | undefined][] = [
      ['POST', '/v1/bindings', { ip: '10.0.0.256', mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:01' }, 400, 'mac'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: 'ff:ff:ff:ff:ff:ff' }, 400, 'mac'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '00:00:00:00:00:00' }, 400, 'mac'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:00:01', vlan: 4095 }, 400, 'vlan'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:00:01', vlan: 'ten' }, 400, 'vlan'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:00:01', colour: 1 }, 400, 'colour'],
      ['POST', '/v1/bindings', [1, 2], 400, 'body'],
      ['PUT', '/v1/bindings/10.0.0.1', { vlan: 3 }, 400, 'mac'],
      ['PUT', '/v1/bindings/not-an-ip', { mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['DELETE', '/v1/bindings/10.0.0.1?vlan=99999', undefined, 400, 'vlan'],
      ['GET', '/v1/bindings?prefix=10.0.0.1/24', undefined, 400, 'prefix'],
      ['GET', '/v1/bindings?prefix=10.0.0.0/33', undefined, 400, 'prefix'],
      ['GET', '/v1/bindings?limit=0', undefined, 400, 'limit'],
      ['GET', '/v1/bindings?cursor=abc', undefined, 400, 'cursor'],
      ['GET', '/v1/bindings?sort=ip', undefined, 400, 'sort'],
      ['GET', '/v1/bindings?mac=zz', undefined, 400, 'mac'],
      ['POST', '/v1/bindings', { ip: 'fe80::1%eth0', mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['POST', '/v1/bindings', { ip: 'ff02::1:ff00:1', mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['POST', '/v1/bindings', { ip: '::', mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['POST', '/v1/bindings', { ip: '2001:db8::1', mac: '02:00:00:00:00:01', router: 'yes' }, 400, 'router'],
      ['POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:00:01', router: true }, 400, 'router'],
      ['PUT', '/v1/bindings/10.0.0.1', { mac: '02:00:00:00:00:01', router: true }, 400, 'router'],
      ['PUT', '/v1/bindings/2001:db8::1::2', { mac: '02:00:00:00:00:01' }, 400, 'ip'],
      ['PUT', '/v1/bindings/2001%3Adb8%3A%3A1%zz', { mac: '02:00:00:00:00:01' }, 400, undefined],
      ['GET', '/v1/bindings?prefix=2001:db8::1/64', undefined, 400, 'prefix'],
      ['GET', '/v1/bindings?prefix=2001:db8::/129', undefined, 400, 'prefix'],
      ['GET', '/v1/bindings?cursor=v6-zz', undefined, 400, 'cursor'],
      ['GET', '/v1/nothing', undefined, 404, undefined],
      ['PATCH', '/v1/bindings', undefined, 405, undefined],
    ];
    for (const [method, path, body, status, fieldName] of cases) {
      const r = await unix.call(method, path, body);
      const error = (r.body as { error: { field?: string; message: string } }).error;
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} -> ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(error.field, fieldName, `${method} ${path}: ${error.message}`);
      assert.ok(error.message.length > 5);
    }
    const raw = await readResponse(await unix.raw('POST', '/v1/bindings', '{"ip": "10.0.0.1",', { 'content-type': 'application/json' }));
    assert.equal(raw.status, 400);
    assert.equal((raw.body as { error: { field: string } }).error.field, 'body');
    const zone = (await unix.call('POST', '/v1/bindings', { ip: 'fe80::1%eth0', mac: '02:00:00:00:00:01' })).body as { error: { message: string } };
    assert.match(zone.error.message, /zone .* names an interface/);
    const multicast = (await unix.call('POST', '/v1/bindings', { ip: 'ff02::1', mac: '02:00:00:00:00:01' })).body as { error: { message: string } };
    assert.equal(multicast.error.message, 'ip: a multicast address (ff00::/8) cannot be bound');
    const v4router = (await unix.call('POST', '/v1/bindings', { ip: '10.0.0.1', mac: '02:00:00:00:00:01', router: true })).body as { error: { message: string } };
    assert.match(v4router.error.message, /^router: only an IPv6 binding has a router flag/);
    const huge = await readResponse(await unix.raw('POST', '/v1/bindings', 'x'.repeat(100_000)));
    assert.equal(huge.status, 413);
    const afterStats = (await unix.call('GET', '/v1/stats')).body as { table: { bindings: number } };
    assert.equal(afterStats.table.bindings, before.table.bindings);
  });

  it('IPv6: written, read and removed by any spelling or encoding, shown in RFC 5952 form, answered to ndisc6', async () => {
    const ndisc6 = (target: string): { status: number | null; mac: string } => {
      const r = peer.exec('ndisc6', ['-1', '-n', '-q', '-r', '3', '-w', '500', target, peer.peerIf]);
      return { status: r.status, mac: r.stdout.trim().toLowerCase() };
    };
    const add = await unix.call('POST', '/v1/bindings', { ip: '2001:DB8:79:0:0::1', mac: '02:79:06:00:00:01' });
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.deepEqual(add.body, { outcome: 'added', binding: { ip: '2001:db8:79::1', vlan: 0, mac: '02:79:06:00:00:01', router: false } });
    assert.equal(((await unix.call('POST', '/v1/bindings', { ip: '2001:db8:79::1', mac: '02:79:06:00:00:01' })).body as { outcome: string }).outcome, 'unchanged');
    // The path's colons percent-encoded, or not.
    const router = await unix.call('PUT', '/v1/bindings/2001%3Adb8%3A79%3A%3A1', { mac: '02:79:06:00:00:01', router: true });
    assert.equal(router.status, 200, JSON.stringify(router.body));
    assert.deepEqual(router.body, { outcome: 'replaced', binding: { ip: '2001:db8:79::1', vlan: 0, mac: '02:79:06:00:00:01', router: true }, previous_mac: '02:79:06:00:00:01' });
    assert.equal((await unix.call('PUT', '/v1/bindings/2001:db8:79::2', { mac: '02:79:06:00:00:02', vlan: 12 })).status, 201);
    const one = (await unix.call('GET', '/v1/bindings/2001:db8:79:0:0:0:0:1')).body as { ip: string; router: boolean; source: string };
    assert.deepEqual([one.ip, one.router, one.source], ['2001:db8:79::1', true, 'api']);
    assert.deepEqual(addr((await unix.call('GET', '/v1/bindings/2001:db8:79::2?vlan=12')).body), { ip: '2001:db8:79::2', mac: '02:79:06:00:00:02', vlan: 12 });
    assert.equal((await unix.call('GET', '/v1/bindings/2001:db8:79::2')).status, 404, 'another VLAN');
    const staticOne = (await unix.call('GET', '/v1/bindings/2001:db8:79::7')).body as { source: string; router: boolean };
    assert.deepEqual([staticOne.source, staticOne.router], ['static', true]);
    const outranked = await unix.call('PUT', '/v1/bindings/2001:db8:79::7', { mac: '02:79:06:00:00:07' });
    assert.equal(outranked.status, 409);

    // Listed by an IPv6 prefix, in address order; an IPv4 prefix shows no IPv6 binding.
    const inPrefix = (await unix.call('GET', '/v1/bindings?prefix=2001:db8:79::/64')).body as { bindings: { ip: string; vlan: number }[] };
    assert.deepEqual(inPrefix.bindings.map((b) => `${b.vlan}/${b.ip}`), ['0/2001:db8:79::1', '0/2001:db8:79::7', '12/2001:db8:79::2']);
    const v4 = (await unix.call('GET', '/v1/bindings?prefix=10.79.0.0/16&limit=10000')).body as { bindings: { ip: string }[] };
    assert.ok(v4.bindings.length > 0 && v4.bindings.every((b) => !b.ip.includes(':')));
    // Paged one at a time through VLAN 0: its IPv4 bindings, then its IPv6 ones.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await unix.call('GET', `/v1/bindings?vlan=0&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body as { bindings: { ip: string }[]; next_cursor?: string };
      seen.push(...page.bindings.map((b) => b.ip));
      cursor = page.next_cursor;
    } while (cursor);
    const firstSix = seen.findIndex((ip) => ip.includes(':'));
    assert.ok(firstSix > 0, seen.join(' '));
    assert.ok(seen.slice(firstSix).every((ip) => ip.includes(':')), `IPv4 before IPv6: ${seen.join(' ')}`);
    assert.deepEqual(seen.slice(firstSix), ['2001:db8:79::1', '2001:db8:79::7']);
    // The dataplane holds what the API lists (learning may add the peer's own address once it speaks).
    const ipv6Listed = async (): Promise<number> => ((await unix.call('GET', '/v1/bindings?prefix=::/0&limit=10000')).body as { bindings: unknown[] }).bindings.length;
    const ipv6Held = async (): Promise<number> => ((await unix.call('GET', '/v1/stats')).body as { table: { ipv6Bindings: number } }).table.ipv6Bindings;
    assert.equal(await ipv6Held(), 3);
    assert.equal(await ipv6Listed(), 3);

    // The peer's kernel asks with a Neighbor Solicitation; microarp answers with the bound MAC.
    assert.deepEqual(ndisc6('2001:db8:79::1'), { status: 0, mac: '02:79:06:00:00:01' });
    assert.deepEqual(ndisc6('2001:db8:79::7'), { status: 0, mac: '02:79:00:00:00:17' });

    assert.equal((await unix.call('DELETE', '/v1/bindings/2001%3adb8%3a79%3a%3a1')).status, 200);
    assert.equal((await unix.call('DELETE', '/v1/bindings/2001:db8:79::1')).status, 404);
    assert.equal((await unix.call('GET', '/v1/bindings/2001:db8:79::1')).status, 404);
    assert.notEqual(ndisc6('2001:db8:79::1').status, 0, 'no answer once removed');
    assert.equal((await unix.call('DELETE', '/v1/bindings/2001:db8:79::2?vlan=12')).status, 200);
    assert.equal(await ipv6Held(), await ipv6Listed());
    assert.equal((await unix.call('GET', '/v1/bindings/2001:db8:79::2?vlan=12')).status, 404);
  });

  it('a reload applies IPv6 static bindings (the router flag included) and a port\'s router flag live', async () => {
    const original = readFileSync(daemon.file, 'utf8');
    const config = JSON.parse(original) as { ports: Record<string, unknown>[]; bindings: Record<string, unknown>[] };
    try {
      config.ports[0]!.router = true;
      config.bindings[1]!.router = false; // 2001:db8:79::7
      config.bindings.push({ ip: '2001:db8:79::8', mac: '02:79:00:00:00:18', vlan: 3 });
      writeFileSync(daemon.file, JSON.stringify(config));
      const r = await unix.call('POST', '/v1/reload');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual((r.body as { applied: string[] }).applied, ['ports.vm.router: false -> true', 'bindings: 2 added or changed (2001:db8:79::7, 2001:db8:79::8 vlan 3)']);
      const seven = (await unix.call('GET', '/v1/bindings/2001:db8:79::7')).body as { source: string; router: boolean };
      assert.deepEqual([seven.source, seven.router], ['static', false]);
      assert.equal(((await unix.call('GET', '/v1/bindings/2001:db8:79::8?vlan=3')).body as { source: string }).source, 'static');
    } finally {
      writeFileSync(daemon.file, original);
      const back = await unix.call('POST', '/v1/reload');
      assert.deepEqual((back.body as { applied: string[] }).applied, ['ports.vm.router: true -> false', 'bindings: 1 added or changed (2001:db8:79::7)', 'bindings: 1 removed (2001:db8:79::8 vlan 3)']);
    }
    assert.equal((await unix.call('GET', '/v1/bindings/2001:db8:79::8?vlan=3')).status, 404);
    assert.equal(((await unix.call('GET', '/v1/bindings/2001:db8:79::7')).body as { router: boolean }).router, true);
  });

  it('imports and exports IPv6 bindings beside IPv4 ones, NDJSON and CSV, and the export imports as it is', async () => {
    const ndjson = [
      '{"ip": "10.82.0.1", "mac": "02:82:00:00:00:01", "vlan": 30}',
      '{"ip": "2001:db8:82::1", "mac": "02:82:00:00:00:61", "vlan": 30, "router": true}',
      '{"ip": "2001:DB8:82:0::2", "mac": "02:82:00:00:00:62", "vlan": 30}',
      '{"ip": "2001:db8:82::3%eth0", "mac": "02:82:00:00:00:63", "vlan": 30}',
    ].join('\n');
    const refused = await readResponse(await unix.raw('POST', '/v1/bindings/import', ndjson));
    assert.equal(refused.status, 400);
    assert.deepEqual((refused.body as { errors: { line: number }[] }).errors.map((e) => e.line), [4]);
    const imported = await readResponse(await unix.raw('POST', '/v1/bindings/import?skip_bad=true', ndjson));
    assert.deepEqual({ ...(imported.body as object), errors: undefined }, { lines: 4, imported: 3, added: 3, replaced: 0, unchanged: 0, outranked: 0, table_full: 0, rejected: 1, errors: undefined });
    const csv = await readResponse(await unix.raw('POST', '/v1/bindings/import?format=csv', 'ip,mac,vlan,router\n2001:db8:82::4,02:82:00:00:00:64,30,true\n10.82.0.2,02:82:00:00:00:02,30,\n'));
    assert.equal((csv.body as { added: number }).added, 2, JSON.stringify(csv.body));
    assert.equal(((await unix.call('GET', '/v1/bindings/2001:db8:82::4?vlan=30')).body as { router: boolean }).router, true);

    const exported = await readResponse(await unix.raw('GET', '/v1/bindings/export?vlan=30'));
    const lines = (exported.body as string).trim().split('\n').map((l) => JSON.parse(l) as { ip: string; router?: boolean });
    assert.deepEqual(lines.map((b) => [b.ip, b.router]), [
      ['10.82.0.1', undefined], ['10.82.0.2', undefined],
      ['2001:db8:82::1', true], ['2001:db8:82::2', false], ['2001:db8:82::4', true],
    ]);
    const again = await readResponse(await unix.raw('POST', '/v1/bindings/import', exported.body as string));
    assert.equal((again.body as { unchanged: number }).unchanged, 5, JSON.stringify(again.body));
    const cleanup = lines.map((b) => unix.call('DELETE', `/v1/bindings/${encodeURIComponent(b.ip)}?vlan=30`));
    for (const r of await Promise.all(cleanup)) assert.equal(r.status, 200);
  });

  it('on TCP, refuses writes and reads without a valid token (401) and accepts them with it', async () => {
    const body = { ip: '10.79.2.1', mac: '02:79:02:00:00:01' };
    assert.equal((await tcpNoToken.call('POST', '/v1/bindings', body)).status, 401);
    const wrong = new ApiClient({ url: daemon.started.api.find((a) => a.startsWith('http'))!, token: `${TOKEN}x` });
    assert.equal((await wrong.call('POST', '/v1/bindings', body)).status, 401);
    assert.equal((await tcpNoToken.call('GET', '/v1/bindings')).status, 401);
    assert.equal((await tcpNoToken.call('GET', '/v1/stats')).status, 401);
    assert.equal((await unix.call('GET', '/v1/bindings/10.79.2.1')).status, 404, 'refused writes changed nothing');
    assert.equal((await tcp.call('POST', '/v1/bindings', body)).status, 201);
    assert.equal((await tcp.call('GET', '/v1/bindings/10.79.2.1')).status, 200);
    assert.equal((await tcp.call('DELETE', '/v1/bindings/10.79.2.1')).status, 200);
    assert.doesNotMatch(daemon.logs(), new RegExp(TOKEN), 'the token is never logged');
    assert.match(daemon.logs(), /"msg":"api request refused: no valid token","who":"tcp:127\.0\.0\.1"/);
  });

  it('keeps every write of concurrent writers, and the last write to one IP wins consistently', async () => {
    const distinct = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? unix : tcp).call('PUT', `/v1/bindings/10.79.3.${i + 1}`, { mac: `02:79:03:00:00:${(i + 1).toString(16).padStart(2, '0')}` }),
    );
    const same = Array.from({ length: 20 }, (_, i) =>
      unix.call('PUT', '/v1/bindings/10.79.4.1', { mac: `02:79:04:00:00:${(i + 1).toString(16).padStart(2, '0')}` }),
    );
    const results = await Promise.all([...distinct, ...same]);
    for (const r of results) assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
    const list = (await unix.call('GET', '/v1/bindings?prefix=10.79.3.0/24&limit=1000')).body as { bindings: unknown[] };
    assert.equal(list.bindings.length, 40);
    const one = (await unix.call('GET', '/v1/bindings/10.79.4.1')).body as { mac: string };
    const replaced = same.length - 1;
    const outcomes = results.slice(40).map((r) => (r.body as { outcome: string }).outcome);
    assert.equal(outcomes.filter((o) => o === 'added').length, 1);
    assert.equal(outcomes.filter((o) => o === 'replaced').length, replaced);
    assert.match(one.mac, /^02:79:04:00:00:/);
  });

  it('lists with VLAN, prefix and MAC filters, and pages through everything in order', async () => {
    const lines = [];
    for (let i = 0; i < 300; i++) lines.push(JSON.stringify({ ip: `10.80.${i >> 8}.${i & 255}`, mac: `02:80:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, vlan: i % 3 }));
    const imported = await readResponse(await unix.raw('POST', '/v1/bindings/import', `${lines.join('\n')}\n`));
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.equal((imported.body as { added: number }).added, 300);

    const vlan1 = (await unix.call('GET', '/v1/bindings?vlan=1&prefix=10.80.0.0/16&limit=10000')).body as { bindings: { vlan: number }[] };
    assert.equal(vlan1.bindings.length, 100);
    assert.ok(vlan1.bindings.every((b) => b.vlan === 1));
    const prefix = (await unix.call('GET', '/v1/bindings?prefix=10.80.1.0/24&limit=10000')).body as { bindings: { ip: string }[] };
    assert.equal(prefix.bindings.length, 300 - 256);
    const byMac = (await unix.call('GET', '/v1/bindings?mac=02:80:00:00:00:05')).body as { bindings: { ip: string; vlan: number }[] };
    assert.deepEqual(byMac.bindings.map(addr), [{ ip: '10.80.0.5', mac: '02:80:00:00:00:05', vlan: 2 }]);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = (await unix.call('GET', `/v1/bindings?prefix=10.80.0.0/16&limit=33${cursor ? `&cursor=${cursor}` : ''}`)).body as { bindings: { ip: string; vlan: number }[]; next_cursor?: string };
      seen.push(...page.bindings.map((b) => `${b.vlan}/${b.ip}`));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(seen.length, 300);
    assert.equal(new Set(seen).size, 300);
    assert.ok(pages >= 10);
    const order = seen.map((k) => k.split('/')).map(([v, ip]) => Number(v) * 2 ** 32 + ip!.split('.').reduce((a, o) => a * 256 + Number(o), 0));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
  });

  it('rejects a whole import with bad lines, reporting each line, unless skip_bad', async () => {
    const before = ((await unix.call('GET', '/v1/stats')).body as { table: { bindings: number } }).table.bindings;
    const body = [
      '{"ip": "10.81.0.1", "mac": "02:81:00:00:00:01"}',
      '{"ip": "10.81.0.2", "mac": "nope"}',
      'not json',
      '',
      '{"ip": "10.81.0.4", "mac": "02:81:00:00:00:04", "vlan": 5000}',
      '{"ip": "10.81.0.5", "mac": "02:81:00:00:00:05"}',
    ].join('\n');
    const refused = await readResponse(await unix.raw('POST', '/v1/bindings/import', body));
    assert.equal(refused.status, 400);
    const r = refused.body as { rejected: number; errors: { line: number; message: string }[] };
    assert.equal(r.rejected, 3);
    assert.deepEqual(r.errors.map((e) => e.line), [2, 3, 5]);
    assert.match(r.errors[0]!.message, /^mac:/);
    assert.match(r.errors[2]!.message, /^vlan:/);
    assert.equal(((await unix.call('GET', '/v1/stats')).body as { table: { bindings: number } }).table.bindings, before, 'nothing applied');

    const skipped = await readResponse(await unix.raw('POST', '/v1/bindings/import?skip_bad=true', body));
    assert.equal(skipped.status, 200);
    assert.deepEqual({ ...(skipped.body as object), errors: undefined }, { lines: 6, imported: 2, added: 2, replaced: 0, unchanged: 0, outranked: 0, table_full: 0, rejected: 3, errors: undefined });
    const csv = await readResponse(await unix.raw('POST', '/v1/bindings/import?format=csv', 'ip,mac,vlan\n10.81.1.1,02:81:01:00:00:01,7\n'));
    assert.equal((csv.body as { added: number }).added, 1);
    assert.deepEqual(addr((await unix.call('GET', '/v1/bindings/10.81.1.1?vlan=7')).body), { ip: '10.81.1.1', mac: '02:81:01:00:00:01', vlan: 7 });

    // A row for an address the config binds statically is outranked, not imported; an export
    // line (with its export-only fields, 'host' among them in a fabric) imports as it is.
    const mixed = [
      '{"ip": "10.79.0.7", "mac": "02:79:00:00:00:99"}',
      '{"ip": "10.81.2.1", "mac": "02:81:02:00:00:01", "source": "api", "port": null, "host": "other-host", "hits": 3}',
    ].join('\n');
    const outranked = (await readResponse(await unix.raw('POST', '/v1/bindings/import', mixed))).body as Record<string, number>;
    assert.deepEqual({ imported: outranked.imported, added: outranked.added, outranked: outranked.outranked }, { imported: 1, added: 1, outranked: 1 });
    assert.equal(addr((await unix.call('GET', '/v1/bindings/10.79.0.7')).body).mac, '02:79:00:00:00:07', 'the static binding stays');
  });

  it('reports counters and ports with link state', async () => {
    const stats = (await unix.call('GET', '/v1/stats')).body as { counters: Record<string, number>; drops: Record<string, number>; lcores: unknown[]; time: string };
    assert.ok('replies_sent' in stats.counters);
    assert.ok('arp_bad_htype' in stats.drops);
    assert.equal(stats.lcores.length, 1);
    assert.ok(!Number.isNaN(Date.parse(stats.time)));
    const ports = (await unix.call('GET', '/v1/ports')).body as { ports: { name: string; link: { up: boolean } }[] };
    assert.equal(ports.ports[0]!.name, 'vm');
    assert.equal(ports.ports[0]!.link.up, true);
  });

  it('imports 1,000,000 bindings in one stream, exports them, and answers a sample on real frames', async (t) => {
    const N = 1_000_000;
    const ipOf = (i: number): string => `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const macOf = (i: number): string => `02:11:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    function* lines(): Generator<string> {
      const CHUNK = 10000;
      for (let i = 0; i < N; i += CHUNK) {
        let s = '';
        for (let j = i; j < Math.min(N, i + CHUNK); j++) s += `{"ip":"${ipOf(j)}","mac":"${macOf(j)}"}\n`;
        yield s;
      }
    }
    const started = Date.now();
    const res = await readResponse(await unix.raw('POST', '/v1/bindings/import', Readable.from(lines())));
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`imported ${N} bindings through the API in ${seconds.toFixed(2)} s`);
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    assert.equal((res.body as { added: number }).added, N);

    const stats = (await unix.call('GET', '/v1/stats')).body as { table: { bindings: number } };
    const list = (await unix.call('GET', '/v1/bindings?limit=1')).body as { total: number };
    assert.equal(stats.table.bindings, list.total, 'the dataplane and the API agree on the count');
    assert.ok(stats.table.bindings >= N);

    const exported = await unix.raw('GET', '/v1/bindings/export');
    let count = 0;
    let rest = '';
    for await (const chunk of exported) {
      const parts = (rest + (chunk as Buffer).toString()).split('\n');
      rest = parts.pop()!;
      count += parts.length;
    }
    assert.equal(count, list.total);

    const sample = Array.from({ length: 200 }, (_, k) => (k * 4999 + 17) % N);
    const targets = dir.file('targets.txt');
    writeFileSync(targets, sample.map(ipOf).join('\n'));
    const q = peer.exec('/usr/bin/python3', [join(REPO, 'test/fixtures/arp_query.py'), peer.peerIf, targets], 60000);
    assert.equal(q.status, 0, q.stderr);
    const answers = JSON.parse(q.stdout) as Record<string, string>;
    for (const i of sample) assert.equal(answers[ipOf(i)], macOf(i), `reply for ${ipOf(i)}`);
  });
});
