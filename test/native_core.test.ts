// Runs the C++ unit tests (test/native/*.cc, built by CMake) and reports each of their TAP lines
// as a test of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './helpers/daemon';

const SUITES = [
  { binary: 'core_tests', title: 'native core (C++ unit tests on byte arrays)', atLeast: 20 },
  { binary: 'flat_table_tests', title: 'FlatTable, the lock-free table (C++ unit tests, readers racing a writer)', atLeast: 4 },
];

for (const suite of SUITES) {
  describe(suite.title, () => {
    const binary = join(REPO, 'build', suite.binary);
    assert.ok(existsSync(binary), `${binary} is missing: run bash scripts/setup.sh`);
    const run = spawnSync(binary, { encoding: 'utf8' });
    const lines = run.stdout.split('\n');
    const plan = /^1\.\.(\d+)$/m.exec(run.stdout);

    it('ran every planned case', () => {
      assert.ok(plan, `no TAP plan in:\n${run.stdout}\n${run.stderr}`);
      const results = lines.filter((l) => /^(not )?ok \d+/.test(l));
      assert.equal(results.length, Number(plan[1]));
      assert.ok(results.length >= suite.atLeast);
    });

    lines.forEach((line, i) => {
      const m = /^(not ok|ok) \d+ - (.*)$/.exec(line);
      if (!m) return;
      it(m[2]!, () => {
        assert.equal(m[1], 'ok', lines[i + 1]?.trim());
      });
    });
  });
}
