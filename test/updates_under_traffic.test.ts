// Bindings added, replaced and removed while requests flow from a real kernel socket, with the
// table churning in the background: once an update resolves, every reply matches it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { NetnsPeer } from './helpers/netns';
import { REPO } from './helpers/daemon';

const TARGET = '10.78.0.7';
const MAC_A = '02:78:00:00:00:0a';
const MAC_B = '02:78:00:00:00:0b';
const MAC_C = '02:78:00:00:00:0c';

/** A child speaking NDJSON on stdout; `next(pred)` waits for the first matching object. */
class JsonChild {
  private readonly seen: Record<string, unknown>[] = [];
  private waiters: { pred: (o: Record<string, unknown>) => boolean; resolve: (o: Record<string, unknown>) => void }[] = [];
  stderr = '';

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      this.seen.push(o);
      this.waiters = this.waiters.filter((w) => (w.pred(o) ? (w.resolve(o), false) : true));
    });
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  all(): Record<string, unknown>[] {
    return this.seen;
  }

  next(pred: (o: Record<string, unknown>) => boolean, timeoutMs = 20000): Promise<Record<string, unknown>> {
    const found = this.seen.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; stderr:\n${this.stderr}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (o) => (clearTimeout(timer), resolve(o)) });
    });
  }

  send(o: unknown): void {
    this.child.stdin!.write(typeof o === 'string' ? `${o}\n` : `${JSON.stringify(o)}\n`);
  }

  async end(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('table updates under traffic', () => {
  const peer = new NetnsPeer('10.78.0.1/24');
  const started: ChildProcess[] = [];
  after(() => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    peer.remove();
  });

  it('every reply to a request sent after an update resolved matches that update', async (t) => {
    peer.create();
    peer.exec('ip', ['link', 'set', peer.peerIf, 'promisc', 'on']);
    const driver = new JsonChild(
      spawn(process.execPath, [join(REPO, 'dist/test/fixtures/update_driver.js'), peer.hostIf], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    started.push(driver.child);
    await driver.next((o) => o.ready === true);

    const requester = new JsonChild(
      spawn('ip', ['netns', 'exec', peer.ns, '/usr/bin/python3', join(REPO, 'test/fixtures/arp_requester.py'), peer.peerIf, TARGET, '500'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    started.push(requester.child);

    // The table churns (20,000 unrelated adds then deletes, in a loop) all along, so deleted
    // slots are reclaimed through RCU while the workers read.
    driver.send({ id: 0, op: 'churn', count: 20000 });
    await driver.next((o) => o.id === 0);
    await sleep(300); // epoch 0: no binding yet

    const steps: { op: 'upsert' | 'remove'; mac: string | null }[] = [
      { op: 'upsert', mac: MAC_A },
      { op: 'upsert', mac: MAC_B }, // replace
      { op: 'remove', mac: null },
      { op: 'upsert', mac: MAC_C },
      { op: 'remove', mac: null },
    ];
    const state: (string | null)[] = [null];
    for (const [i, step] of steps.entries()) {
      const id = i + 1;
      driver.send({ id, op: step.op, ip: TARGET, mac: step.mac ?? undefined });
      const applied = await driver.next((o) => o.id === id);
      assert.equal(applied[step.op === 'upsert' ? (i === 1 ? 'replaced' : 'added') : 'removed'], 1, JSON.stringify(applied));
      requester.send(`epoch ${id}`);
      await requester.next((o) => o.epoch_ack === id);
      state.push(step.mac);
      await sleep(400);
    }

    await requester.end();
    const sent = (await requester.next((o) => 'sent' in o)).sent as Record<string, number>;
    driver.send({ id: 99, op: 'stop' });
    const final = await driver.next((o) => o.id === 99);
    await driver.end();

    const replies = requester.all().filter((o) => typeof o.epoch === 'number') as { epoch: number; seq: number; mac: string }[];
    const byEpoch = new Map<number, number>();
    for (const r of replies) {
      // A request of epoch k reaches the worker after update k resolved, and maybe after later
      // updates too, never before update k.
      const allowed = state.slice(r.epoch).filter((m): m is string => m !== null);
      assert.ok(allowed.includes(r.mac), `reply in epoch ${r.epoch} (seq ${r.seq}) says ${r.mac}; allowed ${allowed.join(', ') || 'none'}`);
      byEpoch.set(r.epoch, (byEpoch.get(r.epoch) ?? 0) + 1);
    }
    // Epoch 0 requests may be answered, but only by MAC_A (checked above): update 1 can land
    // while they are in flight.
    assert.ok((byEpoch.get(0) ?? 0) < (sent['0'] ?? 0) / 2, 'epoch 0 is mostly unanswered');
    assert.equal(byEpoch.get(5) ?? 0, 0, 'no reply after the final removal');
    for (const epoch of [1, 2, 4]) {
      const got = byEpoch.get(epoch) ?? 0;
      const requests = sent[String(epoch)] ?? 0;
      assert.ok(requests > 50, `epoch ${epoch} sent ${requests} requests`);
      assert.ok(got >= requests * 0.5, `epoch ${epoch}: ${got} replies to ${requests} requests`);
    }
    t.diagnostic(`requests per epoch ${JSON.stringify(sent)}, replies ${JSON.stringify([...byEpoch])}, churn rounds ${final.churnRounds}`);
    const counters = final.counters as Record<string, number>;
    assert.ok(counters.replies_sent! >= replies.length, `replies_sent ${counters.replies_sent} < ${replies.length} seen`);
    assert.ok((final.churnRounds as number) >= 1, 'the background churn ran');
    assert.equal((final.table as { bindings: number }).bindings, 0, 'churn and removals leave an empty table');
    const check = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.ok(check.stdout.includes(peer.ns));
  });
});
