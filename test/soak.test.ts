// The soak (benchmarks/soak.ts) for one minute, every check asserted: mbufs back to idle, no RSS
// or DPDK heap growth, no report lost to a full ring, no wrong ARP reply, the daemon alive and
// exiting 0. First, its reply check on made-up histories: it must catch what it is there for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BindingHistory, runSoak, TOLERANCE_MS, verify, type Seen } from '../benchmarks/soak';

const A = '02:c0:00:00:00:0a';
const B = '02:c0:00:00:00:0b';
const IP = '10.0.10.100';

function reply(t: number, sha: string, spa = IP, src = sha): Seen {
  return { t, op: 2, src, dst: '02:5a:00:00:00:01', sha, spa, tpa: '10.0.10.1', vm: 's1' };
}

describe('soak', () => {
  it('the reply check: the MAC held at the time, either MAC only around a change, nothing after a removal', () => {
    const h = new BindingHistory('api');
    h.record(IP, A, 1000, 1010); // A from t = 1010 at the latest
    h.record(IP, B, 5000, 5020); // asked at 5000, answered (visible) at 5020
    h.record(IP, null, 9000, 9005); // removed
    const fixed = new Map([['10.0.10.1', { mac: '02:5a:00:00:00:01', kind: 'static' }]]);
    const check = (...seen: Seen[]): ReturnType<typeof verify> => verify(seen, fixed, [h]);

    assert.equal(check(reply(3000, A), reply(7000, B), reply(5010, A), reply(5010, B)).wrong, 0);
    assert.equal(check(reply(5020 + TOLERANCE_MS - 1, A)).wrong, 0, 'the old MAC within the tolerance of the answer');
    assert.equal(check(reply(5020 + TOLERANCE_MS + 1, A)).wrong, 1, 'the old MAC after the change was surely visible');
    assert.equal(check(reply(5000 - TOLERANCE_MS - 1, B)).wrong, 1, 'the new MAC before it was asked for');
    assert.equal(check(reply(500, A)).wrong, 1, 'a reply before the binding existed');
    assert.equal(check(reply(9100, B)).wrong, 1, 'a reply after the removal');
    assert.equal(check(reply(3000, '02:c0:00:00:00:0c')).wrong, 1, 'a MAC the binding never had');
    assert.equal(check(reply(3000, A, IP, B)).wrong, 1, 'an Ethernet source that is not the ARP sender');
    assert.equal(check(reply(3000, '02:5a:00:00:00:02', '10.0.10.1')).wrong, 1, "a static VM's address with another MAC");
    assert.equal(check(reply(3000, A, '10.0.10.99')).wrong, 1, 'an address no binding of the run had');
    const v = check(reply(3000, A), reply(5010, B), reply(9100, B));
    assert.deepEqual([v.checked, v.wrong, v.inChangeWindow], [3, 1, 1]);
    assert.match(v.examples[0]!, /10\.0\.10\.100 is-at 02:c0:00:00:00:0b.*held nothing/);
  });

  it('one minute of ARP and ping traffic, API churn, learning and aging, MAC moves, admin flaps and reloads', { timeout: 150_000 }, async (t) => {
    const started = Date.now();
    const report = await runSoak({ minutes: 1, log: (l) => t.diagnostic(l) });
    for (const line of report.summary.split('\n')) t.diagnostic(line);
    t.diagnostic(`soak test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const c of report.checks) assert.ok(c.ok, `${c.name}: ${c.figure} (limit ${c.limit})\n${report.summary}`);
    for (const kind of ['api', 'reload', 'static', 'learned']) {
      assert.ok(Number(report.figures[`replies_checked_${kind}`]) > 0, `replies for ${kind} bindings were checked`);
    }
  });
});
