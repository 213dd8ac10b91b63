-- The schema of the SQLite store before numbered migrations (its last inline version).
-- A database written by that store is adopted as being at this version (see sqlite.rs).
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sandbox INTEGER NOT NULL DEFAULT 0,
    session_models TEXT NOT NULL DEFAULT '[]',
    contracts_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id)
);
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    data TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    group_code TEXT NOT NULL,
    apprentice_code TEXT NOT NULL,
    apprentice_email TEXT NOT NULL,
    tutor_code TEXT NOT NULL,
    tutor_email TEXT NOT NULL,
    master_code TEXT NOT NULL,
    master_email TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);
-- The archived rows only, for the accounts a sync checks new users against.
CREATE INDEX contracts_archived ON contracts (tenant_id) WHERE archived = 1;
CREATE TABLE events (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    group_code TEXT NOT NULL,
    position INTEGER NOT NULL,
    start TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_code, position)
);
CREATE TABLE absences (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL,
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, email, position)
);
CREATE TABLE cycle_data (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(id),
    data TEXT NOT NULL
);
