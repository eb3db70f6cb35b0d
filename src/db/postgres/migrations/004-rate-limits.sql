-- rate-limiter-flexible's table (src/db/postgres/rate-limits.ts), made here rather than by the
-- library at start, so every process finds it. UNLOGGED: a count of the last minute's attempts
-- need not survive a crash of the database server, and skipping the WAL makes each point cheaper.
CREATE UNLOGGED TABLE rate_limits (
  -- TEXT, not the library's VARCHAR(255): a key holds an email, which may be longer.
  key TEXT PRIMARY KEY,
  points INTEGER NOT NULL DEFAULT 0,
  expire BIGINT
);
