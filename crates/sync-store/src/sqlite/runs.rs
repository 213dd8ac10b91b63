//! Sync runs in the tables of `V4__runs.sql`: a run's row and its change records, written in
//! the transaction of the write they describe; the listings, the decisions on held runs,
//! expiry and retention.

use std::borrow::Cow;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sync_core::Summary;

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
/// meanwhile, maybe by another process): nothing is written.
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

/// Inserts a new run's change records; called in the write's transaction before its
/// contracts are written, so that an added contract's archived row is still the one before.
pub(super) fn insert_changes(
    tx: &Transaction<'_>,
    tenant: TenantId,
    write: &RunWrite<'_>,
) -> Result<()> {
    let RunWrite::New { run, changes, .. } = write else {
        return Ok(());
    };
    if changes.is_empty() {
        return Ok(());
    }
    // An added contract takes its archived row as `previous`: looked up only when the
    // tenant has archived contracts at all (never on a first load).
    let has_archived = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM contracts WHERE tenant_id = ?1 AND archived = 1)",
        )?
        .query_row([tenant], |r| r.get::<_, bool>(0))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO run_changes (tenant_id, run_id, position, code, change, fields, previous,
             last_name, first_name, group_code, group_name, site_code, site_name, search)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut archived = tx.prepare_cached(
        "SELECT data FROM contracts WHERE tenant_id = ?1 AND code = ?2 AND archived = 1",
    )?;
    for (position, change) in changes.iter().enumerate() {
        let looked_up: Option<String> =
            if change.change == ChangeKind::Added && change.previous.is_none() && has_archived {
                archived
                    .query_row(params![tenant, change.code.as_ref()], |r| r.get(0))
                    .optional()?
            } else {
                None
            };
        let previous = change.previous.as_deref().or(looked_up.as_deref());
        insert.execute(params![
            tenant,
            run.id,
            count(position),
            change.code.as_ref(),
            change.change.name(),
            change.fields.as_ref(),
            previous,
            change.last_name.as_ref(),
            change.first_name.as_ref(),
            change.group_code.as_ref(),
            change.group_name.as_ref(),
            change.site_code.as_ref(),
            change.site_name.as_ref(),
            change.search_text(),
        ])?;
    }
    Ok(())
}

/// Writes the run's row (a new run) or its decision (an approval); called in the write's
/// transaction after its contracts are written, with the contracts version it left if it
/// changed any.
pub(super) fn finish_run(
    tx: &Transaction<'_>,
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
            tx.prepare_cached(
                "INSERT INTO runs (tenant_id, run_id, seq, kind, received_at, outcome,
                     same_count, added_count, updated_count, removed_count, errors, warnings,
                     user_agent, based_on, version_after, reverts, decided_at, problems, payload)
                 VALUES (?1, ?2,
                     (SELECT coalesce(max(seq), 0) + 1 FROM runs WHERE tenant_id = ?1),
                     ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?
            .execute(params![
                tenant,
                run.id,
                run.kind.name(),
                run.received_at,
                run.outcome.name(),
                count(run.summary.same),
                count(run.summary.added),
                count(run.summary.updated),
                count(run.summary.removed),
                run.errors as i64,
                run.warnings as i64,
                run.user_agent,
                run.based_on,
                version_after,
                run.reverts,
                run.decided_at,
                problems,
                payload,
            ])?;
            if let Some(reverted) = &run.reverts {
                let n = tx
                    .prepare_cached(
                        "UPDATE runs SET outcome = 'reverted', decided_at = ?3
                         WHERE tenant_id = ?1 AND run_id = ?2
                             AND outcome IN ('applied', 'approved')",
                    )?
                    .execute(params![tenant, reverted, run.received_at])?;
                if n == 0 {
                    return Err(stale_run());
                }
            }
            Ok(())
        }
        RunWrite::Approve { run_id, decided_at } => {
            let n = tx
                .prepare_cached(
                    "UPDATE runs SET outcome = 'approved', decided_at = ?3, version_after = ?4,
                         payload = NULL
                     WHERE tenant_id = ?1 AND run_id = ?2 AND outcome = 'held'",
                )?
                .execute(params![tenant, run_id, decided_at, version_after])?;
            if n == 0 {
                return Err(stale_run());
            }
            Ok(())
        }
    }
}

/// The columns of a run, as [`read_run`] reads them.
const RUN_COLUMNS: &str = "run_id, kind, received_at, outcome, same_count, added_count,
    updated_count, removed_count, errors, warnings, user_agent, based_on, version_after, reverts,
    decided_at";

fn read_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Run>> {
    let kind: String = r.get(1)?;
    let outcome: String = r.get(3)?;
    let usize_at = |i: usize| -> rusqlite::Result<usize> {
        Ok(usize::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
    };
    let u64_at =
        |i: usize| -> rusqlite::Result<u64> { Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0)) };
    let (Some(kind), Some(outcome)) = (RunKind::from_name(&kind), RunOutcome::from_name(&outcome))
    else {
        return Ok(Err(corrupt(format!(
            "run of kind {kind:?} and outcome {outcome:?}"
        ))));
    };
    Ok(Ok(Run {
        id: r.get(0)?,
        kind,
        received_at: r.get(2)?,
        outcome,
        summary: Summary {
            same: usize_at(4)?,
            added: usize_at(5)?,
            updated: usize_at(6)?,
            removed: usize_at(7)?,
        },
        errors: u64_at(8)?,
        warnings: u64_at(9)?,
        user_agent: r.get(10)?,
        based_on: r.get(11)?,
        version_after: r.get(12)?,
        reverts: r.get(13)?,
        decided_at: r.get(14)?,
    }))
}

