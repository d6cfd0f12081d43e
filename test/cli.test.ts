// Every client command against a running daemon, with bad input and the documented exit codes
// (0 ok, 1 runtime error, 2 usage/validation error).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CLI, TempDir, runCli } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';

const TOKEN = 'cli-token-0123456789abcdef';

describe('CLI against a running daemon', () => {
  const dir = new TempDir();
  let daemon: LiveDaemon;
  let S: string[];
  let tcpUrl: string;

  before(async () => {
    daemon = await startDaemon(dir, {
      ports: [{ name: 'p0', device: 'net_ring0' }],
      table: { capacity: 10000 },
      bindings: [{ ip: '10.90.0.1', mac: '02:90:00:00:00:01' }],
      api: { socket: dir.file('cli.sock'), listen: '127.0.0.1:0', token: TOKEN },
    });
    S = ['--socket', daemon.socket];
    tcpUrl = daemon.started.api.find((a) => a.startsWith('http'))!;
  });
  after(async () => {
    assert.equal((await daemon.stop()).code, 0);
    dir.remove();
  });

  it('bindings add / add --replace / del, with exit codes', async () => {
    let r = await runCli(['bindings', 'add', '10.90.0.2', '02:90:00:00:00:02', ...S]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['bindings', 'add', '10.90.0.2', '02:90:00:00:00:03', ...S]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already bound to 02:90:00:00:00:02/);
    r = await runCli(['bindings', 'add', '10.90.0.2', '02:90:00:00:00:03', '--replace', '--json', ...S]);
    assert.equal(r.code, 0);
    r = await runCli(['bindings', 'add', '10.90.0.2', '02:90:00:00:00:04', '--vlan', '7', ...S]);
    assert.equal(r.code, 0);
    r = await runCli(['bindings', 'del', '10.90.0.2', '--vlan', '7', ...S]);
    assert.equal(r.code, 0);
    r = await runCli(['bindings', 'del', '10.90.0.2', '--vlan', '7', ...S]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no binding|no such binding/);
  });

  it('refuses bad arguments with exit 2 before contacting the daemon', async () => {
    for (const args of [
      ['bindings', 'add', '10.90.0.300', '02:90:00:00:00:02'],
      ['bindings', 'add', '10.90.0.3', 'ff:ff:ff:ff:ff:ff'],
      ['bindings', 'add', '10.90.0.3', '02:90:00:00:00:02', '--vlan', '4095'],
      ['bindings', 'del', 'x'],
      ['bindings', 'list', '--prefix', '10.0.0.1/8'],
      ['bindings', 'list', '--prefix', '2001:db8::1/64'],
      ['bindings', 'add', 'fe80::1%eth0', '02:90:00:00:00:02'],
      ['bindings', 'add', 'ff02::1', '02:90:00:00:00:02'],
      ['bindings', 'add', '10.90.0.3', '02:90:00:00:00:02', '--router'],
      ['bindings', 'del', '2001:db8::1::2'],
      ['bindings', 'frobnicate'],
      ['nosuchcommand'],
    ]) {
      const r = await runCli([...args, '--socket', dir.file('nobody.sock')]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /no microarp daemon answers/);
    }
  });

  it('says clearly when no daemon answers (exit 1)', async () => {
    const r = await runCli(['stats', '--socket', dir.file('nobody.sock')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no microarp daemon answers on unix:.*nobody\.sock/);
  });

  it('IPv6 bindings: add with --router, list with a ROUTER column, export CSV with the flag, delete', async () => {
    let r = await runCli(['bindings', 'add', '2001:DB8:90::0001', '02:90:06:00:00:01', '--router', '--vlan', '6', ...S]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'added: 2001:db8:90::1 vlan 6 -> 02:90:06:00:00:01 (router)');
    r = await runCli(['bindings', 'add', '2001:db8:90::2', '02:90:06:00:00:02', '--vlan', '6', ...S]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['bindings', 'add', '10.90.6.1', '02:90:06:00:00:03', '--vlan', '6', ...S]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['bindings', 'add', '2001:db8:90::2', '02:90:06:00:00:09', '--vlan', '6', '--replace', ...S]);
    assert.match(r.stdout, /^replaced: 2001:db8:90::2 vlan 6 -> 02:90:06:00:00:09 \(was 02:90:06:00:00:02\)$/m);

    r = await runCli(['bindings', 'list', '--vlan', '6', ...S]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^IP\s+VLAN\s+MAC\s+ROUTER\n10\.90\.6\.1\s+6\s+02:90:06:00:00:03\s*\n2001:db8:90::1\s+6\s+02:90:06:00:00:01\s+yes\n2001:db8:90::2\s+6\s+02:90:06:00:00:09\s+no\n/);
    r = await runCli(['bindings', 'list', '--prefix', '2001:db8:90::/48', '--json', ...S]);
    assert.deepEqual((JSON.parse(r.stdout) as { ip: string; router: boolean }[]).map((b) => [b.ip, b.router]), [['2001:db8:90::1', true], ['2001:db8:90::2', false]]);

    const out = dir.file('six.csv');
    r = await runCli(['bindings', 'export', '--vlan', '6', '--format', 'csv', '-o', out, ...S]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), [
      'ip,mac,vlan', '10.90.6.1,02:90:06:00:00:03,6', '2001:db8:90::1,02:90:06:00:00:01,6,true', '2001:db8:90::2,02:90:06:00:00:09,6',
    ]);
    r = await runCli(['bindings', 'import', out, '--json', ...S]);
    assert.equal((JSON.parse(r.stdout) as { unchanged: number }).unchanged, 3, r.stdout);

    for (const ip of ['2001:db8:90::1', '2001:db8:90:0:0:0:0:2', '10.90.6.1']) {
      r = await runCli(['bindings', 'del', ip, '--vlan', '6', ...S]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.match(r.stdout, /^removed: 10\.90\.6\.1 vlan 6$/m);
    r = await runCli(['bindings', 'del', '2001:db8:90::1', '--vlan', '6', ...S]);
    assert.equal(r.code, 1);
  });

  it('bindings list with filters, human and JSON', async () => {
    await runCli(['bindings', 'add', '10.90.1.1', '02:90:01:00:00:01', '--vlan', '9', ...S]);
    let r = await runCli(['bindings', 'list', ...S]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^IP\s+VLAN\s+MAC/m);
    assert.match(r.stdout, /10\.90\.0\.1\s+0\s+02:90:00:00:00:01/);
    r = await runCli(['bindings', 'list', '--vlan', '9', '--json', ...S]);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { ip: string; mac: string; vlan: number; source: string }[]).map(({ ip, mac, vlan, source }) => ({ ip, mac, vlan, source })),
      [{ ip: '10.90.1.1', mac: '02:90:01:00:00:01', vlan: 9, source: 'api' }],
    );
    r = await runCli(['bindings', 'list', '--prefix', '10.90.0.0/24', '--json', ...S]);
    assert.ok((JSON.parse(r.stdout) as { vlan: number }[]).every((b) => b.vlan === 0));
  });

  it('bindings import (CSV and NDJSON, all or nothing, --skip-bad) and export round trip', async () => {
    const csv = dir.file('hosts.csv');
    writeFileSync(csv, 'ip,mac,vlan\n' + Array.from({ length: 500 }, (_, i) => `10.91.${i >> 8}.${i & 255},02:91:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')},3`).join('\n') + '\n');
    let r = await runCli(['bindings', 'import', csv, ...S]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 500 \(added 500, replaced 0, unchanged 0\), rejected 0/);

    const bad = dir.file('bad.ndjson');
    writeFileSync(bad, '{"ip":"10.92.0.1","mac":"02:92:00:00:00:01"}\n{"ip":"10.92.0.2"}\n');
    r = await runCli(['bindings', 'import', bad, ...S]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /line 2: mac:/);
    assert.match(r.stderr, /nothing was imported/);
    r = await runCli(['bindings', 'list', '--prefix', '10.92.0.0/24', '--json', ...S]);
    assert.deepEqual(JSON.parse(r.stdout), []);
    r = await runCli(['bindings', 'import', bad, '--skip-bad', '--json', ...S]);
    assert.equal(r.code, 0);
    assert.equal((JSON.parse(r.stdout) as { imported: number }).imported, 1);
    r = await runCli(['bindings', 'import', dir.file('absent.csv'), ...S]);
    assert.equal(r.code, 2);

    const out = dir.file('export.csv');
    r = await runCli(['bindings', 'export', '--format', 'csv', '-o', out, ...S]);
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(rows[0], 'ip,mac,vlan');
    assert.ok(rows.includes('10.91.1.243,02:91:00:00:01:f3,3'));
    r = await runCli(['bindings', 'export', ...S]);
    const exported = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ip: string });
    assert.equal(exported.length, rows.length - 1);
    // Export then import is a no-op.
    const nd = dir.file('all.ndjson');
    writeFileSync(nd, r.stdout);
    r = await runCli(['bindings', 'import', nd, '--json', ...S]);
    assert.equal((JSON.parse(r.stdout) as { unchanged: number }).unchanged, exported.length);
  });

  it('bindings import shows a progress bar on a terminal, and none when piped', async () => {
    const nd = dir.file('tty.ndjson');
    writeFileSync(nd, Array.from({ length: 2000 }, (_, i) => JSON.stringify({ ip: `10.94.${i >> 8}.${i & 255}`, mac: '02:94:00:00:00:01' })).join('\n') + '\n');
    const command = [process.execPath, CLI, 'bindings', 'import', nd, ...S].map((a) => `'${a}'`).join(' ');
    // script(1) gives the command a pseudo-terminal, as a person's shell would.
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(tty.status, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /importing \[#+\] 100%/);
    assert.match(tty.stdout, /imported 2000 \(added 2000/);
    const piped = await runCli(['bindings', 'import', nd, ...S]);
    assert.doesNotMatch(piped.stderr + piped.stdout, /importing \[/);
  });

  it('stats and ports, human and JSON', async () => {
    let r = await runCli(['stats', ...S]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /replies_sent/);
    assert.match(r.stdout, /table: \d+ of 10000 bindings/);
    assert.match(r.stdout, /^LCORE\s+RX\s+BUSY\s+CYCLES\/FRAME$/m);
    assert.match(r.stdout, /^\d+\s+\d+\s+(\d+\.\d%|-)\s+(\d+|-)$/m);
    r = await runCli(['stats', '--json', ...S]);
    assert.ok(typeof (JSON.parse(r.stdout) as { counters: { rx_packets: number } }).counters.rx_packets === 'number');
    r = await runCli(['ports', ...S]);
    assert.match(r.stdout, /^PORT\s+DEVICE\s+LINK/m);
    assert.match(r.stdout, /p0\s+net_ring0\s+up/);
    r = await runCli(['ports', '--json', ...S]);
    assert.equal((JSON.parse(r.stdout) as { name: string }[])[0]!.name, 'p0');
  });

  it('reaches the daemon over TCP with --token or $MICROARP_API_TOKEN, and not without', async () => {
    let r = await runCli(['bindings', 'list', '--api', tcpUrl]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bearer token/);
    r = await runCli(['bindings', 'list', '--api', tcpUrl, '--token', TOKEN, '--json']);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['bindings', 'add', '10.93.0.1', '02:93:00:00:00:01', '--api', tcpUrl], { env: { MICROARP_API_TOKEN: TOKEN } });
    assert.equal(r.code, 0, r.stderr);
  });

  it('every command has accurate --help with an example', async () => {
    for (const args of [[], ['run'], ['check-config'], ['bindings'], ['bindings', 'add'], ['bindings', 'del'], ['bindings', 'list'], ['bindings', 'import'], ['bindings', 'export'], ['stats'], ['ports']]) {
      const r = await runCli([...args, '--help']);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: microarp/);
      assert.match(r.stdout, /Examples?:\n\s+microarp /, `${args.join(' ')} --help shows an example`);
    }
  });

  it('check-config accepts a good file (exit 0)', async () => {
    const file = dir.file('good.yaml');
    writeFileSync(file, `ports: [{name: p0, device: net_ring0}]\nstate_dir: ${dir.file('state')}\n`);
    const r = await runCli(['check-config', file]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /ok \(1 port\(s\), 0 binding\(s\)\)/);
  });
});
