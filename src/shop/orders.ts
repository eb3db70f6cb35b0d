import { validateAll } from '../errors.ts';
import { isStorableText } from '../plain-text.ts';
import { ShopError } from './errors.ts';
import type { ShippingDetails } from './stores.ts';

const FIELDS = ['name', 'address', 'city', 'postcode'] as const;

/** Trimmed shipping fields; throws `invalid_field` for every empty, over-long or unstorable one at once. */
export function parseShipping(form: Record<string, unknown>): ShippingDetails {
  const field = (name: typeof FIELDS[number]) => () => {
    const value = typeof form[name] === 'string' ? (form[name] as string).trim() : '';
    if (!value || [...value].length > 200 || !isStorableText(value)) throw new ShopError('invalid_field', name);
    return value;
  };
  return validateAll(Object.fromEntries(FIELDS.map((name) => [name, field(name)])) as Record<typeof FIELDS[number], () => string>);
}
