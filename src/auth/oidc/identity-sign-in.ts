import type { IdentityProviderConfig } from '../../config.ts';
import type { UnitOfWork } from '../../db/unit-of-work.ts';
import type { Accounts } from '../accounts.ts';
import { newRecordId, placeholderEmail } from '../credentials.ts';
import { normalizeEmail, storedForms } from '../email-address.ts';
import { NO_PASSWORD, publicRecord, storedOf } from '../records.ts';
import type { AccountStore, AuthRecord, EventLog, IdentityStore, LinkedIdentity, NewRecord } from '../stores.ts';
import { IdentityError } from './errors.ts';
import type { SignInIntent } from './pending-sign-ins.ts';
import type { VerifiedClaims } from './relying-party.ts';

/** What a verified provider account came to for the visitor who brought it. */
export type SignInOutcome =
  | { kind: 'signed_in'; account: AuthRecord; how: 'signed_in' | 'merged' | 'converted' | 'registered' | 'linked' | 'already_linked' }
  /** Its email is an account's, but the provider is not trusted to have verified it: nothing was done. */
  | { kind: 'password_first' };

export interface IdentitySignIn {
  /**
   * Decides what the provider account does for this visitor and queues or runs its writes on
   * `work` (the caller commits). The rules, in order:
   * - a signed-in account linking: the provider account is linked to it (refused if linked elsewhere);
   * - a provider account already linked signs in to its account; a guest is merged into it first;
   * - a signed-in account continuing with an unknown provider account is refused (link it instead);
   * - an unknown provider account whose email an account has is linked to that account only when
   *   the provider is trusted for email and says `email_verified`; otherwise `password_first`;
   * - a guest is converted in place (same id); anyone else gets a new account.
   */
  complete(work: UnitOfWork, visitor: AuthRecord | null, provider: IdentityProviderConfig,
    claims: VerifiedClaims, intent: SignInIntent): Promise<SignInOutcome>;
}

export function createIdentitySignIn(deps: {
  records: AccountStore; identities: IdentityStore; accounts: Accounts; events: EventLog; now(): number;
}): IdentitySignIn {
  const { records, identities, accounts, events, now } = deps;

  async function accountById(id: string): Promise<AuthRecord | null> {
    for (const collection of records.collections) {
      const found = await records.find(collection, id);
      if (found) return publicRecord(found);
    }
    return null;
  }

  async function accountWithEmail(raw: string): Promise<AuthRecord | null> {
    for (const form of storedForms(raw)) {
      const found = await records.findRegisteredByEmail(form);
      if (found) return publicRecord(found);
    }
    return null;
  }

  return {
    async complete(work, visitor, provider, claims, intent) {
      const detail = { method: 'oidc', provider: provider.name };
      const identity = (accountId: string): LinkedIdentity => ({
        provider: provider.name, subject: claims.subject, accountId, email: claims.email, emailVerified: claims.emailVerified, linkedAt: now(),
      });
      const linked = await identities.find(provider.name, claims.subject);
      const owner = linked && await accountById(linked.accountId);
      const registered = visitor && !visitor.isAnonymous ? visitor : null;
      const guest = visitor?.isAnonymous ? visitor : null;

      /** Signs in to `account`, handing it the guest's work first, as a password sign-in does. */
      async function signInTo(account: AuthRecord, how: 'signed_in' | 'merged'): Promise<SignInOutcome> {
        if (guest) await accounts.merge(work, guest, account);
        work.defer(events.record('signed_in', account.id, account.collection, detail));
        return { kind: 'signed_in', account, how: guest ? 'merged' : how };
      }

      if (registered && intent === 'link') {
        if (owner && owner.id !== registered.id) throw new IdentityError('identity_in_use', provider.label);
        if (owner) return { kind: 'signed_in', account: registered, how: 'already_linked' };
        await work.run(identities.link(identity(registered.id)), events.record('identity_linked', registered.id, registered.collection, detail));
        return { kind: 'signed_in', account: registered, how: 'linked' };
      }
      if (owner) return signInTo(owner, 'signed_in');
      if (registered) throw new IdentityError('already_signed_in', provider.label);

      const email = usableEmail(claims.email);
      const trusted = email !== null && provider.trustEmail && claims.emailVerified;
      const holder = email && await accountWithEmail(email);
      if (holder) {
        // seed 000's never_trust: an address the provider did not verify (or that we do not trust
        // it to verify) must not open somebody's account.
        if (!trusted) return { kind: 'password_first' };
        work.defer(identities.link(identity(holder.id)));
        work.defer(events.record('identity_linked', holder.id, holder.collection, { ...detail, by: 'email' }));
        return signInTo(holder, 'signed_in');
      }
      // An untrusted address is not given to the account either: whoever owns it could not
      // register with it, and a trusted provider's verified sign-in with it would later link here.
      const profile = { email: trusted ? email : null, emailForms: trusted ? storedForms(claims.email) : undefined, name: displayName(claims.name) };
      if (guest) {
        const claimedAt = now();
        const address = profile.email ?? placeholderEmail(guest.id);
        // The promotion is guarded on `is_anonymous = 1`: a guest converted meanwhile fails it, and the link with it.
        await work.run(records.promote(guest.collection, guest.id, { ...profile, email: address, passwordHash: NO_PASSWORD, now: claimedAt }),
          identities.link(identity(guest.id)), events.record('guest_converted', guest.id, guest.collection, detail));
        const account = { ...guest, email: address, username: address, name: profile.name, isAnonymous: false, claimedAt, lastActiveAt: claimedAt };
        return { kind: 'signed_in', account, how: 'converted' };
      }
      const id = newRecordId();
      const address = profile.email ?? placeholderEmail(id);
      const record: NewRecord = {
        id, email: address, emailForms: profile.emailForms, username: address, name: profile.name,
        passwordHash: NO_PASSWORD, isAnonymous: false, now: now(), metadata: {},
      };
      await work.run(records.insert('users', record), identities.link(identity(id)), events.record('registered', id, 'users', detail));
      return { kind: 'signed_in', account: publicRecord(storedOf('users', record)), how: 'registered' };
    },
  };
}

/** The provider's email in our canonical form, or null when it gave none we can use. */
function usableEmail(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    return normalizeEmail(raw);
  } catch {
    return null;
  }
}

/** The provider's `name` claim, when it fits the 100 characters a name may have here. */
function displayName(raw: string | null): string | null {
  const name = raw?.trim() ?? '';
  return name && [...name].length <= 100 ? name : null;
}
