import type { UnitOfWork } from '../db/unit-of-work.ts';
import type { AccountTokens } from './account-tokens.ts';
import type { AccountLinks } from './account-links.ts';
import { findRegisteredByAddress, publicRecord } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, StoredRecord } from './stores.ts';

export const SIGN_IN_LINK_PATH = '/sign-in-link';

/**
 * Sign-in links ("magic links", seed 001's upgrade methods): a link, valid 15 minutes and
 * bound to the account's address, that signs the browser in with no password.
 */
export interface SignInLinks {
  /** The mail job: a link to the registered account with this address, if there is one. */
  request(work: UnitOfWork, email: string): Promise<void>;
  /** The account a sign-in link is for; throws `invalid_link`, `expired_link` or `used_link`. */
  check(secret: unknown): Promise<AuthRecord>;
  /**
   * Uses the link (recording `link_sign_in`, and verifying the address if it was not); a guest
   * visitor is merged into the account. Resolves to the account to sign in to.
   */
  redeem(work: UnitOfWork, visitor: AuthRecord | null, secret: unknown): Promise<AuthRecord>;
}

export function createSignInLinks(deps: {
  records: AccountStore; events: EventLog; tokens: AccountTokens; links: AccountLinks;
}): SignInLinks {
  const { records, events, tokens, links } = deps;
  const bindingOf = (account: StoredRecord) => (account.isAnonymous ? null : account.email);
  const open = (secret: unknown) => links.open('sign_in_link', secret, bindingOf);

  return {
    async request(work, email) {
      const account = await findRegisteredByAddress(records, email);
      if (!account) return;
      await links.send(work, { purpose: 'sign_in_link', accountId: account.id, bound: account.email, template: 'sign-in-link', to: account.email, path: SIGN_IN_LINK_PATH });
    },

    check: async (secret) => publicRecord((await open(secret)).account),

    async redeem(work, visitor, secret) {
      const { token, account } = await open(secret);
      return links.arrive(work, visitor, account, [
        tokens.consume(token),
        events.record('link_sign_in', account.id, account.collection, { via: 'sign_in_link' }),
        ...links.proveAddress(account, 'sign_in_link'),
      ]);
    },
  };
}
