import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Write } from '../db/unit-of-work.ts';
import { AuthError } from './errors.ts';
import type { AccountTokenStore, StoredAccountToken, TokenPurpose } from './stores.ts';

/**
 * How long each link works. A reset link replaces a password, so it is short; a sign-in link is
 * used the minute it arrives; a verification link may wait in an inbox for a day, and so may a
 * guest's resume link (it stops working as soon as the guest is forgotten, converted or resumed).
 */
export const TOKEN_LIFETIME_MS: Readonly<Record<TokenPurpose, number>> = {
  password_reset: 60 * 60_000,
  sign_in_link: 15 * 60_000,
  email_verification: 24 * 60 * 60_000,
  guest_resume: 24 * 60 * 60_000,
};

/** 32 random bytes in base64url: what a link's `token` parameter always looks like. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A link's token that passed its checks: what redeeming it must name again. */
export interface CheckedToken extends StoredAccountToken { hash: string }

export interface AccountTokens {
  /** A new token for a link: its secret (the link's `token`, never stored) and the write storing its hash. */
  issue(purpose: TokenPurpose, accountId: string, bound: string): { secret: string; write: Write };
  /**
   * The unused, unexpired token of this purpose that `secret` names, whose binding `expected`
   * (read from the account now) still matches; otherwise throws `invalid_link` (garbled,
   * unknown, another purpose, the account changed), `expired_link` or `used_link`.
   * `expected` resolves to null when the account can no longer use this kind of link.
   */
  check(purpose: TokenPurpose, secret: unknown, expected: (token: StoredAccountToken) => Promise<string | null>): Promise<CheckedToken>;
  /** Marks a checked token used, in the transaction of what it does; fails with `invalid_link` if a racer used it first. */
  consume(token: CheckedToken): Write<string>;
}

/**
 * The value a reset (or resume) link is bound to: a digest of the credential it may replace.
 * A new password (or a forgotten guest's new secret) changes it, and the link stops working.
 */
export function credentialFingerprint(credentialHash: string): string {
  return createHash('sha256').update(`credential:${credentialHash}`).digest('base64url');
}

/** Whether two bound values are equal, in time that does not depend on where they differ. */
export function sameBinding(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export function createAccountTokens(deps: { store: AccountTokenStore; now(): number }): AccountTokens {
  const { store, now } = deps;
  return {
    issue(purpose, accountId, bound) {
      const secret = randomBytes(32).toString('base64url');
      const time = now();
      return {
        secret,
        write: store.issue({ hash: hashOf(secret), purpose, accountId, bound, expiresAt: time + TOKEN_LIFETIME_MS[purpose], now: time }),
      };
    },

    async check(purpose, secret, expected) {
      // A garbled link costs no query: only the exact shape of a secret can name a token.
      if (typeof secret !== 'string' || !SECRET_SHAPE.test(secret)) throw new AuthError('invalid_link');
      const hash = hashOf(secret);
      const token = await store.find(hash);
      // A token of another purpose is no token of this one: a reset link cannot verify an email.
      if (!token || token.purpose !== purpose) throw new AuthError('invalid_link');
      if (token.usedAt !== null) throw new AuthError('used_link');
      if (token.expiresAt <= now()) throw new AuthError('expired_link');
      const bound = await expected(token);
      if (bound === null || !sameBinding(bound, token.bound)) throw new AuthError('invalid_link');
      return { ...token, hash };
    },

    consume: (token) => store.consume(token.hash, { purpose: token.purpose, accountId: token.accountId, bound: token.bound }, now()),
  };
}
