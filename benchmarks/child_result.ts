// What replies_child prints and replies reads back. Its own module so that the parent can
// import it without running the child.

/** EAL logs to stdout too: the result is the one line with this tag. */
export const RESULT_TAG = 'BENCH_RESULT ';

export interface ChildResult {
  size: number;
  workers: number;
  /** The measured window, after warm-up. */
  seconds: number;
  /** Replies sent per second, all workers together. */
  repliesPerSec: number;
  rxPerSec: number;
  /** Frames the port's tx counted (the pcap PMD counts, then frees them). */
  portTxPerSec: number;
  /** Frames received but not answered in the window: every request is answerable, so 0. */
  unanswered: number;
  txFull: number;
  /** Share of the frames whose source checks came from the worker's cache of recent sources. */
  sourcesCached: number;
  /** CPUs busy during the window (1 = the worker alone). */
  cpusBusy: number;
  /** From EAL init to workers running with the table loaded. */
  loadSeconds: number;
}
