/**
 * Transaction-scoped advisory locks (`pg_advisory_xact_lock(namespace, key)`): held until
 * COMMIT or ROLLBACK, so none outlives the transaction that took it. The namespace keeps our
 * keys apart from any other application's on the same database.
 */
export const LOCK_NAMESPACE = 0x67_6b_69_74; // "gkit"

/** Keys within the namespace; an email's key is hashtext(lower(email)) (see account-store.ts). */
export const MIGRATION_LOCK = 1;
