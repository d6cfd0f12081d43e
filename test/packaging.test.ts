// What an operator installs (packaging/): the systemd unit, its hugepages and readiness
// helpers, the example config, the Prometheus rules and scrape config.
//
// The unit is checked three ways: systemd-analyze verify (with /opt/microarp pointing at this
// checkout); every command it runs, run here in a form that changes nothing on this machine
// (check-config, --dry-run, the hugepages script in a private mount namespace over a stand-in
// of /sys/kernel/mm/hugepages); and the unit itself under a real systemd 252 running as PID 1
// of its own PID, mount and cgroup namespaces (this machine's PID 1 is not systemd, and a test
// must not install units on a host's systemd anyway): start waits for /readyz, the sandbox
// holds while DPDK answers a Linux peer's ARP, reload checks the file then sends SIGHUP, a
// crash restarts it, stop is clean, a bad config fails with exit 2 and is not restarted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load';
import { CLI, REPO, TempDir, withTestDefaults } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { PROMTOOL } from './helpers/prometheus';

const UNIT = join(REPO, 'packaging/systemd/microarp.service');
const EXAMPLE_CONFIG = join(REPO, 'packaging/microarp.yaml');
const RULES = join(REPO, 'packaging/prometheus/microarp-alerts.yml');
const RULE_TESTS = join(REPO, 'packaging/prometheus/microarp-alerts.test.yml');
const SCRAPE_CONFIG = join(REPO, 'packaging/prometheus/prometheus.yml');
const SYSTEMD = '/lib/systemd/systemd';
const INSTALLED = '/opt/microarp';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input: options.input, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60000 });
}

/** The unit's keys, in order; a key given more than once (Exec*, Environment) has every value. */
function readUnit(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `unit line '${line}'`);
    const key = line.slice(0, eq);
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

