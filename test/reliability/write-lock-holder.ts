/**
 * A hostile second writer, run as its own process by busy.test.ts:
 *
 *   node --import tsx test/reliability/write-lock-holder.ts <dataDir> [holdMs=200] [rounds=15]
 *
 * Takes the write lock on app.db and sessions.db together, writes a little (so the server's read
 * snapshots go stale too), keeps the lock for `holdMs`, commits, pauses 20 ms, and repeats. That
 * is longer than any batch the real cleanup holds. Prints `holding` once it first has the lock.
 */
import path from 'node:path';
import Database from 'better-sqlite3';

const [dataDir, holdMs = '200', rounds = '15'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: write-lock-holder.ts <dataDir> [holdMs] [rounds]');

const open = (file: string) => {
  const db = new Database(path.join(dataDir, file));
  db.pragma('busy_timeout = 5000');
  return db;
};
const app = open('app.db');
const sessions = open('sessions.db');
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

for (let round = 0; round < Number(rounds); round++) {
  app.exec('BEGIN IMMEDIATE');
  sessions.exec('BEGIN IMMEDIATE');
  app.exec('UPDATE products SET position = position');
  sessions.exec('UPDATE sessions SET expired = expired WHERE rowid IN (SELECT rowid FROM sessions LIMIT 50)');
  if (round === 0) console.log('holding');
  pause(Number(holdMs));
  sessions.exec('COMMIT');
  app.exec('COMMIT');
  pause(20);
}
app.close();
sessions.close();
console.log('done');
