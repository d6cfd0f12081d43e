// The README's main job: `microarp demo` builds its VMs, shows pings through microarp and ARP
// answered by it, and leaves nothing behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TempDir, runCli } from './helpers/daemon';

describe('microarp demo', () => {
  it('pings between VMs in one VLAN, not across, answers ARP itself, and cleans up', async () => {
    const dir = new TempDir();
    try {
      const r = await runCli(['demo', '--rounds', '2', '--interval', '1', '--metrics', '127.0.0.1:0', '--socket', dir.file('demo.sock')], { timeoutMs: 60000 });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /vm1 -> vm2 \(VLAN 10\):\s+ping ok/);
      assert.match(r.stdout, /vm1 resolved 10\.0\.10\.2 to 02:de:00:00:00:02 \(bound: 02:de:00:00:00:02\)/);
      assert.match(r.stdout, /vm1 -> vm3 \(VLAN 10 -> 20\):\s+ping no reply \(as it should/);
      assert.doesNotMatch(r.stdout, /unexpected/);
      const answered = [...r.stdout.matchAll(/(\d+) answered by microarp/g)].map((m) => Number(m[1]));
      assert.ok(answered.at(-1)! >= 2, r.stdout);
      assert.match(r.stdout, /removing the VMs/);
      const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(namespaces, /marpdemo-/, 'no demo namespace is left');
      assert.ok(!existsSync(dir.file('demo.sock')), 'the control socket is removed');
    } finally {
      dir.remove();
    }
  });

  it('--help says how to run on real NICs', async () => {
    const r = await runCli(['demo', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /On real NICs instead/);
    assert.match(r.stdout, /0000:01:00\.0/);
  });
});
