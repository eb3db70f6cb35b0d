import { randomBytes } from 'node:crypto';

/**
 * Templates render before the session is final (signing in regenerates it afterwards), so
 * `csrfToken()` writes a placeholder that is filled from the final session. Its random part
 * means page content cannot forge one.
 */
export const CSRF_PLACEHOLDER = `gk-csrf-${randomBytes(12).toString('hex')}`;

export function csrfFieldHtml(token: string): string {
  return `<input type="hidden" name="_csrf" value="${token}">`;
}

const FORM_OPEN = /<form\b[^>]*>/gi;
const POST_METHOD = /\bmethod\s*=\s*["']?post\b/i;
const ACTION = /\baction\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

/**
 * Adds the CSRF field to every POST form that submits to this site and lacks one, so templates
 * written without it (like the helper documentation's examples) are protected and still work.
 */
export function injectCsrfFields(html: string): string {
  if (!/<form\b/i.test(html)) return html;
  return html.replace(FORM_OPEN, (tag: string, offset: number) => {
    if (!POST_METHOD.test(tag)) return tag;
    const action = ACTION.exec(tag);
    const target = action ? (action[1] ?? action[2] ?? action[3] ?? '') : '';
    if (!isSameSite(target)) return tag;
    const end = html.indexOf('</form', offset);
    const body = html.slice(offset + tag.length, end === -1 ? undefined : end);
    return /name\s*=\s*["']?_csrf\b/i.test(body) ? tag : tag + csrfFieldHtml(CSRF_PLACEHOLDER);
  });
}

/** Relative URLs and absolute paths stay on this site; `//host` and any scheme do not. */
function isSameSite(action: string): boolean {
  const value = action.trim();
  return !/^[a-z][a-z0-9+.-]*:/i.test(value) && !value.startsWith('//') && !value.startsWith('/\\');
}

export function fillCsrfTokens(html: string, token: () => string): string {
  return html.includes(CSRF_PLACEHOLDER) ? html.replaceAll(CSRF_PLACEHOLDER, token()) : html;
}
