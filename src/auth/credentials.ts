import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { newRecordId, RECORD_ID_RANDOM_BYTES } from './record-ids.ts';

/**
 * A guest's credential: 256 random bits. It never leaves the guest's browser except in the
 * resume cookie, and we store only its SHA-256: with full entropy a slow hash adds nothing but
 * CPU cost, and bcrypt here would cap guest creation near 10/s, a denial-of-service lever.
 */
export function newGuestSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new guest's id and credential, as `newRecordId` and `newGuestSecret` make them, from one draw of random bytes. */
export function newGuestCredentials(now: number): { id: string; secret: string } {
  const bytes = randomBytes(RECORD_ID_RANDOM_BYTES + 32);
  return { id: newRecordId(now, bytes), secret: bytes.subarray(RECORD_ID_RANDOM_BYTES).toString('base64url') };
}

/**
 * A guest's id and credential derived from `seed` (an HMAC only the server can compute) rather
 * than drawn at random: requests that share the seed make the same guest. The id and the secret
 * come from different bytes of one HMAC-SHA-512, so the id, which is not secret, tells nothing
 * of the credential. Same shapes as `newRecordId` and `newGuestSecret`, but the id is random
 * throughout: racing requests may straddle a millisecond, and a time in it would tell them apart.
 */
export function derivedGuestCredentials(serverSecret: string, seed: string): { id: string; secret: string } {
  const bytes = createHmac('sha512', serverSecret).update(`guest:${seed}`).digest();
  return { id: bytes.subarray(0, 15).toString('base64url'), secret: bytes.subarray(16, 48).toString('base64url') };
}

/** Marks a stored guest credential: a SHA-256 of a full-entropy secret, never a bcrypt hash. */
export const GUEST_HASH_PREFIX = 'sha256:';

export function hashGuestSecret(secret: string): string {
  return GUEST_HASH_PREFIX + createHash('sha256').update(secret).digest('base64url');
}

export function guestSecretMatches(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash);
  const actual = Buffer.from(hashGuestSecret(secret));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Guest emails sit under `.invalid` (RFC 2606): they can never receive mail. */
export function guestEmail(id: string): string {
  return `guest-${id.toLowerCase()}@guest.invalid`;
}

/**
 * The email of an account made through an identity provider whose address we do not trust: under
 * `.invalid` too, so it never receives mail and no real address, registered later, collides with it.
 */
export function placeholderEmail(id: string): string {
  return `account-${id.toLowerCase()}@no-email.invalid`;
}

/** Whether `email` is one of ours, standing in for an address the record does not have. */
export function isPlaceholderEmail(email: string): boolean {
  return email.endsWith('@guest.invalid') || email.endsWith('@no-email.invalid');
}
