// Checks every ARP reply captured during a churn run against the table's history: is its MAC
// the one the asked-for binding held at about the time the reply left?
//
// The churn is a pure function of how many updates were issued: update n moves binding
// k = n mod size to the MAC of its pass p = floor(n / size), 02:ab:… on even passes and 02:aa:…
// (the binding's first MAC) on odd ones (dataplane_child.ts). The history is one record per
// batch: the updates it covered and when it was submitted and when it was visible to every
// worker. So at time t the binding's possible MACs are those from the last update surely
// visible (batch done by t) to the last one possibly visible (batch submitted by t).
import { binding } from './workload';

/** One batch of the churn: updates [from, to), submitted at t0 and visible to the workers at t1 (epoch ms). */
export interface ChurnBatch {
  from: number;
  to: number;
  t0: number;
  t1: number;
}

export interface Verdict {
  replies: number;
  wrong: number;
  /** The first few wrong replies, described. */
  examples: string[];
}

const FIRST_BOUND_IP = binding(0).ip;
const EVEN_PASS = 0xab;
const ODD_PASS = 0xaa;

/**
 * Verifies replies one by one. `toleranceMs`: how far apart the capture's clock (the pcap PMD's
 * time stamps) and this process's may be, and how long a reply may wait between its lookup
 * and its time stamp.
 */
export class ReplyVerifier {
  private readonly verdict: Verdict = { replies: 0, wrong: 0, examples: [] };
  private readonly doneAt: Float64Array;
  private readonly submittedAt: Float64Array;

  constructor(
    private readonly history: readonly ChurnBatch[],
    private readonly size: number,
    private readonly toleranceMs: number,
  ) {
    this.doneAt = Float64Array.from(history, (b) => b.t1);
    this.submittedAt = Float64Array.from(history, (b) => b.t0);
  }

  /** One transmitted frame and its time stamp (epoch ms). Frames that are not ARP replies are skipped. */
  check(frame: Uint8Array, stampMs: number): void {
    if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06 || frame[21] !== 2) return;
    this.verdict.replies++;
    const sha = frame.subarray(22, 28);
    const spa = ((frame[28]! << 24) | (frame[29]! << 16) | (frame[30]! << 8) | frame[31]!) >>> 0;
    const k = spa - FIRST_BOUND_IP;
    const problem = this.problem(frame, sha, k, stampMs);
    if (problem === null) return;
    this.verdict.wrong++;
    if (this.verdict.examples.length < 10) this.verdict.examples.push(`reply for binding ${k} at ${stampMs.toFixed(3)}: ${problem}`);
  }

  result(): Verdict {
    return { ...this.verdict, examples: [...this.verdict.examples] };
  }

  private problem(frame: Uint8Array, sha: Uint8Array, k: number, stampMs: number): string | null {
    if (k < 0 || k >= this.size) return `the sender IP is no binding's`;
    const owner = binding(k).mac;
    // The Ethernet source is the ARP sender, and every octet but the churned one is the owner's.
    for (let i = 0; i < 6; i++) {
      if (frame[6 + i] !== sha[i]) return 'Ethernet source differs from the ARP sender MAC';
      if (i !== 1 && sha[i] !== owner[i]) return `MAC ${hex(sha)} is not one binding ${k} ever had`;
    }
    if (sha[1] !== EVEN_PASS && sha[1] !== ODD_PASS) return `MAC ${hex(sha)} is not one binding ${k} ever had`;
    // The passes of binding k that may have been visible in the window around the stamp.
    const earliest = this.lastPass(k, this.countBefore(this.doneAt, stampMs - this.toleranceMs));
    const latest = this.lastPass(k, this.countBefore(this.submittedAt, stampMs + this.toleranceMs));
    for (let p = earliest; p <= latest; p++) if (variantOf(p) === sha[1]) return null;
    return `MAC ${hex(sha)} is not the one binding ${k} held within ${this.toleranceMs} ms (passes ${earliest}..${latest})`;
  }

  /** Updates issued by the batches whose `times` (ascending) fall at or before `t`. */
  private countBefore(times: Float64Array, t: number): number {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.history[lo - 1]!.to;
  }

  /** The pass of binding k's last update among the first `count` (-1: none, its first MAC). */
  private lastPass(k: number, count: number): number {
    return count <= k ? -1 : Math.floor((count - 1 - k) / this.size);
  }
}

function variantOf(pass: number): number {
  return pass >= 0 && pass % 2 === 0 ? EVEN_PASS : ODD_PASS;
}

function hex(mac: Uint8Array): string {
  return [...mac].map((o) => o.toString(16).padStart(2, '0')).join(':');
}
