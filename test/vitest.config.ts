import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The specs that start the app (test/support.ts startApp), so they hold on either backend. The
 * rest stay on SQLite alone: SQLite's own machinery (migrations, account writes, cleanup's
 * internals, and any `*.sqlite.test.ts`), the contract tests of test/db/postgres/ (which run both
 * backends themselves), the server and reliability processes and the browser walks (their
 * Postgres twins are issue 14's multi-process tests), and pure functions that open no database.
 */
const ON_BOTH_BACKENDS = [
  'test/auth/**/*.test.ts',
  'test/shop/**/*.test.ts',
  'test/security/**/*.test.ts',
  'test/http/**/*.test.ts',
  'test/pages/**/*.test.ts',
  'test/reliability/deleted-guest.test.ts',
];
const SQLITE_ONLY = ['test/**/*.sqlite.test.ts', 'test/auth/email-address.test.ts', 'test/pages/template-scan.test.ts'];

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    // Each file starts real apps on temporary data dirs; bcrypt runs on worker threads.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ON_BOTH_BACKENDS,
          exclude: SQLITE_ONLY,
          // Every app a spec starts gets its own database on the run's throwaway PostgreSQL.
          env: { GUESTKIT_TEST_BACKEND: 'postgres' },
          globalSetup: ['test/postgres-cluster.ts'],
        },
      },
    ],
  },
});
