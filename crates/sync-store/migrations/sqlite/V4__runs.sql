-- Sync runs (DESIGN 9): every full sync, delta sync and sandbox delete, whatever its outcome,
-- and every revert. Times are milliseconds since the Unix epoch (UTC). `seq` numbers a tenant's
-- runs in the order they were recorded (newest first is `seq` descending). `based_on` is the tenant's contracts version
-- the run was computed from; `version_after` the version its write left, set only for a run
-- that changed contracts (the latest such run is the one whose `version_after` is the stored
-- version). `problems` (a refused run: the JSON array the 422 listed) and `payload` (a held
-- run: the body as received, dropped once decided) are the only large columns.
CREATE TABLE runs (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    same_count INTEGER NOT NULL,
    added_count INTEGER NOT NULL,
    updated_count INTEGER NOT NULL,
    removed_count INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    user_agent TEXT,
    based_on INTEGER NOT NULL,
    version_after INTEGER,
    reverts TEXT,
    decided_at INTEGER,
    problems TEXT,
    payload BLOB,
    PRIMARY KEY (tenant_id, run_id)
);

-- A tenant's runs, newest first.
CREATE INDEX runs_by_seq ON runs (tenant_id, seq);
-- Retention and hold expiry across tenants.
CREATE INDEX runs_received ON runs (received_at);

-- What a run changed (or, held, would change), contract by contract, in chunks of
-- consecutive change records (`chunk` numbers them from 0, `records` counts them; 500 a chunk
-- but the last): a 100 000-contract first load writes 200 rows, not 100 000. `data` is the
-- chunk's records as the store's code encodes them (a JSON array of arrays, see
-- `sync_store::encode_change_chunk`); every backend stores it as it is.
-- No foreign key: the rows of a run are written with it and deleted with it. A rowid table:
-- its rows are large (tens of KB), which a WITHOUT ROWID table stores poorly.
CREATE TABLE run_changes (
    tenant_id INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    records INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, chunk)
);
