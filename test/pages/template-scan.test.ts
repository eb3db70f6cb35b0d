/**
 * Which pages take a guest rate-limit reservation before they render: those whose template, layouts
 * or included partials call signInAnonymously (src/pages/guest-scan.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTemplateScan } from '../../src/pages/template-scan.ts';

const folders: string[] = [];
afterEach(() => { for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true }); });

/** A pages folder holding these files (path → template source). */
function pagesWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guestkit-scan-'));
  folders.push(dir);
  for (const [file, source] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), source);
  }
  return dir;
}

const SIGN_IN = '<% signInAnonymously() %>';

describe('a page may create a guest', () => {
  it('when it calls signInAnonymously itself', () => {
    const scan = createTemplateScan(pagesWith({ 'try.eta': SIGN_IN }), { cache: true });
    expect(scan.mayCall(['try.eta'], 'signInAnonymously')).toBe(true);
  });

  it('when its layout calls it', () => {
    const scan = createTemplateScan(pagesWith({ '_layout.eta': `${SIGN_IN}<%~ body %>`, 'about.eta': '<h1>About</h1>' }), { cache: true });
    expect(scan.mayCall(['about.eta', '_layout.eta'], 'signInAnonymously')).toBe(true);
    expect(scan.mayCall(['about.eta'], 'signInAnonymously')).toBe(false);
  });

  it('when a partial it includes by an absolute, relative or async path calls it, however deep', () => {
    const dir = pagesWith({
      '_private/guest.eta': SIGN_IN,
      '_private/wrapper.eta': "<%~ include('./guest') %>",
      'shop/_private/banner.eta': "<%~ await includeAsync(\"/_private/wrapper.eta\", { title: 'x' }) %>",
      'shop/index.eta': "<%~ await includeAsync('./_private/banner') %>",
      'absolute.eta': "<%~ include(`/_private/guest`) %>",
    });
    const scan = createTemplateScan(dir, { cache: true });
    expect(scan.mayCall(['shop/index.eta'], 'signInAnonymously')).toBe(true);
    expect(scan.mayCall(['absolute.eta'], 'signInAnonymously')).toBe(true);
  });

  it('when it includes a template by a computed path, which could be any template', () => {
    const scan = createTemplateScan(pagesWith({
      'dynamic.eta': "<%~ include('/_private/' + request.query.part) %>",
      'template.eta': '<%~ include(`/_private/${name}`) %>',
      'variable.eta': '<%~ include(partial, data) %>',
    }), { cache: true });
    for (const page of ['dynamic.eta', 'template.eta', 'variable.eta']) expect(scan.mayCall([page], 'signInAnonymously'), page).toBe(true);
  });
});

describe('a page cannot create a guest', () => {
  it('when neither it nor anything it includes calls signInAnonymously, includes that loop included', () => {
    const scan = createTemplateScan(pagesWith({
      'index.eta': "<%~ include('/_private/header') %><% const tags = ['a']; tags.includes('a') %>",
      '_private/header.eta': "<%~ include('/_private/nav') %>",
      '_private/nav.eta': "<%~ include('/_private/header') %>",
    }), { cache: true });
    expect(scan.mayCall(['index.eta'], 'signInAnonymously')).toBe(false);
  });

  it('when the partial that would call it lies outside the pages folder, which Eta never renders', () => {
    const dir = pagesWith({ 'pages/escape.eta': "<%~ include('../outside') %>", 'outside.eta': SIGN_IN });
    expect(createTemplateScan(path.join(dir, 'pages'), { cache: true }).mayCall(['escape.eta'], 'signInAnonymously')).toBe(false);
  });
});

describe('an edited template', () => {
  it('counts on the next scan in development', () => {
    const dir = pagesWith({ 'about.eta': '<h1>About</h1>' });
    const scan = createTemplateScan(dir, { cache: false });
    expect(scan.mayCall(['about.eta'], 'signInAnonymously')).toBe(false);
    fs.writeFileSync(path.join(dir, 'about.eta'), SIGN_IN);
    expect(scan.mayCall(['about.eta'], 'signInAnonymously')).toBe(true);
  });

  it('does not in production, where the compiled template does not change either', () => {
    const dir = pagesWith({ 'about.eta': '<h1>About</h1>' });
    const scan = createTemplateScan(dir, { cache: true });
    expect(scan.mayCall(['about.eta'], 'signInAnonymously')).toBe(false);
    fs.writeFileSync(path.join(dir, 'about.eta'), SIGN_IN);
    expect(scan.mayCall(['about.eta'], 'signInAnonymously')).toBe(false);
  });
});
