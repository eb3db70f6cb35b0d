import { AppError } from '../../errors.ts';

/**
 * What can go wrong signing in through an identity provider, each with a stable code, a
 * readable message naming the provider, and one status. Every one of them leaves the visitor's
 * records as they were: nothing is written until the provider's answer has passed every check.
 */
export type IdentityErrorCode =
  /** No pending sign-in matches the callback's `state`: forged, expired, used already, or begun in another session. */
  | 'sign_in_expired'
  /** The provider's answer failed a check: a code used twice, a wrong nonce, an expired or mis-signed ID token. */
  | 'sign_in_rejected'
  /** The visitor declined at the provider (or it refused them). */
  | 'sign_in_cancelled'
  | 'provider_unavailable'
  | 'provider_timeout'
  /** That provider account is linked to another of our accounts. */
  | 'identity_in_use'
  /** A registered visitor continued with a provider account that is linked to nothing. */
  | 'already_signed_in'
  /** Unlinking would leave the account no way to sign in. */
  | 'last_sign_in_method'
  | 'not_linked';

const messages: Record<IdentityErrorCode, (label: string) => string> = {
  sign_in_expired: (label) => `This sign-in with ${label} has expired or was already used. Nothing was changed: please start again.`,
  sign_in_rejected: (label) => `The answer from ${label} could not be verified, so we did not sign you in. Nothing was changed: please start again.`,
  sign_in_cancelled: (label) => `Signing in with ${label} was cancelled. Nothing was changed.`,
  provider_unavailable: (label) => `${label} is not answering right now. Nothing was changed: please try again in a minute.`,
  provider_timeout: (label) => `${label} took too long to answer. Nothing was changed: please try again in a minute.`,
  identity_in_use: (label) => `This ${label} account is linked to another account here. Sign in to that one, or unlink it there first.`,
  already_signed_in: (label) => `You are already signed in. To sign in with ${label} from now on, link it from your account page.`,
  last_sign_in_method: (label) => `${label} is the only way to sign in to this account, so it cannot be unlinked.`,
  not_linked: (label) => `That ${label} account is not linked to yours.`,
};

// A Record, so that a new code without a status is a compile error.
const statuses: Record<IdentityErrorCode, number> = {
  sign_in_expired: 400,
  sign_in_rejected: 400,
  sign_in_cancelled: 400,
  provider_unavailable: 502,
  provider_timeout: 504,
  identity_in_use: 409,
  already_signed_in: 409,
  last_sign_in_method: 409,
  not_linked: 404,
};

export class IdentityError extends AppError<IdentityErrorCode> {
  /** `label` names the provider in the message; a store that does not know it leaves the default. */
  constructor(code: IdentityErrorCode, label = 'provider', options: { cause?: unknown } = {}) {
    super(code, messages[code](label), { status: statuses[code] });
    this.name = 'IdentityError';
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /** The same error, its message naming the provider. */
  withLabel(label: string): IdentityError {
    return new IdentityError(this.code, label, { cause: this.cause });
  }
}
