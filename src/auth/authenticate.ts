import type { Request, RequestHandler, Response } from 'express';
import type { Transactor } from '../db/unit-of-work.ts';
import type { Guests } from './guests.ts';
import { commitIdentity, type SessionKeys } from './identity.ts';
import { publicRecord } from './records.ts';
import type { ResumeCookie } from './resume-cookie.ts';
import type { AccountStore, AuthRecord, StoredRecord } from './stores.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in record (guest or registered), or null. */
    auth: AuthRecord | null;
  }
}

/** How often a signed-in visitor's `last_active_at` is written, at most. */
export const ACTIVITY_WRITE_INTERVAL_MS = 5 * 60_000;

/**
 * The account the session store read with the session, when it did and it is the one the session
 * names: null when that account is gone, undefined when it must be looked up.
 */
function sessionAccountOf(req: Request, ref: { id: string; collection: string }): StoredRecord | null | undefined {
  const read = req.sessionAccount;
  if (read === undefined || read === null) return read;
  return read.id === ref.id && read.collection === ref.collection ? read : undefined;
}

/**
 * Sets `req.auth` before any page renders: from the session, or else from a guest's resume
 * cookie (a guest whose session expired comes back as the same record). Records activity,
 * throttled, and slides the resume cookie's expiry with it.
 */
export function authenticate(deps: {
  records: AccountStore; guests: Guests; transactor: Transactor; resume: ResumeCookie; keys: SessionKeys; now(): number;
}): RequestHandler {
  const { records, guests, transactor, resume, keys, now } = deps;

  async function recordActivity(req: Request, res: Response, auth: AuthRecord): Promise<void> {
    const time = now();
    if (time - (req.session.activeAt ?? 0) < ACTIVITY_WRITE_INTERVAL_MS) return;
    await transactor.apply(records.touch(auth.collection, auth.id, time));
    req.session.activeAt = time;
    if (auth.isAnonymous) {
      const token = resume.read(req);
      if (token) resume.set(res, token);
    }
  }

  return async function authenticate(req, res, next) {
    req.auth = null;
    const ref = req.session.auth;
    if (ref) {
      const read = sessionAccountOf(req, ref);
      const record = read !== undefined ? read : records.has(ref.collection) ? await records.find(ref.collection, ref.id) : null;
      if (record) req.auth = publicRecord(record);
      else delete req.session.auth;
      if (record && ref.guest && !record.isAnonymous) {
        // This guest became an account elsewhere (its verification link followed on another
        // device): a change of identity like any other, so the session id changes with it.
        await commitIdentity(req, res, { kind: 'signIn', record: req.auth!, resumeToken: null, activeAt: 0 }, { resume, keys });
      }
    }
    const token = resume.read(req);
    if (!req.auth && token) {
      const guest = await guests.resume(token);
      if (guest) {
        await commitIdentity(req, res, { kind: 'signIn', record: guest, activeAt: 0 }, { resume, keys });
        req.auth = guest;
      } else {
        resume.clear(res);
      }
    } else if (req.auth && !req.auth.isAnonymous && token) {
      resume.clear(res);
    }
    if (req.auth) await recordActivity(req, res, req.auth);
    next();
  };
}
