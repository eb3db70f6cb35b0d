import fs from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import { Eta, EtaError } from 'eta';
import { AuthError } from '../auth/errors.ts';
import { AccountGoneError, AppError } from '../errors.ts';
import { refererPath, safeNextPath } from '../auth/helpers.ts';
import type { ResumeCookie } from '../auth/session-auth.ts';
import { errorPages, httpStatusOf } from '../http/errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { fillCsrfTokens, injectCsrfFields } from './csrf-fields.ts';
import { createGuestScan } from './guest-scan.ts';
import { requestHelpers, type ServiceFactory } from './helpers.ts';
import { buildRoutes, type PageMatch, type RouteTable } from './routes.ts';
import { PageScope } from './scope.ts';

export interface PageRuntimeOptions {
  pagesDir: string;
  /** Compile templates once and cache them and the route table; otherwise reload on every request. */
  cache: boolean;
  /** Show error details on the 500 page. */
  showErrors: boolean;
  services: ReadonlyMap<string, ServiceFactory>;
  /** App-wide names every template sees (formatting helpers and the like). */
  globals: Record<string, unknown>;
  authHelpers(scope: PageScope): object;
  resume: ResumeCookie;
  guestLimiter: RateLimiter;
  csrfToken(req: Request, res: Response): string;
  log(message: string): void;
}

export interface ErrorDetails { message?: string; detail?: string; retryAfterSeconds?: number }

