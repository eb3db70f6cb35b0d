import { createAccountWrite } from '../db/account-writes.ts';
import type { Db } from '../db/open.ts';
import { ShopError } from './errors.ts';

export interface Note { id: number; body: string; createdAt: number }

export type NoteStore = ReturnType<typeof createNoteStore>;

/** The try-before-you-buy feature: short notes saved under the visitor's account id. */
export function createNoteStore(db: Db) {
  const list = db.prepare(`SELECT id, body, created_at AS createdAt FROM notes WHERE account_id = ? ORDER BY created_at DESC, id DESC`);
  const add = db.prepare('INSERT INTO notes (account_id, body, created_at) VALUES (?, ?, ?)');
  const remove = db.prepare('DELETE FROM notes WHERE id = ? AND account_id = ?');
  const move = db.prepare('UPDATE notes SET account_id = ? WHERE account_id = ?');
  const forAccount = createAccountWrite(db);

  return {
    list: (accountId: string) => list.all(accountId) as Note[],
    add(accountId: string, raw: unknown, now: number): void {
      const body = typeof raw === 'string' ? raw.trim() : '';
      if (!body || [...body].length > 2000) throw new ShopError('invalid_note', 'body');
      forAccount(accountId, () => add.run(accountId, body, now));
    },
    remove: (accountId: string, id: unknown) => void remove.run(Number(id), accountId),
    moveAll: (fromId: string, toId: string) => void move.run(toId, fromId),
  };
}
