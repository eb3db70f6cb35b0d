import type { Request, Response, Router } from 'express';
import type { AppContext } from '../../context.ts';
import type { PagePlugin } from '../../pages/plugin.ts';
import type { ResumeCookie } from '../resume-cookie.ts';
import { createIdentitySignIn } from './identity-sign-in.ts';
import { createRelyingParty } from './relying-party.ts';
import { identityRoutes } from './routes.ts';
import { createIdentityProviderPlugin } from './template-helpers.ts';

/** Sign-in through OpenID Connect providers (issue 16), as the app mounts it. */
export interface IdentityProviders {
  /** The template helpers: buttons, the account page's sign-in methods. */
  plugin: PagePlugin;
  /** The start, callback and unlink routes; null when no provider is configured: then there are none. */
  routes(renderError: (req: Request, res: Response, status: number, details: { message: string }) => Promise<void>): Router | null;
  /** The origins our forms send browsers to (providers' authorization endpoints), for the CSP's form-action. */
  formActionOrigins(): string[];
}

export function createIdentityProviders(ctx: AppContext, options: {
  resume: ResumeCookie; log(message: string): void; deadlineMs?: number;
}): IdentityProviders {
  const { config, storage, accounts, sessionKeys, now } = ctx;
  const parties = new Map(config.identityProviders.map((provider) => [provider.name, createRelyingParty(provider, options)]));
  const { records, identities, events, transactor } = storage;
  return {
    plugin: createIdentityProviderPlugin({ providers: config.identityProviders, records, identities }),
    routes: (renderError) => (parties.size === 0 ? null : identityRoutes({
      parties, records, identities, events, transactor, sessionKeys, now, renderError, resume: options.resume, log: options.log,
      signIns: createIdentitySignIn({ records, identities, accounts, events, now }),
    })),
    formActionOrigins: () => [...new Set([...parties.values()].flatMap((party) => party.origins()))],
  };
}
