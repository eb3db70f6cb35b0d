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
 * The seed is the session id the browser sent or, before it has a session, the CSRF token of the
 * form it submitted (a double click sends the same one twice); keyed with the server secret, it
 * gives a credential as unguessable as a random one. Not the CSRF cookie's secret: whoever
 * planted that cookie would get the browser's new guest. A session id stops seeding once the
 * guest is made (sign-in moves the session to a new id); a token seeds again only when its form
 * is posted again, which then finds the same guest, or `stale_form` once that guest is gone.
 */
export function createRacingGuests(): RacingGuests {
  return {
    seedOf(req) {
      if (!req.sessionFresh) return `session:${req.sessionID}`;
      const token = submittedToken(req);
      return token ? `form:${token}` : undefined;
    },
  };
}
