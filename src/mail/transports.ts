import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { OutgoingMail } from './outbox.ts';

/** Where mail goes: an SMTP server, or (by default) a folder of `.eml` files. */
export interface MailTransport {
  /** Hands one message over; resolves to where it went when a person may want to look (a file), or rejects. */
  deliver(mail: OutgoingMail): Promise<string | undefined>;
  close(): void;
}

// nodemailer waits 2 minutes for a connection and 10 for an idle socket by default: a lease on
// the mail (sender.ts) must outlast any attempt, and an SMTP server that hangs should cost one
// attempt of seconds, not minutes.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** The headers and parts of a mail as nodemailer takes them; the same on every attempt. */
function message(from: string, mail: OutgoingMail) {
  return {
    from, to: mail.recipient, subject: mail.subject, text: mail.text, html: mail.html,
    messageId: mail.messageId, date: new Date(mail.createdAt),
    // RFC 3834: a machine sent this, so vacation responders do not answer it.
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

/** SMTP at `smtpUrl` (`smtp://user:pass@host:587`, `smtps://…`), over a small pool of connections. */
export function smtpTransport(smtpUrl: string, from: string): MailTransport {
  const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 2, ...SMTP_TIMEOUTS });
  return {
    async deliver(mail) {
      await transport.sendMail(message(from, mail));
      return undefined;
    },
    close: () => transport.close(),
  };
}

/**
 * The development default: each message as an `.eml` file in `dir` (open it in a mail program,
 * or read the link in it). The name is the mail's time and id, so a resend overwrites its own
 * file; it is written under a temporary name and renamed, so nobody sees half a message.
 */
export function folderTransport(dir: string, from: string): MailTransport {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async deliver(mail) {
      await fs.mkdir(dir, { recursive: true });
      const { message: eml } = await transport.sendMail(message(from, mail));
      const file = path.join(dir, `${new Date(mail.createdAt).toISOString().replace(/[:.]/g, '-')}-${mail.id}.eml`);
      await fs.writeFile(`${file}.tmp`, eml as Buffer);
      await fs.rename(`${file}.tmp`, file);
      return file;
    },
    close: () => transport.close(),
  };
}

/** SMTP when `SMTP_URL` is set, else `DATA_DIR/outbox/`. */
export function createMailTransport(config: { smtpUrl: string | null; dataDir: string; mailFrom: string }): MailTransport {
  return config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom) : folderTransport(path.join(config.dataDir, 'outbox'), config.mailFrom);
}
