/**
 * Takes the cleanup lock of the database `argv[2]`, says "holding", and holds it until killed:
 * a cleanup run stopped by `kill -9` in the middle, as far as the lock is concerned.
 */
import { acquirePostgresCleanupLock } from '../../../src/db/postgres/cleanup/lock.ts';

await acquirePostgresCleanupLock(process.argv[2]!);
process.stdout.write('holding\n');
setInterval(() => {}, 60_000);
