import { METHODS } from 'node:http';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import csurf from 'csurf';
import type { Config } from '../config.ts';
import { readCookie } from './cookies.ts';
import { HttpError } from './errors.ts';
import { holdsData } from './sessions.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What csurf reads and writes `csrfSecret` in: the session, or a bag holding the cookie's secret. */
interface SecretBag { csrfSecret?: string }

declare module 'express-serve-static-core' {
  interface Request {
    /** csurf's `sessionKey`: pointed, per call, at the secret a token is checked against or minted from. */
    csrfSecretBag?: SecretBag;
  }
}

/**
 * CSRF protection: csurf, plus an Origin check. The secret lives in the server-side session when
 * the visitor has one with something in it (signed in, a cart, a flash message); a visitor with
 * nothing stored gets it in a cookie of its own instead (signed double-submit), so the forms on
 * a page view store nothing (a session row per view was 8,178 rows for 10 s of cookie-less
 * `GET /login`, each kept 168 h). A POST passes with a token valid for either secret, so a form
 * rendered before signing in still submits after. csurf's default reader also takes `?_csrf=`
 * from the query string, where tokens leak into logs and Referer headers, so we read only the
 * form field and the header.
 */
export function createCsrf(config: Config) {
  const secretCookie = createSecretCookie(config);
  // csurf keeps its secret in `req[sessionKey].csrfSecret`: with a key of our own, one instance
  // checks a token against either secret, and one (that never checks) mints from either store.
  const check = csurf({ sessionKey: 'csrfSecretBag', value: submittedToken });
  const mint = csurf({ sessionKey: 'csrfSecretBag', ignoreMethods: METHODS });

  function isValidFor(req: Request, res: Response, secret: string): boolean {
    let valid = false;
    req.csrfSecretBag = { csrfSecret: secret };
    check(req, res, (error?: unknown) => {
      if (error && (error as { code?: string }).code !== 'EBADCSRFTOKEN') throw error;
      valid = !error;
    });
    return valid;
  }

  const protect: RequestHandler = function csrfProtection(req, res, next) {
    if (SAFE_METHODS.has(req.method)) return next();
    if (isCrossSite(req)) return next(new HttpError(403, 'cross-site request'));
    const secrets = [req.session?.csrfSecret, secretCookie.read(req)].filter((secret): secret is string => !!secret);
    // No secret, no valid token: a forged first request is refused, and nothing is minted for it.
    if (secrets.length === 0) return next(new HttpError(403, 'missing CSRF secret'));
    if (!secrets.some((secret) => isValidFor(req, res, secret))) return next(new HttpError(403, 'bad CSRF token'));
    next();
  };

  /**
   * The token for this response's forms, from the final session (after sign-in or sign-out):
   * its secret when the session holds something, creating it when it is the first; otherwise the
   * browser's cookie secret, setting the cookie when it is the first.
   */
  function tokenFor(req: Request, res: Response): string {
    const inSession = holdsData(req.session);
    const bag: SecretBag = inSession ? req.session : { csrfSecret: secretCookie.read(req) };
    const known = bag.csrfSecret;
    req.csrfSecretBag = bag;
    mint(req, res, (error?: unknown) => { if (error) throw error; });
    const token = req.csrfToken();
    if (!inSession && bag.csrfSecret !== known) secretCookie.set(req, res, bag.csrfSecret!);
    return token;
  }

  return { protect, tokenFor };
}

/**
 * The cookie that holds the secret of a browser with no stored session. A secret in a cookie is
 * only as good as the guarantee that nobody else chose it: csurf's plain cookie mode is bypassable
 * where a sibling subdomain (or a plain-HTTP response) can set a cookie for this host, since the
 * attacker then knows the secret and mints valid tokens. In production the cookie is
 * `__Host-gk.csrf`: browsers accept a `__Host-` cookie only with Secure, Path=/ and no Domain, from
 * this very host over HTTPS, which is what stops such a plant. HttpOnly: no script reads it.
 * Signing the cookie would not help (an attacker would plant a genuine one of their own).
 */
function createSecretCookie(config: Config) {
  const production = config.env === 'production';
  const name = production ? '__Host-gk.csrf' : 'gk.csrf';
  const options: CookieOptions = {
    httpOnly: true, sameSite: 'lax', secure: production, path: '/', maxAge: config.sessionTtlHours * 3_600_000,
  };
  return {
    read: (req: Request) => readCookie(req.headers.cookie, name),
    set(req: Request, res: Response, secret: string) {
      // As express-session does for the session cookie: a browser drops a Secure cookie that
      // arrives over plain HTTP, so none is sent.
      if (options.secure && !req.secure) return;
      res.cookie(name, secret, options);
    },
  };
}

/** The token a request carries: the `_csrf` form field or the `X-CSRF-Token` header, never the query string. */
export function submittedToken(req: Request): string {
  return (req.body as Record<string, string> | undefined)?._csrf ?? String(req.headers['x-csrf-token'] ?? '');
}

/** A browser's own Origin (or Sec-Fetch-Site) header says the form came from another site. */
function isCrossSite(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    try {
      return new URL(origin).host !== req.headers.host;
    } catch {
      return true;
    }
  }
  return req.headers['sec-fetch-site'] === 'cross-site';
}
