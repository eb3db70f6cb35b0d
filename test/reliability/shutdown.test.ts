/**
 * Graceful shutdown: SIGTERM while requests are in flight (conversions waiting their turn on the
 * bcrypt worker, page views) lets each of them finish with its real answer, then the process
 * exits 0 at once; a request after that finds no server rather than a half-stopped one.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, guestIdOf, type ServerProcess, startServer, stopServer, tempDataDir } from './server-process.ts';

const CONVERSIONS = 8;

let server: ServerProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await stopServer(server);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('SIGTERM during load', () => {
  it('answers every in-flight request, then exits 0', async () => {
    dataDir = tempDataDir();
    server = await startServer(dataDir);
    const { url } = server;

    // Guests on their account page, each holding the form's token.
    const guests = await Promise.all(Array.from({ length: CONVERSIONS }, async () => {
      const client = new Client(url);
      await client.request('/try');
      const token = /name="_csrf" value="([^"]+)"/.exec((await client.request('/account')).text)![1]!;
      return { client, token, id: guestIdOf(client) };
    }));

    // Conversions queue on the bcrypt worker (about 0.1 s each, 8 of them), so they are still
    // running when SIGTERM arrives; page views run alongside. SIGTERM goes once the page views
    // are answered: a request still on its way in when the server stops accepting is not in
    // flight yet (on a loaded machine, 150 ms did not always get it there).
    const conversions = guests.map(({ client, token }, i) => client.request('/account', {
      _csrf: token, action: 'convert-guest', email: `shutdown-${i}@example.com`, password: 'correct horse battery',
    }));
    const pageViews = await Promise.all(guests.slice(0, 4).map(({ client }) => client.request('/products/candle')));
    server.child.kill('SIGTERM');

    const answers = await Promise.all(conversions);
    expect(answers.map((answer) => [answer.status, answer.location])).toEqual(Array(CONVERSIONS).fill([303, '/account']));
    expect(pageViews.map((page) => page.status)).toEqual([200, 200, 200, 200]);

    const answeredAt = Date.now();
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // Idle keep-alive connections do not hold the process for their 5 s timeout.
    expect(Date.now() - answeredAt).toBeLessThan(2_000);
    expect(server.output()).toContain('Stopped cleanly');
    await expect(new Client(url).request('/')).rejects.toThrow();

    const db = new Database(path.join(dataDir, 'app.db'), { readonly: true });
    try {
      const converted = db.prepare('SELECT count(*) FROM users WHERE is_anonymous = 0 AND claimed_at IS NOT NULL').pluck().get();
      expect(converted).toBe(CONVERSIONS);
      for (const { id } of guests) expect(db.prepare('SELECT is_anonymous FROM users WHERE id = ?').pluck().get(id)).toBe(0);
    } finally {
      db.close();
    }
  });
});
