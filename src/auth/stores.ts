/**
 * The storage auth needs, as ports: small interfaces named for what the domain does. Reads are
 * asynchronous; writes return a `Write` that the request's unit of work applies (see
 * db/unit-of-work.ts). One implementation per backend lives under `src/db/<backend>/`.
 */
import type { Write } from '../db/unit-of-work.ts';

/** A record as templates see it (`request.auth`): never the password hash. */
export interface AuthRecord {
  id: string;
  collection: string;
  email: string;
  username: string;
  name: string | null;
  /** Mirrors `emailVerifiedAt !== null` (the column predates verification mails). */
  verified: boolean;
  /** When a link mailed to `email` was followed; null until then (guests: always null). */
  emailVerifiedAt: number | null;
  isAnonymous: boolean;
  createdAt: number;
  lastActiveAt: number;
  claimedAt: number | null;
  metadata: Record<string, unknown>;
}

/** A record with its credential: a bcrypt hash for accounts, a guest secret's hash for guests. */
export interface StoredRecord extends AuthRecord { passwordHash: string }

export interface NewRecord {
  id: string;
  email: string;
  /** Every stored form of the address that must be free (canonical first); default `[email]`. */
  emailForms?: readonly string[];
  /** Guests get `guest_<id>`, accounts their email. */
  username: string;
  name: string | null;
  passwordHash: string;
  isAnonymous: boolean;
  now: number;
  metadata: object;
}

export interface Promotion {
  email: string;
  /** Every stored form of the address that must be free (canonical first); default `[email]`. */
  emailForms?: readonly string[];
  name: string | null;
  passwordHash: string;
  now: number;
}

/**
 * Every auth record, guest or registered, in its collection. Emails are unique across
 * collections: the writes that set one re-check that inside their transaction and fail with
 * `email_in_use`, so two racing sign-ups cannot both take an address.
 */
export interface AccountStore {
  readonly collections: readonly string[];
  has(collection: string): boolean;
  find(collection: string, id: string): Promise<StoredRecord | null>;
  /** A registered (never a guest) account with this email, in any collection. */
  findRegisteredByEmail(email: string): Promise<StoredRecord | null>;
  emailTaken(email: string, exceptId?: string): Promise<boolean>;
  /** Every registered account's stored email (the start-up look-alike report). */
  registeredEmails(): AsyncIterable<{ collection: string; id: string; email: string }>;
  /** A new record; fails with `email_in_use` when the address is taken. */
  insert(collection: string, record: NewRecord): Write;
  /**
   * A new guest, with its `guest_created` event. Racing requests of one browser derive the same
   * id and credential (`derivedGuestCredentials`): the first inserts the guest; for the others the
   * write finds that very guest and throws `AlreadyApplied`, so their transaction, a replay of the
   * first, writes nothing. An id held by anything else (the guest converted since, or its
   * credential replaced) fails with `stale_form`.
   */
  insertGuest(collection: string, record: NewRecord): Write;
  /**
   * Makes the guest `id` a registered account in place (same id). Guarded: a record that is no
   * longer a guest (a concurrent conversion) is left alone and the write fails with
   * `not_anonymous`, so what was to commit with it (its audit event) does not either.
   */
  promote(collection: string, id: string, promotion: Promotion): Write;
  /** Records activity (cleanup removes guests idle too long). */
  touch(collection: string, id: string, now: number): Write;
  /**
   * The guest's credential (its resume secret's hash) replaced; false when it is no guest. With
   * `replacing`, only while the stored credential is that one (a resume link checked against
   * it); otherwise the write fails with `stale_form`.
   */
  replaceGuestSecret(collection: string, id: string, secretHash: string, replacing?: string): Write<boolean>;
  /**
   * With `replacing`, only while the stored hash is still that one (a reset link checked against
   * it); otherwise the write fails with `stale_form`, so what commits with it does not either.
   */
  setPassword(collection: string, id: string, passwordHash: string, replacing?: string): Write;
  /**
   * Records that `email` is verified, only while it is still the account's address and the
   * account is registered; otherwise fails with `invalid_link`.
   */
  markEmailVerified(collection: string, id: string, email: string, now: number): Write;
  /** Deletes the record; what hangs off its id goes by the app's rules (carts, notes: cascade). */
  delete(id: string): Write<boolean>;
}

