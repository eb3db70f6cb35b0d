import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { newRecordId, RECORD_ID_RANDOM_BYTES } from '../../src/auth/record-ids.ts';
import { startApp, type TestApp } from '../support.ts';

const ID_SHAPE = /^[0-9a-v]{9}[A-Za-z0-9_-]{11}$/;
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('record ids', () => {
  it('are 20 URL-safe characters: 9 of the time the record was made, 11 random', () => {
    expect(newRecordId()).toMatch(ID_SHAPE);
    expect(newRecordId(0)).toMatch(/^0{9}/);
  });

  it('sort in the order their records were made, byte-wise and case-insensitively, over any span', () => {
    const times = [0, 1, 31, 32, 1_000, 1_764_633_600_000, 1_764_633_600_001, 1_764_720_000_000, 32 ** 9 - 1];
    const ids = times.map((time) => newRecordId(time));
    expect([...ids].sort(byteOrder)).toEqual(ids);
    const lower = ids.map((id) => id.toLowerCase());
    expect([...lower].sort(byteOrder)).toEqual(lower);
  });

  it('stay apart when made in the same millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => newRecordId(now)));
    expect(ids.size).toBe(10_000);
  });

  it('are the same for the same time and random bytes, and refuse too few bytes', () => {
    const bytes = Buffer.alloc(RECORD_ID_RANDOM_BYTES, 7);
    expect(newRecordId(1_000, bytes)).toBe(newRecordId(1_000, Buffer.from(bytes)));
    expect(() => newRecordId(1_000, bytes.subarray(1))).toThrow(/9 random bytes/);
  });
});

describe('guests made one after another', () => {
  let app: TestApp;
  afterEach(async () => { await app.close(); });

  it('get ids in the order they arrived, so each new row lands at the end of every index keyed by id', async () => {
    app = await startApp();
    const made: string[] = [];
    for (let visitor = 0; visitor < 3; visitor++) {
      const browser = app.browser();
      expect((await browser.get('/try')).status).toBe(302);
      const rows = await app.sql<{ id: string }>('SELECT id FROM users');
      made.push(rows.map((row) => row.id).find((id) => !made.includes(id))!);
      await sleep(2); // the next guest in a later millisecond
    }
    expect(made.every((id) => ID_SHAPE.test(id))).toBe(true);
    expect([...made].sort(byteOrder)).toEqual(made);
  });
});
