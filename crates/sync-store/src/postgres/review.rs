//! Review keys in the table of `V5__review_keys.sql`.

use postgres::{GenericClient, Transaction};

use super::runs::all_tenants;
use super::Db;
use crate::{Result, ReviewKey, TenantId};

pub(super) fn add(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    run_id: &str,
    key_hash: &str,
    expires_at: i64,
) -> Result<()> {
    db.execute(
        "INSERT INTO review_keys (key_hash, tenant_id, run_id, expires_at) VALUES ($1, $2, $3, $4)",
        &[&key_hash, &tenant, &run_id, &expires_at],
    )?;
    Ok(())
}

pub(super) fn find<C: GenericClient>(
    db: &mut Db<'_, C>,
    key_hash: &str,
    now: i64,
) -> Result<Option<ReviewKey>> {
    db.query_opt(
        "SELECT tenant_id, run_id, expires_at FROM review_keys
         WHERE key_hash = $1 AND expires_at > $2",
        &[&key_hash, &now],
    )?
    .map(|row| {
        Ok(ReviewKey {
            tenant: row.try_get(0)?,
            run_id: row.try_get(1)?,
            expires_at: row.try_get(2)?,
        })
    })
    .transpose()
}

/// Tenant by tenant, as every other statement here.
pub(super) fn prune(db: &mut Db<'_, Transaction<'_>>, now: i64) -> Result<usize> {
    let mut pruned = 0;
    for tenant in all_tenants(db)? {
        pruned += db.execute(
            "DELETE FROM review_keys WHERE tenant_id = $1 AND expires_at <= $2",
            &[&tenant, &now],
        )?;
    }
    Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
}
