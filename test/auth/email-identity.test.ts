/**
 * Two addresses a person would call the same are one account (issue 12, item 3): registration,
 * conversion and sign-in all see the canonical form, invisible characters are refused, and a
 * start-up report names the look-alike accounts registered before the rule.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeLookAlikes, findLookAlikeEmails } from '../../src/auth/look-alike-emails.ts';
import { loadConfig } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import { column } from '../rows.ts';
import { BACKEND, sqlOf, startApp, tempDataDir, testDatabaseUrl, type Browser, type TestApp } from '../support.ts';
import { becomeGuest, countRows, PASSWORD, register } from '../visitors.ts';

const IN_USE = 'An account with this email already exists. Sign in instead.';
const BAD_EMAIL = '<p class="field-error" id="email-error">Enter a valid email address, like name@example.com.</p>';
const BAD_CONVERT_EMAIL = '<p class="field-error" id="convert-email-error">Enter a valid email address, like name@example.com.</p>';
const INCORRECT = 'Email or password is incorrect.';

/** The five look-alikes of the issue: a first address and a second a person would call the same. */
const LOOK_ALIKES: Array<{ kind: string; first: string; second: string }> = [
  { kind: 'the NFC and NFD forms of exámple', first: 'ex\u00e1mple@example.com', second: 'exa\u0301mple@example.com' },
  { kind: 'a fullwidth letter', first: 'fullwidth@example.com', second: '\uff46ullwidth@example.com' },
  { kind: 'bücher.example beside xn--bcher-kva.example', first: 'reader@bücher.example', second: 'reader@xn--bcher-kva.example' },
  { kind: 'a zero-width space', first: 'zero@example.com', second: 'ze\u200bro@example.com' },
  { kind: 'a trailing dot on the domain', first: 'dot@example.com', second: 'dot@example.com.' },
];

let app: TestApp;
beforeEach(async () => { app = await startApp(); });
afterEach(async () => { await app.close(); });

function emailsIn(table: string): Promise<string[]> {
  return column<string>(app, `SELECT email FROM ${table} WHERE NOT is_anonymous ORDER BY email`);
}

function logIn(browser: Browser, email: string) {
  return browser.submit('/login', { email, password: PASSWORD });
}

describe('registering an address that looks like a registered one', () => {
  for (const { kind, first, second } of LOOK_ALIKES) {
    it(`makes no second account for ${kind} (409 email_in_use, or 422 for an invisible character)`, async () => {
      await register(app.browser(), first);
      const page = await app.browser().submit('/register', { email: second, password: PASSWORD });
      if (second.includes('\u200b')) {
        expect(page.status).toBe(422);
        expect(page.text).toContain(BAD_EMAIL);
      } else {
        expect(page.status).toBe(409);
        expect(page.text).toContain(IN_USE);
      }
      expect(await countRows(app, 'users')).toBe(1);
    });
  }

  it('stores the canonical form: NFC, lower-case, the domain in ASCII without its trailing dot', async () => {
    await register(app.browser(), 'Exa\u0301mple@B\u00dcCHER.example.');
    expect(await emailsIn('users')).toEqual(['ex\u00e1mple@xn--bcher-kva.example']);
  });
});

describe('converting a guest to an address that looks like a registered one', () => {
  for (const { kind, first, second } of LOOK_ALIKES.filter((pair) => !pair.second.includes('\u200b'))) {
    it(`answers 409 email_in_use for ${kind} and leaves the guest a guest`, async () => {
      await register(app.browser(), first);
      const guest = app.browser();
      await becomeGuest(guest);
      const page = await guest.submit('/account', { action: 'convert-guest', email: second, password: PASSWORD });
      expect(page.status).toBe(409);
      expect(page.text).toContain(IN_USE);
      expect(await emailsIn('users')).toHaveLength(1);
    });
  }
});

describe('signing in with a look-alike of the registered address', () => {
  const forms = [
    { registered: 'ex\u00e1mple@example.com', typed: 'exa\u0301mple@example.com', kind: 'NFD for an NFC address' },
    { registered: 'fullwidth@example.com', typed: '\uff46\uff55\uff4c\uff4cwidth@example.com', kind: 'fullwidth letters' },
    { registered: 'reader@bücher.example', typed: 'READER@XN--BCHER-KVA.example', kind: 'the punycode domain in capitals' },
    { registered: 'reader@xn--bcher-kva.example', typed: 'reader@bücher.example', kind: 'the Unicode domain' },
    { registered: 'dot@example.com', typed: 'dot@example.com.', kind: 'a trailing dot' },
  ];
  for (const { registered, typed, kind } of forms) {
    it(`signs in (303) with ${kind}`, async () => {
      await register(app.browser(), registered);
      const response = await logIn(app.browser(), typed);
      expect(response.status).toBe(303);
    });
  }

  it('answers 401 "incorrect", never the email message, for an address hiding a zero-width space', async () => {
    await register(app.browser(), 'zero@example.com');
    const page = await logIn(app.browser(), 'ze\u200bro@example.com');
    expect(page.status).toBe(401);
    expect(page.text).toContain(INCORRECT);
    expect(page.text).not.toContain('Enter a valid email address');
  });
});

