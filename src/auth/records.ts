import { storedForms } from './email-address.ts';
import type { AccountStore, AuthRecord, NewRecord, StoredRecord } from './stores.ts';

/**
 * The stored credential of an account made through an identity provider, which has no password.
 * No bcrypt hash is empty, so nothing verifies against it; sign-in treats it as no account at all.
 */
export const NO_PASSWORD = '';

/** Whether the record is a registered account with a password it can sign in with. */
export function hasPassword(record: StoredRecord): boolean {
  return !record.isAnonymous && record.passwordHash !== NO_PASSWORD;
}

/** The record a new row will read back as. */
export function storedOf(collection: string, record: NewRecord): StoredRecord {
  return {
    id: record.id, collection, email: record.email, username: record.username, name: record.name,
    verified: false, emailVerifiedAt: null, isAnonymous: record.isAnonymous, createdAt: record.now, lastActiveAt: record.now,
    claimedAt: null, metadata: readBack(record.metadata),
    passwordHash: record.passwordHash,
  };
}

/** What a template may see of a record. */
export function publicRecord(record: StoredRecord): AuthRecord {
  const { passwordHash: _hidden, ...visible } = record;
  return visible;
}

/** Metadata as the stored JSON reads back (no functions, no undefined); most guests have none. */
function readBack(metadata: object): Record<string, unknown> {
  return Object.keys(metadata).length === 0 ? {} : JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
}

/** The registered account an address names, in any form it may be stored under; none for a non-address. */
export async function findRegisteredByAddress(records: AccountStore, raw: unknown): Promise<StoredRecord | null> {
  for (const form of storedForms(raw)) {
    const found = await records.findRegisteredByEmail(form);
    if (found) return found;
  }
  return null;
}
