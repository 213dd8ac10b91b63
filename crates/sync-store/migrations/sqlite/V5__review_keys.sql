-- Review keys (DESIGN 9): a held run's review page is opened with a random key instead of a
-- bearer token. Only the key's SHA-256 (hex, as tokens are stored) is kept, with the tenant and
-- the run it opens and when it stops opening it (the end of the hold, milliseconds since the
-- Unix epoch, UTC). Looked up by hash alone, as tokens are: the key is what names the tenant.
CREATE TABLE review_keys (
    key_hash TEXT NOT NULL PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    run_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The periodic removal of expired keys.
CREATE INDEX review_keys_expiry ON review_keys (expires_at);
