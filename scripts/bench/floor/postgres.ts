/**
 * The floor on PostgreSQL, as issue 14 defines it: connect-pg-simple (its own `session` table,
 * created at start) and one `pg` insert per new visitor, on one pool of guestkit's default size.
 */
import crypto from 'node:crypto';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import type { FloorStorage } from './storage.ts';

/** guestkit's DATABASE_POOL_SIZE default: both sides get as many connections. */
const POOL_SIZE = 10;

// Named statements, prepared once per connection, as the SQLite floor prepares its own once.
const INSERT_VISITOR = { name: 'floor_insert_visitor', text: 'INSERT INTO visitors (id, created_at) VALUES ($1, $2)' };
const FIND_VISITOR = { name: 'floor_find_visitor', text: 'SELECT id, created_at FROM visitors WHERE id = $1' };

export async function openPostgresFloor(databaseUrl: string): Promise<FloorStorage> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  await pool.query('CREATE TABLE IF NOT EXISTS visitors (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL)');
  const PgStore = connectPgSimple(session);
  const store = new PgStore({ pool, tableName: 'session', createTableIfMissing: true });
  // The first query creates the table: a prune at start, as connect-sqlite3 purges at start.
  await new Promise<void>((resolve, reject) => store.pruneSessions((error) => (error ? reject(error) : resolve())));
  return {
    store,
    routes(app, page) {
      app.get('/try', async (req, res) => {
        if (req.session.visitor) return void res.redirect(302, '/page');
        const id = crypto.randomUUID();
        await pool.query({ ...INSERT_VISITOR, values: [id, Date.now()] });
        req.session.visitor = id;
        res.redirect(302, '/try');
      });

      app.get('/page', async (req, res) => {
        const { rows } = req.session.visitor
          ? await pool.query<{ id: string; created_at: string }>({ ...FIND_VISITOR, values: [req.session.visitor] })
          : { rows: [] };
        // BIGINT reads back as a string (pg keeps its precision); Unix ms fit a number.
        const visitor = rows[0] ? { id: rows[0].id, created_at: Number(rows[0].created_at) } : undefined;
        if (!visitor) return void res.redirect(302, '/try');
        res.type('html').send(page(visitor));
      });
    },
    async close() {
      store.close();
      await pool.end();
    },
  };
}