const unitText = readFileSync(UNIT, 'utf8');
const unit = readUnit(unitText);
/** The unit's own Environment= defaults. */
const unitEnv = Object.fromEntries((unit.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

/** This checkout in place of /opt/microarp, and this node in place of /usr/bin/node. */
function localized(text: string): string {
  return text.replaceAll(INSTALLED, REPO).replaceAll('/usr/bin/node', process.execPath);
}

/** An Exec line as argv: prefixes (+-@:!) dropped, ${VAR} expanded from `env`, paths localized. */
function argv(line: string, env: Record<string, string>): string[] {
  return localized(line.replace(/^[-+@:!]+/, ''))
    .split(/\s+/)
    .map((word) => word.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? whole));
}

function one(key: string): string {
  const values = unit.get(key) ?? [];
  assert.equal(values.length, 1, `${key}: ${JSON.stringify(values)}`);
  return values[0]!;
}

describe('packaging/systemd/microarp.service, checked here', () => {
  const dir = new TempDir();
  after(() => dir.remove());

  it('systemd-analyze verify accepts it with its paths in this checkout, without a warning; a missing path it refuses', () => {
    const file = dir.file('microarp.service');
    writeFileSync(file, localized(unitText));
    const ok = run('systemd-analyze', ['verify', file]);
    assert.equal(ok.status, 0, `systemd-analyze verify:\n${ok.stdout}${ok.stderr}`);
    assert.equal(`${ok.stdout}${ok.stderr}`.trim(), '', 'no warning');
    // verify resolves the executables, so the check above means something.
    writeFileSync(file, unitText.replaceAll(INSTALLED, '/nonexistent/microarp'));
    const bad = run('systemd-analyze', ['verify', file]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /\/nonexistent\/microarp\/packaging\/systemd\/microarp-hugepages\.sh is not executable/);
  });

  it('ExecStart is `microarp run --config $MICROARP_CONFIG` with options run really has', () => {
    const start = argv(one('ExecStart'), unitEnv);
    assert.deepEqual(start, [process.execPath, CLI, 'run', '--config', '/etc/microarp/microarp.yaml']);
    assert.equal(one('Type'), 'exec');
    const help = run(start[0]!, [start[1]!, 'run', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /-c, --config <file>/);
  });

  it('the example config passes ExecReload\'s check-config and agrees with the unit: StateDirectory, RuntimeDirectory, hugepages, the scrape target', () => {
    const [check, hup] = unit.get('ExecReload')!;
    assert.equal(hup, '/bin/kill -HUP $MAINPID');
    assert.ok(statSync('/bin/kill').mode & 0o111, '/bin/kill is executable');
    const cmd = argv(check!, { ...unitEnv, MICROARP_CONFIG: EXAMPLE_CONFIG });
    assert.deepEqual(cmd.slice(2), ['check-config', EXAMPLE_CONFIG]);
    const r = run(cmd[0]!, cmd.slice(1));
    assert.equal(r.status, 0, `check-config:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /microarp\.yaml: ok \(3 port\(s\), 4 binding\(s\)\)/);

    const config = loadConfig(EXAMPLE_CONFIG);
    assert.equal(config.stateDir, `/var/lib/${one('StateDirectory')}`);
    assert.equal(dirname(config.api.socket!), `/run/${one('RuntimeDirectory')}`);
    assert.equal(config.hugepages, 'on', 'the unit prepares hugepages: the config says it needs them');
    assert.equal(one('LimitMEMLOCK'), 'infinity');
    const scrape = parse(readFileSync(SCRAPE_CONFIG, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = scrape.scrape_configs.find((s) => s.job_name === 'microarp')!;
    assert.deepEqual(job.static_configs[0]!.targets, [`${config.metricsListen!.host}:${config.metricsListen!.port}`]);
  });

  it('ExecStartPre: the hugepages script is valid bash, and its --dry-run here changes nothing', () => {
    const cmd = argv(one('ExecStartPre'), unitEnv);
    assert.ok(one('ExecStartPre').startsWith('+'), 'it runs outside the sandbox');
    assert.equal(cmd[0], join(REPO, 'packaging/systemd/microarp-hugepages.sh'));
    assert.deepEqual(cmd.slice(1), ['--pages', '512', '--size', '2M', '--mount', '/dev/hugepages']);
    assert.ok(statSync(cmd[0]!).mode & 0o111, 'executable');
    const syntax = run('bash', ['-n', cmd[0]!]);
    assert.equal(syntax.status, 0, syntax.stderr);

    const pool = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages';
    const before = [readFileSync(pool, 'utf8'), readFileSync('/proc/mounts', 'utf8')];
    const r = run(cmd[0]!, [...cmd.slice(1), '--dry-run']);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /(would reserve 512 2M hugepages|2M hugepages reserved \(at least 512 wanted\): unchanged)/);
    assert.match(r.stdout, /(would mount a hugetlbfs of 2M pages on \/dev\/hugepages|already mounted on \/dev\/hugepages)/);
    assert.deepEqual([readFileSync(pool, 'utf8'), readFileSync('/proc/mounts', 'utf8')], before);

    const usage = run(cmd[0]!, ['--size', '4M']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--size must be 2M or 1G, got '4M'/);
  });

  it('the hugepages script reserves and mounts once, then leaves both as they are; it fails clearly when the kernel says no', () => {
    // A private mount namespace: a tmpfs stands in for /sys/kernel/mm/hugepages, the hugetlbfs
    // is mounted on a directory of the test; neither is visible outside.
    const script = join(REPO, 'packaging/systemd/microarp-hugepages.sh');
    const mnt = dir.file('hugepages');
    const other = dir.file('not-hugetlbfs');
    mkdirSync(other);
    const pool = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages';
    const steps = `
      set -u
      mount -t tmpfs none /sys/kernel/mm/hugepages
      mkdir /sys/kernel/mm/hugepages/hugepages-2048kB && echo 0 > ${pool}
      state() { echo "=== $1 rc=$2 nr=$(cat ${pool}) mounts=$(grep -c " ${mnt} hugetlbfs .*pagesize=2M" /proc/mounts)"; }
      ${script} --pages 8 --mount ${mnt}; state first $?
      ${script} --pages 8 --mount ${mnt}; state again $?
      ${script} --pages 4 --mount ${mnt}; state fewer $?
      mount --bind /dev/null ${pool}; ${script} --pages 16 --mount ${mnt}; rc=$?; umount ${pool}; state kernel-gives-none $rc
      mount --bind ${pool} ${pool}; mount -o remount,ro,bind ${pool}; ${script} --pages 16 --mount ${mnt}; rc=$?; umount ${pool}; state read-only $rc
      mount -t tmpfs none ${other}; ${script} --pages 8 --mount ${other}; state tmpfs-there $?
    `;
    const r = run('unshare', ['--mount', '--propagation', 'private', 'bash', '-s'], { input: steps });
    const state = Object.fromEntries([...r.stdout.matchAll(/^=== (\S+) rc=(\d+) nr=(\d+) mounts=(\d+)$/gm)].map((m) => [m[1], { rc: Number(m[2]), nr: Number(m[3]), mounts: Number(m[4]) }]));
    const out = `${r.stdout}${r.stderr}`;
    assert.deepEqual(state.first, { rc: 0, nr: 8, mounts: 1 }, out);
    assert.match(r.stdout, /reserved 8 2M hugepages \(was 0\)/);
    assert.match(r.stdout, new RegExp(`mounted a hugetlbfs of 2M pages on ${mnt}`));
    assert.deepEqual(state.again, { rc: 0, nr: 8, mounts: 1 }, `run again: nothing changes, nothing mounted twice\n${out}`);
    assert.match(r.stdout, /8 2M hugepages reserved \(at least 8 wanted\): unchanged/);
    assert.deepEqual(state.fewer, { rc: 0, nr: 8, mounts: 1 }, `never lowered\n${out}`);
    assert.deepEqual(state['kernel-gives-none'], { rc: 1, nr: 8, mounts: 1 }, out);
    assert.match(r.stderr, /asked the kernel for 16 2M hugepages, it reserved only 0 .*kernel command line hugepagesz=2M hugepages=16/);
    assert.deepEqual(state['read-only'], { rc: 1, nr: 8, mounts: 1 }, out);
    assert.match(r.stderr, /cannot write \/sys\/kernel\/mm\/hugepages\/hugepages-2048kB\/nr_hugepages/);
    assert.equal(state['tmpfs-there']?.rc, 1, out);
    assert.match(r.stderr, new RegExp(`${other} is a tmpfs mount, not a hugetlbfs`));
    assert.doesNotMatch(readFileSync('/proc/mounts', 'utf8'), new RegExp(dir.path), 'nothing mounted outside the namespace');
  });

  describe('ExecStartPost: the readiness wait', () => {
    const waitReady = join(REPO, 'packaging/systemd/microarp-wait-ready.js');
    const config = dir.file('ready.yaml');
    let daemon: LiveDaemon | undefined;
    after(async () => {
      await daemon?.stop();
    });

    it('is the unit\'s ExecStartPost, with the daemon\'s pid', () => {
      assert.deepEqual(argv(one('ExecStartPost'), { ...unitEnv, MICROARP_CONFIG: config }), [
        process.execPath, waitReady, '--config', config, '--pid', '${MAINPID}', '--timeout', '90',
      ]);
    });

    it('returns only once /readyz answers 200: started before the daemon, it waits for it', async () => {
      const pcap = join(REPO, 'examples/arp-requests.pcap');
      const daemonConfig = withTestDefaults(dir, { ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${pcap},tx_pcap=${dir.file('tx.pcap')}` }] });
      writeFileSync(config, JSON.stringify(daemonConfig));
      const waiter = spawn(process.execPath, [waitReady, '--config', config, '--timeout', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      waiter.stdout.on('data', (c: Buffer) => (output += c.toString()));
      waiter.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => waiter.once('exit', resolve));
      await sleep(1500);
      assert.equal(waiter.exitCode, null, `it waits while no daemon runs: ${output}`);
      daemon = await startDaemon(dir, daemonConfig);
      const startedAt = Date.now();
      assert.equal(await exited, 0, output);
      assert.ok(Date.now() - startedAt < 5000, 'it notices within seconds');
      assert.match(output, /^microarp-wait-ready: ready after \d+\.\d s: \{"ready":true\}$/m);
    });

    it('fails fast when the process it waits for is gone, and after --timeout when nobody answers', async () => {
      const gone = spawn('true');
      await new Promise((resolve) => gone.once('exit', resolve));
      const missing = { ...withTestDefaults(dir, { ports: [{ name: 'p0', device: 'net_ring0' }] }), api: { socket: dir.file('nobody.sock') } };
      writeFileSync(dir.file('nobody.yaml'), JSON.stringify(missing));
      let t = Date.now();
      const dead = run(process.execPath, [waitReady, '--config', dir.file('nobody.yaml'), '--pid', String(gone.pid), '--timeout', '30']);
      assert.equal(dead.status, 1);
      assert.ok(Date.now() - t < 3000, 'fast');
      assert.match(dead.stderr, new RegExp(`microarp \\(pid ${gone.pid}\\) exited before it was ready \\(last answer from ${dir.file('nobody.sock')}: ENOENT\\)`));
      t = Date.now();
      const late = run(process.execPath, [waitReady, '--config', dir.file('nobody.yaml'), '--timeout', '1']);
      assert.equal(late.status, 1);
      assert.ok(Date.now() - t >= 1000 && Date.now() - t < 5000);
      assert.match(late.stderr, /microarp not ready after 1 s/);
      const noConfig = run(process.execPath, [waitReady, '--config', dir.file('absent.yaml')]);
      assert.equal(noConfig.status, 2);
      assert.match(noConfig.stderr, /invalid config .*absent\.yaml/);
    });
  });
});

