-- Sync runs (DESIGN 9), as migrations/sqlite/V4__runs.sql: every full sync, delta sync and
-- sandbox delete, whatever its outcome, and every revert. Times are milliseconds since the
-- Unix epoch (UTC); `seq` numbers a tenant's runs in the order they were recorded. Keyed and
-- indexed by the tenant first, retention included (it runs tenant by tenant).
CREATE TABLE runs (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    run_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    same_count BIGINT NOT NULL,
    added_count BIGINT NOT NULL,
    updated_count BIGINT NOT NULL,
    removed_count BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    user_agent TEXT,
    based_on BIGINT NOT NULL,
    version_after BIGINT,
    reverts TEXT,
    decided_at BIGINT,
    problems TEXT,
    payload BYTEA,
    PRIMARY KEY (tenant_id, run_id)
);

-- A tenant's runs, newest first.
CREATE INDEX runs_by_seq ON runs (tenant_id, seq);
-- Retention and hold expiry, tenant by tenant.
CREATE INDEX runs_received ON runs (tenant_id, received_at);

-- What a run changed (or, held, would change), contract by contract, in chunks of
-- consecutive change records (`chunk` numbers them from 0, `records` counts them; 500 a chunk
-- but the last), as in SQLite: `data` is the chunk's records as the store's code encodes them
-- (`sync_store::encode_change_chunk`), stored as it is. No foreign key: the rows of a run are
-- written with it and deleted with it.
CREATE TABLE run_changes (
    tenant_id BIGINT NOT NULL,
    run_id TEXT COLLATE "C" NOT NULL,
    chunk BIGINT NOT NULL,
    records BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, chunk)
);