export interface PageRuntime {
  handler: RequestHandler;
  renderError(req: Request, res: Response, status: number, details?: ErrorDetails): Promise<void>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST']);

/**
 * Serves `views/pages` as routes. A render runs the template (helpers record redirects, statuses
 * and identity changes without throwing), wraps it in its layouts, commits the identity change
 * (new session id, cookies), and only then answers: a redirect, or the page with its CSRF fields.
 */
export function createPageRuntime(options: PageRuntimeOptions): PageRuntime {
  const eta = new Eta({
    views: options.pagesDir, cache: options.cache, useWith: true, autoEscape: true,
    debug: true, autoTrim: [false, 'nl'],
  });
  let routes: RouteTable = buildRoutes(options.pagesDir);
  const routeTable = () => (options.cache ? routes : (routes = buildRoutes(options.pagesDir)));
  const has404Page = fs.existsSync(path.join(options.pagesDir, '_404.eta'));
  const guestScan = createGuestScan(options.pagesDir, { cache: options.cache });

  function templateData(scope: PageScope, params: Record<string, string>) {
    return {
      ...options.globals,
      ...requestHelpers(scope, params, options.services),
      ...options.authHelpers(scope),
      /** Pages set `page.title`; the layout reads it. */
      page: { title: '' } as Record<string, unknown>,
    };
  }

  /** Renders a page inside its layouts; a page that redirected has no body to wrap. */
  async function render(file: string, layouts: readonly string[], data: object, scope: PageScope): Promise<string> {
    let html = (await eta.renderAsync(file, data)) ?? '';
    if (scope.redirectTo || scope.notFound) return '';
    for (const layout of [...layouts].reverse()) html = await eta.renderAsync(layout, { ...data, body: html });
    return html;
  }

  /** One guest's worth of the limit, held through the render of a page that may create a guest. */
  async function reserveGuestBudget(scope: PageScope, match: PageMatch): Promise<void> {
    if (scope.auth && !scope.auth.isAnonymous) return; // registered users cannot create guests
    if (!guestScan.mayCreateGuest([match.file, ...match.layouts])) return;
    scope.guestBudget = await options.guestLimiter.reserve(`ip:${scope.req.ip}`);
  }

  /**
   * Refunds an unused reservation and counts the guests it did not pay for: a second guest in one
   * render, or one made by a page the scan judged unable to (a call it could not see). Such a
   * guest is still made, since refusing it would break a page that works, and counted now, so
   * every page that reserves is limited from the next request on. The scan treats any computed
   * include path as a possible call, which keeps that case to templates that hide the name.
   */
  function settleGuestBudget(scope: PageScope): void {
    const prepaid = scope.guestBudget?.granted ? 1 : 0;
    if (prepaid && scope.guestsCreated === 0) scope.guestBudget!.refund();
    for (let unpaid = prepaid; unpaid < scope.guestsCreated; unpaid++) {
      options.guestLimiter.consume(`ip:${scope.req.ip}`).catch(() => {});
    }
  }

  function send(scope: PageScope, html: string, status: number): void {
    const { req, res } = scope;
    const limited = scope.raised.find((error): error is AuthError => error instanceof AuthError && httpStatusOf(error.code) === 429);
    if (limited) res.set('Retry-After', String(limited.retryAfterSeconds ?? 60));
    if (scope.redirectTo) {
      res.redirect(scope.redirectTo.status ?? (req.method === 'POST' ? 303 : 302), scope.redirectTo.location);
      return;
    }
    for (const [name, value] of scope.headers) res.set(name, value);
    const body = fillCsrfTokens(injectCsrfFields(html), () => safeToken(req, res));
    res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
  }

  function safeToken(req: Request, res: Response): string {
    try {
      return options.csrfToken(req, res);
    } catch {
      return ''; // no session (an error before the session middleware): the form cannot be submitted anyway
    }
  }

  async function renderPage(req: Request, res: Response, match: PageMatch): Promise<void> {
    const scope = new PageScope(req, res, options.resume);
    await reserveGuestBudget(scope, match);
    let html: string | undefined;
    let failure: unknown;
    try {
      html = await render(match.file, match.layouts, templateData(scope, match.params), scope);
    } catch (error) {
      failure = error;
    }
    // Cleanup deleted this guest after the request was authenticated: sign the visitor out
    // (new session, resume cookie cleared) and load the page again, which then renders signed out.
    const gone = findCause(failure, AccountGoneError);
    const vanished = gone !== undefined && gone.accountId === scope.auth?.id;
    if (vanished) scope.changeIdentity({ kind: 'signOut', forgetGuest: true });
    // A sign-in made before a failure is already a fact in the database: commit it regardless.
    await scope.commit();
    settleGuestBudget(scope);
    if (vanished) return res.redirect(303, safeNextPath(req.originalUrl));
    if (html === undefined) return failed(req, res, match.file, failure);
    if (scope.notFound) return renderError(req, res, 404);
    send(scope, html, scope.status ?? statusAfter(scope.raised));
  }

  function failed(req: Request, res: Response, file: string, error: unknown): Promise<void> {
    const appError = findCause(error, AppError);
    if (appError) {
      const retryAfterSeconds = appError instanceof AuthError ? appError.retryAfterSeconds : undefined;
      return renderError(req, res, httpStatusOf(appError.code), { message: appError.message, retryAfterSeconds });
    }
    options.log(`Error rendering ${file} (${req.method} ${req.originalUrl}):\n${describe(error)}`);
    return renderError(req, res, 500, { detail: options.showErrors ? describe(error) : undefined });
  }

  async function renderError(req: Request, res: Response, status: number, details: ErrorDetails = {}): Promise<void> {
    if (res.headersSent) return;
    const known = errorPages[status] ?? errorPages[500]!;
    const error = { status, title: known.title, message: details.message ?? known.message, detail: details.detail, back: refererPath(req) };
    if (details.retryAfterSeconds) res.set('Retry-After', String(details.retryAfterSeconds));
    try {
      req.auth ??= null;
      const scope = new PageScope(req, res, options.resume);
      const file = status === 404 && has404Page ? '_404.eta' : '_error.eta';
      const html = await render(file, routeTable().rootLayouts, { ...templateData(scope, {}), error }, scope);
      const body = fillCsrfTokens(injectCsrfFields(html), () => safeToken(req, res));
      res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
    } catch (renderFailure) {
      options.log(`Error rendering the ${status} page:\n${describe(renderFailure)}`);
      res.status(status).type('text').send(`${status} ${error.title}`);
    }
  }

  const handler: RequestHandler = async function pages(req, res) {
    if (!METHODS.has(req.method)) {
      res.set('Allow', 'GET, HEAD, POST');
      return renderError(req, res, 405);
    }
    const match = routeTable().match(req.path);
    if (!match) return renderError(req, res, 404);
    await renderPage(req, res, match);
  };

  return { handler, renderError };
}

/**
 * A page that caught a helper's error and rendered its own message answers with that error's
 * status (422 for a bad email, 409 for one in use...). Guest sign-in being unavailable is the
 * exception: a page that catches it still works, and crawlers index it as a normal page.
 */
function statusAfter(raised: readonly AppError[]): number {
  const last = raised.filter((error) => error.code !== 'anonymous_disabled').at(-1);
  return last ? httpStatusOf(last.code) : 200;
}

/** Eta wraps errors thrown in templates (with file and line); a helper's or store's error is the cause. */
function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof type) return current;
  }
  return undefined;
}

/** Eta's errors already say file, line and the template around it; others need their stack. */
function describe(error: unknown): string {
  if (error instanceof EtaError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
