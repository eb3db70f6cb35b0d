import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

type Header = readonly [name: string, value: string];

/**
 * helmet with a strict Content-Security-Policy: scripts and styles only from our own origin, no
 * inline script, no framing. HTTPS upgrades and HSTS only in production, where TLS is in front.
 * Forms post to this site only; `formActions` adds the origins a form's redirect may lead to (a
 * "Continue with" button posts here and is sent on to the identity provider, which browsers check
 * against form-action too).
 *
 * None of these headers depends on the request, so helmet runs once per policy (again only when
 * the form-action origins change) and each response gets the headers it wrote: helmet's chain of
 * a dozen middlewares, and its per-request CSP assembly, would otherwise run on every response.
 */
export function securityHeaders(production: boolean, options: { formActions?: () => readonly string[] } = {}): RequestHandler {
  const formActions = options.formActions;
  let origins: readonly string[] = formActions?.() ?? [];
  const policyOf = (current: readonly string[]) => helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: ["'self'", ...current],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        ...(production ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: production,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  });
  let headers = headersOf(policyOf(origins));

  return function securityHeaders(_req, res, next) {
    const current = formActions?.();
    if (current && !sameList(current, origins)) {
      origins = [...current];
      headers = headersOf(policyOf(origins));
    }
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/** The headers a helmet policy sets, recorded from one run of it. */
function headersOf(policy: ReturnType<typeof helmet>): Header[] {
  const headers: Header[] = [];
  const recorder = {
    setHeader(name: string, value: string | number) { headers.push([name, String(value)]); },
    removeHeader() {},
  };
  policy({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((each, i) => each === b[i]);
}
