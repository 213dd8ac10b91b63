//! Sync runs in the tables of `V4__runs.sql` (PostgreSQL): a run's row and its change records
//! (in chunks, one statement for all of them), written in the transaction of the write they
//! describe; the listings, the decisions on held runs, expiry and retention, each statement of
//! one tenant.

use std::borrow::Cow;
use std::collections::HashMap;

use postgres::{GenericClient, Row, Transaction};
use sync_core::Summary;

use super::Db;
use crate::cycle_rows::corrupt;
use crate::runs::{count, stale_run};
use crate::{
    encode_change_chunk, page_of_chunks, ChangeKind, ChangePage, ChangeRecord, EncodedChunk,
    Result, Run, RunKind, RunOutcome, RunPage, RunWrite, TenantId, CHANGE_CHUNK,
};

/// Inserts a new run's change records, in chunks (one statement for all of them); called in
/// the write's transaction (the tenant's row locked) before its contracts are written, so that
/// an added contract's archived row is still the one before. `encoded` is
/// [`encode_change_chunks`] of the records if the caller made it before the transaction; it is
/// used unless an added record takes an archived row, which only the transaction reads.
pub(super) fn insert_changes(
    db: &mut Db<'_, Transaction<'_>>,
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
    // An added contract takes its archived row as `previous`: the archived rows of the added
    // codes, read at once, when the tenant has archived contracts at all (never on a first
    // load).
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c.change == ChangeKind::Added && c.previous.is_none())
        .map(|c| c.code.as_ref())
        .collect();
    let has_archived = !added.is_empty()
        && db
            .query_opt(
                "SELECT EXISTS (SELECT 1 FROM contracts WHERE tenant_id = $1 AND archived)",
                &[&tenant],
            )?
            .map_or(Ok(false), |row| row.try_get::<_, bool>(0))?;
    let archived_rows = if !has_archived {
        Vec::new()
    } else {
        db.query(
            "SELECT code, data FROM contracts
             WHERE tenant_id = $1 AND archived AND code = ANY($2)",
            &[&tenant, &added],
        )?
    };
    let encoded = match encoded {
        Some(encoded) if archived_rows.is_empty() => encoded,
        _ if archived_rows.is_empty() => encode_chunks(changes),
        _ => {
            let mut archived: HashMap<&str, &str> = HashMap::with_capacity(archived_rows.len());
            for row in &archived_rows {
                archived.insert(row.try_get(0)?, row.try_get(1)?);
            }
            let filled: Vec<ChangeRecord<'_>> = changes
                .iter()
                .map(|change| {
                    let mut change = change.clone();
                    if change.change == ChangeKind::Added && change.previous.is_none() {
                        change.previous = archived
                            .get(change.code.as_ref())
                            .map(|&previous| Cow::Borrowed(previous));
                    }
                    change
                })
                .collect();
            encode_chunks(&filled)
        }
    };
    let (mut chunks, mut counts, mut texts) = (Vec::new(), Vec::new(), Vec::new());
    for (chunk, records, text) in &encoded {
        chunks.push(*chunk);
        counts.push(*records);
        texts.push(text.as_str());
    }
    db.execute(
        "INSERT INTO run_changes (tenant_id, run_id, chunk, records, data)
         SELECT $1, $2, chunk, records, data
         FROM unnest($3::BIGINT[], $4::BIGINT[], $5::TEXT[]) AS c (chunk, records, data)",
        &[&tenant, &run.id, &chunks, &counts, &texts],
    )?;
    Ok(())
}

/// The chunks of `records`, encoded on this thread: the caller holds a connection, and no
/// code holding one runs rayon (see the pool).
fn encode_chunks(records: &[ChangeRecord<'_>]) -> Vec<EncodedChunk> {
    records
        .chunks(CHANGE_CHUNK)
        .enumerate()
        .map(|(i, chunk)| (count(i), count(chunk.len()), encode_change_chunk(chunk)))
        .collect()
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

/// The stored chunks a page of a run's change records needs, read in one snapshot with the
/// total: with a filter, every chunk of the run; without, only those holding the page. The
/// page is cut by [`page_of_chunks`] once the connection is given back.
pub(super) fn change_chunks(
    db: &mut Db<'_, Transaction<'_>>,
    tenant: TenantId,
    run_id: &str,
    filtered: bool,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<(usize, String)>)> {
    let total: i64 = db
        .query_opt(
            "SELECT coalesce(sum(records), 0)::BIGINT FROM run_changes
             WHERE tenant_id = $1 AND run_id = $2",
            &[&tenant, &run_id],
        )?
        .map_or(Ok(0), |row| row.try_get(0))?;
    let total = usize::try_from(total).unwrap_or(0);
    let (first, last) = if filtered {
        (0, i64::MAX)
    } else if limit == 0 || offset >= total {
        return Ok((total, Vec::new()));
    } else {
        (
            count(offset / CHANGE_CHUNK),
            count(offset.saturating_add(limit - 1) / CHANGE_CHUNK),
        )
    };
    let rows = db.query(
        "SELECT chunk, data FROM run_changes WHERE tenant_id = $1 AND run_id = $2
             AND chunk BETWEEN $3 AND $4
         ORDER BY chunk",
        &[&tenant, &run_id, &first, &last],
    )?;
    let chunks = rows
        .iter()
        .map(|row| {
            let chunk: i64 = row.try_get(0)?;
            let first = usize::try_from(chunk).unwrap_or(0) * CHANGE_CHUNK;
            Ok((first, row.try_get(1)?))
        })
        .collect::<Result<_>>()?;
    Ok((total, chunks))
}

/// A page of a run's change records from its chunks ([`change_chunks`]).
pub(super) fn page(
    total: usize,
    chunks: &[(usize, String)],
    filter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<ChangePage> {
    page_of_chunks(
        chunks.iter().map(|(first, text)| (*first, text.as_str())),
        total,
        filter,
        offset,
        limit,
    )
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
pub(super) fn all_tenants<C: GenericClient>(db: &mut Db<'_, C>) -> Result<Vec<TenantId>> {
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
