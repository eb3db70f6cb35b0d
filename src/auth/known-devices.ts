import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import type { Config } from '../config.ts';
import { readCookie } from '../http/cookies.ts';

/**
 * The "known device" cookie: proof that this browser signed in to an account with its password
 * before. It exempts the owner from the account-wide limit on wrong passwords (login-limits.ts),
 * so an attacker who floods an account with guesses cannot lock its owner out.
 */
export interface KnownDevices {
  /** This browser's device id for `accountId`, when it holds a valid proof for that account; else null. */
  deviceFor(req: Request, accountId: string): string | null;
  /** Records, on this browser, that it just proved the password of `accountId`. */
  remember(req: Request, res: Response, accountId: string): void;
}

// A shared computer may be used for a few accounts; older proofs drop off.
const MAX_ACCOUNTS = 5;
// Browsers cap cookie lifetimes at 400 days; a year is long enough to recognise a returning owner.
const MAX_AGE_MS = 365 * 86_400_000;

interface Proof { accountId: string; deviceId: string }

/**
 * Each proof is `<accountId>.<deviceId>.<mac>`, the MAC an HMAC-SHA256 of the account and device
 * ids under a key derived from the session secret: nobody without the secret can mint one, and
 * nothing is stored on the server. Proofs are `~`-separated, newest first.
 */
export function createKnownDevices(config: Config, sessionSecret: string): KnownDevices {
  const production = config.env === 'production';
  const name = production ? '__Host-gk.device' : 'gk.device';
  const options: CookieOptions = { httpOnly: true, sameSite: 'lax', secure: production, path: '/', maxAge: MAX_AGE_MS };
  // A key of its own, so a MAC made here can never pass for a session cookie's signature.
  const key = createHmac('sha256', sessionSecret).update('guestkit known-device proof').digest();
  const macOf = (accountId: string, deviceId: string) =>
    createHmac('sha256', key).update(`${accountId}.${deviceId}`).digest('base64url');

  function proofs(req: Request): Proof[] {
    const valid: Proof[] = [];
    for (const entry of (readCookie(req.headers.cookie, name) ?? '').split('~').slice(0, MAX_ACCOUNTS)) {
      const [accountId, deviceId, mac, extra] = entry.split('.');
      if (!accountId || !deviceId || !mac || extra !== undefined) continue;
      const expected = Buffer.from(macOf(accountId, deviceId));
      const actual = Buffer.from(mac);
      if (expected.length === actual.length && timingSafeEqual(expected, actual)) valid.push({ accountId, deviceId });
    }
    return valid;
  }

  return {
    deviceFor: (req, accountId) => proofs(req).find((proof) => proof.accountId === accountId)?.deviceId ?? null,
    remember(req, res, accountId) {
      const known = proofs(req);
      // One random id per browser, kept across its accounts: the per-device limit is keyed on it.
      const deviceId = known[0]?.deviceId ?? randomBytes(16).toString('base64url');
      const others = known.filter((proof) => proof.accountId !== accountId);
      const value = [{ accountId, deviceId }, ...others].slice(0, MAX_ACCOUNTS)
        .map((proof) => `${proof.accountId}.${proof.deviceId}.${macOf(proof.accountId, proof.deviceId)}`).join('~');
      res.cookie(name, value, options);
    },
  };
}
