import type { EventEmitter } from 'node:events';
import path from 'node:path';
import type { RequestHandler } from 'express';
import session from 'express-session';
import connectSqlite3 from 'connect-sqlite3';
import sqlite3 from 'sqlite3';
import { createSessionIndex, type SessionIndex } from '../auth/session-index.ts';
import type { Config } from '../config.ts';
import { SESSION_SCHEMA } from '../db/open.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** True when the browser sent no session cookie: the session and its id are new in this request. */
    sessionFresh?: boolean;
  }
}

declare module 'express-session' {
  interface SessionData {
    auth?: { id: string; collection: string };
    /** When `last_active_at` was last written for this session's account (0: write on the next request). */
    activeAt?: number;
    flash?: Array<{ type: string; message: string }>;
    csrfSecret?: string;
    /** When the session was last saved to slide its expiry. */
    savedAt?: number;
    [key: string]: unknown;
  }
}

export interface Sessions {
  middleware: RequestHandler;
  cookieName: string;
  /** Every session of an account, and expired ones, through the store's connection. */
  index: SessionIndex;
  /** Settles once the store has created its table and run its own start-up purge. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const SQLiteStore = connectSqlite3(session);
const SLIDE_EVERY_MS = 3_600_000;

/**
 * Whether the session holds anything beyond express-session's own `cookie`. A new session is
 * stored only then (`saveUninitialized: false`), so one that holds nothing costs no row.
 */
export function holdsData(current: Partial<session.SessionData> | undefined): boolean {
  return current !== undefined && Object.keys(current).some((key) => key !== 'cookie');
}

/** A stored session in use is saved at least hourly, which moves its expiry (see touch, above). */
function slideExpiry(current: session.Session & Partial<session.SessionData>): void {
  if (holdsData(current) && Date.now() - (current.savedAt ?? 0) >= SLIDE_EVERY_MS) current.savedAt = Date.now();
}

/**
 * express-session backed by connect-sqlite3 in `DATA_DIR/sessions.db`. We hand the store our own
 * node-sqlite3 connection so it gets a 5 s busy timeout (cleanup writes the same file) and WAL
 * (`concurrentDb`; the README's `concurrentDB` spelling is silently ignored).
 */
export function createSessions(config: Config, secret: string): Sessions {
  const db = new sqlite3.Database(path.join(config.dataDir, 'sessions.db'));
  db.configure('busyTimeout', 5000);
  // One statement at a time: in node-sqlite3's default parallel mode a `db.get` keeps its read
  // transaction open until it is finalized, and a write that overlaps it cannot wait for another
  // process's lock (SQLITE_BUSY at once, busy timeout or not: seen with cleanup running).
  db.serialize();
  // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a crash of the machine,
  // not of the app, can lose the last sessions written), as app.db does.
  db.exec(`PRAGMA synchronous = NORMAL; ${SESSION_SCHEMA}`);
  const store = new SQLiteStore({ db, table: 'sessions', concurrentDb: true });
  // express-session "touches" every unchanged session after every request: a write per page view.
  // Without touch, a session's expiry moves when it is saved; slideExpiry saves it hourly instead.
  (store as { touch?: unknown }).touch = undefined;
  const production = config.env === 'production';
  const cookieName = production ? '__Host-gk.sid' : 'gk.sid';
  const sessionMiddleware = session({
    name: cookieName,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: production,
      path: '/',
      maxAge: config.sessionTtlHours * 3_600_000,
    },
  });
  // A request that sent no session cookie has a session id minted in this request, known to no
  // one else: identity changes need not rotate it (saving a store delete per new guest).
  const middleware: RequestHandler = function sessions(req, res, next) {
    sessionMiddleware(req, res, (error?: unknown) => {
      req.sessionFresh = !req.headers.cookie?.includes(`${cookieName}=`);
      if (!error) slideExpiry(req.session);
      next(error);
    });
  };
  // connect-sqlite3 purges expired rows right after it connects; statements run in order, so one
  // queued after its 'connect' event completes after that purge.
  const ready = new Promise<void>((resolve) => {
    (store as unknown as { client: EventEmitter }).client.once('connect', () => db.get('SELECT 1', () => resolve()));
  });
  return {
    middleware,
    cookieName,
    index: createSessionIndex(db),
    ready,
    // After `ready`: the store's start-up purge must not find its handle closed (an uncaught error).
    close: () => ready.then(() => new Promise<void>((resolve) => db.close(() => resolve()))),
  };
}
