import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta, type TemplateFunction } from 'eta';
import type { MailTemplate } from './mailer.ts';

/** views/mail, beside views/pages. */
export const MAIL_VIEWS = fileURLToPath(new URL('../../views/mail/', import.meta.url));

/** A mail's three parts, as rendered from its templates. */
export interface RenderedMail { subject: string; text: string; html: string }

export interface MailTemplates {
  /** Renders `<template>.text.eta` and `.html.eta` with `data` as `it`; throws on a template error (a bug). */
  render(template: MailTemplate, data: Record<string, unknown>): RenderedMail;
}

// The text template starts with front matter holding the subject, so one file says what the mail
// is called and what it says:
//   ---
//   subject: Your order <%= it.orderId %>
//   ---
const FRONT_MATTER = /^---\r?\nsubject:([^\r\n]*)\r?\n---\r?\n/;

interface TextTemplate { subject: TemplateFunction; body: TemplateFunction }

/**
 * Mail templates under `dir`. HTML is escaped as pages are (`<%= %>` escapes, `<%~ %>` does not)
 * and may use a layout (`_layout.html.eta`). Plain text is not escaped: it is no markup. Neither
 * can reach a header: the subject is split from the template's source before anything is
 * rendered, and its whitespace (line breaks a value brought in) collapses to single spaces.
 */
export function createMailTemplates(options: { dir: string; cache: boolean }): MailTemplates {
  const shared = { views: options.dir, cache: options.cache };
  // Plain text keeps every line break it is written with; `-%>` drops the one after a tag.
  const text = new Eta({ ...shared, autoEscape: false, autoTrim: false });
  const html = new Eta({ ...shared, autoEscape: true, autoTrim: [false, 'nl'] });
  const compiled = new Map<MailTemplate, TextTemplate>();

  function textTemplate(template: MailTemplate): TextTemplate {
    const cached = compiled.get(template);
    if (cached) return cached;
    const file = path.join(options.dir, `${template}.text.eta`);
    const source = fs.readFileSync(file, 'utf8');
    const front = FRONT_MATTER.exec(source);
    if (!front) throw new Error(`${file} must begin with front matter: a line ---, a line subject: …, a line ---`);
    const loaded = { subject: text.compile(front[1]!), body: text.compile(source.slice(front[0].length)) };
    if (options.cache) compiled.set(template, loaded);
    return loaded;
  }

  return {
    render(template, data) {
      const { subject, body } = textTemplate(template);
      const rendered = text.render(subject, data).replace(/\s+/g, ' ').trim();
      if (!rendered) throw new Error(`mail ${template}: the subject is empty`);
      return { subject: rendered, text: text.render(body, data), html: html.render(`${template}.html.eta`, data) };
    },
  };
}
