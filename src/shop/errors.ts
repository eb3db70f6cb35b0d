import { AppError } from '../errors.ts';

export type ShopErrorCode = 'unknown_product' | 'invalid_quantity' | 'empty_cart' | 'cart_changed' | 'invalid_field' | 'invalid_note'
  | 'rate_limited';

const messages: Record<ShopErrorCode, string> = {
  unknown_product: 'That product is not in our catalogue.',
  invalid_quantity: 'Choose a quantity from 1 to 99.',
  empty_cart: 'Your cart is empty: add something before checking out.',
  cart_changed: 'Your cart changed while you were checking out. Check it below and place your order again.',
  invalid_field: 'Please fill in this field (at most 200 characters).',
  invalid_note: 'Notes need some text, at most 2,000 characters.',
  rate_limited: 'Too many requests from your network. Please wait a minute and try again.',
};

// A Record, so that a new code without a status is a compile error.
const statuses: Record<ShopErrorCode, number> = {
  unknown_product: 404,
  invalid_quantity: 422,
  empty_cart: 409,
  cart_changed: 409,
  invalid_field: 422,
  invalid_note: 422,
  rate_limited: 429,
};

export class ShopError extends AppError<ShopErrorCode> {
  constructor(code: ShopErrorCode, field?: string, retryAfterSeconds?: number) {
    super(code, messages[code], { status: statuses[code], field, retryAfterSeconds });
    this.name = 'ShopError';
  }
}
