import type { IdentityProviderConfig } from '../../config.ts';
import type { PagePlugin } from '../../pages/plugin.ts';
import { isPlaceholderEmail } from '../credentials.ts';
import { hasPassword } from '../records.ts';
import type { AccountStore, AuthRecord, IdentityStore } from '../stores.ts';

/** A provider as a page shows it: the "Continue with <label>" button posts to `startPath`. */
export interface ProviderButton { name: string; label: string; startPath: string }

/** How the signed-in account can sign in, for the account page. */
export interface SignInMethods {
  password: boolean;
  identities: Array<{
    provider: string; label: string; subject: string; email: string | null;
    /** Where its Unlink form posts; null when its provider is no longer configured. */
    unlinkPath: string | null;
    /** False when it is the account's last way to sign in. */
    canUnlink: boolean;
  }>;
}

/**
 * The template helpers of identity providers (a page plug-in): `identityProviders()` for the
 * buttons (none when no provider is configured), `await signInMethods()` for the account page,
 * and `accountName(record)`, what to call an account that may have no email of its own.
 */
export function createIdentityProviderPlugin(deps: {
  providers: readonly IdentityProviderConfig[]; records: AccountStore; identities: IdentityStore;
}): PagePlugin {
  const { records, identities } = deps;
  const labels = new Map(deps.providers.map((provider) => [provider.name, provider.label]));
  const buttons: readonly ProviderButton[] = deps.providers.map(({ name, label }) => ({ name, label, startPath: `/auth/${name}/start` }));

  return {
    helpers(scope) {
      return {
        identityProviders: () => buttons,

        /** The signed-in registered account's password and linked providers; null for anyone else. */
        async signInMethods(): Promise<SignInMethods | null> {
          const visitor = scope.visitor as AuthRecord | null;
          if (!visitor || visitor.isAnonymous) return null;
          const [stored, linked] = await Promise.all([records.find(visitor.collection, visitor.id), identities.listFor(visitor.id)]);
          const password = !!stored && hasPassword(stored);
          return {
            password,
            identities: linked.map((identity) => ({
              provider: identity.provider,
              label: labels.get(identity.provider) ?? identity.provider,
              subject: identity.subject,
              email: identity.email,
              unlinkPath: labels.has(identity.provider) ? `/auth/${identity.provider}/unlink` : null,
              canUnlink: password || linked.length > 1,
            })),
          };
        },

        /** The account's email, or, for one made through a provider without an email we trust, its name. */
        accountName(record: AuthRecord): string {
          return isPlaceholderEmail(record.email) ? (record.name ?? 'your account') : record.email;
        },
      };
    },
  };
}
