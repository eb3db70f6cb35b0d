import express, { type RequestHandler } from 'express';

// Page routes never end in an extension; the files in public/ all do.
const FILE_PATH = /\.[A-Za-z0-9]+$/;

/**
 * express.static for `dir`, consulted only for paths that look like files: asked about a page
 * path it would stat a file that is not there, a filesystem round trip on every page view
 * (about 5–10% of a page's CPU in `npm run bench -- --profile`).
 */
export function staticFiles(dir: string, options: { production: boolean }): RequestHandler {
  // No directory redirects: `/products/%2e%2e` would otherwise answer 301 to `/products/%2e%2e/`.
  const serve = express.static(dir, { maxAge: options.production ? '1d' : 0, index: false, redirect: false });
  return function staticFiles(req, res, next) {
    if (!FILE_PATH.test(req.path)) return next();
    serve(req, res, next);
  };
}
