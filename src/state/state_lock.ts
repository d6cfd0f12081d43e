// One daemon per state directory. The lock is an exclusive SQLite lock on a file of its own,
// so the kernel drops it when the holder dies (kill -9 included) and a broken bindings
// database can still be locked, moved aside and replaced. The holder's PID sits next to it,
// only so that a refused second daemon can name it.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './state_error';

const LOCK_FILE = 'lock.db';
const PID_FILE = 'microarp.pid';

export class StateLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly pidFile: string,
  ) {}

  /** Takes the lock on `dir` (which must exist) or throws a StateError naming the holder. */
  static acquire(dir: string): StateLock {
    const file = join(dir, LOCK_FILE);
    const pidFile = join(dir, PID_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; EXCLUSIVE mode keeps it until close.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (held INTEGER); COMMIT;');
    } catch (error) {
      db?.close();
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new StateError(`state_dir ${dir} is in use by another microarp (${holder(pidFile)}); stop it or give this one another state_dir`, 'STATE_LOCKED');
      }
      throw new StateError(`cannot lock ${file}: ${(error as Error).message}`, 'STATE_LOCK');
    }
    writeFileSync(pidFile, `${process.pid}\n`);
    return new StateLock(db, pidFile);
  }

  release(): void {
    try {
      if (readFileSync(this.pidFile, 'utf8').trim() === String(process.pid)) rmSync(this.pidFile, { force: true });
    } catch {
      // Already gone: nothing to tidy.
    }
    this.db.close();
  }
}

function holder(pidFile: string): string {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    if (/^\d+$/.test(pid)) return `PID ${pid}`;
  } catch {
    // The holder has not written its PID yet, or it was removed by hand.
  }
  return 'PID unknown';
}
