import type { Request } from 'express';
import { submittedToken } from '../http/csrf.ts';

/**
 * Two requests from one browser racing to create a guest (a double click on "Continue as
 * Guest") get the same guest, whichever app processes serve them: both derive the guest's id
 * and credential from what the racing requests share (`Guests.create`'s `seed`), and the store
 * inserts that guest once; the second request finds it, and its transaction, a replay of the
 * first, writes nothing (`AccountStore.insertGuest`), so the session's cart moves once. Nothing
 * is remembered in memory, so nothing needs sharing between processes, and the guarantee
 * survives a restart between the clicks.
 */
export interface RacingGuests {
  /** What this browser's racing requests share, or undefined when nothing does (a guest at random). */
  seedOf(req: Request): string | undefined;
}

/**
 * The seed is the CSRF token of the form the browser submitted (a double click sends the same one
 * twice) or, for a request with no form, the session id it sent. The token comes first: once the
 * first click has signed in, its session id is replaced, and a second click that arrives after
 * that finds no session to load and is handed a new id, which it shares with nobody. Keyed with
 * the server secret, either gives a credential as unguessable as a random one. Not the CSRF
 * cookie's secret: whoever planted that cookie would get the browser's new guest. A token seeds
 * again only when its form is posted again, which then finds the same guest, or `stale_form`
 * once that guest is gone.
 */
export function createRacingGuests(): RacingGuests {
  return {
    seedOf(req) {
      const token = submittedToken(req);
      if (token) return `form:${token}`;
      return req.sessionFresh ? undefined : `session:${req.sessionID}`;
    },
  };
}
