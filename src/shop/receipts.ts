import type { MailRequest } from '../mail/mailer.ts';
import { formatDate, formatMoney } from './format.ts';
import type { ShippingDetails } from './stores.ts';

export interface ReceiptContent {
  orderId: string;
  email: string;
  placedAt: number;
  lines: ReadonlyArray<{ name: string; quantity: number; lineCents: number }>;
  totalCents: number;
  shipping: ShippingDetails;
  /** The order link (orderLinkUrl), and when it stops working. */
  link: string;
  linkExpiresAt: number;
  /** Whether the order page offers an account (no registered account holds the order). */
  offersAccount: boolean;
}

/** The receipt mail (views/mail/receipt.*): every value formatted, so the templates only lay it out. */
export function receiptMail(receipt: ReceiptContent): MailRequest {
  return {
    template: 'receipt',
    to: receipt.email,
    data: {
      orderId: receipt.orderId,
      placedAt: formatDate(receipt.placedAt),
      lines: receipt.lines.map((line) => ({ name: line.name, quantity: line.quantity, amount: formatMoney(line.lineCents) })),
      total: formatMoney(receipt.totalCents),
      shipTo: receipt.shipping,
      link: receipt.link,
      linkExpires: formatDate(receipt.linkExpiresAt),
      offersAccount: receipt.offersAccount,
    },
  };
}
