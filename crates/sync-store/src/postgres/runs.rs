//! Sync runs in the tables of `V4__runs.sql` (PostgreSQL): a run's row and its change records
//! (binary `COPY`, however many), written in the transaction of the write they describe; the
//! listings, the decisions on held runs, expiry and retention, each statement of one tenant.

use std::borrow::Cow;
use std::collections::HashMap;

use postgres::{GenericClient, Row, Transaction};
use sync_core::Summary;

use super::copy::BinaryRows;
use super::Db;
use crate::{
    ChangeKind, ChangePage, ChangeRecord, Result, Run, RunKind, RunOutcome, RunPage, RunWrite,
    StoreError, TenantId,
};

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt {
        source: message.into(),
    }
}

/// A write whose run is no longer in the state it was decided from (decided or reverted
/// meanwhile, maybe by another instance): nothing is written.
fn stale_run() -> StoreError {
    StoreError::Stale {
        what: "runs",
        based_on: 0,
        stored: 0,
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Inserts a new run's change records; called in the write's transaction (the tenant's row
/// locked) before its contracts are written, so that an added contract's archived row is
/// still the one before.
pub(super) fn insert_changes(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    write: &RunWrite<'_>,
) -> Result<()> {
    let RunWrite::New { run, changes, .. } = write else {
        return Ok(());
    };
    if changes.is_empty() {
        return Ok(());
    }
    // An added contract takes its archived row as `previous`: the archived rows of the added
    // codes, read at once (none on a first load).
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c.change == ChangeKind::Added && c.previous.is_none())
        .map(|c| c.code.as_ref())
        .collect();
    let archived_rows = if added.is_empty() {
        Vec::new()
    } else {
        db.query(
            "SELECT code, data FROM contracts
             WHERE tenant_id = $1 AND archived AND code = ANY($2)",
            &[&tenant, &added],
        )?
    };
    let mut archived: HashMap<&str, &str> = HashMap::with_capacity(archived_rows.len());
    for row in &archived_rows {
        archived.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut sink = db.conn.copy_in(
        "COPY run_changes (tenant_id, run_id, position, code, change, fields, previous,
             last_name, first_name, group_code, group_name, site_code, site_name, search)
         FROM STDIN (FORMAT binary)",
    )?;
    let mut copy = BinaryRows::new(&mut sink);
    for (position, change) in changes.iter().enumerate() {
        let previous = match &change.previous {
            Some(previous) => Some(previous.as_ref()),
            None if change.change == ChangeKind::Added => {
                archived.get(change.code.as_ref()).copied()
            }
            None => None,
        };
        copy.row(14)?;
        copy.int8(tenant);
        copy.text(&run.id)?;
        copy.int8(count(position));
        copy.text(&change.code)?;
        copy.text(change.change.name())?;
        copy.text(&change.fields)?;
        copy.text_or_null(previous)?;
        copy.text(&change.last_name)?;
        copy.text(&change.first_name)?;
        copy.text(&change.group_code)?;
        copy.text(&change.group_name)?;
        copy.text(&change.site_code)?;
        copy.text(&change.site_name)?;
        copy.text(&change.search_text())?;
    }
    copy.end()?;
    sink.finish()?;
    Ok(())
}

/// Writes the run's row (a new run) or its decision (an approval); called in the write's
/// transaction (the tenant's row locked, so `seq` is the tenant's next) after its contracts
/// are written, with the contracts version it left if it changed any.
pub(super) fn finish_run(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    write: &RunWrite<'_>,
    version_after: Option<i64>,
) -> Result<()> {
    match *write {
        RunWrite::New {
            run,
            problems,
            payload,
            ..
        } => {
            let errors = i64::try_from(run.errors).unwrap_or(i64::MAX);
            let warnings = i64::try_from(run.warnings).unwrap_or(i64::MAX);
            db.execute(
                "INSERT INTO runs (tenant_id, run_id, seq, kind, received_at, outcome,
                     same_count, added_count, updated_count, removed_count, errors, warnings,
                     user_agent, based_on, version_after, reverts, decided_at, problems, payload)
                 VALUES ($1, $2,
                     (SELECT coalesce(max(seq), 0) + 1 FROM runs WHERE tenant_id = $1),
                     $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
                &[
                    &tenant,
                    &run.id,
                    &run.kind.name(),
                    &run.received_at,
                    &run.outcome.name(),
                    &count(run.summary.same),
                    &count(run.summary.added),
                    &count(run.summary.updated),
                    &count(run.summary.removed),
                    &errors,
                    &warnings,
                    &run.user_agent,
                    &run.based_on,
                    &version_after,
                    &run.reverts,
                    &run.decided_at,
                    &problems,
                    &payload,
                ],
            )?;
            if let Some(reverted) = &run.reverts {
                let n = db.execute(
                    "UPDATE runs SET outcome = 'reverted', decided_at = $3
                     WHERE tenant_id = $1 AND run_id = $2 AND outcome IN ('applied', 'approved')",
                    &[&tenant, reverted, &run.received_at],
                )?;
                if n == 0 {
                    return Err(stale_run());
                }
            }
            Ok(())
        }
        RunWrite::Approve { run_id, decided_at } => {
            let n = db.execute(
                "UPDATE runs SET outcome = 'approved', decided_at = $3, version_after = $4,
                     payload = NULL
                 WHERE tenant_id = $1 AND run_id = $2 AND outcome = 'held'",
                &[&tenant, &run_id, &decided_at, &version_after],
            )?;
            if n == 0 {
                return Err(stale_run());
            }
            Ok(())
        }
    }
}

fn read_run(r: &Row) -> Result<Run> {
    let kind: &str = r.try_get(1)?;
    let outcome: &str = r.try_get(3)?;
    let usize_at =
        |i: usize| -> Result<usize> { Ok(usize::try_from(r.try_get::<_, i64>(i)?).unwrap_or(0)) };
    let u64_at =
        |i: usize| -> Result<u64> { Ok(u64::try_from(r.try_get::<_, i64>(i)?).unwrap_or(0)) };
    let (Some(kind), Some(outcome)) = (RunKind::from_name(kind), RunOutcome::from_name(outcome))
    else {
        return Err(corrupt(format!(
            "run of kind {kind:?} and outcome {outcome:?}"
        )));
    };
    Ok(Run {
        id: r.try_get(0)?,
        kind,
        received_at: r.try_get(2)?,
        outcome,
        summary: Summary {
            same: usize_at(4)?,
            added: usize_at(5)?,
            updated: usize_at(6)?,
            removed: usize_at(7)?,
        },
        errors: u64_at(8)?,
        warnings: u64_at(9)?,
        user_agent: r.try_get(10)?,
        based_on: r.try_get(11)?,
        version_after: r.try_get(12)?,
        reverts: r.try_get(13)?,
        decided_at: r.try_get(14)?,
    })
}

/// One snapshot for the count and the page.
pub(super) fn runs(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    offset: usize,
    limit: usize,
) -> Result<RunPage> {
    let total: i64 = db
        .query_opt("SELECT count(*) FROM runs WHERE tenant_id = $1", &[&tenant])?
        .map_or(Ok(0), |row| row.try_get(0))?;
    let rows = db.query(
        "SELECT run_id, kind, received_at, outcome, same_count, added_count, updated_count,
             removed_count, errors, warnings, user_agent, based_on, version_after, reverts,
             decided_at
         FROM runs WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3",
        &[&tenant, &count(limit), &count(offset)],
    )?;
    Ok(RunPage {
        total: usize::try_from(total).unwrap_or(0),
        runs: rows.iter().map(read_run).collect::<Result<_>>()?,
    })
}

pub(super) fn run<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    run_id: &str,
) -> Result<Option<Run>> {
    db.query_opt(
        "SELECT run_id, kind, received_at, outcome, same_count, added_count, updated_count,
             removed_count, errors, warnings, user_agent, based_on, version_after, reverts,
             decided_at
         FROM runs WHERE tenant_id = $1 AND run_id = $2",
        &[&tenant, &run_id],
    )?
    .as_ref()
    .map(read_run)
    .transpose()
}

pub(super) fn problems<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    run_id: &str,
) -> Result<Option<String>> {
    let row = db.query_opt(
        "SELECT problems FROM runs WHERE tenant_id = $1 AND run_id = $2",
        &[&tenant, &run_id],
    )?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => None,
    })
}

