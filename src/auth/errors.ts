import { AppError } from '../errors.ts';

/**
 * Every rule a visitor can break has a stable code. Templates catch `AuthError`s and show
 * `error.message`; the page runtime answers with the code's status (http/errors.ts).
 */
export type AuthErrorCode =
  | 'anonymous_disabled'
  | 'rate_limited'
  | 'account_rate_limited'
  | 'already_signed_in'
  | 'not_signed_in'
  | 'not_anonymous'
  | 'invalid_email'
  | 'invalid_name'
  | 'password_too_short'
  | 'password_too_long'
  | 'email_in_use'
  | 'invalid_credentials'
  | 'stale_form'
  | 'password_mismatch'
  | 'email_rate_limited'
  | 'email_not_verified'
  | 'invalid_link'
  | 'expired_link'
  | 'used_link';

const messages: Record<AuthErrorCode, string> = {
  anonymous_disabled: 'Guest accounts are not available right now.',
  rate_limited: 'Too many attempts from your network. Please wait a minute and try again.',
  account_rate_limited: 'Too many sign-in attempts for this account. Please wait a minute and try again.',
  already_signed_in: 'You are already signed in to an account.',
  not_signed_in: 'Your session has ended. Please start again.',
  not_anonymous: 'This account is already registered.',
  invalid_email: 'Enter a valid email address, like name@example.com.',
  invalid_name: 'Names can be at most 100 characters.',
  password_too_short: 'Use at least 8 characters for your password.',
  password_too_long: 'Use at most 72 bytes for your password (fewer if it has accents or emoji).',
  email_in_use: 'An account with this email already exists. Sign in instead.',
  invalid_credentials: 'Email or password is incorrect.',
  stale_form: 'This page is out of date. Reload it and try again.',
  password_mismatch: 'The two passwords are not the same.',
  email_rate_limited: 'We just sent several emails to this address. Please wait a minute and try again.',
  email_not_verified: 'Confirm your email address first: follow the link we sent you, or ask for a new one.',
  invalid_link: 'This link does not work: it is incomplete, or the account changed since it was sent.',
  expired_link: 'This link has expired.',
  used_link: 'This link has already been used.',
};

/** The form field each code is about, so pages can show the message next to it. */
const fields: Partial<Record<AuthErrorCode, 'email' | 'password' | 'confirmation' | 'name'>> = {
  invalid_email: 'email',
  email_in_use: 'email',
  invalid_name: 'name',
  password_too_short: 'password',
  password_too_long: 'password',
  password_mismatch: 'confirmation',
  email_rate_limited: 'email',
};

// A Record, so that a new code without a status is a compile error.
const statuses: Record<AuthErrorCode, number> = {
  anonymous_disabled: 403,
  rate_limited: 429,
  account_rate_limited: 429,
  already_signed_in: 409,
  not_signed_in: 401,
  not_anonymous: 400,
  invalid_email: 422,
  invalid_name: 422,
  password_too_short: 422,
  password_too_long: 422,
  email_in_use: 409,
  invalid_credentials: 401,
  stale_form: 409,
  password_mismatch: 422,
  email_rate_limited: 429,
  email_not_verified: 403,
  // A link that cannot be used changes nothing: a readable 400 page offering a new one.
  invalid_link: 400,
  expired_link: 400,
  used_link: 400,
};

export class AuthError extends AppError<AuthErrorCode> {
  constructor(code: AuthErrorCode, retryAfterSeconds?: number) {
    super(code, messages[code], {
      status: statuses[code], field: fields[code], retryAfterSeconds,
      // A page that catches "guests unavailable" still works: crawlers index it as a normal page.
      setsPageStatus: code !== 'anonymous_disabled',
    });
    this.name = 'AuthError';
  }
}
