import { AppError } from '../errors.ts';

export type ShopErrorCode = 'unknown_product' | 'invalid_quantity' | 'empty_cart' | 'invalid_field' | 'invalid_note';

const messages: Record<ShopErrorCode, string> = {
  unknown_product: 'That product is not in our catalogue.',
  invalid_quantity: 'Choose a quantity from 1 to 99.',
  empty_cart: 'Your cart is empty: add something before checking out.',
  invalid_field: 'Please fill in this field (at most 200 characters).',
  invalid_note: 'Notes need some text, at most 2,000 characters.',
};

// A Record, so that a new code without a status is a compile error.
const statuses: Record<ShopErrorCode, number> = {
  unknown_product: 404,
  invalid_quantity: 422,
  empty_cart: 409,
  invalid_field: 422,
  invalid_note: 422,
};

export class ShopError extends AppError<ShopErrorCode> {
  constructor(code: ShopErrorCode, field?: string) {
    super(code, messages[code], { status: statuses[code], field });
    this.name = 'ShopError';
  }
}
