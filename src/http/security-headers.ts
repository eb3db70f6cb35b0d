import helmet from 'helmet';

/**
 * helmet with a strict Content-Security-Policy: scripts and styles only from our own origin, no
 * inline script, no framing. HTTPS upgrades and HSTS only in production, where TLS is in front.
 * Forms post to this site only; `formActions` adds the origins a form's redirect may lead to (a
 * "Continue with" button posts here and is sent on to the identity provider, which browsers check
 * against form-action too).
 */
export function securityHeaders(production: boolean, options: { formActions?: () => readonly string[] } = {}) {
  const formActions = options.formActions;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: formActions ? [() => ["'self'", ...formActions()].join(' ')] : ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        ...(production ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: production,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  });
}
