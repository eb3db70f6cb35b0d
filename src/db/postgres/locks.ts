/**
 * Advisory locks, keyed `(namespace, key)`. Most are transaction-scoped
 * (`pg_advisory_xact_lock`): held until COMMIT or ROLLBACK, so none outlives the transaction that
 * took it. The cleanup lock is session-scoped: held by one connection for a whole run, and gone
 * with that connection when the run ends, crashes or is killed. The namespace keeps our keys apart
 * from any other application's on the same database.
 */
export const LOCK_NAMESPACE = 0x67_6b_69_74; // "gkit"

/**
 * Email addresses have a namespace of their own, keyed hashtext(lower(email)) (account-store.ts):
 * in the app's namespace an address whose hash happened to be 2 would wait out a cleanup run.
 */
export const EMAIL_LOCK_NAMESPACE = 0x67_6b_65_6d; // "gkem"

/** Fixed keys within the app's namespace. */
export const MIGRATION_LOCK = 1;
/** One `npm run cleanup` at a time per database (src/db/postgres/cleanup/lock.ts). */
export const CLEANUP_LOCK = 2;
