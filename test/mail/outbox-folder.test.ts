/**
 * With no SMTP_URL, mail goes to DATA_DIR/outbox/ as .eml files, and the server says so in its
 * log, one line per message with its subject, recipient and file: a developer who ran `npm start`
 * checks out, reads the line, opens the file and follows the link.
 */
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, startServer, stopServer, tempDataDir, type ServerProcess } from '../reliability/server-process.ts';
import { SHIPPING } from '../shop/shop.ts';
import { until } from './smtp.ts';

let server: ServerProcess | undefined;
const dataDir = tempDataDir();
afterAll(async () => {
  await stopServer(server);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the outbox folder, the default without SMTP_URL', () => {
  it('holds the receipt as an .eml file the server\'s log names, and its link opens the order', async () => {
    server = await startServer(dataDir);
    const shopper = new Client(server.url);
    await shopper.submit('/products/candle', { productId: 'candle', quantity: '1' });
    expect((await shopper.submit('/checkout', { action: 'guest-checkout' })).status).toBe(303);
    const placed = await shopper.submit('/checkout', { action: 'place-order', email: 'dev@example.com', ...SHIPPING });
    expect(placed.status).toBe(303);
    const orderId = placed.location!.split('/').pop()!;

    const line = /^mail "(.+)" to (\S+): (.+\.eml)$/m;
    await until(() => line.test(server!.output()));
    const [, subject, recipient, file] = line.exec(server.output())!;
    expect(subject).toBe(`Your guestkit shop order ${orderId}`);
    expect(recipient).toBe('dev@example.com');
    expect(path.dirname(file!)).toBe(path.join(dataDir, 'outbox'));
    expect(fs.readdirSync(path.join(dataDir, 'outbox'))).toEqual([path.basename(file!)]);

    const mail = await simpleParser(fs.readFileSync(file!));
    expect(mail.subject).toBe(subject);
    expect(mail.to).toMatchObject({ text: 'dev@example.com' });
    expect(mail.text).toContain('1 × Cedar Candle: $24.00');
    expect(mail.html).toContain('1 × Cedar Candle');
    // The server runs on a port of its own choosing here; APP_URL defaults to http://localhost:PORT.
    const link = /http:\/\/localhost:\d+(\/orders\/\S+)/.exec(mail.text!)![1]!;
    const page = await new Client(server.url).request(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<strong class="mono">${orderId}</strong>`);
  });
});
