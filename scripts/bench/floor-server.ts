/**
 * The floor: the least any server-rendered app on our stack does per request, to compare
 * guestkit against in the same run. Bare Express 5, express-session, one database write per new
 * visitor, Eta for the page. No auth, no CSRF, no security headers, no layouts. Its storage is
 * chosen as guestkit's is: DATABASE_URL set, PostgreSQL (connect-pg-simple and `pg`, see
 * floor/postgres.ts); else SQLite under DATA_DIR (connect-sqlite3 and better-sqlite3, see
 * floor/sqlite.ts).
 *
 *   GET /try   a new visitor: one insert, a session, a 302 (guest creation's floor)
 *   GET /page  a known visitor: session read, their row, a small template (signed-in render's floor)
 *
 * Env: DATA_DIR (required), SESSION_SECRET (required), DATABASE_URL, PORT (0 picks one).
 * Listens on 127.0.0.1.
 */
import express from 'express';
import session from 'express-session';
import { Eta } from 'eta';
import type { FloorStorage, FloorVisitor } from './floor/storage.ts';
import { openPostgresFloor } from './floor/postgres.ts';
import { openSqliteFloor } from './floor/sqlite.ts';

const dataDir = process.env.DATA_DIR;
const secret = process.env.SESSION_SECRET;
if (!dataDir || !secret) throw new Error('floor-server needs DATA_DIR and SESSION_SECRET');
const databaseUrl = process.env.DATABASE_URL;
const storage: FloorStorage = databaseUrl ? await openPostgresFloor(databaseUrl) : openSqliteFloor(dataDir);

const eta = new Eta({ autoEscape: true });
const template = eta.compile(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title><%= it.title %></title></head>
<body><h1><%= it.title %></h1><p>Visitor <%= it.visitor.id %> since <%= new Date(it.visitor.created_at).toISOString() %></p>
<ul><% for (const line of it.lines) { %><li><%= line.quantity %> × <%= line.name %>: <%= line.price %></li><% } %></ul>
</body></html>`);
const lines = [{ quantity: 2, name: 'Ember mug', price: '$28.00' }, { quantity: 1, name: 'Pour-over kettle', price: '$54.00' }];
const page = (visitor: FloorVisitor) => eta.render(template, { title: 'Your cart', visitor, lines });

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', 'loopback');
app.use(session({
  name: '__Host-floor.sid',
  secret,
  store: storage.store,
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: true, path: '/', maxAge: 7 * 24 * 3_600_000 },
}));
storage.routes(app, page);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => {
      void storage.close().finally(() => process.exit(0));
    });
    server.closeAllConnections();
  });
}
