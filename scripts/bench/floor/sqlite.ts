/** The floor on SQLite: connect-sqlite3 (WAL) for sessions, better-sqlite3 with the app's pragmas. */
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import connectSqlite3 from 'connect-sqlite3';
import session from 'express-session';
import type { FloorStorage, FloorVisitor } from './storage.ts';

export function openSqliteFloor(dataDir: string): FloorStorage {
  const db = new Database(path.join(dataDir, 'app.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS visitors (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)');
  const insertVisitor = db.prepare('INSERT INTO visitors (id, created_at) VALUES (?, ?)');
  const findVisitor = db.prepare<[string], FloorVisitor>('SELECT id, created_at FROM visitors WHERE id = ?');
  const SQLiteStore = connectSqlite3(session);
  return {
    store: new SQLiteStore({ dir: dataDir, db: 'sessions.db', table: 'sessions', concurrentDb: true }),
    routes(app, page) {
      app.get('/try', (req, res) => {
        if (req.session.visitor) return void res.redirect(302, '/page');
        const id = crypto.randomUUID();
        insertVisitor.run(id, Date.now());
        req.session.visitor = id;
        res.redirect(302, '/try');
      });

      app.get('/page', (req, res) => {
        const visitor = req.session.visitor ? findVisitor.get(req.session.visitor) : undefined;
        if (!visitor) return void res.redirect(302, '/try');
        res.type('html').send(page(visitor));
      });
    },
    async close() {
      db.close();
    },
  };
}
