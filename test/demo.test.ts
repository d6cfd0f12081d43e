// The README's main job: `microarp demo` builds its VMs, shows pings through microarp (IPv4
// and IPv6), the share of answerable ARP requests it answered beside the cross-VLAN ones it
// isolated, a forged claim refused and a moved VM followed, and leaves nothing behind. Its figures are
// checked against each other, against the running daemon's control API and its logs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ApiClient } from '../src/api/client';
import { arpFigures, arpLines } from '../src/demo/figures';
import { moveLine, spoofLine, type MoveResult, type SpoofResult } from '../src/demo/scenes';
import { planTopology } from '../src/demo/topology';
import { CLI, TempDir, runCli } from './helpers/daemon';

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the control API said between rounds 1 and 2, once the move line was printed. */
  api?: { stats: { violations: Record<string, number>; drops: Record<string, number> }; vm1: { mac: string }; vm2: { mac: string; port?: string; moves: number } };
  /** microarp_garps_sent_total, scraped at the same moment. */
  garpsMetric?: number;
  apiError?: string;
}

/** Runs the demo; once round 1's move line is out (the demo then waits --interval), asks its API. */
function runDemo(args: string[], socket: string, timeoutMs: number): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'demo', ...args, '--socket', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: DemoRun = { code: null, stdout: '', stderr: '' };
    let asked: Promise<void> | undefined;
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      run.stdout += chunk.toString();
      // The move's report is complete once the blank line that ends round 1 follows it.
      if (asked || !/\n {2}move: [^]*?\n\n/.test(run.stdout)) return;
      const api = new ApiClient({ socket });
      asked = (async () => {
        const stats = await api.call('GET', '/v1/stats');
        const vm1 = await api.call('GET', '/v1/bindings/10.0.10.1?vlan=10');
        const vm2 = await api.call('GET', '/v1/bindings/10.0.10.2?vlan=10');
        run.api = { stats: stats.body as never, vm1: vm1.body as never, vm2: vm2.body as never };
        const metrics = /metrics: curl -s (http:\/\/\S+)/.exec(run.stdout);
        if (metrics) {
          const text = await (await fetch(metrics[1]!)).text();
          const m = /^microarp_garps_sent_total(?:\{[^}]*\})? (\d+)$/m.exec(text);
          run.garpsMetric = m ? Number(m[1]) : undefined;
        }
      })().catch((error: Error) => void (run.apiError = error.message));
    });
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      run.code = code;
      void (asked ?? Promise.resolve()).then(() => resolve(run));
    });
  });
}

