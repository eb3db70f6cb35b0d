import { domainToASCII } from 'node:url';
import { AuthError } from './errors.ts';

/**
 * One canonical form per address, so two addresses a person would call the same are one
 * account: sign-in, conversion and registration all go through `normalizeEmail`.
 */

// Characters nobody can see or type on purpose, refused anywhere in an address, since each
// would make a second account that looks exactly like the first (`a\u200B@example.com`):
// \p{C}: controls (Cc; `victim@example.com\0.evil.example` reaches a C mail library as
//   `victim@example.com`), format characters (Cf: zero-width space and joiners, BOM, soft
//   hyphen, bidi marks), lone surrogates (Cs), private use (Co) and unassigned code points
//   (Cn: a later Unicode version could give them a decomposition, changing the canonical form);
// \p{Z}: spaces and line separators (NFKC turns the exotic spaces into U+0020);
// Default_Ignorable_Code_Point: what renders as nothing without being Cf, such as variation
//   selectors, the combining grapheme joiner and the Hangul fillers (U+3164, U+FFA0);
// U+2800 (braille blank), which is a symbol but draws as a blank.
const INVISIBLE = /[\p{C}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]/u;

// What an address part may not hold, beyond the invisible characters (RFC 5322 specials).
const PART = /^[^@<>()[\]\\,;:"]+$/;

// A DNS label after IDNA: `domainToASCII` lets through `_` and empty labels (`a..b`).
const LABEL = /^[a-z0-9_-]{1,63}$/;

/** RFC 5321: 64 octets for the local part, 254 for the address as used in a path. */
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;

/** The canonical form of an address (see `canonicalEmail`); throws `invalid_email`. */
export function normalizeEmail(raw: unknown): string {
  const canonical = canonicalEmail(raw);
  if (canonical === null) throw new AuthError('invalid_email');
  return canonical;
}

/**
 * The canonical form of an address, or null when it is not one. NFKC first (fullwidth letters,
 * ligatures, composed and decomposed accents become one form), then the local part lower-cased
 * (emails have always been case-insensitive here) and the domain in ASCII (IDNA: `bücher.example`
 * is `xn--bcher-kva.example`), lower-cased, without a trailing dot. Reserved `.invalid`
 * addresses belong to guests.
 */
export function canonicalEmail(raw: unknown): string | null {
  // trim() forgives spaces pasted around the address; the rule below refuses any inside it.
  const email = typeof raw === 'string' ? raw.trim().normalize('NFKC') : '';
  const at = email.lastIndexOf('@');
  if (at < 1 || INVISIBLE.test(email)) return null;
  // Lower-casing can make a letter that composes with the mark after it (`T` + U+0308 becomes
  // `t` + U+0308, which NFKC makes `ẗ`, a letter with no capital): normalise again after it.
  const local = email.slice(0, at).toLowerCase().normalize('NFKC');
  const domain = asciiDomain(email.slice(at + 1));
  const canonical = `${local}@${domain}`;
  const valid = domain !== '' && PART.test(local) && Buffer.byteLength(local) <= MAX_LOCAL_OCTETS
    && Buffer.byteLength(canonical) <= MAX_ADDRESS_OCTETS && !domain.endsWith('.invalid');
  return valid ? canonical : null;
}

/** The domain in lower-case ASCII without its trailing dot, or '' when it is not a domain. */
function asciiDomain(unicode: string): string {
  // The URL parser percent-decodes hosts (`ex%41mple.com` is `example.com`): no domain has a `%`.
  if (unicode.includes('%') || !PART.test(unicode)) return '';
  const ascii = domainToASCII(unicode).toLowerCase().replace(/\.$/, '');
  const labels = ascii.split('.');
  return labels.length >= 2 && labels.every((label) => LABEL.test(label)) ? ascii : '';
}

/**
 * The forms an account with this address may be stored under, canonical first; none when it is
 * not an address. Accounts registered before the canonical form keep the form of that time,
 * trimmed and lower-cased only (look-alike-emails.ts reports them), so `bücher.example`
 * accounts can still sign in and the same address cannot be registered beside them.
 */
export function storedForms(raw: unknown): string[] {
  const canonical = canonicalEmail(raw);
  if (canonical === null) return [];
  const legacy = (raw as string).trim().toLowerCase();
  return legacy === canonical ? [canonical] : [canonical, legacy];
}
