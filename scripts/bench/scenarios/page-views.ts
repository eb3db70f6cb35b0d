/**
 * Page views: 10,000 GETs of /login and /try from clients that keep no cookies (crawlers, load
 * generators, first visits), guest creation limited as in production (GUEST_RATE_LIMIT=30), on
 * a fresh server. A page's forms must store nothing: before the CSRF secret moved to a cookie of
 * its own, every view of /login stored a session row for 168 h. The rows left are counted in
 * sessions.db (on PostgreSQL, the server's own database's `sessions`); the guests /try created
 * within the limit are expected to have one each.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { queryDatabase } from '../../support/postgres-cluster.ts';
import { count, runLoad, type LoadResult } from '../load.ts';
import { log } from '../processes.ts';
import { row, type Row } from '../report.ts';
import type { BenchRun } from '../run.ts';
import type { RunningServer } from '../servers.ts';

export const NAME = 'page-views';
export const GUEST_RATE_LIMIT = 30;
const VIEWS = 10_000;
const ROWS_TARGET = 5;

export async function pageViews(run: BenchRun, start: () => Promise<RunningServer>): Promise<Row[]> {
  const server = await start();
  let result: LoadResult;
  try {
    log(`  ${VIEWS.toLocaleString('en-US')} cookie-less GETs of /login and /try`);
    result = await runLoad({
      url: server.url, paths: ['/login', '/try'], connections: run.connections, amount: VIEWS,
      // Bounded even on a very slow day: 100 views/s at least.
      seconds: Math.max(30, VIEWS / 100),
    });
  } finally {
    await server.stop();
  }
  const stored = server.databaseUrl ? await storedPostgresSessions(server.databaseUrl) : storedSessions(server.dataDir);
  const views = count(result, [200, 302, 429]);
  const notes = [
    views < VIEWS ? `only ${views} of ${VIEWS} views answered 200, 302 or 429 (${JSON.stringify(result.statuses)}, ${result.errors} errors)` : '',
    `${stored.guests} more rows are guests' sessions (${count(result, [302])} guests created by /try within GUEST_RATE_LIMIT=${GUEST_RATE_LIMIT})`,
  ].filter(Boolean).join('; ');
  return [
    row({
      name: NAME, metric: 'session rows without a guest', value: stored.rows - stored.guests, unit: `rows after ${views.toLocaleString('en-US')} views`,
      floor: null, target: `≤ ${ROWS_TARGET}`, check: (value) => value <= ROWS_TARGET && views >= VIEWS, note: notes,
    }),
  ];
}

/** Session rows in the stopped server's sessions.db, and how many of them sign a guest in. */
function storedSessions(dataDir: string): { rows: number; guests: number } {
  const db = new Database(path.join(dataDir, 'sessions.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) AS rows, count(json_extract(sess, '$.auth')) AS guests FROM sessions`).get() as { rows: number; guests: number };
  } finally {
    db.close();
  }
}

/** The same on PostgreSQL: a session that signs someone in names its account in `account_id`. */
async function storedPostgresSessions(databaseUrl: string): Promise<{ rows: number; guests: number }> {
  const [counts] = await queryDatabase<{ rows: number; guests: number }>(databaseUrl,
    'SELECT count(*)::int AS rows, count(account_id)::int AS guests FROM sessions');
  return counts!;
}
