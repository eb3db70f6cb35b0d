import type { UnitOfWork, Write } from '../db/unit-of-work.ts';
import type { Mailer, MailTemplate } from '../mail/mailer.ts';
import type { Accounts } from './accounts.ts';
import { TOKEN_LIFETIME_MS, type AccountTokens, type CheckedToken } from './account-tokens.ts';
import { AuthError } from './errors.ts';
import { publicRecord } from './records.ts';
import type { AccountStore, AuthRecord, EventLog, StoredRecord, TokenPurpose } from './stores.ts';

/** A checked link and the account it is for, as the account is now. */
export interface OpenedLink { token: CheckedToken; account: StoredRecord }

export interface LinkToSend {
  purpose: TokenPurpose;
  accountId: string;
  /** What the token stays bound to (see AccountTokens). */
  bound: string;
  template: MailTemplate;
  to: string;
  /** The page the link opens. */
  path: string;
  data?: Record<string, unknown>;
}

/**
 * What every mailed link shares: sending one (its token and mail in one transaction), opening
 * one, proving the address it went to, and the visitor's arrival at its account.
 */
export interface AccountLinks {
  /**
   * The writes of a new link, its token and its mail (rendered now, the link built from
   * `APP_URL`, never from the request's Host), to apply together with what causes it.
   */
  writes(work: UnitOfWork, link: LinkToSend): ReadonlyArray<Write<unknown>>;
  /** Applies a new link's writes now. */
  send(work: UnitOfWork, link: LinkToSend): Promise<void>;
  /**
   * The link's token and its account, which must still exist; `expected` gives the value the
   * token must still be bound to (null: this account cannot use such a link any more).
   */
  open(purpose: TokenPurpose, secret: unknown, expected: (account: StoredRecord) => Promise<string | null> | string | null): Promise<OpenedLink>;
  /**
   * The writes that record the address as verified, when it is not yet: any link we mailed to
   * it and that came back proves it, whatever the link was for.
   */
  proveAddress(account: StoredRecord, via: TokenPurpose): ReadonlyArray<Write<unknown>>;
  /**
   * Applies `writes` (the token used up, what the link does) as the visitor arrives at
   * `account`: a guest visitor, other than that account, hands it their cart, orders and notes
   * in the same transaction, exactly as a password sign-in does. Resolves to the account as it is now.
   */
  arrive(work: UnitOfWork, visitor: AuthRecord | null, account: StoredRecord, writes: ReadonlyArray<Write<unknown>>): Promise<AuthRecord>;
}

export function createAccountLinks(deps: {
  records: AccountStore; events: EventLog; tokens: AccountTokens; mailer: Mailer; appUrl: string; accounts: Accounts; now(): number;
}): AccountLinks {
  const { records, events, tokens, mailer, appUrl, accounts, now } = deps;
  const runAll = async (work: UnitOfWork, writes: ReadonlyArray<Write<unknown>>) => {
    const [first, ...rest] = writes;
    if (first) await work.run(first, ...rest);
  };

  const links: AccountLinks = {
    writes(work, link) {
      const { secret, write } = tokens.issue(link.purpose, link.accountId, link.bound);
      const { template, to, path, data } = link;
      const mail = mailer.compose(work, {
        template, to, data: { ...data, email: to, link: `${appUrl}${path}?token=${secret}`, validFor: spoken(TOKEN_LIFETIME_MS[link.purpose]) },
      });
      return [write, mail];
    },

    send: (work, link) => runAll(work, links.writes(work, link)),

    async open(purpose, secret, expected) {
      let account: StoredRecord | null = null;
      const token = await tokens.check(purpose, secret, async (found) => {
        account = records.has(found.collection) ? await records.find(found.collection, found.accountId) : null;
        return account ? expected(account) : null;
      });
      // check() resolved, so the account was found and matched.
      return { token, account: account! };
    },

    proveAddress(account, via) {
      if (account.isAnonymous || account.emailVerifiedAt !== null) return [];
      return [records.markEmailVerified(account.collection, account.id, account.email, now()),
        events.record('email_verified', account.id, account.collection, { via })];
    },

    async arrive(work, visitor, account, writes) {
      const merging = visitor?.isAnonymous && visitor.id !== account.id ? accounts.mergeWrites(visitor, account) : [];
      await runAll(work, [...writes, ...merging]);
      const current = await records.find(account.collection, account.id);
      // Deleted in the moment since (cleanup, another tab): nothing to sign in to.
      if (!current) throw new AuthError('invalid_link');
      return publicRecord(current);
    },
  };
  return links;
}

/** A lifetime as a mail says it: "15 minutes", "1 hour", "24 hours". */
function spoken(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? '1 hour' : `${hours} hours`;
}
