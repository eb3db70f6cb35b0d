import type { Transactor } from '../db/unit-of-work.ts';
import type { MailLimits } from '../mail/mail-limits.ts';
import type { Mailer } from '../mail/mailer.ts';
import { createAccountLinks } from './account-links.ts';
import { createAccountTokens } from './account-tokens.ts';
import type { Accounts } from './accounts.ts';
import { createEmailVerification } from './email-verification.ts';
import { createGuestResume } from './guest-resume.ts';
import type { Guests } from './guests.ts';
import type { LinkFlows } from './link-helpers.ts';
import { createMailRequests } from './mail-requests.ts';
import { createPasswordReset } from './password-reset.ts';
import type { PasswordHasher } from './passwords.ts';
import { createSignInLinks } from './sign-in-links.ts';
import type { AccountStore, AccountTokenStore, EventLog, PendingConversionStore, SessionIndex } from './stores.ts';

/** Every flow of the mailed links (password reset, sign-in links, email verification, guest resume), built once. */
export function createMailLinks(deps: {
  appUrl: string; verificationRequired: boolean;
  records: AccountStore; events: EventLog; tokens: AccountTokenStore; pending: PendingConversionStore;
  transactor: Transactor; accounts: Accounts; guests: Guests; passwords: PasswordHasher; sessions: SessionIndex;
  mailer: Mailer; limits: MailLimits; now(): number; log(message: string): void;
}): LinkFlows {
  const { records, events, pending, accounts, now } = deps;
  const tokens = createAccountTokens({ store: deps.tokens, now });
  const links = createAccountLinks({ records, events, tokens, mailer: deps.mailer, appUrl: deps.appUrl, accounts, now });
  return {
    passwordReset: createPasswordReset({ records, events, tokens, links, passwords: deps.passwords, sessions: deps.sessions }),
    signInLinks: createSignInLinks({ records, events, tokens, links }),
    verification: createEmailVerification({ required: deps.verificationRequired, records, events, pending, tokens, links, accounts, now }),
    guestResume: createGuestResume({ records, events, tokens, links, guests: deps.guests, sessions: deps.sessions }),
    mailRequests: createMailRequests({ transactor: deps.transactor, limits: deps.limits, log: deps.log }),
  };
}
