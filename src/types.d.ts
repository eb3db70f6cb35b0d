declare module 'connect-sqlite3' {
  import type session from 'express-session';
  interface SQLiteStoreOptions {
    table?: string;
    db?: string | object;
    dir?: string;
    concurrentDb?: boolean;
    createDirIfNotExists?: boolean;
  }
  type SQLiteStoreConstructor = new (options?: SQLiteStoreOptions) => session.Store & { db: import('sqlite3').Database };
  export default function connectSqlite3(connect: typeof session): SQLiteStoreConstructor;
}
