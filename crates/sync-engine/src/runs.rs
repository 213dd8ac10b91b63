//! Sync runs (DESIGN 9): what each run records, reading runs back, the decisions on a held
//! run (approve, reject, expiry), the revert of the latest change, and the periodic upkeep
//! (expiry and retention).
//!
//! A held run is approved as if it had been sent with `allowMassRemoval=true`, only while the
//! tenant's contracts version is still the one it was computed at (else
//! [`EngineError::StaleHold`]): the sync is then the same sync, the same diff. A revert is a
//! run of kind `revert` that restores the contract set to what it was before the latest run
//! that changed it: its added contracts archived (one that came back from the archive returns
//! to its archived row), its updated and removed ones back to their previous wire JSON. It is
//! itself a change, so the latest revert can be reverted in turn.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use sync_core::rules::guard_mass_removal;
use sync_core::{Change, Contract, Diff, Field, Payload, Summary};
use sync_store::{
    ChangeKind, ChangePage, ChangeRecord, Run, RunKind, RunOutcome, RunPage, RunWrite, SyncWrite,
    TenantId,
};

use crate::contracts::{changes, new_run_id, Applied, ChangesInput, Refusal, SyncInput};
use crate::error::EngineError;
use crate::objects::ContractObjects;
use crate::{Engine, SyncOptions, SyncOutcome};

/// At most this many problems are recorded with a refused run (the run's `errors` and
/// `warnings` count them all): enough to fix a file, bounded in the history.
pub const MAX_RECORDED_PROBLEMS: usize = 1000;

/// The run a sync attempt records.
#[derive(Debug, Clone)]
pub(crate) enum Recording {
    /// A new run.
    New {
        id: String,
        kind: RunKind,
        received_at: i64,
        user_agent: Option<String>,
    },
    /// The approval of a held run.
    Approve { held: Run },
}

impl Recording {
    pub(crate) fn id(&self) -> &str {
        match self {
            Recording::New { id, .. } => id,
            Recording::Approve { held } => &held.id,
        }
    }

    /// The run as recorded with this outcome and summary.
    pub(crate) fn run(&self, outcome: RunOutcome, summary: Summary, based_on: i64) -> Run {
        match self {
            Recording::New {
                id,
                kind,
                received_at,
                user_agent,
            } => Run {
                id: id.clone(),
                kind: *kind,
                received_at: *received_at,
                outcome,
                summary,
                errors: 0,
                warnings: 0,
                user_agent: user_agent.clone(),
                based_on,
                version_after: None,
                reverts: None,
                decided_at: None,
            },
            Recording::Approve { held } => Run {
                outcome: RunOutcome::Approved,
                ..held.clone()
            },
        }
    }
}

fn json_error(e: serde_json::Error) -> EngineError {
    EngineError::Store(e.into())
}

fn text<'c>(contract: &'c Contract<'_>, field: Field) -> std::borrow::Cow<'c, str> {
    contract.trimmed(field).into()
}

/// The change records of a diff, in the order of [`Applied::changes`]: added and updated
/// contracts in the order sent, then removed ones in the stored order. Made on every core.
pub(crate) fn change_records<'d>(
    diff: &Diff<'d, '_>,
) -> Result<Vec<ChangeRecord<'d>>, EngineError> {
    enum Item {
        Added(usize),
        Updated(usize),
        Removed(usize),
    }
    let mut sent: Vec<(usize, Item)> = diff
        .added
        .iter()
        .map(|&i| (i, Item::Added(i)))
        .chain(
            diff.updated
                .iter()
                .enumerate()
                .map(|(u, update)| (update.current, Item::Updated(u))),
        )
        .collect();
    sent.par_sort_unstable_by_key(|(i, _)| *i);
    let items: Vec<Item> = sent
        .into_iter()
        .map(|(_, item)| item)
        .chain(diff.removed.iter().map(|&i| Item::Removed(i)))
        .collect();
    let record = |contract: &'d Contract<'_>,
                  change: ChangeKind,
                  fields: String,
                  previous: Option<&'d Contract<'_>>| {
        let previous = previous.map(|p| {
            let mut json = Vec::with_capacity(1024);
            p.write_json(&mut json);
            String::from_utf8(json).unwrap_or_default().into()
        });
        ChangeRecord {
            code: contract.key().into(),
            change,
            fields: if fields.is_empty() {
                "[]".into()
            } else {
                fields.into()
            },
            previous,
            last_name: text(contract, Field::NomApprenant),
            first_name: text(contract, Field::PrenomApprenant),
            group_code: text(contract, Field::CodeGroupe),
            group_name: text(contract, Field::NomGroupe),
            site_code: text(contract, Field::CodeSite),
            site_name: text(contract, Field::NomSite),
        }
    };
    items
        .par_iter()
        .with_min_len(256)
        .map(|item| match *item {
            Item::Added(i) => Ok(record(
                &diff.current[i],
                ChangeKind::Added,
                String::new(),
                None,
            )),
            Item::Updated(u) => {
                let update = &diff.updated[u];
                let (previous, current) = (
                    &diff.previous[update.previous],
                    &diff.current[update.current],
                );
                let fields: Vec<Change<'_>> = update
                    .fields
                    .iter()
                    .map(|field| Change {
                        field,
                        old: previous.get(field),
                        new: current.get(field),
                    })
                    .collect();
                let fields = serde_json::to_string(&fields).map_err(json_error)?;
                Ok(record(current, ChangeKind::Updated, fields, Some(previous)))
            }
            Item::Removed(i) => {
                let previous = &diff.previous[i];
                Ok(record(
                    previous,
                    ChangeKind::Removed,
                    String::new(),
                    Some(previous),
                ))
            }
        })
        .collect()
}

