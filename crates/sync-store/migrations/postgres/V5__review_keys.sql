-- Review keys (DESIGN 9), as migrations/sqlite/V5__review_keys.sql: a held run's review page is
-- opened with a random key instead of a bearer token. Only the key's SHA-256 (hex, as tokens
-- are stored) is kept, with the tenant and the run it opens and when it stops opening it
-- (milliseconds since the Unix epoch, UTC). Looked up by hash alone, as tokens are: the key is
-- what names the tenant. Removing expired keys goes tenant by tenant, on the tenant-first index.
CREATE TABLE review_keys (
    key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    run_id TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX review_keys_expiry ON review_keys (tenant_id, expires_at);
