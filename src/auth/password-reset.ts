import type { UnitOfWork } from '../db/unit-of-work.ts';
import { validateAll } from '../errors.ts';
import { credentialFingerprint, type AccountTokens } from './account-tokens.ts';
import { AuthError } from './errors.ts';
import type { AccountLinks, OpenedLink } from './account-links.ts';
import { checkPassword, type PasswordHasher } from './passwords.ts';
import { findRegisteredByAddress, publicRecord } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, SessionIndex, StoredRecord } from './stores.ts';

export const RESET_PATH = '/reset-password';

export interface NewPassword { password: unknown; confirmation: unknown }

/**
 * "Forgot your password?": a link, valid an hour, to set a new password. The link is bound to
 * the password it replaces: once the password changes (this link used, another reset, a
 * password change), it stops working.
 */
export interface PasswordReset {
  /** The mail job: a link to the registered account with this address, if there is one. */
  request(work: UnitOfWork, email: string): Promise<void>;
  /** The account a reset link is for; throws `invalid_link`, `expired_link` or `used_link`. */
  check(secret: unknown): Promise<AuthRecord>;
  /**
   * Sets the new password (every field's problem at once), uses the link, verifies the address
   * if it was not, and ends every session of the account; a guest visitor is merged into it.
   * Resolves to the account, for this browser to sign in to.
   */
  complete(work: UnitOfWork, visitor: AuthRecord | null, secret: unknown, fields: NewPassword): Promise<AuthRecord>;
}

export function createPasswordReset(deps: {
  records: AccountStore; events: EventLog; tokens: AccountTokens; links: AccountLinks;
  passwords: PasswordHasher; sessions: SessionIndex;
}): PasswordReset {
  const { records, events, tokens, links, passwords, sessions } = deps;

  const bindingOf = (account: StoredRecord) => (account.isAnonymous ? null : credentialFingerprint(account.passwordHash));
  const open = (secret: unknown): Promise<OpenedLink> => links.open('password_reset', secret, bindingOf);

  return {
    async request(work, email) {
      const account = await findRegisteredByAddress(records, email);
      if (!account) return;
      await links.send(work, { purpose: 'password_reset', accountId: account.id, bound: credentialFingerprint(account.passwordHash), template: 'password-reset', to: account.email, path: RESET_PATH });
    },

    check: async (secret) => publicRecord((await open(secret)).account),

    async complete(work, visitor, secret, fields) {
      const { token, account } = await open(secret);
      const { password } = validateAll({
        password: () => {
          const password = typeof fields.password === 'string' ? fields.password : '';
          checkPassword(password);
          return password;
        },
        confirmation: () => { if (fields.confirmation !== fields.password) throw new AuthError('password_mismatch'); },
      });
      const passwordHash = await passwords.hash(password);
      // Replaces the very hash the link was checked against: a password changed since (in the
      // time bcrypt took) fails the whole transaction, the link still unused.
      const reset = await links.arrive(work, visitor, account, [
        tokens.consume(token),
        records.setPassword(account.collection, account.id, passwordHash, account.passwordHash),
        events.record('password_reset', account.id, account.collection),
        ...links.proveAddress(account, 'password_reset'),
      ]);
      await sessions.deleteForAccount(account.id); // whoever knew the old password is signed out everywhere
      return reset;
    },
  };
}