pub(super) fn runs(
    conn: &Connection,
    tenant: TenantId,
    offset: usize,
    limit: usize,
) -> Result<RunPage> {
    let tx = conn.unchecked_transaction()?;
    let total: i64 = tx
        .prepare_cached("SELECT count(*) FROM runs WHERE tenant_id = ?1")?
        .query_row([tenant], |r| r.get(0))?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![tenant, count(limit), count(offset)], read_run)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    drop(stmt);
    tx.commit()?;
    Ok(RunPage {
        total: usize::try_from(total).unwrap_or(0),
        runs: out,
    })
}

pub(super) fn run(conn: &Connection, tenant: TenantId, run_id: &str) -> Result<Option<Run>> {
    conn.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE tenant_id = ?1 AND run_id = ?2"
    ))?
    .query_row(params![tenant, run_id], read_run)
    .optional()?
    .transpose()
}

pub(super) fn problems(
    conn: &Connection,
    tenant: TenantId,
    run_id: &str,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT problems FROM runs WHERE tenant_id = ?1 AND run_id = ?2")?
        .query_row(params![tenant, run_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

pub(super) fn payload(
    conn: &Connection,
    tenant: TenantId,
    run_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT payload FROM runs WHERE tenant_id = ?1 AND run_id = ?2 AND outcome = 'held'",
        )?
        .query_row(params![tenant, run_id], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}

fn read_change(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ChangeRecord<'static>>> {
    let change: String = r.get(1)?;
    let Some(change) = ChangeKind::from_name(&change) else {
        return Ok(Err(corrupt(format!("change record of kind {change:?}"))));
    };
    let text = |i: usize| -> rusqlite::Result<Cow<'static, str>> { Ok(Cow::Owned(r.get(i)?)) };
    Ok(Ok(ChangeRecord {
        code: text(0)?,
        change,
        fields: text(2)?,
        previous: r.get::<_, Option<String>>(3)?.map(Cow::Owned),
        last_name: text(4)?,
        first_name: text(5)?,
        group_code: text(6)?,
        group_name: text(7)?,
        site_code: text(8)?,
        site_name: text(9)?,
    }))
}

pub(super) fn changes(
    conn: &Connection,
    tenant: TenantId,
    run_id: &str,
    filter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<ChangePage> {
    const COLUMNS: &str = "code, change, fields, previous, last_name, first_name, group_code,
        group_name, site_code, site_name";
    let filter = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
    // One snapshot for the count and the page.
    let tx = conn.unchecked_transaction()?;
    let (total, changes) = match &filter {
        None => {
            let total: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2",
                )?
                .query_row(params![tenant, run_id], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2
                 ORDER BY position LIMIT ?3 OFFSET ?4"
            ))?;
            let rows = stmt.query_map(
                params![tenant, run_id, count(limit), count(offset)],
                read_change,
            )?;
            (total, rows.collect::<rusqlite::Result<Vec<_>>>()?)
        }
        Some(filter) => {
            let total: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2
                         AND instr(search, ?3) > 0",
                )?
                .query_row(params![tenant, run_id, filter], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2
                     AND instr(search, ?3) > 0
                 ORDER BY position LIMIT ?4 OFFSET ?5"
            ))?;
            let rows = stmt.query_map(
                params![tenant, run_id, filter, count(limit), count(offset)],
                read_change,
            )?;
            (total, rows.collect::<rusqlite::Result<Vec<_>>>()?)
        }
    };
    tx.commit()?;
    Ok(ChangePage {
        total: usize::try_from(total).unwrap_or(0),
        changes: changes.into_iter().collect::<Result<_>>()?,
    })
}

pub(super) fn settle(
    tx: &Transaction<'_>,
    tenant: TenantId,
    run_id: &str,
    outcome: RunOutcome,
    decided_at: i64,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE runs SET outcome = ?3, decided_at = ?4, payload = NULL
             WHERE tenant_id = ?1 AND run_id = ?2 AND outcome = 'held'",
        )?
        .execute(params![tenant, run_id, outcome.name(), decided_at])?;
    Ok(n > 0)
}

pub(super) fn expire(
    tx: &Transaction<'_>,
    tenant: Option<TenantId>,
    received_before: i64,
    decided_at: i64,
) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE runs SET outcome = 'expired', decided_at = ?3, payload = NULL
             WHERE outcome = 'held' AND received_at < ?2 AND (?1 IS NULL OR tenant_id = ?1)",
        )?
        .execute(params![tenant, received_before, decided_at])?)
}

pub(super) fn prune(tx: &Transaction<'_>, received_before: i64) -> Result<usize> {
    tx.prepare_cached(
        "DELETE FROM run_changes WHERE (tenant_id, run_id) IN
             (SELECT tenant_id, run_id FROM runs WHERE received_at < ?1)",
    )?
    .execute([received_before])?;
    Ok(tx
        .prepare_cached("DELETE FROM runs WHERE received_at < ?1")?
        .execute([received_before])?)
}