/** A PID no process has: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const num = (m: RegExpMatchArray | null | undefined, i: number): number => Number(m![i]);

describe('microarp demo', () => {
  it('answers every answerable request, isolates cross-VLAN ones, refuses a spoof, follows a move, and cleans up', async (t) => {
    const dir = new TempDir();
    // A crashed demo's leftover, named as the moved VM's second home is: the next demo removes it.
    const leftover = `marpdemo-${deadPid().toString(36)}-vm2b`;
    spawnSync('ip', ['netns', 'add', leftover]);
    try {
      const started = Date.now();
      const r = await runDemo(['--rounds', '2', '--interval', '1', '--metrics', '127.0.0.1:0'], dir.file('demo.sock'), 60000);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(r.code, 0, r.stderr + r.stdout);
      t.diagnostic(`the demo ran ${seconds.toFixed(1)} s`);
      assert.match(r.stdout, new RegExp(`removed leftovers of an earlier demo: .*${leftover}`));
      assert.doesNotMatch(r.stdout, /unexpected|NOT /);

      const rounds = r.stdout.split(/^round \d+\n/m).slice(1);
      assert.equal(rounds.length, 2, r.stdout);
      let last = { seen: 0, answerable: 0, unbound: 0 };
      let lastNd = 0;
      rounds.forEach((text, i) => {
        const round = i + 1;
        // vm2 answers in both rounds: from port vm2 in the first, from vm2-b after the move.
        assert.match(text, /vm1 -> vm2 \(VLAN 10\):\s+ping ok\s+vm1 resolved 10\.0\.10\.2 to 02:de:00:00:00:02 \(bound: 02:de:00:00:00:02\)/);
        assert.match(text, /vm2 -> vm1 \(VLAN 10\):\s+ping ok/);
        assert.match(text, /vm1 -> vm3 \(VLAN 10 -> 20\):\s+ping no reply \(as it should/);
        assert.match(text, /vm3 -> vm2 \(VLAN 20 -> 10\):\s+ping no reply \(as it should/);
        // Over IPv6 too, with the Neighbor Solicitations answered from the same table.
        assert.match(text, /vm1 -> vm2 IPv6 \(VLAN 10\):\s+ping ok\s+vm1 resolved 2001:db8:10::2 to 02:de:00:00:00:02 \(bound: 02:de:00:00:00:02\)/);
        const nd = /IPv6: (\d+) neighbor solicitations seen, (\d+) answered by microarp\n/.exec(text);
        assert.ok(nd, text);
        // Each round vm1 resolves vm2 after a flush (and vm2 vm1, to answer); every solicitation
        // is for a bound address, and every one was answered.
        assert.ok(num(nd, 2) >= round, text);
        assert.equal(num(nd, 2), num(nd, 1), text);
        assert.ok(num(nd, 2) >= lastNd, 'figures since the start: they only grow');
        lastNd = num(nd, 2);

        const seen = num(/ARP: (\d+) requests seen\n/.exec(text), 1);
        const answer = /(\d+) microarp can answer \(target bound in the asker's VLAN\): (\d+) answered by microarp: (\d+)% suppressed\n/.exec(text);
        const cross = /(\d+) across VLANs \(target bound only in the other VLAN\), from (\d+) pings: isolated, (\d+) answered, (\d+) reached the other VLAN\n/.exec(text);
        assert.ok(answer && cross, text);
        const [answerable, answered, percent] = [num(answer, 1), num(answer, 2), num(answer, 3)];
        const [unbound, pings] = [num(cross, 1), num(cross, 2)];
        // The two kinds are all the requests seen (no VM asks for its own address).
        assert.equal(answerable + unbound, seen, text);
        // Each round vm1 and vm2 resolve each other after a flush: at least 2 answerable each.
        assert.ok(answerable >= 2 * round, text);
        assert.equal(answered, answerable, 'every answerable request was answered');
        assert.equal(percent, 100);
        // Two cross-VLAN pings a round, each at least one ARP request; none answered or carried over.
        assert.equal(pings, 2 * round);
        assert.ok(unbound >= pings, text);
        assert.equal(num(cross, 3), 0);
        assert.equal(num(cross, 4), 0);
        // Figures since the start: they only grow.
        assert.ok(seen >= last.seen && answerable >= last.answerable && unbound >= last.unbound);
        last = { seen, answerable, unbound };
      });

      // The spoof, once, in round 1.
      const spoofs = r.stdout.match(/^ {2}spoof: .*(\n {9}.*)*/gm) ?? [];
      assert.equal(spoofs.length, 1, r.stdout);
      assert.ok(rounds[0]!.includes(spoofs[0]!));
      const spoof =
        /^ {2}spoof: vm2 sent (\d+) gratuitous ARP claiming vm1's 10\.0\.10\.1 for its own MAC 02:de:00:00:00:02\n {9}refused by microarp: spoofed_binding violations \+(\d+), dropped \+(\d+), claim refused \(bound by static\)\n {9}vm1's binding unchanged: 10\.0\.10\.1 -> 02:de:00:00:00:01$/.exec(
          spoofs[0]!,
        );
      assert.ok(spoof, spoofs[0]);
      assert.equal(num(spoof, 1), 1);
      assert.equal(num(spoof, 2), 1, 'one forged frame, one violation');
      assert.equal(num(spoof, 3), 1, 'and it was dropped');
      // microarp's own log of it, on stderr.
      const violations = r.stderr.split('\n').filter((l) => l.includes('"msg":"violation"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        violations.map((v) => [v.reason, v.port, v.ip, v.mac, v.dropped]),
        [['spoofed_binding', 'vm2', '10.0.10.1', '02:de:00:00:00:02', true]],
      );

      // The move, once, in round 1.
      const moves = r.stdout.match(/^ {2}move: .*(\n {9}.*)*/gm) ?? [];
      assert.equal(moves.length, 1, r.stdout);
      assert.ok(rounds[0]!.includes(moves[0]!));
      const move =
        /^ {2}move: {2}vm2 moved from port vm2 to port vm2-b \(VLAN 10\)\n {9}microarp saw it \(moved event (\d+) ms after the move, binding now on vm2-b\) and announced it \((\d+) gratuitous ARPs sent into VLAN 10\)\n {9}vm1 -> vm2: ping ok (\d+) ms after the move \((\d+) echo requests? sent\), through the ARP entry it already had \(02:de:00:00:00:02\): no cache timeout waited$/.exec(
          moves[0]!,
        );
      assert.ok(move, moves[0]);
      assert.ok(num(move, 1) < 3000, 'the moved event came within the 3 s the demo waits');
      // garp_count (3) on each other port of VLAN 10 (vm1's and vm2's old one); the metric agrees below.
      assert.ok(num(move, 2) >= 3, moves[0]);
      // Well before any cache or FDB timeout (seconds to minutes); ping -w 5 would have given up.
      assert.ok(num(move, 3) < 5000 && num(move, 4) >= 1);

      // The running daemon agrees, asked between the rounds.
      assert.equal(r.apiError, undefined);
      assert.ok(r.api, 'the control API was asked between the rounds');
      assert.equal(r.api.stats.violations.spoofed_binding, 1);
      assert.equal(r.api.stats.drops.arp_inspection, 1);
      assert.equal(r.api.vm1.mac, '02:de:00:00:00:01');
      assert.equal(r.api.vm2.mac, '02:de:00:00:00:02');
      assert.equal(r.api.vm2.port, 'vm2-b');
      assert.equal(r.api.vm2.moves, 1);
      assert.equal(r.garpsMetric, num(move, 2), 'microarp_garps_sent_total: the demo announced nothing else');

      assert.match(r.stdout, /removing the VMs/);
      const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(namespaces, /marpdemo-/, 'no demo namespace is left');
      assert.ok(!existsSync(dir.file('demo.sock')), 'the control socket is removed');
    } finally {
      spawnSync('ip', ['netns', 'del', leftover]);
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

describe('the demo figures', () => {
  const totals = (arp_requests: number, replies_sent: number, requests_unbound: number, requests_own_address = 0) => ({ arp_requests, replies_sent, requests_unbound, requests_own_address });

  it('measures suppression over the answerable requests only, rounded down', () => {
    assert.deepEqual(arpFigures(totals(10, 4, 6)), { seen: 10, answerable: 4, answered: 4, unbound: 6, ownAddress: 0, suppressedPercent: 100 });
    assert.equal(arpFigures(totals(200, 199, 0)).suppressedPercent, 99, '199 of 200 is not 100%');
    assert.equal(arpFigures(totals(9, 3, 4, 2)).answerable, 3, 'own-address requests are not answerable');
    assert.equal(arpFigures(totals(3, 0, 3)).suppressedPercent, undefined, 'nothing answerable: no percentage');
  });

  it('says when a figure is not what it should be', () => {
    const ok = arpLines(arpFigures(totals(10, 4, 6)), { pings: 4, answered: 0, heard: 0 }).join('\n');
    assert.match(ok, /4 microarp can answer \(target bound in the asker's VLAN\): 4 answered by microarp: 100% suppressed\n/);
    assert.match(ok, /6 across VLANs .*from 4 pings: isolated, 0 answered, 0 reached the other VLAN$/);
    assert.doesNotMatch(ok, /unexpected/);
    assert.match(arpLines(arpFigures(totals(10, 3, 6)), { pings: 4, answered: 0, heard: 0 }).join('\n'), /75% suppressed, 1 not answered {2}<-- unexpected/);
    assert.match(arpLines(arpFigures(totals(10, 4, 6)), { pings: 4, answered: 0, heard: 1 }).join('\n'), /NOT isolated, 0 answered, 1 reached the other VLAN {2}<-- unexpected/);

    const [vm1, vm2] = planTopology(1).vms;
    const refused: SpoofResult = {
      sent: 1,
      violations: 1,
      dropped: 1,
      violation: { time: '', type: 'violation', dropped: true },
      before: { mac: vm1.mac },
      after: { mac: vm1.mac },
    };
    assert.doesNotMatch(spoofLine(refused, vm2, vm1), /unexpected/);
    assert.match(spoofLine({ ...refused, after: { mac: vm2.mac } }, vm2, vm1), /binding CHANGED {2}<-- unexpected: 10\.0\.10\.1 -> 02:de:00:00:00:02$/);
    assert.match(spoofLine({ ...refused, violation: undefined, violations: 0, dropped: 0 }, vm2, vm1), /NOT refused/);

    const target = planTopology(1).moveTarget;
    const followed: MoveResult = {
      moved: { time: '', type: 'moved' },
      seenAfterMs: 60,
      announced: { time: '', type: 'announced' },
      garpsSent: 6,
      bindingPort: 'vm2-b',
      replyAfterMs: 30,
      echoRequests: 2,
      peerEntryBefore: vm2.mac,
      peerEntryAfter: vm2.mac,
    };
    assert.doesNotMatch(moveLine(followed, vm2, target, vm1), /unexpected/);
    assert.match(moveLine({ ...followed, moved: undefined, bindingPort: 'vm2' }, vm2, target, vm1), /did NOT see it \(binding on vm2\) {2}<-- unexpected/);
    assert.match(moveLine({ ...followed, replyAfterMs: undefined }, vm2, target, vm1), /no reply for 5 s after the move {2}<-- unexpected/);
  });
});
