import type { Request, RequestHandler, Response } from 'express';
import csurf from 'csurf';
import { HttpError } from './errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection: csurf in session mode, plus an Origin check. csurf's default reader also takes
 * `?_csrf=` from the query string, where tokens leak into logs and Referer headers, so we read
 * only the form field and the header. csurf writes a secret into the session on every request it
 * sees, so GET requests get a token lazily, when a page actually renders a form: a visitor who
 * only reads pages never gets a session row.
 */
export function createCsrf() {
  const csurfMiddleware = csurf({
    value: (req) => (req.body as Record<string, string> | undefined)?._csrf ?? String(req.headers['x-csrf-token'] ?? ''),
  });

  const protect: RequestHandler = function csrfProtection(req, res, next) {
    if (SAFE_METHODS.has(req.method)) return next();
    if (isCrossSite(req)) return next(new HttpError(403, 'cross-site request'));
    // No session secret means no token can be valid; refusing here also keeps csurf from
    // creating a session row for a forged request.
    if (!req.session?.csrfSecret) return next(new HttpError(403, 'missing CSRF secret'));
    csurfMiddleware(req, res, (error?: unknown) => {
      if ((error as { code?: string } | undefined)?.code === 'EBADCSRFTOKEN') return next(new HttpError(403, 'bad CSRF token'));
      next(error);
    });
  };

  /** The token for this request's session, creating the session secret when it is the first. */
  function tokenFor(req: Request, res: Response): string {
    if (typeof req.csrfToken !== 'function') {
      csurfMiddleware(req, res, (error?: unknown) => { if (error) throw error; });
    }
    return req.csrfToken();
  }

  return { protect, tokenFor };
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
