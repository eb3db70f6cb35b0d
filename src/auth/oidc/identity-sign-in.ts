import type { IdentityProviderConfig } from '../../config.ts';
import type { UnitOfWork } from '../../db/unit-of-work.ts';
import type { Accounts } from '../accounts.ts';
import { placeholderEmail } from '../credentials.ts';
import { newRecordId } from '../record-ids.ts';
import { normalizeEmail, storedForms } from '../email-address.ts';
import { NO_PASSWORD, publicRecord, storedOf } from '../records.ts';
import type { AccountStore, AuthRecord, EventLog, IdentityStore, LinkedIdentity, NewRecord } from '../stores.ts';
import { IdentityError } from './errors.ts';
import type { SignInIntent } from './pending-sign-ins.ts';
import type { VerifiedClaims } from './relying-party.ts';

/** A sign-in that went through: who the visitor is now, and how they came to be. */
export interface SignedIn {
  kind: 'signed_in';
  account: AuthRecord;
  how: 'signed_in' | 'merged' | 'converted' | 'registered' | 'linked' | 'already_linked';
}

/** What a verified provider account came to for the visitor who brought it. */
export type SignInOutcome = SignedIn
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

/** What a new account, or a converted guest, takes from the provider: an email only when it is trusted. */
interface Profile { email: string | null; emailForms: string[] | undefined; name: string | null }

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

  /** The writes of one completed sign-in, each queued or run on `work`. */
  function stepsOf(work: UnitOfWork, guest: AuthRecord | null, provider: IdentityProviderConfig, claims: VerifiedClaims) {
    const detail = { method: 'oidc', provider: provider.name };
    const identity = (accountId: string): LinkedIdentity => ({
      provider: provider.name, subject: claims.subject, accountId, email: claims.email, emailVerified: claims.emailVerified, linkedAt: now(),
    });
    const signedIn = (account: AuthRecord, how: SignedIn['how']): SignedIn => ({ kind: 'signed_in', account, how });

    const steps = {
      /** Signs in to `account`, handing it the guest's work first, as a password sign-in does. */
      async signInTo(account: AuthRecord): Promise<SignedIn> {
        if (guest) await accounts.merge(work, guest, account);
        work.defer(events.record('signed_in', account.id, account.collection, detail));
        return signedIn(account, guest ? 'merged' : 'signed_in');
      },

      async linkTo(account: AuthRecord, owner: AuthRecord | null): Promise<SignedIn> {
        if (owner && owner.id !== account.id) throw new IdentityError('identity_in_use', provider.label);
        if (owner) return signedIn(account, 'already_linked');
        await work.run(identities.link(identity(account.id)), events.record('identity_linked', account.id, account.collection, detail));
        return signedIn(account, 'linked');
      },

      /** Links to the account holding the provider's (trusted, verified) email, and signs in to it. */
      linkByEmail(holder: AuthRecord): Promise<SignedIn> {
        work.defer(identities.link(identity(holder.id)));
        work.defer(events.record('identity_linked', holder.id, holder.collection, { ...detail, by: 'email' }));
        return steps.signInTo(holder);
      },

      /** The guest becomes a registered account in place, the same id, with the provider account linked. */
      async convert(visitor: AuthRecord, profile: Profile): Promise<SignedIn> {
        const claimedAt = now();
        const email = profile.email ?? placeholderEmail(visitor.id);
        // The promotion is guarded on `is_anonymous = 1`: a guest converted meanwhile fails it, and the link with it.
        const promotion = { ...profile, email, passwordHash: NO_PASSWORD, now: claimedAt };
        await work.run(records.promote(visitor.collection, visitor.id, promotion),
          identities.link(identity(visitor.id)), events.record('guest_converted', visitor.id, visitor.collection, detail));
        const account = { ...visitor, email, username: email, name: profile.name, isAnonymous: false, claimedAt, lastActiveAt: claimedAt };
        return signedIn(account, 'converted');
      },

      async register(profile: Profile): Promise<SignedIn> {
        const madeAt = now();
        const id = newRecordId(madeAt);
        const email = profile.email ?? placeholderEmail(id);
        const record: NewRecord = {
          id, email, emailForms: profile.emailForms, username: email, name: profile.name,
          passwordHash: NO_PASSWORD, isAnonymous: false, now: madeAt, metadata: {},
        };
        await work.run(records.insert('users', record), identities.link(identity(id)), events.record('registered', id, 'users', detail));
        return signedIn(publicRecord(storedOf('users', record)), 'registered');
      },
    };
    return steps;
  }

  return {
    async complete(work, visitor, provider, claims, intent) {
      const guest = visitor?.isAnonymous ? visitor : null;
      const registered = visitor && !visitor.isAnonymous ? visitor : null;
      const steps = stepsOf(work, guest, provider, claims);
      const linked = await identities.find(provider.name, claims.subject);
      const owner = linked && await accountById(linked.accountId);
      if (registered && intent === 'link') return steps.linkTo(registered, owner);
      if (owner) return steps.signInTo(owner);
      if (registered) throw new IdentityError('already_signed_in', provider.label);

      const email = usableEmail(claims.email);
      const trusted = email !== null && provider.trustEmail && claims.emailVerified;
      const holder = email && await accountWithEmail(email);
      // seed 000's never_trust: an address the provider did not verify (or that we do not trust it
      // to verify) must not open somebody's account.
      if (holder) return trusted ? steps.linkByEmail(holder) : { kind: 'password_first' };
      // Nor is an untrusted address given to the account: whoever owns it could not register with
      // it, and a trusted provider's verified sign-in with it would later link here.
      const profile: Profile = trusted
        ? { email, emailForms: storedForms(claims.email), name: displayName(claims.name) }
        : { email: null, emailForms: undefined, name: displayName(claims.name) };
      return guest ? steps.convert(guest, profile) : steps.register(profile);
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
