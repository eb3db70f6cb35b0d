/**
 * Identity providers come from OIDC_PROVIDERS and OIDC_<NAME>_* (config.ts). A bad or missing
 * value stops the start with a message naming the variable; the client secret is never repeated.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { PRODUCTION_MAIL } from './support.ts';

const ACME = {
  OIDC_PROVIDERS: 'acme',
  OIDC_ACME_ISSUER: 'https://id.acme.example',
  OIDC_ACME_CLIENT_ID: 'shop',
  OIDC_ACME_CLIENT_SECRET: 'very-secret-value',
};

/** The ConfigError loadConfig(env) throws; fails the spec when it throws nothing or something else. */
function configError(env: Record<string, string>): ConfigError {
  const thrown = (() => { try { loadConfig(env); return null; } catch (error) { return error; } })();
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('identity providers in the config', () => {
  it('are none by default', () => {
    expect(loadConfig({}).identityProviders).toEqual([]);
    expect(loadConfig({ OIDC_PROVIDERS: ' , ' }).identityProviders).toEqual([]);
  });

  it('read each named provider, with the label capitalised, email not trusted, and the callback under APP_URL', () => {
    const config = loadConfig({ ...ACME, APP_URL: 'https://shop.example' });
    expect(config.identityProviders).toEqual([{
      name: 'acme', issuer: 'https://id.acme.example', clientId: 'shop', clientSecret: 'very-secret-value',
      label: 'Acme', trustEmail: false, redirectUri: 'https://shop.example/auth/acme/callback',
    }]);
    expect(Object.isFrozen(config.identityProviders)).toBe(true);
    expect(Object.isFrozen(config.identityProviders[0])).toBe(true);
  });

  it('read several providers in order, with _LABEL and _TRUST_EMAIL', () => {
    const config = loadConfig({
      ...ACME, OIDC_PROVIDERS: 'google, acme', OIDC_ACME_LABEL: 'Acme ID', OIDC_GOOGLE_TRUST_EMAIL: 'true',
      OIDC_GOOGLE_ISSUER: 'https://accounts.google.com', OIDC_GOOGLE_CLIENT_ID: 'g-id', OIDC_GOOGLE_CLIENT_SECRET: 'g-secret',
    });
    expect(config.identityProviders.map(({ name, label, trustEmail }) => ({ name, label, trustEmail }))).toEqual([
      { name: 'google', label: 'Google', trustEmail: true },
      { name: 'acme', label: 'Acme ID', trustEmail: false },
    ]);
    expect(config.identityProviders[0]!.redirectUri).toBe('http://localhost:3000/auth/google/callback');
  });

  it('accept an http issuer on loopback outside production (a provider on this machine, in tests)', () => {
    const config = loadConfig({ ...ACME, OIDC_ACME_ISSUER: 'http://127.0.0.1:4000' });
    expect(config.identityProviders[0]!.issuer).toBe('http://127.0.0.1:4000');
  });

  it.each([
    [{ OIDC_ACME_ISSUER: '' }, 'OIDC_ACME_ISSUER', /must be set: "acme" is in OIDC_PROVIDERS/],
    [{ OIDC_ACME_CLIENT_ID: '' }, 'OIDC_ACME_CLIENT_ID', /must be set/],
    [{ OIDC_ACME_CLIENT_SECRET: '' }, 'OIDC_ACME_CLIENT_SECRET', /must be set/],
    [{ OIDC_ACME_ISSUER: 'not a url' }, 'OIDC_ACME_ISSUER', /must be a URL/],
    [{ OIDC_ACME_ISSUER: 'http://id.acme.example' }, 'OIDC_ACME_ISSUER', /https URL/],
    [{ OIDC_ACME_ISSUER: 'https://id.acme.example/?tenant=1' }, 'OIDC_ACME_ISSUER', /no query or fragment/],
    [{ OIDC_ACME_TRUST_EMAIL: 'perhaps' }, 'OIDC_ACME_TRUST_EMAIL', /true or false/],
    [{ OIDC_ACME_LABEL: 'A'.repeat(41) }, 'OIDC_ACME_LABEL', /at most 40 characters/],
    [{ OIDC_PROVIDERS: 'acme,acme' }, 'OIDC_PROVIDERS', /names a provider twice/],
    [{ OIDC_PROVIDERS: 'Acme' }, 'OIDC_PROVIDERS', /invalid provider name "Acme"/],
    [{ OIDC_PROVIDERS: 'my-idp' }, 'OIDC_PROVIDERS', /invalid provider name "my-idp"/],
  ])('refuse %o, naming %s', (change, variable, message) => {
    const error = configError({ ...ACME, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });

  it('refuse an http issuer in production, even on loopback', () => {
    const error = configError({
      ...ACME, ...PRODUCTION_MAIL, NODE_ENV: 'production', SESSION_SECRET: 'k'.repeat(20) + 'abcdefghijklmnop', OIDC_ACME_ISSUER: 'http://127.0.0.1:4000',
    });
    expect(error.variable).toBe('OIDC_ACME_ISSUER');
  });

  it('never repeat the client secret in an error', () => {
    const error = configError({ ...ACME, OIDC_ACME_ISSUER: 'ftp://x', OIDC_ACME_CLIENT_SECRET: 'hunter2-secret' });
    expect(error.message).not.toContain('hunter2-secret');
  });

  it('keep "identities" from becoming a collection: it is the app\'s own table', () => {
    expect(configError({ GUEST_COLLECTIONS: 'users,identities' }).variable).toBe('GUEST_COLLECTIONS');
  });
});
