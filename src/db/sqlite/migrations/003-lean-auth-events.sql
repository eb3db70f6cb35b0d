-- auth_events is an append-only audit trail: nothing in the app reads it by record or type, and
-- each index was one more B-tree page written with every new guest.
DROP INDEX IF EXISTS auth_events_record;
DROP INDEX IF EXISTS auth_events_type_time;
