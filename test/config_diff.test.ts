// What a reload would change, decided from two versions of the file, for the cases the live
// test (reload_netns) does not drive: static FDB entries, a binding whose MAC changed, a port
// that became another port, and settings only a restart can change; IPv6 bindings and a port's
// router flag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load';
import { diffConfig } from '../src/daemon/config_diff';
import { formatIp } from '../src/dataplane/address';

const base = {
  state_dir: 'off',
  ports: [
    { name: 'a', device: 'net_null0', mode: 'access', vlan: 10 },
    { name: 'b', device: 'net_null1', mode: 'access', vlan: 10 },
  ],
  bindings: [
    { ip: '10.0.0.1', mac: '02:00:00:00:00:01', vlan: 10 },
    { ip: '10.0.0.2', mac: '02:00:00:00:00:02', vlan: 10 },
  ],
  fdb: { static: [{ mac: '02:00:00:00:00:01', vlan: 10, port: 'a' }] },
};
const parse = (c: unknown): ReturnType<typeof parseConfigText> => parseConfigText(JSON.stringify(c), 'test.yaml');
const edited = (edit: (c: typeof base & Record<string, unknown>) => void): ReturnType<typeof parseConfigText> => {
  const c = structuredClone(base) as typeof base & Record<string, unknown>;
  edit(c);
  return parse(c);
};

describe('config diff for a reload', () => {
  it('the same file: nothing to apply, nothing needing a restart', () => {
    const d = diffConfig(parse(base), parse(base));
    assert.deepEqual([d.applied, d.needsRestart, d.ports], [[], [], []]);
  });

  it('a binding whose MAC changed is replaced; a new one added; a dropped one removed', () => {
    const d = diffConfig(parse(base), edited((c) => {
      c.bindings[0]!.mac = '02:00:00:00:00:99';
      c.bindings[1] = { ip: '10.0.0.3', mac: '02:00:00:00:00:03', vlan: 10 };
    }));
    assert.deepEqual(d.bindingsUpsert.map((b) => [b.ip, [...b.mac]]), [[0x0a000001, [2, 0, 0, 0, 0, 0x99]], [0x0a000003, [2, 0, 0, 0, 0, 3]]]);
    assert.deepEqual(d.bindingsRemove.map((b) => b.ip), [0x0a000002]);
  });

  it('static FDB entries: moved to another port, added, removed', () => {
    const d = diffConfig(parse(base), edited((c) => {
      c.fdb.static = [{ mac: '02:00:00:00:00:01', vlan: 10, port: 'b' }, { mac: '02:00:00:00:00:05', vlan: 10, port: 'a' }];
    }));
    assert.deepEqual(d.fdbAdd.map((e) => [e.port, e.mac[5]]), [['b', 1], ['a', 5]]);
    assert.deepEqual(d.fdbRemove, []);
    const removed = diffConfig(parse(base), edited((c) => void (c.fdb.static = [])));
    assert.deepEqual(removed.fdbRemove.map((e) => e.mac[5]), [1]);
  });

  it('a port that became another port, and settings of the process, need a restart', () => {
    const d = diffConfig(parse(base), edited((c) => {
      c.ports[1]!.device = 'net_null7';
      c.ports[0]!.vlan = 20;
      c.memory_mb = 1024;
      c.learning = { probe_mac: '02:00:00:00:00:aa' };
      (c.fdb as Record<string, unknown>).capacity = 1024;
    }));
    assert.deepEqual(d.needsRestart, ['memory_mb', 'fdb.capacity', 'learning.probe_mac', 'ports[0] (a: name, device, mode, VLANs or uplink)', 'ports[1] (b: name, device, mode, VLANs or uplink)']);
    assert.deepEqual(d.ports, [], 'nothing is applied to a port that is not the same port');
    assert.equal(d.learning, undefined, 'the probe MAC alone is no live learning change');
  });

  it('enforce replaces every port\'s security snapshot', () => {
    const d = diffConfig(parse(base), edited((c) => void (c.enforce = 'observe')));
    assert.deepEqual(d.ports.map((p) => [p.name, p.security]), [['a', true], ['b', true]]);
    assert.equal(d.enforce, 'observe');
  });

  it('IPv6 static bindings: added, removed, and replaced when the MAC or the router flag changes, however spelled', () => {
    const six = edited((c) => {
      c.bindings.push({ ip: '2001:db8::1', mac: '02:00:00:00:00:61', vlan: 10 }, { ip: '2001:db8::2', mac: '02:00:00:00:00:62', vlan: 10, router: true } as never);
    });
    const respelled = edited((c) => {
      c.bindings.push({ ip: '2001:DB8:0::1', mac: '02:00:00:00:00:61', vlan: 10 }, { ip: '2001:db8:0:0:0:0:0:2', mac: '02:00:00:00:00:62', vlan: 10, router: true } as never);
    });
    const nothing = diffConfig(six, respelled);
    assert.deepEqual([nothing.applied, nothing.bindingsUpsert, nothing.bindingsRemove], [[], [], []]);

    const added = diffConfig(parse(base), six);
    assert.deepEqual(added.bindingsUpsert.map((b) => formatIp(b.ip)), ['2001:db8::1', '2001:db8::2']);
    assert.deepEqual(added.applied, ['bindings: 2 added or changed (2001:db8::1 vlan 10, 2001:db8::2 vlan 10)']);

    const changed = diffConfig(six, edited((c) => {
      c.bindings.push({ ip: '2001:db8::1', mac: '02:00:00:00:00:61', vlan: 10, router: true } as never, { ip: '2001:db8::3', mac: '02:00:00:00:00:63', vlan: 10 });
    }));
    assert.deepEqual(changed.bindingsUpsert.map((b) => [formatIp(b.ip), 'router' in b && b.router === true]), [['2001:db8::1', true], ['2001:db8::3', false]]);
    assert.deepEqual(changed.bindingsRemove.map((b) => formatIp(b.ip)), ['2001:db8::2']);
    assert.deepEqual(changed.needsRestart, []);
  });

  it("a port's router flag and its IPv6 allowed_subnets are live security changes", () => {
    const d = diffConfig(parse(base), edited((c) => {
      (c.ports[0] as Record<string, unknown>).router = true;
      (c.ports[1] as Record<string, unknown>).allowed_subnets = ['10.0.10.0/24', '2001:db8:10::/64'];
    }));
    assert.deepEqual(d.ports.map((p) => [p.name, p.security]), [['a', true], ['b', true]]);
    assert.deepEqual(d.applied, [
      'ports.a.router: false -> true',
      'ports.b.allowed_subnets: [] -> ["10.0.10.0/24","2001:db8:10::/64"]',
    ]);
    assert.deepEqual(d.needsRestart, []);
    assert.deepEqual(diffConfig(parse(base), edited((c) => void ((c as Record<string, unknown>).table = { ipv6_capacity: 1024 }))).needsRestart, ['table']);
  });

  it("a port's nd_rate is a live security change of its own", () => {
    const d = diffConfig(parse(base), edited((c) => {
      (c.ports[1] as Record<string, unknown>).nd_rate = { pps: 100 };
    }));
    assert.deepEqual(d.ports.map((p) => [p.name, p.security]), [['b', true]]);
    assert.deepEqual(d.applied, ['ports.b.nd_rate: {"pps":0,"burst":0} -> {"pps":100,"burst":200}']);
    assert.deepEqual(d.needsRestart, []);
  });
});
