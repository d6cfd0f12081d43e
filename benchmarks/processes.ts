// The processes a benchmark run starts, tracked so that a timeout or Ctrl-C ends exactly those
// (by their pid) and the EAL runtime directories of their unique prefixes are removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { runtimeDir } from './bench_eal';

const running = new Set<ChildProcess>();

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class Started {
  stdout = '';
  stderr = '';
  private ended = false;
  /** Set when the process was ended for running past its time. */
  timedOut = false;
  readonly done: Promise<Finished>;

  constructor(
    readonly child: ChildProcess,
    timeoutMs: number,
  ) {
    running.add(child);
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    const timer = setTimeout(() => {
      this.timedOut = true;
      terminate(child);
    }, timeoutMs);
    this.done = new Promise((resolve, reject) => {
      child.on('error', (error) => {
        this.ended = true;
        clearTimeout(timer);
        running.delete(child);
        reject(error);
      });
      child.on('close', (code, signal) => {
        this.ended = true;
        clearTimeout(timer);
        running.delete(child);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves once stdout contains `text`; rejects if the process ends or `ms` pass first. */
  async waitForOutput(text: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stdout.includes(text)) {
      if (this.ended) {
        throw new Error(`${this.child.spawnargs[0]} ended before printing '${text}'`);
      }
      if (Date.now() > deadline) throw new Error(`${this.child.spawnargs[0]} did not print '${text}'`);
      await sleep(20);
    }
  }

  /** Ends the process if it is still running (a no-op once it has exited). */
  stop(): void {
    terminate(this.child);
  }
}

export function start(command: string, args: string[], timeoutMs: number): Started {
  return new Started(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] }), timeoutMs);
}

/** SIGTERM, then SIGKILL if it is still there 5 s later. Only ever a process we started. */
function terminate(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 5000).unref();
}

export function terminateAll(): void {
  running.forEach(terminate);
}

/** EAL removes its runtime directory on a clean exit only; a crash or a kill leaves it. */
export function removeRuntimeDir(prefix: string): void {
  rmSync(runtimeDir(prefix), { recursive: true, force: true });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `text` (stdout and stderr of a failed run), for an error message. */
export function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

