import type { RequestHandler } from 'express';
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
    if (req.path.includes('//')) return next(new HttpError(404, 'empty path segment'));
    next();
  };
}
