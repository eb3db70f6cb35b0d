import type { AuthRecord, NewRecord, StoredRecord } from './stores.ts';

/** The record a new row will read back as. */
export function storedOf(collection: string, record: NewRecord): StoredRecord {
  return {
    id: record.id, collection, email: record.email, username: record.username, name: record.name,
    verified: false, isAnonymous: record.isAnonymous, createdAt: record.now, lastActiveAt: record.now,
    claimedAt: null, metadata: JSON.parse(JSON.stringify(record.metadata)) as Record<string, unknown>,
    passwordHash: record.passwordHash,
  };
}

/** What a template may see of a record. */
export function publicRecord(record: StoredRecord): AuthRecord {
  const { passwordHash: _hidden, ...visible } = record;
  return visible;
}
