const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** `$18.00`: pages and mails show amounts the same way. */
export function formatMoney(cents: number): string {
  return money.format(cents / 100);
}

/** `2026-12-05 10:30 UTC`: one zone for everyone, since the server cannot know the reader's. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
