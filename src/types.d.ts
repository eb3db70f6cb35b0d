declare module 'connect-sqlite3' {
  import type session from 'express-session';
  interface SQLiteStoreOptions {
    table?: string;
    db?: string | object;
    dir?: string;
    concurrentDb?: boolean;
    createDirIfNotExists?: boolean;
  }
  interface SQLiteStore extends session.Store {
    db: import('sqlite3').Database;
    get(sid: string, callback: (error: unknown, session?: session.SessionData | null) => void): void;
    set(sid: string, session: session.SessionData, callback?: (error?: unknown) => void): void;
    destroy(sid: string, callback?: (error?: unknown) => void): void;
  }
  type SQLiteStoreConstructor = new (options?: SQLiteStoreOptions) => SQLiteStore;
  export default function connectSqlite3(connect: typeof session): SQLiteStoreConstructor;
}