export type AuthEventType = 'guest_created' | 'guest_converted' | 'guest_merged' | 'guest_deleted'
  | 'login_failed' | 'signed_in' | 'signed_out' | 'registered' | 'password_changed' | 'account_deleted'
  | 'identity_linked' | 'identity_unlinked'
  | 'password_reset' | 'email_verified' | 'link_sign_in';

/** The `auth_events` audit trail: append-only. */
export interface EventLog {
  record(type: AuthEventType, recordId: string | null, collection: string | null, detail?: object): Write;
}

/** Every stored session of an account: express-session itself only knows the current one. */
export interface SessionIndex {
  /** Ends every session of an account (all its devices); resolves to how many. */
  deleteForAccount(id: string): Promise<number>;
  /** Removes expired sessions in small batches, so the store's own writes are never held up long. */
  purgeExpired(now: number): Promise<number>;
}

/** An account at an identity provider (OpenID Connect), linked to one of ours: it signs in there. */
export interface LinkedIdentity {
  /** The provider's name in the config (`OIDC_PROVIDERS`). */
  provider: string;
  /** The provider's `sub`: unique within the provider and never reassigned, unlike an email. */
  subject: string;
  accountId: string;
  /** The email the provider gave when the identity was linked (display only), and its `email_verified`. */
  email: string | null;
  emailVerified: boolean;
  linkedAt: number;
}

/**
 * Linked identities, unique on (provider, subject): one provider account opens at most one of
 * ours. They go with their account (cascade).
 */
export interface IdentityStore {
  find(provider: string, subject: string): Promise<LinkedIdentity | null>;
  /** The account's identities, oldest first. */
  listFor(accountId: string): Promise<LinkedIdentity[]>;
  /** Links; fails with `identity_in_use` when (provider, subject) is linked already, to any account. */
  link(identity: LinkedIdentity): Write;
  /**
   * Unlinks one of the account's identities. Fails with `not_linked` when the account has no such
   * identity, and with `last_sign_in_method` when it would leave the account no way to sign in (no
   * other identity, and `hasPassword` false), so what was to commit with it (its audit event) does
   * not either. Decided inside the write's transaction: two unlinks at once cannot remove an
   * account's last two identities.
   */
  unlink(accountId: string, provider: string, subject: string, hasPassword: boolean): Write;
}

/** What a link mailed to an account may do; a token of one purpose never does another's work. */
export type TokenPurpose = 'password_reset' | 'sign_in_link' | 'email_verification' | 'guest_resume';

export interface NewAccountToken {
  /** SHA-256 of the link's secret (base64url): the secret itself is never stored. */
  hash: string;
  purpose: TokenPurpose;
  accountId: string;
  /**
   * What the token stays bound to: the address a link was sent for, or a fingerprint of the
   * credential it may replace. Redeeming it names the same value, or it does nothing.
   */
  bound: string;
  expiresAt: number;
  now: number;
}

/** A stored token as a link's check sees it, with the collection its account lives in. */
export interface StoredAccountToken {
  purpose: TokenPurpose;
  accountId: string;
  collection: string;
  bound: string;
  expiresAt: number;
  usedAt: number | null;
}

/** The single-purpose, single-use tokens behind the links the app mails. */
export interface AccountTokenStore {
  /** Stores a new token, and drops the account's used or expired ones of that purpose. */
  issue(token: NewAccountToken): Write;
  /** The token with this hash, used or not, whatever its purpose; null when there is none. */
  find(hash: string): Promise<StoredAccountToken | null>;
  /**
   * Marks the token used and resolves to its account id, in one statement that matches only an
   * unused, unexpired token with this purpose, account and binding: of two racing redemptions
   * (two processes, two clicks) exactly one matches. When none does the write fails with
   * `invalid_link`, so nothing that commits with it happens.
   */
  consume(hash: string, expected: { purpose: TokenPurpose; accountId: string; bound: string }, now: number): Write<string>;
}

/**
 * A guest's conversion waiting for its address to be verified (`EMAIL_VERIFICATION=required`):
 * the password is hashed and kept at once, and the guest stays a guest until the link is
 * followed. One per guest: asking again replaces it.
 */
export interface PendingConversion {
  accountId: string;
  email: string;
  /** Every stored form of the address that must still be free when it is verified (canonical first). */
  emailForms: readonly string[];
  name: string | null;
  passwordHash: string;
  createdAt: number;
}

export interface PendingConversionStore {
  find(accountId: string): Promise<PendingConversion | null>;
  save(pending: PendingConversion): Write;
  remove(accountId: string): Write;
}
