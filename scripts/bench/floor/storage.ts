/**
 * What the floor server needs from a backend: a session store and its two routes on its own
 * visitors table. The routes are the backend's because SQLite's are synchronous (better-sqlite3)
 * and Postgres's are not: each floor stays as lean as its driver allows.
 */
import type { Express } from 'express';
import type session from 'express-session';

declare module 'express-session' {
  interface SessionData { visitor?: string }
}

export interface FloorVisitor { id: string; created_at: number }

export interface FloorStorage {
  store: session.Store;
  /**
   * GET /try: a visitor with a session goes to /page; a new one gets a row, a session and a 302
   * back to /try. GET /page: the session's visitor row rendered with `page`, else a 302 to /try.
   */
  routes(app: Express, page: (visitor: FloorVisitor) => string): void;
  close(): Promise<void>;
}
