import fs from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import { Eta, EtaError } from 'eta';
import type { Transactor } from '../db/unit-of-work.ts';
import { AppError, findCause, StorageUnavailableError } from '../errors.ts';
import { errorPages, standaloneErrorPage } from '../http/errors.ts';
import { redirectWithoutBody } from '../http/redirect.ts';
import { refererPath } from '../http/same-site-paths.ts';
import { fillCsrfTokens, injectCsrfFields } from './csrf-fields.ts';
import type { PageInfo, PagePlugin } from './plugin.ts';
import { requestHelpers, type ServiceFactory } from './request-helpers.ts';
import { buildRoutes, type PageMatch, type RouteTable } from './routes.ts';
import { PageScope, type Visitor } from './scope.ts';
import { createTemplateScan } from './template-scan.ts';

export interface PageRuntimeOptions {
  pagesDir: string;
  /** Compile templates once and cache them and the route table; otherwise reload on every request. */
  cache: boolean;
  /** Show error details on the 500 page. */
  showErrors: boolean;
  services: ReadonlyMap<string, ServiceFactory>;
  /** App-wide names every template sees (formatting helpers and the like). */
  globals: Record<string, unknown>;
  /** Features that add helpers and take part in every render (auth). */
  plugins: readonly PagePlugin[];
  /** Where each render's unit of work comes from. */
  transactor: Transactor;
  /** Who a request is rendered for (`request.auth`), as the middleware before found it. */
  visitorOf(req: Request): Visitor | null;
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
 * Serves `views/pages` as routes. One render: plug-ins prepare; the template runs (helpers record
 * redirects, statuses and identity changes without throwing, writes queue on the render's unit of
 * work); calls the template left un-awaited are finished; plug-ins queue what must commit with
 * the render's writes; the unit of work commits, or on any failure is discarded; plug-ins apply
 * what the render decided (a new session id, cookies); only then the answer goes out: a
 * redirect, or the page with its CSRF fields.
 */
export function createPageRuntime(options: PageRuntimeOptions): PageRuntime {
  const eta = new Eta({
    views: options.pagesDir, cache: options.cache, useWith: true, autoEscape: true,
    debug: true, autoTrim: [false, 'nl'],
  });
  skipIncludesAfterRedirect(eta);
  let routes: RouteTable = buildRoutes(options.pagesDir);
  const routeTable = () => (options.cache ? routes : (routes = buildRoutes(options.pagesDir)));
  const has404Page = fs.existsSync(path.join(options.pagesDir, '_404.eta'));
  const scan = createTemplateScan(options.pagesDir, { cache: options.cache });

  function newScope(req: Request, res: Response): PageScope {
    return new PageScope(req, res, options.transactor.begin(), options.visitorOf(req));
  }

  function templateData(scope: PageScope, params: Record<string, string>): Record<string, unknown> {
    const data: Record<string, unknown> = Object.assign({ [SCOPE]: scope } as Record<string, unknown>, options.globals,
      requestHelpers(scope, params, options.services));
    for (const plugin of options.plugins) Object.assign(data, plugin.helpers(scope));
    /** Pages set `page.title`; the layout reads it. */
    data.page = { title: '' };
    return data;
  }

  /** Renders a page inside its layouts; a page that redirected has no body to wrap. */
  async function render(file: string, layouts: readonly string[], data: object, scope: PageScope): Promise<string> {
    let html = (await eta.renderAsync(file, data)) ?? '';
    const { redirect, notFound } = scope.outcome;
    if (redirect || notFound) return '';
    for (const layout of [...layouts].reverse()) html = await eta.renderAsync(layout, { ...data, body: html });
    return html;
  }

  /** Runs the template and finishes its work: every tracked call settled, then one commit. */
  async function run(scope: PageScope, match: PageMatch): Promise<string> {
    const html = await render(match.file, match.layouts, templateData(scope, match.params), scope);
    await scope.settleCalls();
    for (const plugin of options.plugins) plugin.beforeCommit?.(scope);
    await scope.work.commit();
    return html;
  }

  function send(scope: PageScope, html: string): void {
    const { req, res } = scope;
    const { redirect, status, headers, raised } = scope.outcome;
    const limited = raised.find((error): error is AppError => error instanceof AppError && error.retryAfterSeconds !== undefined);
    if (limited) res.set('Retry-After', String(limited.retryAfterSeconds));
    if (redirect) {
      redirectWithoutBody(res, redirect.status ?? (req.method === 'POST' ? 303 : 302), redirect.location);
      return;
    }
    for (const [name, value] of headers) res.set(name, value);
    const body = fillCsrfTokens(injectCsrfFields(html), () => safeToken(req, res));
    res.status(status ?? statusAfter(raised)).set('Cache-Control', 'no-store').type('html').send(body);
  }

  function safeToken(req: Request, res: Response): string {
    try {
      return options.csrfToken(req, res);
    } catch {
      return ''; // no session (an error before the session middleware): the form cannot be submitted anyway
    }
  }

  async function renderPage(req: Request, res: Response, match: PageMatch): Promise<void> {
    const scope = newScope(req, res);
    const files = [match.file, ...match.layouts];
    const page: PageInfo = { files, mayCall: (name) => scan.mayCall(files, name) };
    for (const plugin of options.plugins) await plugin.beforeRender?.(scope, page);
    let html: string | undefined;
    let failure: unknown;
    try {
      html = await run(scope, match);
    } catch (error) {
      failure = error;
      scope.work.discard(); // a render that failed leaves nothing behind
    }
    let answer: { redirect: string } | void = undefined;
    for (const plugin of options.plugins) answer = (await plugin.afterRender?.(scope, { failure })) ?? answer;
    if (answer) return redirectWithoutBody(res, 303, answer.redirect);
    if (html === undefined) return failed(req, res, match.file, failure);
    if (scope.outcome.notFound) return renderError(req, res, 404);
    send(scope, html);
  }

  function failed(req: Request, res: Response, file: string, error: unknown): Promise<void> {
    const unavailable = findCause(error, StorageUnavailableError);
    if (unavailable) {
      options.log(`503 on ${req.method} ${req.originalUrl}: ${unavailable.message}`);
      return renderError(req, res, 503, { retryAfterSeconds: unavailable.retryAfterSeconds });
    }
    const appError = findCause(error, AppError);
    if (appError) return renderError(req, res, appError.status, { message: appError.message, retryAfterSeconds: appError.retryAfterSeconds });
    options.log(`Error rendering ${file} (${req.method} ${req.originalUrl}):\n${describe(error)}`);
    return renderError(req, res, 500, { detail: options.showErrors ? describe(error) : undefined });
  }

  async function renderError(req: Request, res: Response, status: number, details: ErrorDetails = {}): Promise<void> {
    if (res.headersSent) return;
    const known = errorPages[status] ?? errorPages[500]!;
    const error = { status, title: known.title, message: details.message ?? known.message, detail: details.detail, back: refererPath(req) };
    if (details.retryAfterSeconds) res.set('Retry-After', String(details.retryAfterSeconds));
    const standalone = () => res.status(status).set('Cache-Control', 'no-store').type('html')
      .send(standaloneErrorPage(status, error.title, error.message));
    // The site's layout reads the visitor's cart: with the database unreachable it cannot render.
    if (status === 503) return void standalone();
    try {
      const scope = newScope(req, res);
      const file = status === 404 && has404Page ? '_404.eta' : '_error.eta';
      const html = await render(file, routeTable().rootLayouts, { ...templateData(scope, {}), error }, scope);
      scope.work.discard(); // an error page shows; it changes nothing
      const body = fillCsrfTokens(injectCsrfFields(html), () => safeToken(req, res));
      res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
    } catch (renderFailure) {
      options.log(`Error rendering the ${status} page:\n${describe(renderFailure)}`);
      standalone();
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

/** Where a render's data names its scope; includes get a copy of the data, this key with it. */
const SCOPE = Symbol('page scope');

/**
 * A page that redirected has no body: a partial it includes after `redirect()` (the rest of the
 * page below seed 003's "try before you buy" block) is not rendered, as its layouts are not.
 * Eta's `include` and `includeAsync` are `this.render` and `this.renderAsync` with the including
 * template's options as `meta`; the page itself is rendered without them.
 */
function skipIncludesAfterRedirect(eta: Eta): void {
  const redirected = (data: object | undefined, meta: unknown) =>
    meta !== undefined && (data as { [SCOPE]?: PageScope } | undefined)?.[SCOPE]?.outcome.redirect !== undefined;
  const render = eta.render.bind(eta);
  const renderAsync = eta.renderAsync.bind(eta);
  eta.render = (template, data, meta) => (redirected(data, meta) ? '' : render(template, data, meta));
  eta.renderAsync = (template, data, meta) => (redirected(data, meta) ? Promise.resolve('') : renderAsync(template, data, meta));
}

/**
 * A page that caught a helper's error and rendered its own message answers with that error's
 * status (422 for a bad email, 409 for one in use...), unless the error says otherwise (guest
 * sign-in unavailable); a programming error the page caught still makes it a 500.
 */
function statusAfter(raised: readonly Error[]): number {
  const last = raised.filter((error) => !(error instanceof AppError) || error.setsPageStatus).at(-1);
  if (!last) return 200;
  return last instanceof AppError ? last.status : 500;
}

/** Eta's errors already say file, line and the template around it; others need their stack. */
function describe(error: unknown): string {
  if (error instanceof EtaError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

