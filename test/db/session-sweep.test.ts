/**
 * Cleanup's session sweeper on SQLite: the sessions of removed guests are deleted from
 * sessions.db on a worker thread of its own, beside the guest batches, once a chunk of them is
 * noted, and the rest when asked; each counted once. On a real sessions.db, as connect-sqlite3
 * lays it out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSessionSweeper, type SessionSweeper } from '../../src/db/sqlite/cleanup/session-sweep.ts';
import { openSessionDb, type Db } from '../../src/db/sqlite/open.ts';
import { sessionRow } from '../../src/db/sqlite/session-store.ts';
import { tempDataDir } from '../support.ts';

const HOUR = 3_600_000;

let dataDir: string;
let db: Db;
let sweeper: SessionSweeper;
let commits = 0;

beforeEach(() => {
  dataDir = tempDataDir();
  db = openSessionDb(path.join(dataDir, 'sessions.db'));
  commits = 0;
});
afterEach(async () => {
  await sweeper?.close();
  db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function start(chunk: number, statementLimit = 2): SessionSweeper {
  sweeper = startSessionSweeper(path.join(dataDir, 'sessions.db'), {
    pragmas: ['busy_timeout = 5000'], chunk, statementLimit, committed: () => { commits++; },
  });
  return sweeper;
}

/** One session row per name in `owners` (null: a session signed in to no one); returns their sids. */
function sessionsOf(owners: ReadonlyArray<string | null>): string[] {
  const insert = db.prepare('INSERT INTO sessions (sid, expired, sess) VALUES (?, ?, ?)');
  return owners.map((owner, i) => {
    const sid = `sid-${owner}-${i}-${Math.random()}`;
    const row = sessionRow(owner ? { id: owner, collection: 'users' } : null, { ttlMs: HOUR, now: Date.now() });
    insert.run(sid, row.expired, row.sess);
    return sid;
  });
}

const owned = (owner: string) => db.prepare(`SELECT count(*) FROM sessions WHERE json_extract(sess, '$.auth.id') = ?`).pluck().get(owner);
const total = () => db.prepare('SELECT count(*) FROM sessions').pluck().get();

/** Asks for the rest, step by step, as cleanup's last phase does; returns what each step removed. */
async function removeTheRest(): Promise<number[]> {
  const steps: number[] = [];
  for (let went = await sweeper.removeNext(2); went !== null; went = await sweeper.removeNext(2)) steps.push(went);
  return steps;
}

describe('the session sweeper', () => {
  it('removes nothing of a note until asked, while fewer than a chunk are noted', async () => {
    start(100);
    sessionsOf(['gone-1', 'gone-1', 'gone-2', 'kept']);
    sweeper.note(['gone-1', 'gone-2']);
    expect(await sweeper.noted()).toBe(3);
    expect(sweeper.removedMeanwhile()).toBe(0);
    expect(await removeTheRest()).toEqual([2, 1]);
    expect([owned('gone-1'), owned('gone-2'), owned('kept')]).toEqual([0, 0, 1]);
    expect(await sweeper.noted()).toBe(0);
  });

  it('sweeps in the background once a chunk is noted, and counts those once', async () => {
    start(3);
    sessionsOf(['a', 'a', 'b', 'c', 'kept', null]);
    sweeper.note(['a']);
    sweeper.note(['b', 'c']);
    // Answered after the sweep that the second note started: requests are handled in order.
    expect(await sweeper.noted()).toBe(0);
    expect(sweeper.removedMeanwhile()).toBe(4);
    expect(sweeper.takeRemovedMeanwhile()).toBe(4);
    expect(sweeper.takeRemovedMeanwhile()).toBe(0);
    expect(total()).toBe(2);
    expect(owned('kept')).toBe(1);
    // Each of its delete statements was reported, for the checkpointer.
    expect(commits).toBe(2);
  });

  it('leaves a noted row that another account\'s session has taken over since', async () => {
    start(100);
    const [sid] = sessionsOf(['gone']);
    sweeper.note(['gone']);
    expect(await sweeper.noted()).toBe(1);
    // connect-sqlite3 saves with INSERT OR REPLACE: the same rowid can come back for someone else.
    const row = sessionRow({ id: 'someone-else', collection: 'users' }, { ttlMs: HOUR, now: Date.now() });
    db.prepare('UPDATE sessions SET sess = ? WHERE sid = ?').run(row.sess, sid);
    expect(await removeTheRest()).toEqual([0]);
    expect(owned('someone-else')).toBe(1);
  });

  it('forgets the notes of a run that stopped early, and says what it had removed meanwhile', async () => {
    start(2);
    sessionsOf(['swept', 'swept', 'noted']);
    sweeper.note(['swept']);
    sweeper.note(['noted']);
    expect(await sweeper.forget()).toBe(2);
    expect(await sweeper.noted()).toBe(0);
    expect(await removeTheRest()).toEqual([]);
    expect([owned('swept'), owned('noted')]).toEqual([0, 1]);
  });

  it('fails the next request with the database\'s error, and keeps failing', async () => {
    start(100);
    expect(await sweeper.noted()).toBe(0);
    db.exec('DROP TABLE sessions');
    sweeper.note(['gone']);
    await expect(sweeper.noted()).rejects.toThrow(/removing sessions failed: no such table/);
    expect(() => sweeper.note(['other'])).toThrow(/removing sessions failed/);
  });

  it('fails its first request when it cannot open the database', async () => {
    sweeper = startSessionSweeper(path.join(dataDir, 'missing', 'sessions.db'), {
      pragmas: [], chunk: 1, statementLimit: 1, committed: () => {},
    });
    await expect(sweeper.noted()).rejects.toThrow(/removing sessions failed: .*directory does not exist/);
  });
});
