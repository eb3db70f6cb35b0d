import { isStorableText } from '../plain-text.ts';
import { ShopError } from './errors.ts';

/** A note's text, trimmed; throws `invalid_note` for an empty one, one over 2,000 characters or one no store keeps. */
export function parseNote(raw: unknown): string {
  const body = typeof raw === 'string' ? raw.trim() : '';
  if (!body || [...body].length > 2000 || !isStorableText(body)) throw new ShopError('invalid_note', 'body');
  return body;
}
