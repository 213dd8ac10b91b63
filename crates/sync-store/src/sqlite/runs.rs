//! Sync runs in the tables of `V4__runs.sql`: a run's row and its change records, written in
//! the transaction of the write they describe; the listings, the decisions on held runs,
//! expiry and retention.

use std::borrow::Cow;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sync_core::Summary;

use crate::cycle_rows::corrupt;
use crate::runs::{count, stale_run};
use crate::{
    encode_change_chunks, page_of_chunks, ChangeKind, ChangePage, ChangeRecord, EncodedChunk,
    Result, Run, RunKind, RunOutcome, RunPage, RunWrite, TenantId, CHANGE_CHUNK,
};

/// Inserts a new run's change records, in chunks; called in the write's transaction before
/// its contracts are written, so that an added contract's archived row is still the one before.
/// `encoded` is [`encode_change_chunks`] of the records if the caller made it before the
/// transaction (on every core, beside its other work); it is used unless an added record
/// takes an archived row, which only the transaction reads.
pub(super) fn insert_changes(
    tx: &Transaction<'_>,
    tenant: TenantId,
    write: &RunWrite<'_>,
    encoded: Option<Vec<EncodedChunk>>,
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
    let mut filled: Vec<ChangeRecord<'_>> = Vec::new();
    let lookups = has_archived
        && changes
            .iter()
            .any(|c| c.change == ChangeKind::Added && c.previous.is_none());
    let records: &[ChangeRecord<'_>] = if lookups {
        let mut archived = tx.prepare_cached(
            "SELECT data FROM contracts WHERE tenant_id = ?1 AND code = ?2 AND archived = 1",
        )?;
        filled.reserve(changes.len());
        for change in changes.iter() {
            let mut change = change.clone();
            if change.change == ChangeKind::Added && change.previous.is_none() {
                change.previous = archived
                    .query_row(params![tenant, change.code.as_ref()], |r| {
                        r.get::<_, String>(0)
                    })
                    .optional()?
                    .map(Cow::Owned);
            }
            filled.push(change);
        }
        &filled
    } else {
        changes
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO run_changes (tenant_id, run_id, chunk, records, data)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let encoded = match encoded {
        Some(encoded) if !lookups => encoded,
        _ => encode_change_chunks(records),
    };
    for (chunk, count, data) in encoded {
        insert.execute(params![tenant, run.id, chunk, count, data])?;
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

pub(super) fn changes(
    conn: &Connection,
    tenant: TenantId,
    run_id: &str,
    filter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<ChangePage> {
    // One snapshot for the count and the chunks.
    let tx = conn.unchecked_transaction()?;
    let total: i64 = tx
        .prepare_cached(
            "SELECT coalesce(sum(records), 0) FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2",
        )?
        .query_row(params![tenant, run_id], |r| r.get(0))?;
    let total = usize::try_from(total).unwrap_or(0);
    let filtered = filter.is_some_and(|f| !f.is_empty());
    // Without a filter, only the chunks that hold the page.
    let (first, last) = if filtered {
        (0, i64::MAX)
    } else if limit == 0 || offset >= total {
        return Ok(ChangePage {
            total,
            changes: Vec::new(),
        });
    } else {
        (
            count(offset / CHANGE_CHUNK),
            count(offset.saturating_add(limit - 1) / CHANGE_CHUNK),
        )
    };
    let mut stmt = tx.prepare_cached(
        "SELECT chunk, data FROM run_changes WHERE tenant_id = ?1 AND run_id = ?2
             AND chunk BETWEEN ?3 AND ?4
         ORDER BY chunk",
    )?;
    let rows = stmt.query_map(params![tenant, run_id, first, last], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let chunks = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    tx.commit()?;
    page_of_chunks(
        chunks.iter().map(|(chunk, data)| {
            (
                usize::try_from(*chunk).unwrap_or(0) * CHANGE_CHUNK,
                data.as_str(),
            )
        }),
        total,
        filter,
        offset,
        limit,
    )
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
