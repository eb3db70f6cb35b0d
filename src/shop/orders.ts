import { normalizeEmail } from '../auth/email-address.ts';
import { validateAll } from '../errors.ts';
import { isStorableText } from '../plain-text.ts';
import { ShopError } from './errors.ts';
import type { CartLine, Checkout, ShippingDetails } from './stores.ts';

const FIELDS = ['name', 'address', 'city', 'postcode'] as const;

/**
 * The checkout form: the receipt's address (an address, not a login: `invalid_email` otherwise)
 * and the trimmed shipping fields (`invalid_field` for each empty, over-long or unstorable one),
 * every problem at once.
 */
export function parseCheckout(form: Record<string, unknown>): ShippingDetails & { email: string } {
  const field = (name: typeof FIELDS[number]) => () => {
    const value = typeof form[name] === 'string' ? (form[name] as string).trim() : '';
    if (!value || [...value].length > 200 || !isStorableText(value)) throw new ShopError('invalid_field', name);
    return value;
  };
  const shipping = Object.fromEntries(FIELDS.map((name) => [name, field(name)])) as Record<typeof FIELDS[number], () => string>;
  return validateAll({ email: () => normalizeEmail(form.email), ...shipping });
}

/**
 * Checks, inside the write that places an order, that the cart holds what the receipt lists
 * (`expected`, read just before): the same products, quantities and prices. Throws
 * `cart_changed` otherwise; nothing to check when nothing is expected.
 */
export function checkCartIsExpected(cart: readonly CartLine[], expected: Checkout['expected']): void {
  if (!expected) return;
  const key = (line: Pick<CartLine, 'productId' | 'quantity' | 'lineCents'>) => `${line.productId}:${line.quantity}:${line.lineCents}`;
  const now = cart.map(key).sort();
  const then = expected.map(key).sort();
  if (now.length !== then.length || now.some((line, i) => line !== then[i])) throw new ShopError('cart_changed');
}