describe('addresses refused with 422 and the message next to the email field', () => {
  const refused = {
    'a zero-width space': 'ze\u200bro@example.com',
    'a zero-width joiner': 'a\u200db@example.com',
    'a byte-order mark inside': 'a\ufeffb@example.com',
    'a right-to-left override': 'evil\u202egro.example@example.com',
    'a Hangul filler': 'a\u3164@example.com',
    'a control character': 'bell\u0007@example.com',
    'a 65-octet local part': `${'a'.repeat(65)}@example.com`,
    'a 66-octet local part of 33 accented letters': `${'\u00e9'.repeat(33)}@example.com`,
  };
  for (const [kind, email] of Object.entries(refused)) {
    it(`refuses ${kind} at registration`, async () => {
      const page = await app.browser().submit('/register', { email, password: PASSWORD });
      expect(page.status).toBe(422);
      expect(page.text).toContain(BAD_EMAIL);
      expect(await countRows(app, 'users')).toBe(0);
    });
  }

  it('refuses a zero-width space and a control character at conversion', async () => {
    const guest = app.browser();
    await becomeGuest(guest);
    for (const email of [refused['a zero-width space'], refused['a control character']]) {
      const page = await guest.submit('/account', { action: 'convert-guest', email, password: PASSWORD });
      expect(page.status, JSON.stringify(email)).toBe(422);
      expect(page.text).toContain(BAD_CONVERT_EMAIL);
    }
    expect(await emailsIn('users')).toEqual([]);
  });

  it('accepts a 64-octet local part (RFC 5321), the control', async () => {
    await register(app.browser(), `${'a'.repeat(64)}@example.com`);
    expect(await countRows(app, 'users')).toBe(1);
  });
});

/** An account written straight into the database, as one registered before the rule would be. */
async function insertAccount(sql: TestApp['sql'], collection: string, id: string, email: string, passwordHash = 'not-a-hash'): Promise<void> {
  await sql('INSERT INTO accounts (id, collection) VALUES (?, ?)', id, collection);
  await sql(`INSERT INTO ${collection} (id, email, username, password_hash, is_anonymous, created_at, last_active_at)
    VALUES (?, ?, ?, ?, FALSE, 0, 0)`, id, email, email, passwordHash);
}

describe('accounts stored before the rule, in the form of that time', () => {
  it('still sign in by the address they registered with, and that address cannot be registered again', async () => {
    await insertAccount(app.sql, 'users', 'legacy-reader', 'reader@bücher.example', await app.ctx.passwords.hash(PASSWORD));
    expect((await logIn(app.browser(), 'Reader@bücher.example')).status).toBe(303);
    const again = await app.browser().submit('/register', { email: 'reader@bücher.example', password: PASSWORD });
    expect(again.status).toBe(409);
    expect(await emailsIn('users')).toEqual(['reader@bücher.example']);
  });
});

describe('the start-up report of look-alike emails', () => {
  it('names two accounts, inserted past the rule, whose emails are look-alikes, by collection and id only', async () => {
    await insertAccount(app.sql, 'users', 'nfc-account', 'ex\u00e1mple@example.com');
    await insertAccount(app.sql, 'customers', 'nfd-account', 'exa\u0301mple@example.com');
    const report = await findLookAlikeEmails(app.ctx.storage.records);
    expect(report.lookAlikes).toEqual([[{ collection: 'users', id: 'nfc-account' }, { collection: 'customers', id: 'nfd-account' }]]);
    expect(report.notCanonical).toEqual([{ collection: 'customers', id: 'nfd-account' }]);
    const lines = describeLookAlikes(report);
    expect(lines[0]).toBe('look-alike emails: 2 accounts have one address once normalised: users/nfc-account, customers/nfd-account');
    expect(lines.join('\n')).not.toContain('example.com');
  });

  it('names accounts whose stored email the rule now refuses', async () => {
    await insertAccount(app.sql, 'users', 'hidden-space', 'ze\u200bro@example.com');
    expect(await findLookAlikeEmails(app.ctx.storage.records)).toEqual({ lookAlikes: [], refused: [{ collection: 'users', id: 'hidden-space' }], notCanonical: [] });
  });

  it('reports nothing for a database of accounts registered through the app, and ignores guests', async () => {
    await register(app.browser(), 'one@example.com');
    await register(app.browser(), 'two@bücher.example');
    await becomeGuest(app.browser());
    const report = await findLookAlikeEmails(app.ctx.storage.records);
    expect(report).toEqual({ lookAlikes: [], refused: [], notCanonical: [] });
    expect(describeLookAlikes(report)).toEqual([]);
  });

  it('is logged when the server starts, and changes nothing', async () => {
    const dir = tempDataDir();
    const database = BACKEND === 'postgres' ? { DATABASE_URL: await testDatabaseUrl() } : {};
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, BCRYPT_COST: '10', ...database });
    try {
      const first = await createContext(config);
      await insertAccount(sqlOf(first), 'users', 'with-dot', 'dot@example.com.');
      await insertAccount(sqlOf(first), 'users', 'without-dot', 'dot@example.com');
      await first.close();
      const lines: string[] = [];
      const second = await createContext(config, { log: (line) => lines.push(line) });
      const emails = (await sqlOf(second)<{ email: string }>('SELECT email FROM users ORDER BY id')).map((row) => row.email);
      await second.close();
      expect(lines).toEqual([
        'look-alike emails: 2 accounts have one address once normalised: users/with-dot, users/without-dot',
        'look-alike emails: 1 account keeps an email stored before normalisation (they still sign in): users/with-dot',
      ]);
      expect(emails).toEqual(['dot@example.com.', 'dot@example.com']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
