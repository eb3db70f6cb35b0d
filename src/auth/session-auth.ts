import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import { readCookie } from '../http/cookies.ts';
import type { Guests } from './guests.ts';
import { publicRecord, type AuthRecord, type UserStore } from './user-store.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in record (guest or registered), or null. */
    auth: AuthRecord | null;
  }
}

/** How often a signed-in visitor's `last_active_at` is written, at most. */
export const ACTIVITY_WRITE_INTERVAL_MS = 5 * 60_000;

/**
 * The guest's resume cookie. Active, it signs the guest back in on any request (their session
 * expired, the server restarted). After a soft sign-out it is *paused* (`~` prefix): nothing signs
 * them in automatically, but their next `signInAnonymously()` resumes the same guest.
 */
export interface ResumeCookie {
  name: string;
  /** The active token, if any (a paused one is not returned). */
  read(req: Request): string | undefined;
  /** The token of a guest who signed out softly, if any. */
  readPaused(req: Request): string | undefined;
  set(res: Response, token: string): void;
  pause(res: Response, token: string): void;
  clear(res: Response): void;
}

const PAUSED = '~';

export function createResumeCookie(config: Config): ResumeCookie {
  const production = config.env === 'production';
  const name = production ? '__Host-gk.resume' : 'gk.resume';
  const options: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: production, path: '/' };
  const maxAge = config.guestRetentionDays * 86_400_000;
  const raw = (req: Request) => readCookie(req.headers.cookie, name);
  return {
    name,
    read(req) {
      const value = raw(req);
      return value?.startsWith(PAUSED) ? undefined : value;
    },
    readPaused(req) {
      const value = raw(req);
      return value?.startsWith(PAUSED) ? value.slice(PAUSED.length) : undefined;
    },
    set: (res, token) => void res.cookie(name, token, { ...options, maxAge }),
    pause: (res, token) => void res.cookie(name, PAUSED + token, { ...options, maxAge }),
    clear: (res) => void res.clearCookie(name, options),
  };
}

/** Session keys that belong to the browser, not the identity: kept when the session id changes. */
export const BROWSER_SESSION_KEYS: readonly string[] = ['cart', 'flash', 'csrfSecret'];

/**
 * Replaces the session with a new id (defeating fixation on every change of identity), carrying
 * over the keys that belong to the browser rather than the identity (the cart, flash messages,
 * the CSRF secret so forms in other tabs still submit). A session that is new in this request
 * already has an id nobody else knows, so it is kept as it is.
 */
export function regenerateSession(req: Request, carry: readonly string[]): Promise<void> {
  if (req.sessionFresh) return Promise.resolve();
  const kept = Object.fromEntries(carry.filter((key) => req.session[key] !== undefined).map((key) => [key, req.session[key]]));
  return new Promise((resolve, reject) => {
    req.session.regenerate((error: unknown) => {
      if (error) return reject(error);
      Object.assign(req.session, kept);
      resolve();
    });
  });
}

export function signInSession(req: Request, record: AuthRecord, activeAt: number): void {
  req.session.auth = { id: record.id, collection: record.collection };
  req.session.activeAt = activeAt;
}

/**
 * Sets `req.auth` before any page renders: from the session, or else from a guest's resume
 * cookie (a guest whose session expired comes back as the same record). Records activity,
 * throttled, and slides the resume cookie's expiry with it.
 */
export function authenticate(deps: {
  users: UserStore; guests: Guests; resume: ResumeCookie; now(): number;
}): RequestHandler {
  const { users, guests, resume, now } = deps;

  return async function authenticate(req, res, next) {
    req.auth = null;
    const ref = req.session.auth;
    if (ref) {
      const record = users.has(ref.collection) ? users.find(ref.collection, ref.id) : null;
      if (record) req.auth = publicRecord(record);
      else delete req.session.auth;
    }
    const token = resume.read(req);
    if (!req.auth && token) {
      const guest = guests.resume(token);
      if (guest) {
        await regenerateSession(req, BROWSER_SESSION_KEYS);
        signInSession(req, guest, 0);
        req.auth = guest;
      } else {
        resume.clear(res);
      }
    } else if (req.auth && !req.auth.isAnonymous && token) {
      resume.clear(res);
    }
    if (req.auth) recordActivity(req, res);
    next();
  };

  function recordActivity(req: Request, res: Response): void {
    const time = now();
    if (time - (req.session.activeAt ?? 0) < ACTIVITY_WRITE_INTERVAL_MS) return;
    const auth = req.auth!;
    users.touch(auth.collection, auth.id, time);
    req.session.activeAt = time;
    if (auth.isAnonymous) {
      const token = resume.read(req);
      if (token) resume.set(res, token);
    }
  }
}
