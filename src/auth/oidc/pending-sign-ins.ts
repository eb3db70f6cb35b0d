import type { Session, SessionData } from 'express-session';
import * as oidc from 'openid-client';
import type { PendingChecks } from './relying-party.ts';

/** `continue`: sign in, convert the guest or register. `link`: add the provider account to the signed-in one. */
export type SignInIntent = 'continue' | 'link';

/** A sign-in sent to a provider and not yet back: its checks, and what to do when it returns. */
export interface PendingSignIn extends PendingChecks {
  provider: string;
  intent: SignInIntent;
  /** Where to go afterwards: a path on this site. */
  next: string;
  /** Who started it (null: nobody was signed in): it completes for that visitor only. */
  visitorId: string | null;
  startedAt: number;
}

declare module 'express-session' {
  interface SessionData {
    /** Sign-ins waiting for their provider's callback, newest last. */
    pendingSignIns?: PendingSignIn[];
  }
}

/** A provider's login takes a minute or two; a state older than this is refused. */
export const PENDING_LIFETIME_MS = 10 * 60_000;
/** Sign-ins begun in several tabs may wait at once; more than this are the oldest dropped. */
const MAX_PENDING = 5;

/*
 * The state record lives in the visitor's session, not in a table. `state` exists to tie the
 * callback to the browser that began the sign-in (otherwise an attacker could finish their own
 * sign-in in a victim's browser), and the session is exactly that browser's: no new table, no
 * sweeping, and it cannot outlive the session. Each record is single use (taken out on the first
 * callback, whatever comes of it), expires after 10 minutes, and goes when the session id rotates,
 * since every change of identity begins a session without it. Two callbacks racing with one state
 * in one session would both find it, but the provider redeems a code once: the second gets a 400.
 */

export function newPendingSignIn(fields: Omit<PendingSignIn, keyof PendingChecks>): PendingSignIn {
  return { ...fields, state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
}

export function rememberSignIn(session: Session & Partial<SessionData>, pending: PendingSignIn, now: number): void {
  session.pendingSignIns = [...live(session, now), pending].slice(-MAX_PENDING);
}

/** The pending sign-in with this `state`, removed from the session; null when none is (still) there. */
export function takeSignIn(session: Session & Partial<SessionData>, state: unknown, now: number): PendingSignIn | null {
  const pending = session.pendingSignIns;
  if (!pending || typeof state !== 'string' || state === '') return null;
  const found = pending.find((each) => each.state === state) ?? null;
  const rest = live(session, now).filter((each) => each !== found);
  if (rest.length > 0) session.pendingSignIns = rest;
  else delete session.pendingSignIns;
  return found && now - found.startedAt <= PENDING_LIFETIME_MS ? found : null;
}

function live(session: Partial<SessionData>, now: number): PendingSignIn[] {
  return (session.pendingSignIns ?? []).filter((each) => now - each.startedAt <= PENDING_LIFETIME_MS);
}
