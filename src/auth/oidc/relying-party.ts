import { AsyncLocalStorage } from 'node:async_hooks';
import * as oidc from 'openid-client';
import type { IdentityProviderConfig } from '../../config.ts';
import { findCause } from '../../errors.ts';
import { IdentityError, type IdentityErrorCode } from './errors.ts';

/** What a sign-in keeps between sending the visitor to the provider and their coming back. */
export interface PendingChecks { state: string; nonce: string; codeVerifier: string }

/** The claims of an ID token that passed every check (issuer, audience, expiry, signature, nonce). */
export interface VerifiedClaims {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** Our side of OpenID Connect with one provider: the authorization code flow with PKCE. */
export interface RelyingParty {
  readonly provider: IdentityProviderConfig;
  /** Where to send the visitor: the provider's authorization endpoint with this flow's checks. */
  authorizationUrl(checks: PendingChecks): Promise<URL>;
  /** Redeems the callback's code (PKCE) and checks state, nonce and the ID token against the provider's JWKS. */
  verifiedClaims(callbackUrl: URL, checks: PendingChecks): Promise<VerifiedClaims>;
  /** The origins a form on our pages may send the browser to for this provider (the CSP's form-action). */
  origins(): readonly string[];
}

/**
 * How long all the provider requests of one step may take together: discovery, the token
 * request, the JWKS, userinfo. A page answers within 10 s, so a slow provider gets a 504 page
 * before a proxy or the visitor gives up, never a hung request.
 */
export const PROVIDER_DEADLINE_MS = 8_000;

// Thrown by our fetch: openid-client wraps what it does not know, so they are found by findCause.
class ProviderTimeout extends Error {}
class ProviderUnreachable extends Error {}

const SCOPE = 'openid email profile';

export function createRelyingParty(provider: IdentityProviderConfig, options: { deadlineMs?: number } = {}): RelyingParty {
  const deadlineMs = options.deadlineMs ?? PROVIDER_DEADLINE_MS;
  const deadlines = new AsyncLocalStorage<AbortSignal>();
  const origins = new Set([new URL(provider.issuer).origin]);
  let discovered: Promise<oidc.Configuration> | undefined;

  /** fetch, bounded by the step's deadline; a failure to connect is told apart from a timeout. */
  const boundedFetch: oidc.CustomFetch = async (url, init) => {
    const deadline = deadlines.getStore();
    const signal = deadline && init.signal ? AbortSignal.any([deadline, init.signal]) : deadline ?? init.signal;
    try {
      // openid-client sends only what fetch takes; its FetchBody type is merely wider than RequestInit's.
      return await fetch(url, { ...init, signal } as RequestInit);
    } catch (error) {
      if (signal?.aborted) throw new ProviderTimeout(`${provider.name}: no answer from ${url} in time`, { cause: error });
      throw new ProviderUnreachable(`${provider.name}: ${url}: ${(error as Error).cause ?? error}`, { cause: error });
    }
  };

  /** The provider's metadata, discovered on first use and kept; a failed discovery is tried again next time. */
  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, oidc.ClientSecretBasic(provider.clientSecret), {
      [oidc.customFetch]: boundedFetch,
      timeout: Math.ceil(deadlineMs / 1000),
      execute: [
        // openid-client trusts TLS for an ID token from the token endpoint (OIDC Core 3.1.3.7 allows
        // it) and checks no signature; we check it against the provider's JWKS all the same.
        oidc.enableNonRepudiationChecks,
        // config.ts allows http only for a provider on loopback, outside production.
        ...(new URL(provider.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : []),
      ],
    }).then((config) => {
      const endpoint = config.serverMetadata().authorization_endpoint;
      if (endpoint) origins.add(new URL(endpoint).origin);
      return config;
    }, (error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  }

  /** Runs one step within the deadline, its failures told as IdentityErrors. */
  async function step<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await deadlines.run(AbortSignal.timeout(deadlineMs), work);
    } catch (error) {
      const code = failureOf(error);
      if (!code) throw error;
      throw new IdentityError(code, provider.label, { cause: error });
    }
  }

  return {
    provider,
    origins: () => [...origins],

    authorizationUrl: (checks) => step(async () => oidc.buildAuthorizationUrl(await configuration(), {
      redirect_uri: provider.redirectUri,
      scope: SCOPE,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    })),

    verifiedClaims: (callbackUrl, checks) => step(async () => {
      const config = await configuration();
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true,
      });
      let claims: Record<string, unknown> = tokens.claims()!;
      // Providers that keep to the spec's letter put email in userinfo, not the ID token.
      if (claims.email === undefined && config.serverMetadata().userinfo_endpoint) {
        claims = { ...await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub)), ...claims };
      }
      return {
        subject: String(claims.sub),
        email: typeof claims.email === 'string' ? claims.email : null,
        // Some providers send the string "true".
        emailVerified: claims.email_verified === true || claims.email_verified === 'true',
        name: typeof claims.name === 'string' ? claims.name : null,
      };
    }),
  };
}

/**
 * Which IdentityError a failure of a step is. The provider's fault (unreachable, slow, answering
 * something that is not OpenID Connect, refusing our client) is a 502 or 504; an answer that
 * fails a check is a 400; anything else is a bug and stays one (500).
 */
function failureOf(error: unknown): IdentityErrorCode | null {
  if (findCause(error, ProviderTimeout)) return 'provider_timeout';
  if (findCause(error, ProviderUnreachable)) return 'provider_unavailable';
  if (error instanceof oidc.AuthorizationResponseError) return error.error === 'access_denied' ? 'sign_in_cancelled' : 'sign_in_rejected';
  // Userinfo refused the access token the provider itself had just issued.
  if (error instanceof oidc.WWWAuthenticateChallengeError) return 'provider_unavailable';
  if (error instanceof oidc.ResponseBodyError) {
    const ours = error.error === 'invalid_client' || error.error === 'unauthorized_client';
    return error.status >= 500 || ours ? 'provider_unavailable' : 'sign_in_rejected';
  }
  if (error instanceof oidc.ClientError && error.code) {
    if (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT') return 'provider_timeout';
    if (error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || error.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return 'provider_unavailable';
    return 'sign_in_rejected';
  }
  return null;
}
