// The fuzz targets (native/fuzz/, run by scripts/fuzz.sh): a short run of every target finds
// nothing and leaves the repository's corpus as it was; a planted bug is reported with a
// reproducer that replays; the committed seed corpus is what its generator writes; and the bug
// the fuzzers found stays fixed in the real dataplane.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { etherFrame } from './helpers/frames';
import { REPO, TempDir, runDaemon } from './helpers/daemon';
import { readPcap, writePcap } from './helpers/pcap';
import { CORPUS_DIR, TARGETS, writeCorpus } from './fuzz/make_corpus';

/** Executions a target must reach in its share of the run to count as having run at all. */
const MIN_EXECUTIONS = 10_000;

const dirs: TempDir[] = [];
after(() => dirs.forEach((d) => d.remove()));
function tempDir(): TempDir {
  const d = new TempDir();
  dirs.push(d);
  return d;
}

/** Every file under `dir` as relative path -> contents (hex). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), readFileSync(path).toString('hex'));
  }
  return out;
}

/** Each target's libFuzzer stat lines, from the "== target" sections of the script's output. */
function statsByTarget(output: string): Map<string, Record<string, number>> {
  const stats = new Map<string, Record<string, number>>();
  let current: Record<string, number> | undefined;
  for (const line of output.split('\n')) {
    const section = /^== (\S+)$/.exec(line);
    if (section) {
      current = {};
      stats.set(section[1]!, current);
      continue;
    }
    const stat = /^stat::(\w+):\s+(\d+)$/.exec(line);
    if (stat && current) current[stat[1]!] = Number(stat[2]);
  }
  return stats;
}

describe('fuzz targets (scripts/fuzz.sh)', () => {
  it('npm run fuzz -- --seconds 20: every target runs a non-trivial number of inputs and finds nothing', () => {
    const before = snapshot(CORPUS_DIR);
    const out = tempDir();
    const run = spawnSync('npm', ['run', '--silent', 'fuzz', '--', '--seconds', '20', '--out', out.path], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 80_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output);
    assert.match(run.stdout, /no findings/);
    const stats = statsByTarget(run.stdout);
    assert.deepEqual([...stats.keys()].sort(), [...TARGETS].sort(), output);
    for (const target of TARGETS) {
      const s = stats.get(target)!;
      assert.ok(s.number_of_executed_units! >= MIN_EXECUTIONS, `${target}: ${s.number_of_executed_units} executions\n${output}`);
      assert.ok(s.average_exec_per_sec! > 0, `${target}: no exec/s figure`);
      assert.deepEqual(readdirSync(join(out.path, target, 'findings')), [], `${target} left a reproducer`);
      // The run's corpus started from the seeds and grew there, not in the repository.
      assert.ok(readdirSync(join(out.path, target, 'corpus')).length >= readdirSync(join(CORPUS_DIR, target)).length);
    }
    assert.deepEqual(snapshot(CORPUS_DIR), before, 'the run changed test/fuzz/corpus');
  });

  it('reports a finding: a planted bug exits non-zero and leaves a reproducer that replays', () => {
    const out = tempDir();
    const run = spawnSync('bash', ['scripts/fuzz.sh', '--plant-bug', '--targets', 'classify_frame', '--seconds', '10', '--out', out.path], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 1, output);
    assert.match(run.stdout, /FINDING in classify_frame/);
    assert.match(run.stdout, /heap-buffer-overflow/, 'AddressSanitizer names the bug');
    const findings = join(out.path, 'classify_frame', 'findings');
    const reproducers = readdirSync(findings).filter((f) => f.startsWith('crash-'));
    assert.equal(reproducers.length, 1, output);
    const reproducer = join(findings, reproducers[0]!);
    assert.ok(run.stdout.includes(`reproducer: ${reproducer}`), 'the output names the reproducer');

    // The reproducer crashes the planted build again, and the real target takes it cleanly.
    const planted = spawnSync(join(REPO, 'build/fuzz-planted/classify_frame'), [reproducer], { encoding: 'utf8' });
    assert.notEqual(planted.status, 0, planted.stderr);
    assert.match(planted.stderr, /heap-buffer-overflow/);
    const real = spawnSync(join(REPO, 'build/fuzz/classify_frame'), [reproducer], { encoding: 'utf8' });
    assert.equal(real.status, 0, real.stderr);
  });

  it('the committed seed corpus is exactly what test/fuzz/make_corpus.ts writes', () => {
    const fresh = tempDir();
    writeCorpus(fresh.path);
    const want = snapshot(fresh.path);
    const have = snapshot(CORPUS_DIR);
    assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), 'run: node dist/test/fuzz/make_corpus.js');
    for (const [name, bytes] of want) assert.equal(have.get(name), bytes, `${name} differs: run node dist/test/fuzz/make_corpus.js`);
    for (const target of TARGETS) assert.ok(readdirSync(join(fresh.path, target)).length > 0, `no seeds for ${target}`);
    assert.ok(want.size <= 500, `${want.size} seed files: keep the corpus small`);
  });
});

describe("the fuzzers' findings, through the real dataplane", () => {
  it('a priority-tagged frame admitted into VLAN 10 leaves a trunk tagged 10, its priority kept', async () => {
    // vlan_tag found it (test/fuzz/corpus/vlan_tag/edge-priority-tagged-*): the frame left the
    // trunk with VLAN id 0, into the native VLAN of whatever was behind it.
    const dir = tempDir();
    const frame = etherFrame(0x0800, '02:00:00:00:00:01');
    const priorityTag = Buffer.from([0x81, 0x00, 0xa0, 0x00]); // PCP 5, VLAN id 0
    const tagged = Buffer.concat([frame.subarray(0, 12), priorityTag, frame.subarray(12)]);
    writePcap(dir.file('a0.pcap'), [tagged]);
    writePcap(dir.file('t0.pcap'), []);
    const ports = [
      { name: 'a0', device: `net_pcap0,rx_pcap=${dir.file('a0.pcap')},tx_pcap=${dir.file('a0.tx.pcap')}`, mode: 'access', vlan: 10 },
      { name: 't0', device: `net_pcap1,rx_pcap=${dir.file('t0.pcap')},tx_pcap=${dir.file('t0.tx.pcap')}`, mode: 'trunk', vlans: [10, 20] },
    ];
    const result = await runDaemon(dir, { ports }, { until: (s) => s.counters.rx_packets! >= 1 });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(dir.file('t0.tx.pcap')));
    const sent = readPcap(dir.file('t0.tx.pcap'));
    assert.equal(sent.length, 1);
    const expected = Buffer.concat([frame.subarray(0, 12), Buffer.from([0x81, 0x00, 0xa0, 0x0a]), frame.subarray(12)]);
    assert.equal(sent[0]!.toString('hex'), expected.toString('hex'));
  });
});
