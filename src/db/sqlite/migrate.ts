import fs from 'node:fs';
import { isCollectionName } from '../../config.ts';
import type { Db } from './open.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

interface Migration { id: string; sql: string }

/**
 * Applies the numbered migrations that have not run yet, all in one transaction: a failure
 * leaves the database as it was. `NNN-name.sql` runs once; `collection-NNN-name.sql` runs once
 * per auth collection with `{{table}}` replaced, so adding a collection to the config creates
 * its table at the next start. Returns the ids applied.
 */
export function migrate(db: Db, collections: readonly string[]): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`);
  const applied = new Set(db.prepare('SELECT id FROM schema_migrations').pluck().all() as string[]);
  const pending = plan(collections).filter((migration) => !applied.has(migration.id));
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  db.transaction(() => {
    for (const migration of pending) {
      db.exec(migration.sql);
      record.run(migration.id, Date.now());
    }
  }).immediate();
  return pending.map((migration) => migration.id);
}

function plan(collections: readonly string[]): Migration[] {
  const files = fs.readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql')).sort();
  const read = (file: string) => fs.readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
  const migrations: Migration[] = [];
  for (const file of files.filter((name) => /^\d{3}-/.test(name))) {
    migrations.push({ id: file.replace(/\.sql$/, ''), sql: read(file) });
  }
  // Table names cannot be bound parameters, and exec() runs every statement in a string: a name
  // that is not a plain identifier must never get this far, whoever the caller is.
  const invalid = collections.find((name) => !isCollectionName(name));
  if (invalid !== undefined) throw new Error(`migrate: invalid collection name ${JSON.stringify(invalid)}`);
  for (const file of files.filter((name) => name.startsWith('collection-'))) {
    for (const table of collections) {
      migrations.push({ id: `${table}:${file.replace(/\.sql$/, '')}`, sql: read(file).replaceAll('{{table}}', table) });
    }
  }
  return migrations;
}
