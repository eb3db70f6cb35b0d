import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { authenticate } from './auth/authenticate.ts';
import { createIdentityProviders } from './auth/oidc/index.ts';
import { createResumeCookie } from './auth/resume-cookie.ts';
import { linkHelpers } from './auth/link-helpers.ts';
import { createAuthPlugin } from './auth/template-helpers.ts';
import type { AppContext } from './context.ts';
import { formBody, MALFORMED_BODY } from './http/body.ts';
import { createCsrf } from './http/csrf.ts';
import { HttpError } from './http/errors.ts';
import { findCause, StorageUnavailableError } from './errors.ts';
import { refuseEmptySegments } from './http/same-site-paths.ts';
import { securityHeaders } from './http/security-headers.ts';
import { staticFiles } from './http/static-files.ts';
import { createPageRuntime } from './pages/runtime.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppOptions {
  /** Folder of the page templates. Default `views/pages`. */
  pagesDir?: string;
  log?(message: string): void;
  /** How long an identity provider's steps may take in all (tests shorten it). @default 8000 */
  providerDeadlineMs?: number;
}

/** The Express app: settings, middleware, pages, errors. It never listens (see server.ts). */
export function createApp(ctx: AppContext, options: AppOptions = {}): Express {
  const { config } = ctx;
  const production = config.env === 'production';
  const log = options.log ?? ((message: string) => console.error(message));
  const resume = createResumeCookie(config);
  const csrf = createCsrf(config);
  // The CSRF secret belongs to the browser: forms in other tabs still submit after signing in.
  ctx.sessionKeys.keep('csrfSecret');
  const auth = createAuthPlugin({
    ...ctx, records: ctx.storage.records, events: ctx.storage.events, resume, sessionKeys: ctx.sessionKeys,
    verification: ctx.mailLinks.verification, extraHelpers: [linkHelpers(ctx.mailLinks)],
  });
  const identityProviders = createIdentityProviders(ctx, { resume, log, deadlineMs: options.providerDeadlineMs });
  const runtime = createPageRuntime({
    pagesDir: options.pagesDir ?? path.join(root, 'views', 'pages'),
    cache: production,
    showErrors: config.env === 'development',
    services: ctx.services,
    globals: ctx.globals,
    plugins: [auth, identityProviders.plugin],
    transactor: ctx.storage.transactor,
    visitorOf: (req) => req.auth ?? null,
    csrfToken: csrf.tokenFor,
    log,
  });

  const app = express();
  app.disable('x-powered-by');
  // Pages are per-visitor and `no-store`: an ETag would only cost a hash of every body.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);

  app.use(securityHeaders(production, { formActions: identityProviders.formActionOrigins }));
  app.use(refuseEmptySegments());
  app.use(staticFiles(path.join(root, 'public'), { production }));
  app.use(ctx.sessions.middleware);
  app.use(authenticate({
    records: ctx.storage.records, guests: ctx.guests, transactor: ctx.storage.transactor, resume, keys: ctx.sessionKeys, now: ctx.now,
  }));
  app.use(formBody());
  app.use(csrf.protect);
  const providerRoutes = identityProviders.routes(runtime.renderError);
  if (providerRoutes) app.use(providerRoutes);
  app.use(runtime.handler);

  const errors: ErrorRequestHandler = (error, req, res, _next) => {
    const unavailable = findCause(error, StorageUnavailableError);
    if (unavailable) {
      log(`503 on ${req.method} ${req.originalUrl}: ${unavailable.message}`);
      void runtime.renderError(req, res, 503, { retryAfterSeconds: unavailable.retryAfterSeconds });
      return;
    }
    const status = statusOf(error);
    if (status >= 500) log(`Error on ${req.method} ${req.originalUrl}:\n${error?.stack ?? error}`);
    void runtime.renderError(req, res, status, {
      detail: status >= 500 && config.env === 'development' ? String(error?.stack ?? error) : undefined,
    });
  };
  app.use(errors);
  return app;
}

/** HTTP errors keep their status; body-parser's 4xx (too large, bad charset) too; the rest are 500s. */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const { type, status } = (error ?? {}) as { type?: string; status?: number };
  if (type === MALFORMED_BODY) return 400;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
