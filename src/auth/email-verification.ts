import type { UnitOfWork } from '../db/unit-of-work.ts';
import type { AccountLinks, LinkToSend } from './account-links.ts';
import type { AccountTokens } from './account-tokens.ts';
import type { Accounts, Alongside } from './accounts.ts';
import { AuthError } from './errors.ts';
import { findRegisteredByAddress } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, PendingConversionStore, StoredRecord } from './stores.ts';

export const VERIFY_PATH = '/verify-email';

/**
 * Email verification: conversion and registration mail a link, valid a day, bound to the
 * address; following it sets `email_verified_at`. Under `EMAIL_VERIFICATION=required` a
 * converting guest stays a guest until then (seed 004's `confirmation_required`: the password
 * is kept at once as a pending conversion, and the link makes the account), and an unverified
 * account cannot sign in with its password.
 */
export interface EmailVerification {
  readonly required: boolean;
  /** For conversion and registration: the new account's link and mail, in its transaction. */
  alongside(work: UnitOfWork): Alongside;
  /** The address the visitor has yet to verify: an unverified account's own, or a guest's pending one; else null. */
  addressOf(visitor: AuthRecord): Promise<string | null>;
  /** A new link to `email` for the account (or the guest's pending conversion) `accountId`. */
  send(work: UnitOfWork, accountId: string, email: string): Promise<void>;
  /** The mail job of the signed-out form: a new link for the unverified account with this address, if any. */
  request(work: UnitOfWork, email: string): Promise<void>;
  /** The address a link verifies; throws `invalid_link`, `expired_link` or `used_link`. */
  check(secret: unknown): Promise<string>;
  /**
   * Uses the link: the address is verified, a pending conversion becomes the account (its id
   * kept), and a guest visitor other than that one is merged into it. Resolves to the account
   * to sign in to.
   */
  redeem(work: UnitOfWork, visitor: AuthRecord | null, secret: unknown): Promise<AuthRecord>;
}

export function createEmailVerification(deps: {
  required: boolean; records: AccountStore; events: EventLog; pending: PendingConversionStore;
  tokens: AccountTokens; links: AccountLinks; accounts: Accounts; now(): number;
}): EmailVerification {
  const { required, records, events, pending, tokens, links, accounts, now } = deps;

  const linkFor = (account: { id: string; email: string }): LinkToSend => ({
    purpose: 'email_verification', accountId: account.id, bound: account.email, template: 'email-verification', to: account.email, path: VERIFY_PATH,
  });

  /** The address a link for `account` must still be for: its own, or the one its pending conversion waits on. */
  const bindingOf = async (account: StoredRecord) => (account.isAnonymous ? (await pending.find(account.id))?.email ?? null : account.email);
  const open = (secret: unknown) => links.open('email_verification', secret, bindingOf);

  return {
    required,
    alongside: (work) => (account) => links.writes(work, linkFor(account)),

    async addressOf(visitor) {
      if (visitor.isAnonymous) return (await pending.find(visitor.id))?.email ?? null;
      return visitor.emailVerifiedAt === null ? visitor.email : null;
    },

    send: (work, accountId, email) => links.send(work, linkFor({ id: accountId, email })),

    async request(work, email) {
      const account = await findRegisteredByAddress(records, email);
      if (account && account.emailVerifiedAt === null) await links.send(work, linkFor(account));
    },

    check: async (secret) => (await open(secret)).token.bound,

    async redeem(work, visitor, secret) {
      const { token, account } = await open(secret);
      if (!account.isAnonymous) {
        // Verified already (by a sign-in or reset link): then this link only signs the browser in.
        const proves = links.proveAddress(account, 'email_verification');
        const used = proves.length > 0 ? proves : [events.record('link_sign_in', account.id, account.collection, { via: 'email_verification' })];
        return links.arrive(work, visitor, account, [tokens.consume(token), ...used]);
      }
      // Asked again for another address since the link was checked: this link is for the old one.
      const conversion = await pending.find(account.id);
      if (!conversion || conversion.email !== token.bound) throw new AuthError('invalid_link');
      return links.arrive(work, visitor, account, [
        tokens.consume(token),
        ...accounts.conversionWrites(account, conversion),
        records.markEmailVerified(account.collection, account.id, conversion.email, now()),
        events.record('email_verified', account.id, account.collection, { via: 'email_verification' }),
      ]);
    },
  };
}
