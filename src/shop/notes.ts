import { ShopError } from './errors.ts';

/** A note's text, trimmed; throws `invalid_note` for an empty one or one over 2,000 characters. */
export function parseNote(raw: unknown): string {
  const body = typeof raw === 'string' ? raw.trim() : '';
  if (!body || [...body].length > 2000) throw new ShopError('invalid_note', 'body');
  return body;
}
