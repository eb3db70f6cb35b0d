import type { Db } from '../db/open.ts';
import { guestEmail, guestSecretMatches, hashGuestSecret, newGuestSecret, newRecordId } from './credentials.ts';
import type { EventLog } from './events.ts';
import { publicRecord, type AuthRecord, type UserStore } from './user-store.ts';

/**
 * A resume token is `<collection>.<id>.<secret>`: it names the record to look up and carries
 * the secret whose hash must match. It lives in the guest's HttpOnly resume cookie.
 */
export interface GuestSession { record: AuthRecord; token: string }

export type Guests = ReturnType<typeof createGuests>;

export function createGuests(deps: { db: Db; users: UserStore; events: EventLog; now(): number }) {
  const { db, users, events, now } = deps;

  return {
    create(collection: string, metadata: object = {}): GuestSession {
      const id = newRecordId();
      const secret = newGuestSecret();
      db.transaction(() => {
        users.insertGuest(collection, { id, email: guestEmail(id), passwordHash: hashGuestSecret(secret), now: now(), metadata });
        events.record('guest_created', id, collection);
      })();
      return { record: publicRecord(users.find(collection, id)!), token: `${collection}.${id}.${secret}` };
    },

    /** The guest a resume token names, or null when it is malformed, stale, converted or deleted. */
    resume(token: string): AuthRecord | null {
      const [collection, id, secret, extra] = token.split('.');
      if (!collection || !id || !secret || extra !== undefined || !users.has(collection)) return null;
      const record = users.find(collection, id);
      if (!record?.isAnonymous || !guestSecretMatches(secret, record.passwordHash)) return null;
      return publicRecord(record);
    },

    /** Issues a fresh token for a guest whose browser no longer holds one (the old one stops working). */
    reissue(record: AuthRecord): string | null {
      const secret = newGuestSecret();
      if (!users.replaceGuestSecret(record.collection, record.id, hashGuestSecret(secret))) return null;
      return `${record.collection}.${record.id}.${secret}`;
    },
  };
}
