/**
 * The floor: the least any server-rendered app on our stack does per request, to compare
 * guestkit against in the same run. Bare Express 5, express-session on connect-sqlite3 (WAL),
 * better-sqlite3 with the same pragmas as the app, Eta for the page. No auth, no CSRF, no
 * security headers, no layouts.
 *
 *   GET /try   a new visitor: one insert, a session, a 302 (guest creation's floor)
 *   GET /page  a known visitor: session read, their row, a small template (signed-in render's floor)
 *
 * Env: DATA_DIR (required), SESSION_SECRET (required), PORT (0 picks one). Listens on 127.0.0.1.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import connectSqlite3 from 'connect-sqlite3';
import express from 'express';
import session from 'express-session';
import { Eta } from 'eta';

declare module 'express-session' {
  interface SessionData { visitor?: string }
}

const dataDir = process.env.DATA_DIR;
const secret = process.env.SESSION_SECRET;
if (!dataDir || !secret) throw new Error('floor-server needs DATA_DIR and SESSION_SECRET');

const db = new Database(path.join(dataDir, 'app.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.exec('CREATE TABLE IF NOT EXISTS visitors (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)');
const insertVisitor = db.prepare('INSERT INTO visitors (id, created_at) VALUES (?, ?)');
const findVisitor = db.prepare<[string], { id: string; created_at: number }>('SELECT id, created_at FROM visitors WHERE id = ?');

const eta = new Eta({ autoEscape: true });
const page = eta.compile(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title><%= it.title %></title></head>
<body><h1><%= it.title %></h1><p>Visitor <%= it.visitor.id %> since <%= new Date(it.visitor.created_at).toISOString() %></p>
<ul><% for (const line of it.lines) { %><li><%= line.quantity %> × <%= line.name %>: <%= line.price %></li><% } %></ul>
</body></html>`);
const lines = [{ quantity: 2, name: 'Ember mug', price: '$28.00' }, { quantity: 1, name: 'Pour-over kettle', price: '$54.00' }];

const SQLiteStore = connectSqlite3(session);
const app = express();
app.disable('x-powered-by');
app.set('trust proxy', 'loopback');
app.use(session({
  name: '__Host-floor.sid',
  secret,
  store: new SQLiteStore({ dir: dataDir, db: 'sessions.db', table: 'sessions', concurrentDb: true }),
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: true, path: '/', maxAge: 7 * 24 * 3_600_000 },
}));

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
  res.type('html').send(eta.render(page, { title: 'Your cart', visitor, lines }));
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeAllConnections();
  });
}
