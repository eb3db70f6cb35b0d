import type { AccountStore, EventLog } from '../auth/stores.ts';
import type { SessionStorage } from '../http/sessions.ts';
import type { ShopStores } from '../shop/index.ts';
import type { Transactor } from './unit-of-work.ts';

/**
 * Everything the app keeps, behind its ports: one backend's stores, its sessions, and the
 * transactions that apply their writes. `src/db/sqlite/storage.ts` opens the embedded default.
 */
export interface Storage {
  records: AccountStore;
  events: EventLog;
  shop: ShopStores;
  sessions: SessionStorage;
  transactor: Transactor;
  close(): Promise<void>;
}
