/**
 * Whether a visitor's text can be kept exactly as given on every backend. PostgreSQL's text
 * cannot hold U+0000 (SQLite's can; a parameter holding one fails the whole query), and a C
 * library reading the value later would stop at it. So a form field holding one is refused with
 * the field's own 422, and a look-up by such a value (a forged cookie, a crafted form) finds
 * nothing, since nothing stored holds one. A browser never sends U+0000 from what a person types.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000');
}
