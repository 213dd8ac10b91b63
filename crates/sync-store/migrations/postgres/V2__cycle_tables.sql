-- Cycle data in tables (document 004): each request reads and writes only its rows. Ids are
-- stored in their normalized form (percent-escapes decoded), the form they are compared in.
-- (SQLite's V1 also has the `cycle_data` table of JSON documents that this migration replaced
-- there; a PostgreSQL store never wrote them.)

CREATE TABLE cycle_counters (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id),
    next_entry BIGINT NOT NULL
);

CREATE TABLE cycle_cycles (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    cycle_id TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, cycle_id)
);

-- `data` is the period's object without `requirements` when `has_requirements` is true (its
-- requirements are then the rows of `cycle_requirements`); `cycle_id` is its `cycleId`
-- normalized, null when it has none.
CREATE TABLE cycle_periods (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    period_id TEXT COLLATE "C" NOT NULL,
    cycle_id TEXT COLLATE "C",
    has_requirements BOOLEAN NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, period_id)
);

CREATE INDEX cycle_periods_cycle ON cycle_periods (tenant_id, cycle_id);

CREATE TABLE cycle_requirements (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    period_id TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, period_id, position)
);

CREATE TABLE cycle_members (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    member_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, member_id)
);

-- `value_trimmed` is the value as a member is looked up by (`customFieldValue`).
CREATE TABLE cycle_member_fields (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    member_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,
    value_trimmed TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, member_id, name)
);

CREATE INDEX cycle_member_fields_lookup ON cycle_member_fields (tenant_id, name, value_trimmed);

CREATE TABLE cycle_credits (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    member_id TEXT COLLATE "C" NOT NULL,
    period_id TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    credits DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, member_id, period_id, position)
);

CREATE TABLE cycle_status_entries (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    member_id TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    entry_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    is_active_member BOOLEAN NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    PRIMARY KEY (tenant_id, member_id, position)
);
