import type { Request } from 'express';
import { submittedToken } from '../http/csrf.ts';
import type { GuestSession } from './guests.ts';

/**
 * Two requests from one browser racing to create a guest (a double click on "Continue as
 * Guest") get the same guest. In-process for now: one app process sees both clicks.
 */
export interface RecentGuests {
  /** The guest a racing request of this browser made in `collection` a moment ago, if any. */
  find(req: Request, collection: string): GuestSession | undefined;
  remember(req: Request, collection: string, guest: GuestSession): void;
}

// Entries live a few seconds: long enough for a double click, too short to matter otherwise.
const RECENT_GUEST_MS = 10_000;

export function createRecentGuests(now: () => number): RecentGuests {
  const recent = new Map<string, { guest: GuestSession; expires: number }>();

  /**
   * What one browser's racing requests share: the session id it sent or, before it has a
   * session, the CSRF token of the form it submitted (a double click sends the same one twice).
   * Not the CSRF cookie's secret: whoever planted that cookie would get the browser's new guest.
   */
  function keyOf(req: Request, collection: string): string | undefined {
    if (!req.sessionFresh) return `session:${req.sessionID}:${collection}`;
    const token = submittedToken(req);
    return token ? `form:${token}:${collection}` : undefined;
  }

  return {
    find(req, collection) {
      const key = keyOf(req, collection);
      const entry = key === undefined ? undefined : recent.get(key);
      return entry && entry.expires > now() ? entry.guest : undefined;
    },
    remember(req, collection, guest) {
      const key = keyOf(req, collection);
      if (key === undefined) return;
      const time = now();
      for (const [entryKey, entry] of recent) {
        if (entry.expires > time) break; // insertion order is expiry order
        recent.delete(entryKey);
      }
      recent.set(key, { guest, expires: time + RECENT_GUEST_MS });
    },
  };
}
