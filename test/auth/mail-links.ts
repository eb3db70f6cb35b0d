/**
 * Support for the specs of the mailed links: an app that sends its mail to a real SMTP server
 * (test/mail/smtp.ts) with links built from APP_URL, and what a person does with a mail: find the
 * link, and open it in a browser of their choice.
 */
import { startSmtp, type ReceivedMail, type SmtpHarness } from '../mail/smtp.ts';
import { csrfTokenIn, startApp, type Browser, type TestApp } from '../support.ts';

/** Links in mail start here, whatever Host the request came with. */
export const APP_URL = 'https://shop.example';

export interface MailApp { app: TestApp; smtp: SmtpHarness; close(): Promise<void> }

/** An app whose mail goes to a fresh SMTP server, with `env` on top. */
export async function startMailApp(env: Record<string, string> = {}, options: Parameters<typeof startApp>[1] = {}): Promise<MailApp> {
  const smtp = await startSmtp();
  const app = await startApp({ ...smtp.env, APP_URL, ...env }, options);
  return { app, smtp, close: async () => { await app.close(); await smtp.close(); } };
}

export interface MailedLink { mail: ReceivedMail; url: string; path: string; token: string }

/** The next mail to `to` that holds a link to `page`, and that link as this test server's path. */
export async function mailedLink(smtp: SmtpHarness, to: string, page: string, after = 0): Promise<MailedLink> {
  const prefix = `${APP_URL}${page}?token=`;
  const mail = await smtp.waitForMail(to, (candidate) => candidate.text.includes(prefix) && smtp.received.indexOf(candidate) >= after);
  const url = new RegExp(`${prefix.replace(/[.?]/g, '\\$&')}\\S+`).exec(mail.text)![0];
  const parsed = new URL(url);
  return { mail, url, path: parsed.pathname + parsed.search, token: parsed.searchParams.get('token')! };
}

/** Every recipient of mail queued so far, once every mail form's work is done. */
export async function queuedRecipients(app: TestApp): Promise<string[]> {
  await app.ctx.mailLinks.mailRequests.idle();
  return (await app.sql<{ recipient: string }>('SELECT recipient FROM outbox ORDER BY created_at, id')).map((row) => row.recipient);
}

/** Opens a mailed link in `browser` and submits the page's form that carries the link's token, as a person pressing its button. */
export async function followLink(browser: Browser, link: { path: string }, fields: Record<string, string> = {}) {
  const page = await browser.get(link.path);
  if (page.status !== 200) throw new Error(`${link.path} answered ${page.status}`);
  // The form that carries the link's token (the header has a sign-out form too).
  const form = /<form method="post" action="([^"]+)"[^>]*>(?:(?!<\/form>)[\s\S])*?name="token" value="([^"]+)"/.exec(page.text);
  if (!form) throw new Error(`no form with the link's token on ${link.path}`);
  return browser.post(form[1]!, { _csrf: csrfTokenIn(page.text)!, token: form[2]!, ...fields });
}

/** A page's HTML without what differs between any two renders of it: the CSRF token. */
export function withoutCsrf(html: string): string {
  return html.replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value=""');
}