/** The cgroup2 hierarchy's mount point (unified, or a hybrid host's /sys/fs/cgroup/unified). */
function cgroup2Mount(): string | undefined {
  return readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
}

/** Units the namespace's systemd must never start: they would touch this machine's shared state. */
const MASKED = [
  'sysinit.target', 'basic.target', 'local-fs.target', 'swap.target', 'sockets.target', 'timers.target', 'paths.target',
  'network.target', 'network-online.target', 'network-pre.target', 'multi-user.target', 'default.target', 'getty.target',
  'systemd-tmpfiles-setup.service', 'systemd-tmpfiles-setup-dev.service', 'systemd-tmpfiles-clean.service', 'systemd-tmpfiles-clean.timer',
  'systemd-journald.service', 'systemd-journald.socket', 'systemd-journald-dev-log.socket', 'systemd-udevd.service',
  'systemd-remount-fs.service', 'systemd-sysctl.service', 'systemd-random-seed.service', 'dev-hugepages.mount', 'dpdk.service',
];

const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();

describe('packaging/systemd/microarp.service under a real systemd, as PID 1 of its own namespaces', { skip: pid1 === 'systemd' ? 'PID 1 is systemd here: its cgroup tree is not this test\'s to use' : false }, () => {
  const dir = new TempDir();
  const peer = new NetnsPeer('10.0.77.1/24');
  const cgroup = join(cgroup2Mount() ?? '/nonexistent', `microarp-test-${process.pid}-${randomBytes(3).toString('hex')}`);
  const log = dir.file('daemon.log');
  const config = dir.file('microarp.yaml');
  let unshare: ChildProcess | undefined;
  let init = 0;

  /** systemctl inside the namespaces. */
  const systemctl = (...args: string[]): SpawnSyncReturns<string> =>
    run('nsenter', ['-t', String(init), '-m', '-p', '-u', 'systemctl', '--no-pager', ...args]);
  type Shown = Record<'ActiveState' | 'SubState' | 'Result' | 'MainPID' | 'ExecMainStatus' | 'NRestarts', string>;
  const show = (): Shown => {
    const r = systemctl('show', 'microarp', '-p', 'ActiveState,SubState,Result,MainPID,ExecMainStatus,NRestarts');
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) as Shown;
  };
  /** A path as the namespaces see it. */
  const inside = (path: string): string => `/proc/${init}/root${path}`;
  const readyz = (): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath: inside('/run/microarp/microarp.sock'), path: '/readyz' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      });
      req.on('error', reject);
      req.end();
    });
  const daemonLog = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const writeConfig = (extra: Record<string, unknown> = {}): void => {
    writeFileSync(config, stringify({
      ports: [
        { name: 'p0', device: `net_pcap0,rx_pcap=${join(REPO, 'examples/arp-requests.pcap')},tx_pcap=${dir.file('tx.pcap')}` },
        { name: 'vm', device: `net_af_packet0,iface=${peer.hostIf}` },
      ],
      // The defaults the unit provides for: /var/lib/microarp and /run/microarp/microarp.sock,
      // both private to the namespaces. DPDK runs without hugepages: this machine has none.
      hugepages: 'off',
      memory_mb: 256,
      metrics: 'off',
      bindings: [{ ip: '10.0.77.9', mac: '02:00:00:77:00:09' }],
      ...extra,
    }));
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'root');
    assert.ok(existsSync(SYSTEMD), SYSTEMD);
    assert.ok(cgroup2Mount(), 'a cgroup2 hierarchy is mounted');
    peer.create();
    writeConfig();
    const units = dir.file('units');
    mkdirSync(join(units, 'microarp.service.d'), { recursive: true });
    writeFileSync(join(units, 'microarp.service'), localized(unitText));
    // Only what makes it run here: no default dependencies (they pull in the boot), this test's
    // config, 4 pages on a hugetlbfs of its own, the output in a file (no journald here).
    writeFileSync(join(units, 'microarp.service.d', 'test.conf'), [
      '[Unit]', 'DefaultDependencies=no',
      '[Service]', `Environment=MICROARP_CONFIG=${config}`, 'Environment=MICROARP_HUGEPAGES=4', `Environment=MICROARP_HUGEPAGE_MOUNT=${dir.file('hugepages')}`,
      `StandardOutput=append:${log}`, `StandardError=append:${log}`, '',
    ].join('\n'));
    writeFileSync(join(units, 'microarp-test.target'), '[Unit]\nDefaultDependencies=no\n');
    // PID 1 of the namespaces: a cgroup2 of its own (rooted at the test's cgroup), a private
    // /run, /var/lib and stand-in hugepages pool, then systemd, in container mode.
    writeFileSync(dir.file('init.sh'), [
      'set -e',
      'umount -R -l /sys/fs/cgroup',
      'mount -t cgroup2 none /sys/fs/cgroup',
      'mount -t tmpfs -o mode=755 tmpfs /run',
      'mount -t tmpfs tmpfs /var/lib',
      'mount -t tmpfs tmpfs /sys/kernel/mm/hugepages',
      'mkdir /sys/kernel/mm/hugepages/hugepages-2048kB',
      'echo 0 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
      'mkdir -p /run/systemd/system /run/lock',
      `cp -r ${units}/. /run/systemd/system/`,
      ...MASKED.map((u) => `ln -sf /dev/null /run/systemd/system/${u}`),
      'export container=microarp-test',
      `exec ${SYSTEMD} --system --unit=microarp-test.target --log-target=null`,
      '',
    ].join('\n'));
    mkdirSync(cgroup);
    // Whatever ends this test, the namespaces end with it: unshare dies with this process
    // (setpriv --pdeathsig) and takes their PID 1, and so every process in them, along
    // (--kill-child).
    unshare = spawn('bash', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec setpriv --pdeathsig KILL unshare --kill-child --cgroup --pid --fork --mount --propagation private --uts --ipc --mount-proc bash ${dir.file('init.sh')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    unshare.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    // systemd is the unshare's child; it is up once systemctl gets an answer.
    const deadline = Date.now() + 20000;
    for (;;) {
      const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
      init = Number(children.split(' ')[0]) || 0;
      if (init && systemctl('is-system-running').stdout.trim() !== '') break;
      assert.ok(Date.now() < deadline && unshare.exitCode === null, `systemd did not come up: ${stderr}`);
      await sleep(200);
    }
  });

  after(async () => {
    if (init) systemctl('stop', 'microarp');
    if (unshare && unshare.exitCode === null && unshare.signalCode === null) {
      const exited = new Promise((resolve) => unshare!.once('exit', resolve));
      unshare.kill('SIGKILL');
      await exited;
    }
    // Once the last process has left them, the cgroups systemd made under the test's one go,
    // deepest first.
    const remove = (path: string): void => {
      for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) remove(join(path, entry.name));
      rmdirSync(path);
    };
    for (let i = 0; existsSync(cgroup); i++) {
      try {
        remove(cgroup);
      } catch (error) {
        if (i >= 100) throw error;
        await sleep(100);
      }
    }
    peer.remove();
    dir.remove();
  });

  it('start: hugepages prepared, and the start job ends only once /readyz answers 200', async () => {
    const r = systemctl('start', 'microarp');
    assert.equal(r.status, 0, `systemctl start:\n${r.stdout}${r.stderr}\n${systemctl('status', 'microarp').stdout}\n${daemonLog()}`);
    // No wait here: when `systemctl start` returns, microarp answers.
    assert.deepEqual(await readyz(), { status: 200, body: '{"ready":true}' });
    const s = show();
    assert.equal(`${s.ActiveState}/${s.SubState}`, 'active/running');
    const text = daemonLog();
    const order = ['microarp-hugepages: reserved 4 2M hugepages (was 0)', `mounted a hugetlbfs of 2M pages on ${dir.file('hugepages')}`, '"msg":"started"', 'microarp-wait-ready: ready after'];
    const at = order.map((line) => text.indexOf(line));
    assert.ok(at.every((i) => i >= 0), `every step logged:\n${text}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, 'in this order');
    assert.ok(existsSync(inside('/var/lib/microarp/bindings.db')), 'state_dir is the StateDirectory');
  });

  it('the sandbox holds while DPDK runs: no new privileges, a seccomp filter, /usr and /etc read-only, /home hidden; a Linux peer is answered', () => {
    const pid = show().MainPID;
    const status = readFileSync(inside(`/proc/${pid}/status`), 'utf8');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m);
    const bounding = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(status)![1]}`);
    const has = (bit: number): boolean => ((bounding >> BigInt(bit)) & 1n) === 1n;
    assert.deepEqual([has(12), has(13), has(14), has(21)], [true, true, true, true], 'CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK, CAP_SYS_ADMIN kept');
    assert.deepEqual([has(22), has(25)], [false, false], 'CAP_SYS_BOOT, CAP_SYS_TIME dropped');
    // LimitMEMLOCK=infinity, unless this machine withholds CAP_SYS_RESOURCE from every process
    // (then no one, systemd included, can raise a hard limit: it sets the closest it can).
    const canRaise = ((BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n) === 1n;
    const ours = /^Max locked memory\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
    const memlock = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(readFileSync(inside(`/proc/${pid}/limits`), 'utf8'))!;
    assert.deepEqual([memlock[1], memlock[2]], canRaise ? ['unlimited', 'unlimited'] : [ours, ours]);
    const mounts = readFileSync(inside(`/proc/${pid}/mountinfo`), 'utf8').split('\n').map((l) => l.split(' '));
    const options = (point: string): string[] => (mounts.filter((f) => f[4] === point).at(-1)?.[5] ?? '').split(',');
    assert.ok(options('/usr').includes('ro'), '/usr read-only');
    assert.ok(options('/etc').includes('ro'), '/etc read-only');
    assert.ok(options('/home').length > 0 && options('/home').includes('ro'), '/home replaced by an empty read-only mount');
    // The dataplane answers through its AF_PACKET socket, under all of it.
    const arping = peer.exec('arping', ['-c', '3', '-w', '6', '-i', peer.peerIf, '10.0.77.9']);
    assert.match(arping.stdout, /from 02:00:00:77:00:09/i, `arping:\n${arping.stdout}${arping.stderr}`);
  });

  it('reload: the file is checked, then SIGHUP; a file that does not validate fails the reload and the daemon runs on', () => {
    const before = show().MainPID;
    const ok = systemctl('reload', 'microarp');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((daemonLog().match(/"msg":"reload requested"/g) ?? []).length, 1, daemonLog());
    writeFileSync(config, `${readFileSync(config, 'utf8')}ports: [\n`);
    const bad = systemctl('reload', 'microarp');
    assert.notEqual(bad.status, 0);
    assert.match(daemonLog(), /microarp: invalid config/);
    assert.equal((daemonLog().match(/"msg":"reload requested"/g) ?? []).length, 1, 'no SIGHUP for a bad file');
    writeConfig();
    const s = show();
    assert.equal(s.ActiveState, 'active');
    assert.equal(s.MainPID, before);
  });

  it('a crash (kill -9) is restarted after RestartSec, and ready again', async () => {
    const before = show().MainPID;
    const kill = run('nsenter', ['-t', String(init), '-p', '-m', 'kill', '-9', before]);
    assert.equal(kill.status, 0, kill.stderr);
    const deadline = Date.now() + 30000;
    let s = show();
    while (!(s.NRestarts === '1' && s.ActiveState === 'active' && s.MainPID !== before && s.MainPID !== '0')) {
      if (Date.now() > deadline) {
        const proc = (f: string): string => (existsSync(inside(`/proc/${before}/${f}`)) ? readFileSync(inside(`/proc/${before}/${f}`), 'utf8') : '(gone)');
        assert.fail(`not restarted: ${JSON.stringify(s)}\n${/^State:.*$/m.exec(proc('status'))?.[0]} wchan ${proc('wchan')}\n${proc('stack')}`);
      }
      await sleep(250);
      s = show();
    }
    assert.deepEqual(await readyz(), { status: 200, body: '{"ready":true}' });
  });

  it('stop: SIGTERM, exit 0, the final counters, no EAL runtime directory and no API socket left', () => {
    const pid = show().MainPID;
    const r = systemctl('stop', 'microarp');
    assert.equal(r.status, 0, r.stderr);
    const s = show();
    assert.deepEqual([s.ActiveState, s.Result, s.ExecMainStatus], ['inactive', 'success', '0']);
    const text = daemonLog();
    assert.match(text.slice(text.lastIndexOf('"msg":"started"')), /"msg":"stopped"/);
    assert.match(text, /^lcore 1: rx \d+/m);
    assert.ok(!existsSync(inside(`/run/dpdk/microarp-${pid}`)), 'EAL runtime directory removed');
    assert.ok(!existsSync(inside('/run/microarp')), 'RuntimeDirectory removed at stop');
  });

  it('a config that does not validate: the start fails with exit 2 and is not restarted', async () => {
    writeConfig({ ports: [] });
    const r = systemctl('start', 'microarp');
    assert.notEqual(r.status, 0);
    await sleep(4000); // two RestartSec
    const s = show();
    assert.deepEqual([s.ActiveState, s.Result, s.ExecMainStatus, s.NRestarts], ['failed', 'exit-code', '2', '0'], JSON.stringify(s));
    assert.match(daemonLog(), /microarp: invalid config \S+microarp\.yaml: 1 problem\n\s+ports: must be a non-empty list/);
  });
});

