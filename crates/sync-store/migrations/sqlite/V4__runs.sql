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

-- What a run changed (or, held, would change), contract by contract, in the order of the
-- engine's change list. `fields` is the JSON array of changed fields of an update
-- ([{"field","old","new"}], values null when absent); `previous` the contract's wire JSON
-- before the run (updated and removed ones; an added one that was archived); the display
-- columns come from the contract as sent (the previous one for a removed contract);
-- `search` is the code and the apprentice's names lowercased, what the filter looks in.
-- No foreign key: the rows of a run are written with it and deleted with it.
CREATE TABLE run_changes (
    tenant_id INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    change TEXT NOT NULL,
    fields TEXT NOT NULL,
    previous TEXT,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    group_code TEXT NOT NULL,
    group_name TEXT NOT NULL,
    site_code TEXT NOT NULL,
    site_name TEXT NOT NULL,
    search TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, position)
) WITHOUT ROWID;
