// A real Linux kernel as the client: a network namespace on a veth whose other end is a
// net_af_packet port of microarp.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { NetnsPeer } from './helpers/netns';
import { CLI, TempDir, withTestDefaults } from './helpers/daemon';

const BOUND_IP = '10.77.0.7';
const BOUND_MAC = '02:77:00:00:00:07';
const UNBOUND_IP = '10.77.0.99';

for (const workers of [1, 2]) describe(`Linux kernel peer over net_af_packet, ${workers} worker(s)`, () => {
  const peer = new NetnsPeer('10.77.0.1/24');
  const dir = new TempDir();
  let daemon: ChildProcess | undefined;
  let stderr = '';

  before(async () => {
    peer.create();
    const config = dir.file('peer.yaml');
    writeFileSync(
      config,
      JSON.stringify(withTestDefaults(dir, {
        // With two workers the kernel's fanout spreads frames over two queue pairs.
        ports: [{ name: 'vm', device: `net_af_packet0,iface=${peer.hostIf},qpairs=${workers}` }],
        workers,
        table: { capacity: 1024 },
        bindings: [{ ip: BOUND_IP, mac: BOUND_MAC }],
      })),
    );
    daemon = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${stderr}`)), 20000);
      daemon!.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('"msg":"started"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      daemon!.on('exit', (code) => reject(new Error(`daemon exited ${code}:\n${stderr}`)));
    });
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon!.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    peer.remove();
    dir.remove();
  });

  it('arping from the namespace gets the bound MAC from microarp', () => {
    const r = peer.exec('arping', ['-c', '3', '-w', '5', '-I', peer.peerIf, BOUND_IP]);
    assert.equal(r.status, 0, `arping failed:\n${r.stdout}${r.stderr}`);
    // Debian's arping (Habets): "60 bytes from <mac> (<ip>): index=0 time=..."
    const replies = r.stdout.split('\n').filter((l) => l.includes(`bytes from ${BOUND_MAC} (${BOUND_IP})`));
    assert.equal(replies.length, 3, r.stdout);
  });

  it("the kernel's own resolution installs the bound MAC as a neighbour", () => {
    peer.exec('ip', ['neigh', 'flush', 'dev', peer.peerIf]);
    // Any datagram makes the kernel resolve the next hop; nobody answers the ping itself.
    peer.exec('ping', ['-c', '1', '-W', '1', BOUND_IP]);
    const neigh = peer.exec('ip', ['neigh', 'show', BOUND_IP, 'dev', peer.peerIf]);
    assert.match(neigh.stdout, new RegExp(`lladdr ${BOUND_MAC} (REACHABLE|STALE|DELAY|PROBE)`), neigh.stdout);
  });

  it('an unbound IP gets no reply', () => {
    const r = peer.exec('arping', ['-c', '2', '-w', '3', '-I', peer.peerIf, UNBOUND_IP]);
    assert.notEqual(r.status, 0, r.stdout);
    assert.doesNotMatch(r.stdout, /bytes from/, r.stdout);
    peer.exec('ping', ['-c', '1', '-W', '1', UNBOUND_IP]);
    const neigh = peer.exec('ip', ['neigh', 'show', UNBOUND_IP, 'dev', peer.peerIf]);
    assert.doesNotMatch(neigh.stdout, /lladdr/, neigh.stdout);
  });
});
