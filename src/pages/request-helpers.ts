import type { Request } from 'express';
import { AppError } from '../errors.ts';
import { CSRF_PLACEHOLDER, csrfFieldHtml } from './csrf-fields.ts';
import type { FlashMessage, PageScope, Visitor } from './scope.ts';

/** A request-scoped application service, created on first `resolve(name)` in a request. */
export type ServiceFactory = (scope: PageScope) => object;

/** What templates see as `request`. `auth` follows sign-ins made earlier in the same render. */
export interface TemplateRequest {
  method: string;
  url: string;
  path: string;
  query: Request['query'];
  headers: Request['headers'];
  params: Record<string, string>;
  ip: string | undefined;
  readonly auth: Visitor | null;
}

export interface TemplateHelpers {
  request: TemplateRequest;
  formData: Record<string, unknown>;
  params: Record<string, string>;
  messages: FlashMessage[];
  redirect(path: string, options?: { status?: number }): void;
  resolve(name: string): unknown;
  response: { status(code: number): void; header(name: string, value: string): void };
  csrfToken(): string;
  csrfField(): string;
  flash(type: string, message: string): void;
  /** Answer with the 404 page (for a record that does not exist or is not the visitor's). */
  notFound(): void;
  /** Runs `work`, recording an AppError it throws so the page answers with its status; returns the error or null. */
  attempt(work: () => unknown): Promise<AppError | null>;
}

/** The request and response helpers of the template API (plug-ins add theirs, such as auth's). */
export function requestHelpers(scope: PageScope, params: Record<string, string>,
  services: ReadonlyMap<string, ServiceFactory>): TemplateHelpers {
  const { req } = scope;
  const request: TemplateRequest = {
    method: req.method,
    url: req.originalUrl,
    path: req.path,
    query: req.query,
    headers: req.headers,
    params,
    ip: req.ip,
    get auth() { return scope.visitor; },
  };
  return {
    request,
    formData: req.method === 'POST' && isObject(req.body) ? req.body : {},
    params,
    messages: scope.messages,
    // Records the target and returns: templates call it inside `try`, so it must not throw.
    redirect(path, options) { scope.redirect(path, options?.status); },
    resolve(name) {
      const factory = services.get(name);
      if (!factory) throw new Error(`resolve('${name}'): no service with that name is registered`);
      return scope.service(name, () => factory(scope));
    },
    response: {
      status(code) { scope.setStatus(code); },
      header(name, value) { scope.setHeader(name, value); },
    },
    csrfToken: () => CSRF_PLACEHOLDER,
    csrfField: () => csrfFieldHtml(CSRF_PLACEHOLDER),
    flash: (type, message) => scope.flash(type, message),
    notFound() { scope.markNotFound(); },
    async attempt(work) {
      try {
        await scope.guard(async () => work());
        return null;
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