describe('packaging/prometheus', () => {
  const dir = new TempDir();
  after(() => dir.remove());

  it('promtool checks the rules and the scrape config', () => {
    const rules = run(PROMTOOL, ['check', 'rules', RULES]);
    assert.equal(rules.status, 0, `${rules.stdout}${rules.stderr}`);
    assert.match(rules.stdout, /SUCCESS: 20 rules found/);
    const config = run(PROMTOOL, ['check', 'config', SCRAPE_CONFIG]);
    assert.equal(config.status, 0, `${config.stdout}${config.stderr}`);
  });

  interface RuleFile { groups: { name: string; rules: { alert: string; expr: string }[] }[] }
  const ruleFile = (): RuleFile => parse(readFileSync(RULES, 'utf8')) as RuleFile;

  it('promtool test rules passes; each alert has a test that fires and the healthy host fires none', () => {
    const r = run(PROMTOOL, ['test', 'rules', RULE_TESTS]);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS/);
    const alerts = ruleFile().groups.flatMap((g) => g.rules.map((rule) => rule.alert));
    const tests = (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    for (const alert of alerts) {
      assert.ok(tests.some((t) => t.alert_rule_test.some((a) => a.alertname === alert && a.exp_alerts.length > 0)), `${alert} fires in a test`);
    }
    const healthy = tests.at(-1)!.alert_rule_test;
    assert.deepEqual(healthy.map((a) => a.alertname).sort(), [...alerts].sort(), 'the healthy host is checked for every alert');
    assert.ok(healthy.every((a) => a.exp_alerts.length === 0));
  });

  it('the tests catch an alert that never fires and one that always does', () => {
    // Each alert broken in turn, both ways: promtool test rules must fail every time.
    copyFileSync(RULE_TESTS, dir.file('microarp-alerts.test.yml'));
    for (const alert of ruleFile().groups.flatMap((g) => g.rules.map((rule) => rule.alert))) {
      for (const expr of ['vector(0) > 1', 'vector(1)']) {
        const broken = ruleFile();
        for (const g of broken.groups) for (const rule of g.rules) if (rule.alert === alert) rule.expr = expr;
        writeFileSync(dir.file('microarp-alerts.yml'), stringify(broken));
        const r = run(PROMTOOL, ['test', 'rules', dir.file('microarp-alerts.test.yml')]);
        assert.equal(r.status, 1, `${alert} as '${expr}' passed the tests`);
      }
    }
  });
});
