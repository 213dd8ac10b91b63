-- The tenant's cycle version: bumped in the transaction of every cycle write, checked by a
-- write against the version its slice was read at (a stale write is refused).
ALTER TABLE tenants ADD COLUMN cycle_version BIGINT NOT NULL DEFAULT 0;
