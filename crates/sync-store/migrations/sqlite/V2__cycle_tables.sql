-- Cycle data in tables (document 004): each request reads and writes only its rows. Ids are
-- stored in their normalized form (percent-escapes decoded), the form they are compared in.
-- The JSON documents of `cycle_data` written before are moved into these tables by the store
-- when it opens (in Rust, with the code that writes these rows), then deleted.

CREATE TABLE cycle_counters (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    next_entry INTEGER NOT NULL
);

CREATE TABLE cycle_cycles (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    cycle_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, cycle_id)
) WITHOUT ROWID;

-- `data` is the period's object without `requirements` when `has_requirements` is 1 (its
-- requirements are then the rows of `cycle_requirements`); `cycle_id` is its `cycleId`
-- normalized, null when it has none.
CREATE TABLE cycle_periods (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    period_id TEXT NOT NULL,
    cycle_id TEXT,
    has_requirements INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, period_id)
) WITHOUT ROWID;

CREATE INDEX cycle_periods_cycle ON cycle_periods (tenant_id, cycle_id);

CREATE TABLE cycle_requirements (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    period_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, period_id, position)
) WITHOUT ROWID;

CREATE TABLE cycle_members (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
) WITHOUT ROWID;

-- `value_trimmed` is the value as a member is looked up by (`customFieldValue`).
CREATE TABLE cycle_member_fields (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    value_trimmed TEXT NOT NULL,
    PRIMARY KEY (tenant_id, member_id, name)
) WITHOUT ROWID;

CREATE INDEX cycle_member_fields_lookup ON cycle_member_fields (tenant_id, name, value_trimmed);

CREATE TABLE cycle_credits (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    period_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    credits REAL NOT NULL,
    PRIMARY KEY (tenant_id, member_id, period_id, position)
) WITHOUT ROWID;

CREATE TABLE cycle_status_entries (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    member_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    is_active_member INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    PRIMARY KEY (tenant_id, member_id, position)
) WITHOUT ROWID;
