// A real Prometheus server (Debian's /usr/bin/prometheus, installed by scripts/setup.sh)
// scrapes a running microarp and sees the counters the dataplane reports; promtool checks that
// /metrics is valid exposition text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { arpFrame } from './helpers/frames';
import { writePcap } from './helpers/pcap';
import { CLI, TempDir, withTestDefaults } from './helpers/daemon';
import { PROMTOOL, startPrometheus, until, type PrometheusServer } from './helpers/prometheus';

const REQUESTS = 37;
const BAD_HTYPE = 3;
const UNBOUND = 2;

// Every daemon this file starts. after() stops them; this is the net for runs where it does
// not run (node 20 runs before() but not after() of a suite whose tests a --test-name-pattern
// filtered out): SIGTERM lets microarp clean up its EAL state itself.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Started {
  child: ChildProcess;
  started: Record<string, unknown>;
  output: () => string;
}

/** Spawns `microarp run` and resolves with its "started" log line. */
function startDaemon(configFile: string): Promise<Started> {
  const child = track(spawn(process.execPath, [CLI, 'run', '--config', configFile, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let stderr = '';
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`microarp did not start:\n${stderr}`)), 30000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const line = stderr.split('\n').find((l) => l.includes('"msg":"started"'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, started: JSON.parse(line) as Record<string, unknown>, output: () => stderr });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`microarp exited (${code ?? signal}) before starting:\n${stderr}`));
    });
  });
}

/** SIGTERM to this child only, and wait for it to exit. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  await exited;
  clearTimeout(timer);
}

describe('Prometheus scrapes microarp', () => {
  const dir = new TempDir();
  let daemon: Started | undefined;
  let prometheus: PrometheusServer | undefined;
  let metricsUrl = '';

  before(async () => {
    // 37 requests for bound targets, 3 with a bad hardware type, 2 for an unbound target
    // (flooded, but there is no other port: dropped as no_flood_port).
    const frames = [
      ...Array.from({ length: REQUESTS }, (_, i) =>
        arpFrame({ sha: '02:00:00:00:01:01', spa: '10.88.0.1', tpa: `10.88.0.${10 + (i % 3)}` })),
      ...Array.from({ length: BAD_HTYPE }, () =>
        arpFrame({ sha: '02:00:00:00:01:01', spa: '10.88.0.1', tpa: '10.88.0.10', htype: 6 })),
      ...Array.from({ length: UNBOUND }, () =>
        arpFrame({ sha: '02:00:00:00:01:01', spa: '10.88.0.1', tpa: '10.88.0.200' })),
    ];
    writePcap(dir.file('rx.pcap'), frames);
    const config = dir.file('microarp.yaml');
    writeFileSync(
      config,
      JSON.stringify(withTestDefaults(dir, {
        ports: [{ name: 'p0', device: `net_pcap0,rx_pcap=${dir.file('rx.pcap')},tx_pcap=${dir.file('tx.pcap')}` }],
        table: { capacity: 1024 },
        bindings: [10, 11, 12].map((n) => ({ ip: `10.88.0.${n}`, mac: `02:88:00:00:00:${n}` })),
        metrics: { listen: '127.0.0.1:0' },
        learning: 'off', // the table count below is exact
      })),
    );
    daemon = await startDaemon(config);
    metricsUrl = String(daemon.started.metrics);
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'the started line names the metrics URL');
    const target = new URL(metricsUrl).host;

    prometheus = await startPrometheus(
      dir,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: microarp',
        '    metrics_path: /metrics',
        `    static_configs: [{targets: ["${target}"]}]`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await prometheus?.stop();
    await stop(daemon?.child);
    dir.remove();
  });

  /** Polls an instant query until it returns one sample equal to `expected` (~30 s). */
  async function expectValue(expr: string, expected: number): Promise<void> {
    let seen = 'no sample';
    await until(`${expr} == ${expected} in Prometheus`, 30000, async () => {
      const result = await prometheus!.query(expr);
      seen = JSON.stringify(result);
      return result.length === 1 && Number(result[0]!.value[1]) === expected ? true : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nlast result: ${seen}\nprometheus log:\n${prometheus!.log()}`);
    });
  }

  it('/metrics is valid exposition text (promtool) with the counter TYPE lines', async () => {
    const r = await fetch(metricsUrl);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    assert.match(text, /^# TYPE microarp_replies_sent_total counter$/m);
    assert.match(text, /^# TYPE microarp_dropped_frames_total counter$/m);
    assert.match(text, /^# TYPE microarp_port_rx_packets_total counter$/m);
    assert.match(text, /^microarp_replies_sent_total\{lcore="1"\} \d+$/m);
    // Every line is a comment or a sample: name{labels} value.
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? [-+]?(\d+(\.\d+)?([eE][-+]?\d+)?|NaN|[-+]Inf)$/, line);
    }
    // promtool parses it with Prometheus's own parser and lints the names and types.
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20000 });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  });

  it('Prometheus sees every reply, the drop reasons and the port counters', async () => {
    await expectValue('up{job="microarp"}', 1);
    await expectValue('sum(microarp_replies_sent_total)', REQUESTS);
    await expectValue('sum(microarp_dropped_frames_total{reason="arp_bad_htype"})', BAD_HTYPE);
    await expectValue('sum(microarp_dropped_frames_total{reason="no_flood_port"})', UNBOUND);
    await expectValue('sum(microarp_dropped_frames_total{reason="tx_full"})', 0);
    await expectValue('microarp_port_rx_packets_total{port="p0"}', REQUESTS + BAD_HTYPE + UNBOUND);
    await expectValue('microarp_port_tx_packets_total{port="p0"}', REQUESTS);
    await expectValue('microarp_table_bindings', 3);
    await expectValue('microarp_table_ipv6_bindings', 0);
    // Where the worker's time went: it handled every frame, and polled an empty port after.
    await expectValue('sum(microarp_rx_packets_total)', REQUESTS + BAD_HTYPE + UNBOUND);
    await expectValue('sum(microarp_busy_cycles_total) > bool 0', 1);
    await expectValue('sum(microarp_idle_cycles_total) > bool sum(microarp_busy_cycles_total)', 1);
    await expectValue('max(microarp_worker_cycles_per_frame) > bool 0', 1);
  });
});
