/**
 * The postgres project's one throwaway PostgreSQL (vitest globalSetup): started before the first
 * spec and stopped after the last, in vitest's own process. Every test process makes one
 * database per app on it (test/support.ts testDatabaseUrl). One cluster per test file instead
 * cost an initdb each (2 s on these machines), and a test process that vitest ended before its
 * exit handler ran left its cluster running or its files behind.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './db/postgres/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's PostgreSQL, `postgres://guestkit@127.0.0.1:<port>`; absent outside the postgres project. */
    postgresAdminUrl?: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Two test processes, each with an app or two whose pools may open up to 10 connections.
  const server = await startPostgres({ maxConnections: 300 });
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}
