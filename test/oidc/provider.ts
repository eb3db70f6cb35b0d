/**
 * A real OpenID Provider for the specs: panva's oidc-provider on a loopback port, with its
 * development login and consent forms (any login is accepted as the account's `sub`), driven
 * over HTTP the way a browser would. The app is its confidential client (client_secret_basic);
 * redirect URIs must match exactly, so the provider is told the app's APP_URL before it starts.
 *
 * For the failure specs it can misbehave: drop every connection (down), leave requests unanswered
 * (slow), answer 503, or rewrite the ID token its real token endpoint issued, re-signed with its
 * own key (a wrong nonce, an expiry in the past) or with a key it never published (mis-signed).
 */
import crypto from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface ProviderAccount { email?: string; email_verified?: boolean; name?: string }

export type Misbehaviour =
  | { down: true }
  | { slow: string }
  | { status: number; path: string }
  | { idToken: (payload: Record<string, unknown>) => Record<string, unknown>; foreignKey?: boolean };

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The app's variables for this provider under each name (one client, a redirect URI per name). */
  env(settings?: Record<string, Record<string, string>>): Record<string, string>;
  /** The claims the provider gives for `login` (default: `<login>@idp.example`, verified). */
  setAccount(login: string, account: ProviderAccount): void;
  /**
   * Follows `authorizationUrl` at the provider as a new browser: logs in as `login` and consents
   * (or cancels), and returns the URL the provider sends the browser back to.
   */
  authorize(authorizationUrl: string, login: string, options?: { cancel?: boolean }): Promise<URL>;
  misbehave(misbehaviour: Misbehaviour | null): void;
  close(): Promise<void>;
}

/** A loopback port nobody listens on now: for an app whose APP_URL the provider must know before it starts. */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export const CLIENT_ID = 'guestkit-shop';
const CLIENT_SECRET = 'a-client-secret-for-tests-only';

export async function startProvider(options: { appUrl: string; names?: readonly string[] }): Promise<TestProvider> {
  const names = options.names ?? ['acme'];
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const foreign = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = 'test-key';
  const accounts = new Map<string, ProviderAccount>();
  let misbehaviour: Misbehaviour | null = null;
  const held = new Set<ServerResponse>();

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: names.map((name) => `${options.appUrl}/auth/${name}/callback`),
      grant_types: ['authorization_code'], response_types: ['code'],
    }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@idp.example`, email_verified: true, name: sub, ...accounts.get(sub) }),
    }),
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 3600, AuthorizationCode: 120, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  // The token endpoint answers as it does; an ID token to tamper with is rewritten on its way out.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (misbehaviour && 'idToken' in misbehaviour && ctx.path === '/token' && body?.id_token) {
      ctx.body = { ...body, id_token: resign(body.id_token, misbehaviour.idToken, misbehaviour.foreignKey ? foreign : privateKey) };
    }
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (misbehaviour && 'down' in misbehaviour) return void req.socket.destroy();
    if (misbehaviour && 'slow' in misbehaviour && path === misbehaviour.slow) return void held.add(res);
    if (misbehaviour && 'status' in misbehaviour && path === misbehaviour.path) {
      return void res.writeHead(misbehaviour.status, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>');
    }
    callback(req, res);
  });
  // A provider that is "down" refuses connections already open too (fetch keeps them alive).
  server.on('connection', (socket) => { if (misbehaviour && 'down' in misbehaviour) socket.destroy(); });

  /** The ID token's payload rewritten, signed as RS256 with `key` under the provider's key id. */
  function resign(token: string, change: (payload: Record<string, unknown>) => Record<string, unknown>, key: crypto.KeyObject): string {
    const [header, payload] = token.split('.') as [string, string];
    const claims = change(JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>);
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }

  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    env(settings = { acme: {} }) {
      const env: Record<string, string> = { OIDC_PROVIDERS: Object.keys(settings).join(','), APP_URL: options.appUrl };
      for (const [name, extra] of Object.entries(settings)) {
        const prefix = `OIDC_${name.toUpperCase()}_`;
        Object.assign(env, { [`${prefix}ISSUER`]: issuer, [`${prefix}CLIENT_ID`]: CLIENT_ID, [`${prefix}CLIENT_SECRET`]: CLIENT_SECRET });
        for (const [key, value] of Object.entries(extra)) env[prefix + key] = value;
      }
      return env;
    },
    setAccount(login, account) { accounts.set(login, account); },
    authorize: (authorizationUrl, login, authorizeOptions = {}) => authorize(issuer, authorizationUrl, login, authorizeOptions.cancel ?? false),
    misbehave(next) {
      misbehaviour = next;
      if (!next) for (const res of held) res.destroy();
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A browser at the provider: its own cookies, each interaction's form filled in and posted. */
async function authorize(issuer: string, authorizationUrl: string, login: string, cancel: boolean): Promise<URL> {
  const cookies = new Map<string, string>();
  const send = async (url: URL, form?: Record<string, string>) => {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return response;
  };
  let url = new URL(authorizationUrl);
  for (let step = 0; step < 12; step++) {
    if (url.origin !== issuer) return url; // sent back to the app
    const response = await send(url);
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (response.status !== 200 || !action || !prompt) throw new Error(`the provider answered ${response.status} at ${url.pathname}:\n${html.slice(0, 2000)}`);
    const target = new URL(action, url);
    const submitted = cancel ? await send(new URL(`${target.pathname}/abort`, url))
      : await send(target, prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt });
    const next = submitted.headers.get('location');
    if (!next) throw new Error(`the provider answered ${submitted.status} to the ${prompt} form:\n${(await submitted.text()).slice(0, 2000)}`);
    url = new URL(next, url);
  }
  throw new Error('the provider never sent the browser back');
}
