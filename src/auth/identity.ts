import type { Request, Response } from 'express';
import type session from 'express-session';
import type { ResumeCookie } from './resume-cookie.ts';
import type { AuthRecord } from './stores.ts';

declare module 'express-session' {
  interface SessionData {
    /** `guest`: signed in as a guest, so a conversion completed elsewhere is noticed (authenticate.ts). */
    auth?: { id: string; collection: string; guest?: true };
    /** When `last_active_at` was last written for this session's account (0: write on the next request). */
    activeAt?: number;
  }
}

/** Who the browser is from now on. */
export type IdentityChange =
  /** `resumeToken`: a string sets the guest's resume cookie, null clears it, undefined leaves it. */
  | { kind: 'signIn'; record: AuthRecord; resumeToken?: string | null; activeAt: number }
  | { kind: 'signOut'; forgetGuest: boolean };

/**
 * The session keys that belong to the browser rather than to who is signed in, registered by
 * the features that own them (the shop's signed-out cart, the CSRF secret): kept when the
 * session id changes.
 */
export class SessionKeys {
  readonly #onSignIn = new Set<string>(['flash']);
  // Signing out keeps only the messages to show next: the rest was the account's.
  readonly #onSignOut = new Set<string>(['flash']);

  /** Keeps `key` across sign-ins (and, with `onSignOut`, across sign-outs too). */
  keep(key: string, options: { onSignOut?: boolean } = {}): void {
    this.#onSignIn.add(key);
    if (options.onSignOut) this.#onSignOut.add(key);
  }

  carriedOver(change: IdentityChange): readonly string[] {
    return [...(change.kind === 'signIn' ? this.#onSignIn : this.#onSignOut)];
  }
}

/**
 * The one place the browser's identity changes: a new session id (defeating fixation), the
 * session's contents, and the guest's resume cookie. Every sign-in, sign-up, conversion,
 * sign-out, password change and resume goes through here, after its writes are committed.
 */
export async function commitIdentity(req: Request, res: Response, change: IdentityChange,
  deps: { resume: ResumeCookie; keys: SessionKeys }): Promise<void> {
  const { resume } = deps;
  await regenerateSession(req, deps.keys.carriedOver(change));
  if (change.kind === 'signIn') {
    Object.assign(req.session, signedIn(change));
    if (change.resumeToken) resume.set(res, change.resumeToken);
    else if (change.resumeToken === null && (resume.read(req) || resume.readPaused(req))) resume.clear(res);
  } else {
    const token = resume.read(req);
    if (change.forgetGuest) resume.clear(res);
    else if (token) resume.pause(res, token);
  }
}

/** What a sign-in puts in the session. */
export function signedIn(change: IdentityChange & { kind: 'signIn' }): Pick<session.SessionData, 'auth' | 'activeAt'> {
  const { id, collection, isAnonymous } = change.record;
  return { auth: isAnonymous ? { id, collection, guest: true } : { id, collection }, activeAt: change.activeAt };
}

/**
 * Whether `commitIdentity` will keep the session id: a session new in this request has an id
 * nobody else knows (regenerateSession), so what it will hold after a sign-in is known before.
 */
export function keepsSessionId(req: Request): boolean {
  return req.sessionFresh === true;
}

/** How long a replaced session id still answers a racing twin request (see regenerateSession). */
const RACING_TWIN_MS = 10_000;

/**
 * Replaces the session with a new id, carrying over `carry`. A session that is new in this
 * request already has an id nobody else knows, so it is kept as it is (saving a store delete
 * per new guest).
 */
function regenerateSession(req: Request, carry: readonly string[]): Promise<void> {
  if (keepsSessionId(req)) return Promise.resolve();
  const kept = Object.fromEntries(carry.filter((key) => req.session[key] !== undefined).map((key) => [key, req.session[key]]));
  const store = req.sessionStore as session.Store & { generate(req: Request): void };
  // Not express-session's regenerate, which deletes the old session at once: a double click's
  // second request, sent with the old cookie, would then find no session and no CSRF secret, and
  // answer "this form has expired" for a guest its twin just made. The old id keeps, for a few
  // seconds, only what the new one carries over (never `auth`): enough for that twin to render
  // as the first did, nothing that signs anyone in.
  const successor = {
    ...kept,
    cookie: { ...JSON.parse(JSON.stringify(req.session.cookie)), expires: new Date(Date.now() + RACING_TWIN_MS), maxAge: RACING_TWIN_MS },
  } as unknown as session.SessionData;
  return new Promise((resolve, reject) => {
    store.set(req.sessionID, successor, (error?: unknown) => {
      if (error) return reject(error);
      store.generate(req);
      Object.assign(req.session, kept);
      resolve();
    });
  });
}
