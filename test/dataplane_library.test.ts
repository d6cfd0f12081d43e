// The Dataplane class used as a library, in this test file's own process (EAL starts once per
// process, and node --test gives each file its own).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dataplane, DataplaneError } from '../src/dataplane/dataplane';
import type { Binding, Binding6, Update } from '../src/dataplane/updates';

const prefix = `microarp-lib-${process.pid}`;

function bindings(count: number, base: number): Binding[] {
  return Array.from({ length: count }, (_, k) => ({
    ip: base + k,
    mac: Uint8Array.of(0x02, 0x11, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff),
    vlan: 0,
  }));
}

/** IPv6 bindings 2001:db8:<base>::k, each with its own MAC. */
function bindings6(count: number, base: number, router = false): Binding6[] {
  return Array.from({ length: count }, (_, k) => {
    const ip = new Uint8Array(16);
    ip.set([0x20, 0x01, 0x0d, 0xb8, base >>> 8, base & 0xff]);
    ip.set([(k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff], 12);
    return { ip, mac: Uint8Array.of(0x02, 0x66, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff), vlan: 6, router };
  });
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

  it('IPv6 updates: two records each, counted once per binding, across the writer\'s bursts and batches', async () => {
    const before = dp.snapshot().table;
    let base = 1;
    let total = 0;
    // An IPv4 update first puts every IPv6 op's address record one past the burst's edge.
    for (const [size, shifted] of [[1, false], [127, false], [128, true], [129, false], [255, true], [40000, true]] as const) {
      const six = bindings6(size, base++);
      const updates: Update[] = [
        ...(shifted ? [{ op: 'upsert' as const, ip: 0x0d000000 + base, vlan: 6, mac: Uint8Array.of(2, 0, 0, 0, 0, base) }] : []),
        ...six.map((b) => ({ op: 'upsert6' as const, ...b })),
      ];
      const summary = await dp.apply(updates);
      assert.equal(summary.added, updates.length, `batch of ${size}`);
      total += size;
      assert.equal(dp.snapshot().table.ipv6Bindings - before.ipv6Bindings, total);
    }
    const six = bindings6(300, 100);
    assert.equal((await dp.upsert(six)).added, 300);
    assert.equal((await dp.upsert(six)).unchanged, 300);
    assert.equal((await dp.upsert(bindings6(300, 100, true))).replaced, 300, 'the router flag is part of the binding');
    const removed = await dp.remove([...six, ...bindings6(2, 101)].map(({ ip, vlan }) => ({ ip, vlan })));
    assert.deepEqual([removed.removed, removed.missing], [300, 2]);
    const after = dp.snapshot().table;
    assert.equal(after.bindings - before.bindings, total + 3, 'table.bindings counts both families (and the three IPv4 ones)');
    assert.equal(after.ipv6Capacity, 65536);

    // Past ipv6Capacity: table_full, one per binding.
    const room = after.ipv6Capacity - after.ipv6Bindings;
    const full = await dp.upsert(bindings6(room + 5, 200));
    assert.deepEqual([full.added, full.tableFull], [room, 5]);
    await assert.rejects(dp.upsert([{ ip: new Uint8Array(16).fill(0xff), mac: Uint8Array.of(2, 0, 0, 0, 0, 1), vlan: 0 }]), /multicast/);
    await assert.rejects(dp.upsert([{ ip: new Uint8Array(15), mac: Uint8Array.of(2, 0, 0, 0, 0, 1), vlan: 0 }]), /16 bytes/);
  });
});

