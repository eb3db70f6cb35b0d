/**
 * A real SMTP server for tests (smtp-server) on a free loopback port: no TLS, any login or none,
 * every message parsed with mailparser. It can refuse messages with a temporary error, and stop
 * and start again on the same port (an outage). Point an app at it with `startApp(smtp.env)`.
 */
import net from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../db/postgres/server.ts';

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO). */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** When the server accepted it (Date.now()). */
  receivedAt: number;
  parsed: ParsedMail;
}

export interface SmtpHarness {
  /** `smtp://127.0.0.1:<port>`. */
  url: string;
  /** What startApp needs to send here. */
  env: { SMTP_URL: string; MAIL_FROM: string };
  /** Every message accepted so far, in order. */
  readonly received: readonly ReceivedMail[];
  /** Resolves with the first message to `to` that `matches`, already here or still to come. */
  waitForMail(to: string, matches?: (mail: ReceivedMail) => boolean): Promise<ReceivedMail>;
  /** Answers the next `count` messages with `451 4.3.0 Try again later`. */
  refuseNext(count: number): void;
  /** How many messages were refused so far. */
  readonly refused: number;
  /** Stops listening and drops every connection: the port refuses connections until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export const TEST_FROM = 'guestkit shop <shop@shop.example>';

export async function startSmtp(): Promise<SmtpHarness> {
  const port = await freePort();
  const received: ReceivedMail[] = [];
  const waiters: Array<{ to: string; matches: (mail: ReceivedMail) => boolean; resolve(mail: ReceivedMail): void }> = [];
  let toRefuse = 0;
  let refused = 0;
  let server: SMTPServer | undefined;
  const sockets = new Set<net.Socket>();

  function deliver(mail: ReceivedMail): void {
    received.push(mail);
    for (const waiter of [...waiters]) {
      if (mail.to.includes(waiter.to) && waiter.matches(mail)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(mail);
      }
    }
  }

  function newServer(): SMTPServer {
    const smtp = new SMTPServer({
      secure: false, disabledCommands: ['STARTTLS'], authOptional: true, logger: false, closeTimeout: 100, disableReverseLookup: true,
      onAuth: (_auth, _session, callback) => callback(null, { user: 'test' }),
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (toRefuse > 0) {
            toRefuse--;
            refused++;
            return callback(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
          }
          simpleParser(Buffer.concat(chunks)).then((parsed) => {
            deliver({
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '', text: parsed.text ?? '', html: parsed.html || '',
              messageId: parsed.messageId ?? '', receivedAt: Date.now(), parsed,
            });
            callback();
          }, callback);
        });
      },
    });
    smtp.on('error', () => {}); // a client that hangs up mid-command: nothing for the test
    // smtp-server waits for open connections when it closes: track them to end them at once.
    smtp.server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return smtp;
  }

  async function start(): Promise<void> {
    if (server) return;
    const starting = newServer();
    await new Promise<void>((resolve, reject) => {
      starting.server.once('error', reject);
      starting.listen(port, '127.0.0.1', () => resolve());
    });
    server = starting;
  }

  async function stop(): Promise<void> {
    const stopping = server;
    if (!stopping) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => stopping.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await start();
  const url = `smtp://127.0.0.1:${port}`;
  return {
    url,
    env: { SMTP_URL: url, MAIL_FROM: TEST_FROM },
    received,
    get refused() { return refused; },
    waitForMail(to, matches = () => true) {
      const found = received.find((mail) => mail.to.includes(to) && matches(mail));
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ to, matches, resolve }));
    },
    refuseNext(count) { toRefuse = count; },
    stop,
    start,
    close: stop,
  };
}

/** The first link in a mail's text that starts with `prefix`. */
export function linkIn(text: string, prefix: string): string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const link = new RegExp(`${escaped}\\S*`).exec(text)?.[0];
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${text}`);
  return link;
}

/** Resolves once `condition` holds, checking every 20 ms (the test's timeout bounds the wait). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
