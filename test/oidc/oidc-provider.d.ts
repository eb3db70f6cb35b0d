/** The part of oidc-provider 9's API the test provider uses (the package ships no types). */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface KoaContext { path: string; body: unknown }
  interface Account { accountId: string; claims(): Record<string, unknown> | Promise<Record<string, unknown>> }

  interface Configuration {
    clients: Array<Record<string, unknown>>;
    jwks: { keys: object[] };
    claims: Record<string, string[]>;
    findAccount(ctx: unknown, sub: string): Account | Promise<Account>;
    cookies: { keys: string[] };
    features: Record<string, { enabled: boolean }>;
    ttl: Record<string, number>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
