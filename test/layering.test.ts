/**
 * Storage behind ports: the domain folders depend on declared interfaces only. SQL, better-sqlite3
 * and the SQLite modules live under src/db/sqlite/ (with room for other backends beside it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
// A SQLite connection, a statement, a pragma, a transaction, or a module of one backend.
const SQLITE = /from '(better-)?sqlite3'|\.prepare\(|\.pragma\(|\.transaction\(|from '\.\.\/db\/(sqlite|open|migrate)/;

function sourcesOf(folder: string): string[] {
  const dir = path.join(SRC, folder);
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => path.join(folder, file));
}

describe('src/auth, shop, pages, http, cleanup and mail (storage behind ports)', () => {
  for (const folder of ['auth', 'shop', 'pages', 'http', 'cleanup', 'mail']) {
    it(`${folder}/ holds no SQL and imports no SQLite module: it drives the stores' interfaces`, () => {
      const withSql = sourcesOf(folder).filter((file) => SQLITE.test(fs.readFileSync(path.join(SRC, file), 'utf8')));
      expect(withSql).toEqual([]);
    });
  }

  it('cleanup/ has no barrel: every caller imports the module it needs', () => {
    expect(fs.existsSync(path.join(SRC, 'cleanup', 'index.ts'))).toBe(false);
  });
});
