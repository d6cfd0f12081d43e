// Start-up failures after validation (a device EAL cannot open) end with a clear message,
// exit 1, and leave no EAL runtime directory behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync, writeFileSync } from 'node:fs';
import { TempDir, runCli, runDaemon } from './helpers/daemon';
import { arpFrame } from './helpers/frames';
import { writePcap } from './helpers/pcap';

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

  it("a port that needs more mbufs than 'mbufs' gives: exit 1, naming the key and the pool's size", async () => {
    const dir = new TempDir();
    try {
      // net_pcap's infinite_rx keeps every frame of the file in an mbuf of the pool.
      const pcap = dir.file('many.pcap');
      writePcap(pcap, Array.from({ length: 3000 }, () => arpFrame({ sha: '02:00:00:00:00:01', spa: '10.0.0.1', tpa: '10.0.0.7' })));
      const port = { name: 'p0', device: `net_pcap0,rx_pcap=${pcap},infinite_rx=1` };
      const r = await runDaemon(dir, { mbufs: 2048, ports: [port] });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /port 'p0' \(net_pcap0\): RX queue setup failed: .*more mbufs than the pool's 2048, raise 'mbufs'\) \[PORT_SETUP\]/);
      assert.match(r.stderr, /At least 3000 mbufs/); // the driver's own word, kept next to ours
      // The same port with room for the file runs.
      const ok = await runDaemon(dir, { mbufs: 8192, ports: [port] }, { until: (s) => s.counters.rx_packets! > 0 });
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(ok.final!.counters.rx_packets! > 0);
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
