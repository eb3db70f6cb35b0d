import fs from 'node:fs';
import path from 'node:path';
import { CleanupError } from './errors.ts';

export interface CleanupLock {
  file: string;
  release(): void;
}

/**
 * One cleanup at a time per data dir: `DATA_DIR/cleanup.lock`, created exclusively and
 * holding the owner's pid. A lock whose pid is no longer running was left by a run that
 * crashed or was killed: it is taken over. Two runs taking over the same dead lock at the same
 * instant could both proceed; that costs only duplicate work, since every delete re-checks
 * its rule.
 */
export function acquireCleanupLock(dataDir: string): CleanupLock {
  const file = path.join(dataDir, 'cleanup.lock');
  fs.mkdirSync(dataDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file)) return { file, release: () => releaseLock(file) };
    const holder = readPid(file);
    if (holder !== null && isRunning(holder)) {
      throw new CleanupError('locked', `another cleanup is running (pid ${holder}); if it is not, remove ${file}`);
    }
    fs.rmSync(file, { force: true });
  }
  throw new CleanupError('locked', `could not take the cleanup lock ${file}: another cleanup is starting`);
}

/**
 * The pid is written to a private file first and hard-linked into place: link(2) fails if the
 * lock exists, like O_EXCL, and a rival never sees the lock empty (which would look stale).
 */
function tryCreate(file: string): boolean {
  const draft = `${file}.${process.pid}`;
  fs.writeFileSync(draft, `${process.pid}\n`);
  try {
    fs.linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/** Removes the lock only while it is still ours. */
function releaseLock(file: string): void {
  if (readPid(file) === process.pid) fs.rmSync(file, { force: true });
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Signal 0 checks that a process exists; EPERM means it does, under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` holding the lock, and releases it however `work` ends. */
export async function withCleanupLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const lock = acquireCleanupLock(dataDir);
  try {
    return await work();
  } finally {
    lock.release();
  }
}
