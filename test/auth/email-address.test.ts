import { describe, expect, it } from 'vitest';
import { canonicalEmail, normalizeEmail, storedForms } from '../../src/auth/email-address.ts';
import { AuthError } from '../../src/auth/errors.ts';

describe('the canonical form of an address', () => {
  const same: Array<[string, string]> = [
    ['  New.Person@Example.COM ', 'new.person@example.com'],
    ['exa\u0301mple@example.com', 'ex\u00e1mple@example.com'],
    ['\uff26\uff55\uff4c\uff4c@\uff45xample\uff0ecom', 'full@example.com'],
    ['\ufb01sh@example.com', 'fish@example.com'],
    ['T\u0308@example.com', '\u1e97@example.com'],
    ['reader@B\u00fcCHER.example', 'reader@xn--bcher-kva.example'],
    ['reader@XN--BCHER-KVA.example', 'reader@xn--bcher-kva.example'],
    ['dot@example.com.', 'dot@example.com'],
    ['a@example\u3002com', 'a@example.com'],
    ["o'reilly+tag@example.com", "o'reilly+tag@example.com"],
  ];
  for (const [typed, canonical] of same) {
    it(`is ${JSON.stringify(canonical)} for ${JSON.stringify(typed)}`, () => {
      expect(normalizeEmail(typed)).toBe(canonical);
    });
  }

  const refused = [
    'ze\u200bro@example.com', 'a\u00adb@example.com', 'a\u2060b@example.com', 'a\ufe0f@example.com', 'a\u034fb@example.com',
    'a\u2800@example.com', 'a b@example.com', 'a\u00a0b@example.com', 'a@exa\u200bmple.com', 'a@ex%41mple.com',
    'a@example.com..', 'a@.example.com', 'a@example..com', 'a@example', '@example.com', 'a@', 'a@b@example.com',
    'a<b>@example.com', 'guest-x@guest.invalid', 'guest-x@guest.INVALID.', `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(64)}.com`, `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.com`,
    '\ud800@example.com', 'a\u{e0001}@example.com', '',
  ];
  for (const typed of refused) {
    it(`refuses ${JSON.stringify(typed)} with invalid_email`, () => {
      expect(canonicalEmail(typed)).toBeNull();
      expect(() => normalizeEmail(typed)).toThrowError(expect.objectContaining({ code: 'invalid_email' }) as AuthError);
    });
  }

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, ['a@example.com'], { email: 'a@example.com' }]) expect(canonicalEmail(value)).toBeNull();
  });

  it('is its own canonical form, for every character of the Basic Multilingual Plane in the local part', () => {
    const unstable: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const once = canonicalEmail(`a${String.fromCharCode(code)}b@example.com`);
      if (once !== null && canonicalEmail(once) !== once) unstable.push(code.toString(16));
    }
    expect(unstable).toEqual([]);
  });
});

describe('the forms an account may be stored under', () => {
  it('is the canonical form, then the trimmed and lower-cased form accounts were stored in before it', () => {
    expect(storedForms(' Reader@B\u00fccher.example')).toEqual(['reader@xn--bcher-kva.example', 'reader@b\u00fccher.example']);
    expect(storedForms('plain@example.com')).toEqual(['plain@example.com']);
    expect(storedForms('ze\u200bro@example.com')).toEqual([]);
  });
});
