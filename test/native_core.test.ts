// Runs the C++ unit tests (test/native/*.cc, built by CMake) and reports each of their TAP lines
// as a test of its own: the optimised build, then the same tests built with AddressSanitizer and
// UBSan (build/asan/), where any sanitizer report fails the suite.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './helpers/daemon';

interface Suite {
  binary: string;
  title: string;
  atLeast: number;
  sanitized?: boolean;
}

const CORE = 'native core (C++ unit tests on byte arrays)';
const ND_FRAME = 'IPv6 Neighbor Discovery frames (C++ unit tests on byte arrays)';
const FLAT = 'FlatTable, the lock-free table (C++ unit tests, readers racing a writer)';
const ND = 'NdTable, the lock-free IPv6 table (C++ unit tests, readers racing a writer)';
const SUITES: Suite[] = [
  { binary: 'core_tests', title: CORE, atLeast: 20 },
  { binary: 'nd_frame_tests', title: ND_FRAME, atLeast: 30 },
  { binary: 'flat_table_tests', title: FLAT, atLeast: 4 },
  { binary: 'nd_table_tests', title: ND, atLeast: 8 },
  { binary: 'asan/core_tests', title: `${CORE}, under ASan and UBSan`, atLeast: 20, sanitized: true },
  { binary: 'asan/nd_frame_tests', title: `${ND_FRAME}, under ASan and UBSan`, atLeast: 30, sanitized: true },
  { binary: 'asan/flat_table_tests', title: `${FLAT}, under ASan and UBSan`, atLeast: 4, sanitized: true },
  { binary: 'asan/nd_table_tests', title: `${ND}, under ASan and UBSan`, atLeast: 8, sanitized: true },
];

// Every report fatal and visible; leaks reported at exit. The racing test runs for a fixed time,
// so a slower sanitized build takes as long, only with fewer operations.
const SANITIZER_ENV = {
  ...process.env,
  ASAN_OPTIONS: 'detect_leaks=1:halt_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

for (const suite of SUITES) {
  describe(suite.title, () => {
    const binary = join(REPO, 'build', suite.binary);
    assert.ok(existsSync(binary), `${binary} is missing: run bash scripts/setup.sh`);
    const run = spawnSync(binary, {
      encoding: 'utf8',
      timeout: 120_000,
      env: suite.sanitized ? SANITIZER_ENV : process.env,
    });
    const lines = run.stdout.split('\n');
    const plan = /^1\.\.(\d+)$/m.exec(run.stdout);

    it('ran every planned case', () => {
      assert.ok(plan, `no TAP plan in:\n${run.stdout}\n${run.stderr}`);
      const results = lines.filter((l) => /^(not )?ok \d+/.test(l));
      assert.equal(results.length, Number(plan[1]));
      assert.ok(results.length >= suite.atLeast);
    });

    if (suite.sanitized) {
      it('is built with AddressSanitizer and UBSan', () => {
        // The runtimes it needs, as its dynamic section names them.
        const image = readFileSync(binary).toString('latin1');
        assert.match(image, /libasan\.so/);
        assert.match(image, /libubsan\.so/);
      });
      it('finished with no sanitizer report', () => {
        assert.doesNotMatch(run.stderr, /ERROR: (Address|Leak)Sanitizer|runtime error:/, run.stderr);
        assert.equal(run.signal, null, `killed by ${run.signal}`);
        assert.equal(run.status, 0, run.stderr);
      });
    }

    lines.forEach((line, i) => {
      const m = /^(not ok|ok) \d+ - (.*)$/.exec(line);
      if (!m) return;
      it(m[2]!, () => {
        assert.equal(m[1], 'ok', lines[i + 1]?.trim());
      });
    });
  });
}
