import type { RequestHandler } from 'express';
import session from 'express-session';
import type { SessionIndex, StoredRecord } from '../auth/stores.ts';
import type { Config } from '../config.ts';
import type { Write } from '../db/unit-of-work.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** True when the browser sent no session cookie: the session and its id are new in this request. */
    sessionFresh?: boolean;
    /**
     * The account the session names, read by the store in the same statement as the session
     * (SessionStorage.takeAccountRead): null when it no longer exists; undefined when not read.
     */
    sessionAccount?: StoredRecord | null;
  }
}

declare module 'express-session' {
  interface SessionData {
    csrfSecret?: string;
    /** When the session was last saved to slide its expiry. */
    savedAt?: number;
    [key: string]: unknown;
  }
}

/** A session's save that commits with a render's writes (SessionStorage.saveInRender). */
export interface RenderSessionSave {
  write: Write<void>;
  /** To run once `write`'s transaction has committed (UnitOfWork.afterCommit). */
  committed(): void;
}

/** Where sessions are kept: one backend's express-session store, and the index of an account's sessions. */
export interface SessionStorage {
  store: session.Store;
  /** Every session of an account, and expired ones. */
  index: SessionIndex;
  /** Settles once the store is ready to serve (its tables made, its start-up purge done). */
  ready: Promise<void>;
  close(): Promise<void>;
  /**
   * For a store that reads a session together with the account it names (one round trip where
   * there were two): hands over, once, what the `get` of `sid` that just called back read. It is
   * taken in that same callback, before anything else can run.
   */
  takeAccountRead?(sid: string): StoredRecord | null | undefined;
  /**
   * For a store in the app's own database: saves `current`, holding `data`, in a render's
   * transaction, so that its writes and the session commit together in one round trip; the
   * store's own save at the end of the response then finds it written and writes nothing.
   */
  saveInRender?(current: session.Session, data: session.SessionData): RenderSessionSave;
}

export interface Sessions {
  middleware: RequestHandler;
  saveInRender?: SessionStorage['saveInRender'];
  /** Every session of an account, and expired ones. */
  index: SessionIndex;
  ready: Promise<void>;
  close(): Promise<void>;
}

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

/** express-session over `storage`, with our cookie, no per-request touch and an hourly slide. */
export function createSessions(config: Config, secret: string, storage: SessionStorage): Sessions {
  const { store } = storage;
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
      req.sessionAccount = req.sessionFresh ? undefined : storage.takeAccountRead?.(req.sessionID);
      if (!error) slideExpiry(req.session);
      next(error);
    });
  };
  return { middleware, saveInRender: storage.saveInRender, index: storage.index, ready: storage.ready, close: () => storage.close() };
}