/// A delta as a held run keeps it: `{"changes": {"added", "updated", "removed"}}`, its lists
/// as sent, byte for byte.
#[derive(Deserialize)]
struct HeldChanges<'a> {
    #[serde(borrow)]
    changes: HeldLists<'a>,
}

#[derive(Deserialize)]
struct HeldLists<'a> {
    #[serde(borrow)]
    added: Option<&'a RawValue>,
    #[serde(borrow)]
    updated: Option<&'a RawValue>,
    removed: Vec<String>,
}

/// The payload a held run keeps: a full sync's body as received; a delta's lists as received,
/// in the body's shape.
pub(crate) fn held_payload(input: &SyncInput<'_>) -> Result<Vec<u8>, EngineError> {
    match input {
        SyncInput::Full(bytes) => Ok(bytes.to_vec()),
        SyncInput::Changes(changes) => {
            let list = |list: Option<&[u8]>| list.unwrap_or(b"null").to_vec();
            let mut out = br#"{"changes":{"added":"#.to_vec();
            out.extend(list(changes.added));
            out.extend(br#","updated":"#);
            out.extend(list(changes.updated));
            out.extend(br#","removed":"#);
            out.extend(serde_json::to_vec(&changes.removed).map_err(json_error)?);
            out.extend(b"}}");
            Ok(out)
        }
    }
}

/// The input of a held run, read back from its payload.
fn held_input(kind: RunKind, payload: &[u8]) -> Result<SyncInput<'_>, EngineError> {
    match kind {
        RunKind::Changes => {
            let held: HeldChanges<'_> = serde_json::from_slice(payload).map_err(json_error)?;
            fn list(raw: Option<&RawValue>) -> Option<&[u8]> {
                raw.map(|raw| raw.get().as_bytes())
                    .filter(|raw| *raw != b"null")
            }
            Ok(SyncInput::Changes(ChangesInput {
                added: list(held.changes.added),
                updated: list(held.changes.updated),
                removed: held.changes.removed,
            }))
        }
        _ => Ok(SyncInput::Full(payload)),
    }
}

/// The problems of a refused run as the 422 lists them (the delta's first), at most
/// [`MAX_RECORDED_PROBLEMS`], a JSON array.
pub(crate) fn problems_json(refusal: &Refusal) -> Result<String, EngineError> {
    let mut values = Vec::new();
    for problem in refusal.delta_problems.iter().take(MAX_RECORDED_PROBLEMS) {
        values.push(serde_json::to_value(problem).map_err(json_error)?);
    }
    for problem in refusal
        .report
        .problems
        .iter()
        .take(MAX_RECORDED_PROBLEMS - values.len())
    {
        values.push(serde_json::to_value(problem).map_err(json_error)?);
    }
    serde_json::to_string(&values).map_err(json_error)
}

/// What the periodic upkeep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upkeep {
    /// Held runs expired.
    pub expired: usize,
    /// Runs pruned.
    pub pruned: usize,
}

impl Engine {
    /// A page of the tenant's runs, newest first. Held runs past their time are expired
    /// first, so that none is listed held once it cannot be approved.
    pub fn runs(
        &self,
        tenant: TenantId,
        offset: usize,
        limit: usize,
    ) -> Result<RunPage, EngineError> {
        let now = self.now_ms();
        let page = self.store.runs(tenant, offset, limit)?;
        let due = page.runs.iter().any(|run| {
            run.outcome == RunOutcome::Held && self.options.hold_expired(run.received_at, now)
        });
        if !due {
            return Ok(page);
        }
        let before = self.options.holds_received_before(now);
        self.store.expire_runs(Some(tenant), before, now)?;
        Ok(self.store.runs(tenant, offset, limit)?)
    }

