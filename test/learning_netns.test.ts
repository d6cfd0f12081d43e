// Passive learning with Linux VMs as the hosts: a VM that only announces itself becomes
// answerable; learned bindings are refreshed by probing their owner and age out when it is
// gone; learning stays inside its subnets and caps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../src/api/client';
import { TempDir } from './helpers/daemon';
import { startDaemon, type LiveDaemon } from './helpers/live_daemon';
import { NetnsPeer } from './helpers/netns';
import { waitFor } from './helpers/wait';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface BindingBody {
  ip: string;
  mac: string;
  source: string;
  port?: string;
  hits: number;
  last_seen: string;
}

describe('passive learning', () => {
  const dir = new TempDir();
  const vmA = new NetnsPeer('10.0.50.1/24');
  const vmB = new NetnsPeer('10.0.50.2/24');
  const vmC = new NetnsPeer('10.0.50.3/24');
  let daemon: LiveDaemon;
  let api: ApiClient;

  const binding = async (ip: string): Promise<BindingBody | undefined> => {
    const r = await api.call('GET', `/v1/bindings/${ip}`);
    return r.status === 200 ? (r.body as BindingBody) : undefined;
  };
  const counters = async (): Promise<Record<string, number>> =>
    ((await api.call('GET', '/v1/stats')).body as { counters: Record<string, number> }).counters;
  const garp = (vm: NetnsPeer, ip: string): void => {
    vm.exec('arping', ['-c', '1', '-w', '0.1', '-U', '-S', ip, '-I', vm.peerIf, ip]);
  };

  before(async () => {
    for (const vm of [vmA, vmB, vmC]) vm.create();
    daemon = await startDaemon(dir, {
      ports: [vmA, vmB, vmC].map((vm, i) => ({ name: `vm${'ABC'[i]}`, device: `net_af_packet${i},iface=${vm.hostIf}` })),
      table: { capacity: 1024 },
      learning: { aging_seconds: 5, probe_before_seconds: 3, max_per_port: 3, subnets: { 0: ['10.0.50.0/24'] } },
    });
    api = new ApiClient({ socket: daemon.socket });
  });

  after(async () => {
    // The namespaces go even when the daemon never started (or does not stop cleanly).
    try {
      if (daemon) assert.equal((await daemon.stop()).code, 0);
    } finally {
      for (const vm of [vmA, vmB, vmC]) vm.remove();
      dir.remove();
    }
  });

  it('a VM that only sends a gratuitous ARP becomes answerable by microarp', async () => {
    assert.equal(await binding('10.0.50.1'), undefined);
    garp(vmA, '10.0.50.1');
    const learned = await waitFor('10.0.50.1 learned', () => binding('10.0.50.1'), 5000, 50);
    assert.ok(learned, 'learned from the GARP');
    assert.equal(learned.mac, vmA.mac());
    assert.equal(learned.source, 'learned');
    assert.equal(learned.port, 'vmA');

    const before = (await counters()).replies_sent!;
    const r = vmB.exec('arping', ['-c', '2', '-w', '3', '-I', vmB.peerIf, '10.0.50.1']);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`bytes from ${vmA.mac()} \\(10\\.0\\.50\\.1\\)`));
    assert.ok((await counters()).replies_sent! >= before + 2, 'microarp answered, not vmA');
    assert.match(daemon.logs(), /"msg":"learned","ip":"10\.0\.50\.1"/);
  });

  it('learns only inside learning.subnets, never a multicast or zero sender, and up to the per-port cap', async () => {
    garp(vmC, '10.0.60.5'); // outside 10.0.50.0/24
    await sleep(200);
    assert.equal(await binding('10.0.60.5'), undefined, 'outside the subnet: not learned');
    garp(vmC, '224.0.0.5');
    garp(vmC, '255.255.255.255');
    await sleep(200);
    assert.equal(await binding('224.0.0.5'), undefined, 'multicast sender: not learned');
    assert.equal(await binding('255.255.255.255'), undefined, 'broadcast sender: not learned');

    // vmC announces five addresses of its subnet; its port may hold three.
    for (let i = 10; i < 15; i++) garp(vmC, `10.0.50.${i}`);
    // Once the overflow is logged, the learner has judged the claims past the cap.
    await waitFor('the overflow to be logged', () => /"msg":"learn overflow","port":"vmC"/.test(daemon.logs()), 5000, 50);
    const learned: number[] = [];
    await waitFor('three of the five learned', async () => {
      learned.length = 0;
      for (let i = 10; i < 15; i++) if (await binding(`10.0.50.${i}`)) learned.push(i);
      return learned.length >= 3;
    }, 5000, 50);
    assert.equal(learned.length, 3, `learned ${learned.join(', ')}`);
  });

  it('probes a learned owner before expiry and keeps it when it answers; ages out one that is gone', async () => {
    garp(vmB, '10.0.50.2');
    await waitFor('10.0.50.2 learned', async () => (await binding('10.0.50.2')) !== undefined, 5000, 50);
    // vmB goes silent for good; vmA stays and answers probes (its kernel owns 10.0.50.1).
    vmB.exec('ip', ['link', 'set', vmB.peerIf, 'down']);
    const hitsBefore = (await binding('10.0.50.1'))!.hits;
    // Aged past aging_seconds (5), after probes from 2 s before expiry went unanswered.
    await waitFor('vmB aged out', () => /"msg":"aged","ip":"10\.0\.50\.2"/.test(daemon.logs()), 12000, 100);
    const kept = await binding('10.0.50.1');
    assert.ok(kept, 'vmA answered the probe and was kept');
    assert.ok(kept.hits > hitsBefore, 'the answer counted as a hit');
    assert.equal(await binding('10.0.50.2'), undefined, 'vmB aged out');
    assert.match(daemon.logs(), /"msg":"aged","ip":"10\.0\.50\.2"/);
    assert.ok((await counters()).probe_replies! >= 1, 'the probe reply was consumed by microarp');
    vmB.exec('ip', ['link', 'set', vmB.peerIf, 'up']);
  });

  it('keeps a live owner that missed the first probe: it answers a later one', async () => {
    // Probes go from 2 s of silence (aging 5 s, probe_before 3 s), up to three, a second
    // apart. vmC's kernel ignores ARP (arp_ignore=8) until microarp has sent the first probe:
    // only a later one can keep the binding.
    const ignoreArp = (on: boolean): void => {
      const r = vmC.exec('sysctl', ['-qw', `net.ipv4.conf.${vmC.peerIf}.arp_ignore=${on ? 8 : 0}`]);
      assert.equal(r.status, 0, `sysctl arp_ignore: ${r.stderr}`);
    };
    const before = await counters();
    ignoreArp(true);
    try {
      garp(vmC, '10.0.50.3');
      await waitFor('vmC learned', async () => (await binding('10.0.50.3')) !== undefined);
      // The first probe is the first frame the control side sends in this test.
      await waitFor('the first probe', async () => (await counters()).injected! > before.injected!, 5000, 10);
      await sleep(100);
    } finally {
      ignoreArp(false);
    }
    const sentFirst = (await counters()).injected!;
    await sleep(5500); // past aging_seconds
    const log = daemon.logs().split('\n').filter((l) => /10\.0\.50\.3/.test(l)).join('\n');
    const after = await counters();
    assert.ok(await binding('10.0.50.3'), `vmC answered a later probe and was kept; log:\n${log}`);
    assert.ok(after.injected! > sentFirst, 'a later probe went out');
    assert.ok(after.probe_replies! > before.probe_replies!, 'its answer was a probe reply');
    assert.doesNotMatch(log, /"msg":"aged"/);
  });
});
