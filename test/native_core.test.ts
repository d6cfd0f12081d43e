// Runs the pure C++ unit tests (test/native/core_tests.cc, built by CMake) and reports each of
// their TAP lines as a test of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './helpers/daemon';

const binary = join(REPO, 'build', 'core_tests');

describe('native core (C++ unit tests on byte arrays)', () => {
  assert.ok(existsSync(binary), `${binary} is missing: run bash scripts/setup.sh`);
  const run = spawnSync(binary, { encoding: 'utf8' });
  const lines = run.stdout.split('\n');
  const plan = /^1\.\.(\d+)$/m.exec(run.stdout);

  it('ran every planned case', () => {
    assert.ok(plan, `no TAP plan in:\n${run.stdout}\n${run.stderr}`);
    const results = lines.filter((l) => /^(not )?ok \d+/.test(l));
    assert.equal(results.length, Number(plan[1]));
    assert.ok(results.length >= 20);
  });

  lines.forEach((line, i) => {
    const m = /^(not ok|ok) \d+ - (.*)$/.exec(line);
    if (!m) return;
    it(m[2]!, () => {
      assert.equal(m[1], 'ok', lines[i + 1]?.trim());
    });
  });
});
