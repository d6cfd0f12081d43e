// The benchmark's reply verifier must catch what it is there for: a reply with another
// binding's MAC, a MAC no binding ever had, an Ethernet source that is not the ARP sender, and a
// binding's MAC from a pass that was no longer (or not yet) in the table around the reply's time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyVerifier, type ChurnBatch } from '../benchmarks/reply_verifier';
import { binding } from '../benchmarks/workload';
import { formatIPv4, formatMac } from '../src/dataplane/address';
import { arpFrame } from './helpers/frames';

const SIZE = 100;

function reply(k: number, second: number, ethSrc?: string): Buffer {
  const mac = Uint8Array.from(binding(k).mac);
  mac[1] = second;
  return arpFrame({ op: 2, sha: formatMac(mac), ethSrc: ethSrc ?? formatMac(mac), spa: formatIPv4(binding(k).ip), tpa: '172.16.0.1', ethDst: '02:00:00:00:00:01' });
}

describe('reply verifier', () => {
  // Batches of 50 updates, 10 ms apart, each visible 1 ms after it was submitted: binding k
  // moves to 02:ab (pass 0) at update k, back to 02:aa (pass 1) at update 100 + k, and so on.
  const history: ChurnBatch[] = Array.from({ length: 10 }, (_, i) => ({ from: i * 50, to: (i + 1) * 50, t0: 1000 + i * 10, t1: 1001 + i * 10 }));
  const verify = (frames: [Buffer, number][]): ReturnType<ReplyVerifier['result']> => {
    const v = new ReplyVerifier(history, SIZE, 2);
    for (const [frame, stamp] of frames) v.check(frame, stamp);
    return v.result();
  };

  it('passes replies with the MAC each binding held around their time', () => {
    const r = verify([
      [reply(10, 0xaa), 990], // before any churn: the first MAC
      [reply(10, 0xab), 1010], // pass 0 (batch 0, done at 1001)
      [reply(60, 0xab), 1030], // batch 1 (done at 1011)
      [reply(10, 0xaa), 1030], // pass 1 (update 110, batch 2, done at 1021)
      [reply(10, 0xab), 1020.5], // batch 2 submitted at 1020, not yet visible: either MAC holds
      [reply(10, 0xaa), 1020.5],
    ]);
    assert.deepEqual(r, { replies: 6, wrong: 0, examples: [] });
  });

  it('counts every kind of wrong reply', () => {
    const r = verify([
      [reply(10, 0xab), 990], // a MAC the binding only gets later
      [reply(10, 0xab), 1030], // a MAC the binding lost 9 ms before
      [reply(10, 0xac), 1030], // never a MAC of it
      [(() => { const f = reply(10, 0xaa); f.set(binding(11).mac.subarray(2), 24); return f; })(), 990], // another binding's MAC
      [reply(10, 0xaa, '02:00:00:00:00:99'), 990], // Ethernet source is not the ARP sender
      [arpFrame({ op: 2, sha: '02:aa:00:00:00:01', spa: '192.168.0.1', tpa: '172.16.0.1' }), 990], // no binding's IP
    ]);
    assert.equal(r.replies, 6);
    assert.equal(r.wrong, 6, r.examples.join('\n'));
  });

  it('skips frames that are not ARP replies', () => {
    const request = arpFrame({ op: 1, sha: '02:00:00:00:00:01', spa: '172.16.0.1', tpa: formatIPv4(binding(1).ip) });
    assert.deepEqual(verify([[request, 990], [Buffer.alloc(20), 990]]), { replies: 0, wrong: 0, examples: [] });
  });
});
