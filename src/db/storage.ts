import type { AccountStore, AccountTokenStore, EventLog, IdentityStore, PendingConversionStore } from '../auth/stores.ts';
import type { LimitStore } from '../http/rate-limit.ts';
import type { OutboxStore } from '../mail/outbox.ts';
import type { SessionStorage } from '../http/sessions.ts';
import type { ShopStores } from '../shop/index.ts';
import type { Transactor } from './unit-of-work.ts';

/**
 * Everything the app keeps, behind its ports: one backend's stores, its sessions, and the
 * transactions that apply their writes. `src/db/sqlite/storage.ts` opens the embedded default,
 * `src/db/postgres/storage.ts` the shared one (`DATABASE_URL`).
 */
export interface Storage {
  records: AccountStore;
  events: EventLog;
  /** Accounts at identity providers linked to ours. */
  identities: IdentityStore;
  /** The tokens behind mailed links, and guests' conversions waiting for one. */
  tokens: AccountTokenStore;
  pendingConversions: PendingConversionStore;
  shop: ShopStores;
  sessions: SessionStorage;
  /** Mail waiting to be sent (the transactional outbox). */
  outbox: OutboxStore;
  /** Where rate limits count: in process (one process) or in the database (several). */
  limits: LimitStore;
  transactor: Transactor;
  close(): Promise<void>;
}
