// The counters and drop reasons TypeScript knows are exactly those the addon counts, in order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddon } from '../src/dataplane/addon';
import { COUNTER_NAMES, DROP_REASONS, VIOLATION_REASONS } from '../src/dataplane/counter_names';
import { REPO } from './helpers/daemon';

describe('counter names', () => {
  it('the addon reports the generated lists (loading it does not start EAL)', () => {
    const addon = loadAddon();
    assert.deepEqual([...addon.counterNames], [...COUNTER_NAMES]);
    assert.deepEqual([...addon.dropReasonNames], [...DROP_REASONS]);
    assert.deepEqual([...addon.violationNames], [...VIOLATION_REASONS]);
  });

  it('the generated file matches counters.def', () => {
    const def = readFileSync(join(REPO, 'native/core/counters.def'), 'utf8');
    const names = (kind: string): string[] =>
      [...def.matchAll(new RegExp(`^MICROARP_${kind}\\((\\w+),`, 'gm'))].map((m) => m[1]!);
    assert.deepEqual(names('COUNTER'), [...COUNTER_NAMES]);
    assert.deepEqual(names('DROP'), [...DROP_REASONS]);
    assert.deepEqual(names('VIOLATION'), [...VIOLATION_REASONS]);
  });
});
