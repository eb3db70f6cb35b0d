import type { UnitOfWork } from '../db/unit-of-work.ts';
import type { AccountLinks } from './account-links.ts';
import { credentialFingerprint, type AccountTokens } from './account-tokens.ts';
import { normalizeEmail } from './email-address.ts';
import { AuthError } from './errors.ts';
import type { Guests } from './guests.ts';
import { publicRecord } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, SessionIndex, StoredRecord } from './stores.ts';

export const RESUME_PATH = '/resume';

/**
 * Cross-device resume: a guest mails themselves a link that brings the same guest (same id,
 * cart, orders, notes) to another device, with no password. The guest *moves*: the link's
 * device gets a new session and a new resume credential, and the old credential and every
 * other session of the guest end, so exactly one device holds the guest, as before. The link
 * is bound to the guest's credential: it stops working once the guest is forgotten, converted
 * or resumed elsewhere.
 */
export interface GuestResume {
  /** Mails the signed-in guest a link at `email` (any address: it is not stored, nor looked up). */
  request(work: UnitOfWork, guest: AuthRecord, email: unknown): Promise<string>;
  /** The guest a link brings back; throws `invalid_link`, `expired_link` or `used_link`. */
  check(secret: unknown): Promise<AuthRecord>;
  /**
   * Uses the link: the guest's credential is replaced and its other sessions end; a guest
   * visitor here is merged into it. A registered visitor must sign out first (`already_signed_in`).
   * Resolves to the guest and its new resume token, for this browser.
   */
  redeem(work: UnitOfWork, visitor: AuthRecord | null, secret: unknown): Promise<{ record: AuthRecord; token: string }>;
}

export function createGuestResume(deps: {
  records: AccountStore; events: EventLog; tokens: AccountTokens; links: AccountLinks; guests: Guests; sessions: SessionIndex;
}): GuestResume {
  const { records, events, tokens, links, guests, sessions } = deps;
  const bindingOf = (account: StoredRecord) => (account.isAnonymous ? credentialFingerprint(account.passwordHash) : null);
  const open = (secret: unknown) => links.open('guest_resume', secret, bindingOf);

  return {
    async request(work, guest, rawEmail) {
      if (!guest.isAnonymous) throw new AuthError('not_anonymous');
      const email = normalizeEmail(rawEmail);
      const stored = await records.find(guest.collection, guest.id);
      if (!stored?.isAnonymous) throw new AuthError('not_signed_in');
      await links.send(work, {
        purpose: 'guest_resume', accountId: guest.id, bound: credentialFingerprint(stored.passwordHash), template: 'guest-resume', to: email, path: RESUME_PATH,
      });
      return email;
    },

    check: async (secret) => publicRecord((await open(secret)).account),

    async redeem(work, visitor, secret) {
      if (visitor && !visitor.isAnonymous) throw new AuthError('already_signed_in');
      const { token, account } = await open(secret);
      // Replaces the very credential the link was checked against: a guest forgotten or converted
      // since fails the whole transaction, the link still unused.
      const { token: resumeToken, write } = guests.rekey(account, account.passwordHash);
      const record = await links.arrive(work, visitor, account, [
        tokens.consume(token),
        write,
        events.record('link_sign_in', account.id, account.collection, { via: 'guest_resume' }),
      ]);
      await sessions.deleteForAccount(account.id); // the device it came from lets go of the guest
      return { record, token: resumeToken };
    },
  };
}
