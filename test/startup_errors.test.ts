// Start-up failures after validation (a device EAL cannot open) end with a clear message,
// exit 1, and leave no EAL runtime directory behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, writeFileSync } from 'node:fs';
import { TempDir, runCli } from './helpers/daemon';

describe('start-up errors', () => {
  it('a port whose device cannot be opened: exit 1, named port, nothing left behind', async () => {
    const dir = new TempDir();
    try {
      const file = dir.file('c.yaml');
      writeFileSync(file, `state_dir: off\nports:\n  - name: uplink\n    device: net_af_packet0,iface=nosuchif0\n`);
      const r = await runCli(['run', '--config', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /port 'uplink': no DPDK device named 'net_af_packet0'/);
      assert.match(r.stderr, /\[PORT_NOT_FOUND\]/);
      const prefix = /microarp-\d+/.exec(r.stderr)?.[0];
      if (prefix) assert.ok(!existsSync(`/var/run/dpdk/${prefix}`));
    } finally {
      dir.remove();
    }
  });

  it('too little memory for the ports: exit 1, naming the memory and the keys to change', async () => {
    const dir = new TempDir();
    try {
      const file = dir.file('c.yaml');
      const ports = [0, 1, 2, 3].map((i) => `  - {name: p${i}, device: "net_null${i}"}`).join('\n');
      writeFileSync(file, `state_dir: off\nmemory_mb: 64\ntable: {capacity: 1024}\nports:\n${ports}\n`);
      const r = await runCli(['run', '--config', file]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /not enough DPDK memory for \d+ mbufs \(about \d+ MiB for 4 port\(s\).*raise memory_mb, use hugepages, or lower rx_descriptors\/tx_descriptors \[MEMPOOL\]/);
    } finally {
      dir.remove();
    }
  });

  it('a table that cannot hold the config bindings is refused before anything starts', async () => {
    const dir = new TempDir();
    try {
      const file = dir.file('c.yaml');
      writeFileSync(
        file,
        'state_dir: off\nports: [{name: p0, device: "net_null0"}]\ntable: {capacity: 1}\nbindings:\n' +
          '  - {ip: 10.0.0.1, mac: "02:00:00:00:00:01"}\n  - {ip: 10.0.0.2, mac: "02:00:00:00:00:02"}\n',
      );
      const r = await runCli(['run', '--config', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /bindings: 2 bindings do not fit table\.capacity 1/);
    } finally {
      dir.remove();
    }
  });
});
