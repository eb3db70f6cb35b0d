import type { Request } from 'express';
import type { RateLimiter } from '../http/rate-limit.ts';
import { storedForms } from './email-address.ts';
import { AuthError, type AuthErrorCode } from './errors.ts';
import type { KnownDevices } from './known-devices.ts';
import type { AccountStore } from './stores.ts';

/** One admitted attempt; settle it once the password has been checked. */
export interface LoginAttempt {
  /** Only a wrong password keeps its point in the account-wide count. */
  settle(wrongPassword: boolean): void;
}

export interface LoginLimits {
  /** Counts an attempt on the account `email` names; throws `rate_limited` or `account_rate_limited`. */
  admit(req: Request, email: unknown): Promise<LoginAttempt>;
}

const SETTLED: LoginAttempt = { settle() {} };

/**
 * The limits on password attempts (sign-in, sign-up, conversion, password change, account
 * deletion), each `LOGIN_RATE_LIMIT` a minute:
 *
 * - per address, every attempt (`rate_limited`, "from your network"). One address cannot try
 *   more than that on all accounts together, so it needs no separate per-(account, address)
 *   count: with the same budget that one could never be the first to run out.
 * - per account, across all addresses, wrong passwords only (`account_rate_limited`). This is the
 *   guess-rate bound an attacker cannot raise by rotating addresses. It does not apply to a
 *   browser that proves, with its known-device cookie, that it signed in to this account before:
 *   a flood of wrong passwords therefore never locks the owner out on their own browser.
 * - per account and known device, every attempt (`account_rate_limited`), so a stolen
 *   known-device cookie buys no more guesses than the account-wide bound it skips.
 *
 * The accepted trade-off: the owner on a browser that never signed in (a new phone) is refused
 * while someone else is sending wrong passwords for their account, until a minute after it stops.
 * Without a second factor (we have no mail channel) that browser cannot be told apart from the
 * attacker's; a progressive delay instead of a refusal would still let the attacker's guesses
 * through at the same rate, and hold a connection open for each.
 *
 * The account-wide point is taken before the password is checked and refunded after a right one:
 * counting only after the check would let concurrent guesses all pass the check first.
 */
export function createLoginLimits(deps: { limiter: RateLimiter; records: AccountStore; devices: KnownDevices }): LoginLimits {
  const { limiter, records, devices } = deps;

  async function take(key: string, code: AuthErrorCode): Promise<void> {
    const reservation = await limiter.reserve(key);
    if (!reservation.granted) throw new AuthError(code, reservation.retryAfterSeconds);
  }

  /** The device id this browser proved for the account registered under `email`, if any. */
  async function knownDevice(req: Request, email: string): Promise<string | null> {
    const account = await records.findRegisteredByEmail(email);
    return account ? devices.deviceFor(req, account.id) : null;
  }

  return {
    async admit(req, rawEmail) {
      await take(`ip:${req.ip}`, 'rate_limited');
      // Keyed on the canonical address: every look-alike spelling of it is the same account, and
      // must not open a fresh budget of guesses.
      const email = storedForms(rawEmail)[0] ?? (typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '');
      if (!email) return SETTLED;
      const device = await knownDevice(req, email);
      if (device) {
        await take(`account:${email}|device:${device}`, 'account_rate_limited');
        return SETTLED;
      }
      const reservation = await limiter.reserve(`account:${email}`);
      if (!reservation.granted) throw new AuthError('account_rate_limited', reservation.retryAfterSeconds);
      return { settle: (wrongPassword) => { if (!wrongPassword) reservation.refund(); } };
    },
  };
}