    /// The tenant's run of this id ([`EngineError::RunNotFound`] if none, or another
    /// tenant's); a held run past its time is expired first.
    pub fn run(&self, tenant: TenantId, run_id: &str) -> Result<Run, EngineError> {
        let run = self
            .store
            .run(tenant, run_id)?
            .ok_or_else(|| EngineError::RunNotFound(run_id.to_owned()))?;
        let now = self.now_ms();
        if run.outcome == RunOutcome::Held && self.options.hold_expired(run.received_at, now) {
            self.store
                .settle_run(tenant, run_id, RunOutcome::Expired, now)?;
            return self
                .store
                .run(tenant, run_id)?
                .ok_or_else(|| EngineError::RunNotFound(run_id.to_owned()));
        }
        Ok(run)
    }

    /// A page of a run's change records, in order; with `filter`, those whose `codeContrat`
    /// or apprentice names contain it, case-insensitively. Each record's `fields` is JSON
    /// text, an array of `{"field", "old", "new"}`.
    pub fn run_changes(
        &self,
        tenant: TenantId,
        run_id: &str,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ChangePage, EngineError> {
        self.run(tenant, run_id)?;
        Ok(self
            .store
            .run_changes(tenant, run_id, filter, offset, limit)?)
    }

    /// A refused run's problems as the 422 listed them (a JSON array, at most
    /// [`MAX_RECORDED_PROBLEMS`]); `None` for any other run.
    pub fn run_problems(
        &self,
        tenant: TenantId,
        run_id: &str,
    ) -> Result<Option<String>, EngineError> {
        Ok(self.store.run_problems(tenant, run_id)?)
    }

    /// The tenant's run, held and not past its time: else [`EngineError::RunNotFound`] or
    /// [`EngineError::NotHeld`] (a held run past its time is expired on the way).
    fn held_run(&self, tenant: TenantId, run_id: &str) -> Result<Run, EngineError> {
        let run = self.run(tenant, run_id)?;
        if run.outcome != RunOutcome::Held {
            return Err(EngineError::NotHeld {
                run_id: run.id,
                outcome: run.outcome,
            });
        }
        Ok(run)
    }

    /// Approves a held run: applies its payload as if sent with `allowMassRemoval=true`,
    /// provided the tenant's contracts have not changed since it was received (else
    /// [`EngineError::StaleHold`], and it stays held); answers like a sync, and the run's
    /// outcome becomes `approved`.
    pub fn approve(&self, tenant: TenantId, run_id: &str) -> Result<SyncOutcome, EngineError> {
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| {
            let held = self.held_run(tenant, run_id)?;
            let payload =
                self.store
                    .run_payload(tenant, run_id)?
                    .ok_or_else(|| EngineError::NotHeld {
                        run_id: run_id.to_owned(),
                        outcome: held.outcome,
                    })?;
            let input = held_input(held.kind, &payload)?;
            let options = SyncOptions {
                allow_mass_removal: true,
                user_agent: None,
            };
            self.sync_once(tenant, input, &options, &Recording::Approve { held })
        })
    }

    /// Rejects a held run: nothing is written, its payload is dropped, its outcome becomes
    /// `rejected`.
    pub fn reject(&self, tenant: TenantId, run_id: &str) -> Result<Run, EngineError> {
        let _turn = self.locks.lock(tenant);
        let held = self.held_run(tenant, run_id)?;
        if !self
            .store
            .settle_run(tenant, run_id, RunOutcome::Rejected, self.now_ms())?
        {
            // Decided meanwhile by another process.
            let now = self.run(tenant, run_id)?;
            return Err(EngineError::NotHeld {
                run_id: held.id,
                outcome: now.outcome,
            });
        }
        self.run(tenant, run_id)
    }

