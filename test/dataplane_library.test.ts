// The Dataplane class used as a library, in this test file's own process (EAL starts once per
// process, and node --test gives each file its own).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dataplane, DataplaneError } from '../src/dataplane/dataplane';
import type { Binding } from '../src/dataplane/updates';

const prefix = `microarp-lib-${process.pid}`;

function bindings(count: number, base: number): Binding[] {
  return Array.from({ length: count }, (_, k) => ({
    ip: base + k,
    mac: Uint8Array.of(0x02, 0x11, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff),
    vlan: 0,
  }));
}

describe('Dataplane as a library', () => {
  let dp: Dataplane;

  before(async () => {
    dp = await Dataplane.start({
      ealArgs: ['microarp', '--lcores', '0@(0-1),1@1', '--main-lcore', '0', '--no-huge', '-m', '512', '--file-prefix', prefix, '--no-pci', '--no-telemetry', '--log-level', 'lib.eal:notice', '--vdev', 'net_null0'],
      ports: [{ name: 'p0', device: 'net_null0' }],
      tableCapacity: 200000,
      unknown: 'drop',
      pdump: false,
    });
  });
  after(async () => {
    await dp.stop();
  });

  it('every batch size resolves, exact multiples of the writer burst (256) included', async () => {
    let base = 0x0a000000;
    let total = 0;
    for (const size of [1, 255, 256, 257, 512, 1024, 4096, 65536]) {
      const summary = await Promise.race([
        dp.upsert(bindings(size, base)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`a batch of ${size} did not resolve`)), 10000).unref()),
      ]);
      assert.equal(summary.added, size);
      total += size;
      base += size;
      assert.equal(dp.snapshot().table.bindings, total);
    }
  });

  it('replaces, leaves identical bindings unchanged, removes, and reports missing ones', async () => {
    const base = 0x0b000000;
    await dp.upsert(bindings(10, base));
    const same = await dp.upsert(bindings(10, base));
    assert.equal(same.unchanged, 10);
    const other = bindings(10, base).map((b) => ({ ...b, mac: Uint8Array.of(0x02, 0x22, 0, 0, 0, 1) }));
    assert.equal((await dp.upsert(other)).replaced, 10);
    const removed = await dp.remove(bindings(12, base).map(({ ip, vlan }) => ({ ip, vlan })));
    assert.equal(removed.removed, 10);
    assert.equal(removed.missing, 2);
  });

  it('concurrent batches all resolve and all land', async () => {
    const before = dp.snapshot().table.bindings;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => dp.upsert(bindings(1000 + i * 256, 0x0c000000 + i * 0x10000))));
    const added = results.reduce((n, r) => n + r.added, 0);
    assert.equal(added, Array.from({ length: 8 }, (_, i) => 1000 + i * 256).reduce((a, b) => a + b, 0));
    assert.equal(dp.snapshot().table.bindings, before + added);
  });

  it('refuses bad updates before they reach the dataplane, and a second start', async () => {
    await assert.rejects(dp.upsert([{ ip: 2 ** 32, mac: Uint8Array.of(2, 0, 0, 0, 0, 1), vlan: 0 }]), DataplaneError);
    await assert.rejects(dp.upsert([{ ip: 1, mac: Uint8Array.of(1, 0, 0, 0, 0, 1), vlan: 0 }]), /multicast/);
    await assert.rejects(dp.upsert([{ ip: 1, mac: Uint8Array.of(2, 0, 0, 0, 0, 1), vlan: 4095 }]), /VLAN/);
    await assert.rejects(
      Dataplane.start({ ealArgs: ['x'], ports: [{ name: 'p', device: 'net_null1' }], tableCapacity: 1, unknown: 'drop' }),
      (e: DataplaneError) => e.code === 'EAL_ALREADY',
    );
  });
});