pub(super) fn payload<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    run_id: &str,
) -> Result<Option<Vec<u8>>> {
    let row = db.query_opt(
        "SELECT payload FROM runs WHERE tenant_id = $1 AND run_id = $2 AND outcome = 'held'",
        &[&tenant, &run_id],
    )?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => None,
    })
}

fn read_change(r: &Row) -> Result<ChangeRecord<'static>> {
    let change: &str = r.try_get(1)?;
    let Some(change) = ChangeKind::from_name(change) else {
        return Err(corrupt(format!("change record of kind {change:?}")));
    };
    let text = |i: usize| -> Result<Cow<'static, str>> { Ok(Cow::Owned(r.try_get(i)?)) };
    Ok(ChangeRecord {
        code: text(0)?,
        change,
        fields: text(2)?,
        previous: r.try_get::<_, Option<String>>(3)?.map(Cow::Owned),
        last_name: text(4)?,
        first_name: text(5)?,
        group_code: text(6)?,
        group_name: text(7)?,
        site_code: text(8)?,
        site_name: text(9)?,
    })
}

/// One snapshot for the count and the page; the filter is a substring of the lowercased
/// search text (`strpos`, no pattern characters).
pub(super) fn changes(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    run_id: &str,
    filter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<ChangePage> {
    let filter = filter
        .map(str::to_lowercase)
        .filter(|f| !f.is_empty())
        .unwrap_or_default();
    let total: i64 = db
        .query_opt(
            "SELECT count(*) FROM run_changes WHERE tenant_id = $1 AND run_id = $2
                 AND ($3 = '' OR strpos(search, $3) > 0)",
            &[&tenant, &run_id, &filter],
        )?
        .map_or(Ok(0), |row| row.try_get(0))?;
    let rows = db.query(
        "SELECT code, change, fields, previous, last_name, first_name, group_code, group_name,
             site_code, site_name
         FROM run_changes WHERE tenant_id = $1 AND run_id = $2
             AND ($3 = '' OR strpos(search, $3) > 0)
         ORDER BY position LIMIT $4 OFFSET $5",
        &[&tenant, &run_id, &filter, &count(limit), &count(offset)],
    )?;
    Ok(ChangePage {
        total: usize::try_from(total).unwrap_or(0),
        changes: rows.iter().map(read_change).collect::<Result<_>>()?,
    })
}

pub(super) fn settle<C: GenericClient>(
    db: &mut Db<'_, C>,
    tenant: TenantId,
    run_id: &str,
    outcome: RunOutcome,
    decided_at: i64,
) -> Result<bool> {
    let n = db.execute(
        "UPDATE runs SET outcome = $3, decided_at = $4, payload = NULL
         WHERE tenant_id = $1 AND run_id = $2 AND outcome = 'held'",
        &[&tenant, &run_id, &outcome.name(), &decided_at],
    )?;
    Ok(n > 0)
}

/// The tenants a sweep over all of them visits, one at a time (the tenant directory).
fn all_tenants<C: GenericClient>(db: &mut Db<'_, C>) -> Result<Vec<TenantId>> {
    db.query("SELECT id FROM tenants ORDER BY id", &[])?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
}

pub(super) fn expire(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: Option<TenantId>,
    received_before: i64,
    decided_at: i64,
) -> Result<usize> {
    let tenants = match tenant {
        Some(tenant) => vec![tenant],
        None => all_tenants(db)?,
    };
    let mut expired = 0;
    for tenant in tenants {
        expired += db.execute(
            "UPDATE runs SET outcome = 'expired', decided_at = $3, payload = NULL
             WHERE tenant_id = $1 AND outcome = 'held' AND received_at < $2",
            &[&tenant, &received_before, &decided_at],
        )?;
    }
    Ok(usize::try_from(expired).unwrap_or(usize::MAX))
}

pub(super) fn prune(db: &mut Db<'_, Transaction<'_>>, received_before: i64) -> Result<usize> {
    let mut pruned = 0;
    for tenant in all_tenants(db)? {
        db.execute(
            "DELETE FROM run_changes c USING runs r
             WHERE c.tenant_id = $1 AND r.tenant_id = $1 AND c.run_id = r.run_id
                 AND r.received_at < $2",
            &[&tenant, &received_before],
        )?;
        pruned += db.execute(
            "DELETE FROM runs WHERE tenant_id = $1 AND received_at < $2",
            &[&tenant, &received_before],
        )?;
    }
    Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
}