    /// Reverts the tenant's latest run that changed its contracts (applied, approved, or a
    /// revert): restores the contract set to what it was just before, in one transaction,
    /// as a new run of kind `revert`; the reverted run's outcome becomes `reverted`. Any
    /// other run is [`EngineError::NotLatest`]. The mass-removal guard applies
    /// ([`SyncOptions::allow_mass_removal`]): a guarded revert is
    /// [`EngineError::RevertGuarded`], nothing recorded.
    pub fn revert(
        &self,
        tenant: TenantId,
        run_id: &str,
        options: SyncOptions,
    ) -> Result<Applied, EngineError> {
        let recording = Recording::New {
            id: new_run_id()?,
            kind: RunKind::Revert,
            received_at: self.now_ms(),
            user_agent: options.user_agent.clone(),
        };
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| self.revert_once(tenant, run_id, &options, &recording))
    }

    fn revert_once(
        &self,
        tenant: TenantId,
        run_id: &str,
        options: &SyncOptions,
        recording: &Recording,
    ) -> Result<Applied, EngineError> {
        let store = &*self.store;
        let run = self.run(tenant, run_id)?;
        let based_on = store.contracts_version(tenant)?;
        let not_latest = |reason: &str| EngineError::NotLatest {
            run_id: run_id.to_owned(),
            reason: reason.to_owned(),
        };
        if run.kind == RunKind::Delete {
            return Err(not_latest(
                "a sandbox delete cannot be reverted: its contracts are deleted, not archived",
            ));
        }
        if run.version_after.is_none() {
            return Err(not_latest(&format!(
                "it changed no contract (outcome {})",
                run.outcome
            )));
        }
        if run.version_after != Some(based_on) {
            return Err(not_latest("the tenant's contracts changed since; only the latest run that changed them can be reverted"));
        }
        let active_set = store.active_set(tenant)?;
        let active = active_set.contracts();
        let records = store
            .run_changes(tenant, run_id, None, 0, usize::MAX)?
            .changes;
        // Every previous version, parsed from one array.
        let mut previous_json = Vec::with_capacity(1 << 16);
        let mut previous_at: HashMap<&str, usize> = HashMap::new();
        for record in &records {
            if let Some(previous) = &record.previous {
                previous_json.push(if previous_json.is_empty() { b'[' } else { b',' });
                previous_json.extend_from_slice(previous.as_bytes());
                previous_at.insert(record.code.as_ref(), previous_at.len());
            }
        }
        if previous_json.is_empty() {
            previous_json.push(b'[');
        }
        previous_json.push(b']');
        let previous = sync_core::parse(&previous_json).map_err(|e| {
            EngineError::Store(sync_store::StoreError::Corrupt {
                source: Box::new(e),
            })
        })?;
        let previous_of = |code: &str| previous_at.get(code).map(|&i| &previous.contracts[i]);
        let added: HashSet<&str> = records
            .iter()
            .filter(|r| r.change == ChangeKind::Added)
            .map(|r| r.code.as_ref())
            .collect();
        // The set before the run: the active set without its added contracts, its updated
        // and removed ones in their previous versions.
        let mut target: Vec<Contract<'_>> = active
            .par_iter()
            .filter(|c| !added.contains(c.key()))
            .map(|c| match previous_of(c.key()) {
                Some(before) => before.clone(),
                None => c.clone(),
            })
            .collect();
        target.extend(
            records
                .iter()
                .filter(|r| r.change == ChangeKind::Removed)
                .filter_map(|r| previous_of(&r.code).cloned()),
        );
        target.par_sort_by(|a, b| a.key().cmp(b.key()));
        let restore_archived: Vec<&Contract<'_>> = records
            .iter()
            .filter(|r| r.change == ChangeKind::Added)
            .filter_map(|r| previous_of(&r.code))
            .collect();
        let target = Payload::from_contracts(target);
        let diff = sync_core::diff(active, &target);
        if !options.allow_mass_removal {
            guard_mass_removal(active.len(), diff.removed.len(), target.contracts.len())
                .map_err(EngineError::RevertGuarded)?;
        }
        let contracts = ContractObjects::new(&target.contracts);
        let (upsert, upsert_json) = diff
            .added
            .iter()
            .copied()
            .chain(diff.updated.iter().map(|u| u.current))
            .map(|i| (&target.contracts[i], contracts.get(i)))
            .unzip();
        let summary = diff.summary();
        let new_records = change_records(&diff)?;
        let mut revert = recording.run(RunOutcome::Applied, summary, based_on);
        revert.reverts = Some(run.id.clone());
        let write = SyncWrite {
            upsert,
            upsert_json,
            archive: diff.removed_contracts().map(Contract::key).collect(),
            restore_archived,
            based_on: Some(based_on),
            run: Some(RunWrite::New {
                run: &revert,
                changes: &new_records,
                problems: None,
                payload: None,
            }),
        };
        let (written, changes) =
            rayon::join(|| store.apply_sync(tenant, &write), || changes(&diff));
        written?;
        tracing::info!(tenant, run = %revert.id, reverted = %run.id, "run reverted");
        Ok(Applied {
            run_id: revert.id,
            summary,
            warnings: Vec::new(),
            contracts,
            changes,
        })
    }

    /// The periodic upkeep of every tenant's runs: held runs past `hold_for` expire, runs
    /// older than `keep_runs_for` are pruned with their change records (contracts never).
    pub fn upkeep(&self) -> Result<Upkeep, EngineError> {
        let now = self.now_ms();
        let expired = self
            .store
            .expire_runs(None, self.options.holds_received_before(now), now)?;
        let pruned = self
            .store
            .prune_runs(self.options.runs_received_before(now))?;
        if expired > 0 || pruned > 0 {
            tracing::info!(expired, pruned, "run upkeep");
        }
        Ok(Upkeep { expired, pruned })
    }
}
