CREATE TABLE products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  image TEXT NOT NULL,
  position INTEGER NOT NULL
);

CREATE TABLE cart_items (
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  product_id TEXT NOT NULL REFERENCES products (id),
  quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, product_id)
) WITHOUT ROWID;

-- Orders are business records: they outlive the account (ON DELETE SET NULL) and keep a
-- snapshot of the contact and shipping details given at checkout.
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  account_id TEXT REFERENCES accounts (id) ON DELETE SET NULL,
  total_cents INTEGER NOT NULL,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  city TEXT NOT NULL,
  postcode TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX orders_account ON orders (account_id, created_at);

CREATE TABLE order_lines (
  order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL,
  unit_price_cents INTEGER NOT NULL,
  quantity INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;

CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX notes_account ON notes (account_id, created_at);
