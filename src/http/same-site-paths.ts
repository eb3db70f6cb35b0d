import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.ts';

/**
 * A redirect target a browser cannot read as another host. Browsers drop tabs and newlines
 * anywhere in a URL and leading spaces and control characters, then read `//host` and `/\host`
 * as "another host, same scheme": so `redirect(request.url)` on `//try` sent visitors to
 * `http://try/`. Such a target keeps its path on this site with a single leading slash.
 */
export function sameSiteRedirect(location: string): string {
  const cleaned = location.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  return cleaned.replace(/^\/[/\\]+/, '/');
}

/**
 * Answers 404 to a path with an empty segment (`//try`, `/account//x`). Pages echo their own
 * path into links, redirects and form actions (`action="<%= request.url %>"`), and `//account`
 * there would post the visitor's email and password to a host named `account`. No page lives at
 * such a path, so refusing it is simpler and safer than guessing which page was meant.
 */
export function refuseEmptySegments(): RequestHandler {
  return function refuseEmptySegments(req, _res, next) {
    // `req.path` parses the URL: look at it only when the raw URL has `//` at all.
    if (req.url.includes('//') && req.path.includes('//')) return next(new HttpError(404, 'empty path segment'));
    next();
  };
}

/** The Referer's path when it is on this site and not one of `excluded`, else `/`. */
export function refererPath(req: Request, excluded: readonly string[] = []): string {
  try {
    const referer = new URL(req.headers.referer ?? '');
    if (referer.host !== req.headers.host || excluded.includes(referer.pathname)) return '/';
    return safeNextPath(referer.pathname + referer.search);
  } catch {
    return '/';
  }
}

// `next` becomes the Location header after sign-in: a proxy with an 8 kB header buffer answers
// 502 to a 60,000-character one. Real paths on this site are far shorter than 2 kB.
const MAX_NEXT_PATH_LENGTH = 2048;

/**
 * Same-site paths only: `//host`, `/\\host`, schemes, control characters and paths over 2 kB
 * (once percent-encoded) all fall back to `/`.
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  try {
    const url = new URL(value, 'http://same.site');
    const path = url.pathname + url.search + url.hash;
    if (path.length > MAX_NEXT_PATH_LENGTH) return '/';
    // Check the normalised path, not the input: `/.//host` and `/x/..//host` normalise to
    // `//host`; `/%2F%2Fhost` and `/%5Chost` become `//host` or `/\\host` wherever a proxy or
    // browser decodes them. All of those leave the site.
    return url.origin === 'http://same.site' && !/^\/[/\\]/.test(decodeURIComponent(path)) ? path : '/';
  } catch {
    return '/';
  }
}
