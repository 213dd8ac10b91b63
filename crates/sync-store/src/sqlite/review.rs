//! Review keys in the table of `V5__review_keys.sql`.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::{Result, ReviewKey, TenantId};

pub(super) fn add(
    tx: &Transaction<'_>,
    tenant: TenantId,
    run_id: &str,
    key_hash: &str,
    expires_at: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO review_keys (key_hash, tenant_id, run_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![key_hash, tenant, run_id, expires_at])?;
    Ok(())
}

pub(super) fn find(conn: &Connection, key_hash: &str, now: i64) -> Result<Option<ReviewKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT tenant_id, run_id, expires_at FROM review_keys
             WHERE key_hash = ?1 AND expires_at > ?2",
        )?
        .query_row(params![key_hash, now], |r| {
            Ok(ReviewKey {
                tenant: r.get(0)?,
                run_id: r.get(1)?,
                expires_at: r.get(2)?,
            })
        })
        .optional()?)
}

pub(super) fn prune(tx: &Transaction<'_>, now: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM review_keys WHERE expires_at <= ?1")?
        .execute([now])?)
}
