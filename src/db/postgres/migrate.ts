import fs from 'node:fs';
import type pg from 'pg';
import { checkedCollection } from './identifiers.ts';
import { LOCK_NAMESPACE, MIGRATION_LOCK } from './locks.ts';
import { createPostgresTransactor, postgresWrite } from './unit-of-work.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

interface Migration { id: string; sql: string }

/**
 * Applies the numbered migrations that have not run yet, all in one transaction: a failure
 * leaves the database as it was. Several processes may start at once, so the transaction first
 * takes an advisory lock: the others wait, then find nothing left to do. `NNN-name.sql` runs
 * once; `collection-NNN-name.sql` once per auth collection. Returns the ids applied.
 */
export async function migrate(pool: pg.Pool, collections: readonly string[]): Promise<string[]> {
  const migrations = plan(collections);
  return createPostgresTransactor(pool).apply(postgresWrite(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const { rows } = await client.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.id));
    const pending = migrations.filter((migration) => !applied.has(migration.id));
    for (const migration of pending) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [migration.id, Date.now()]);
    }
    return pending.map((migration) => migration.id);
  }));
}

function plan(collections: readonly string[]): Migration[] {
  // Every name is checked before any SQL runs: a migration file runs as one multi-statement string.
  const checked = collections.map(checkedCollection);
  const files = fs.readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql')).sort();
  const read = (file: string) => fs.readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
  const migrations: Migration[] = [];
  for (const file of files.filter((name) => /^\d{3}-/.test(name))) {
    migrations.push({ id: file.replace(/\.sql$/, ''), sql: read(file) });
  }
  for (const file of files.filter((name) => name.startsWith('collection-'))) {
    for (const collection of checked) {
      migrations.push({ id: `${collection}:${file.replace(/\.sql$/, '')}`, sql: read(file).replaceAll('{{table}}', collection) });
    }
  }
  return migrations;
}
