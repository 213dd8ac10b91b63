//! The contract use cases: a full or delta sync (parse, merge a delta, check against the
//! stored accounts, diff, the mass-removal guard, write), its dry run, the sandbox delete and
//! the session models.

use serde::Serialize;
use sync_core::rules::{
    check_session_models, guard_mass_removal, merge_changes, ChangeProblem, Changes, MassRemoval,
    SessionModel,
};
use sync_core::{Contract, Diff, Field, Payload, Problem, Report, Summary};
pub use sync_store::ChangeKind;
use sync_store::{RunKind, RunOutcome, RunWrite, SyncWrite, Tenant, TenantId};

use crate::error::EngineError;
use crate::objects::ContractObjects;
use crate::runs::{change_records, held_payload, problems_json, Recording};
use crate::Engine;

/// A new run id, or the error of a system without randomness.
pub(crate) fn new_run_id() -> Result<String, EngineError> {
    sync_store::new_run_id().map_err(EngineError::NoRandomness)
}

/// What a sync is given.
#[derive(Debug, Clone)]
pub enum SyncInput<'b> {
    /// The whole active set: the bytes of a bare array or `{"contrats": [...]}`.
    Full(&'b [u8]),
    /// A delta merged into the active set.
    Changes(ChangesInput<'b>),
}

/// A delta (`POST /api/sync/v2/contrats/changes`), its lists not parsed yet.
#[derive(Debug, Clone, Default)]
pub struct ChangesInput<'b> {
    /// The JSON array of new contracts, if any.
    pub added: Option<&'b [u8]>,
    /// The JSON array of the new versions of active contracts, if any.
    pub updated: Option<&'b [u8]>,
    /// `codeContrat` of active contracts to archive.
    pub removed: Vec<String>,
}

/// How to apply a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Apply even a sync that archives more than the guard allows (`?allowMassRemoval=true`).
    pub allow_mass_removal: bool,
    /// Who sent it (an HTTP `User-Agent`), recorded with the run.
    pub user_agent: Option<String>,
}

/// How a sync ended. Each is a run, recorded with its id.
#[derive(Debug)]
pub enum SyncOutcome {
    /// Written in one transaction, with its run.
    Applied(Applied),
    /// Refused by validation: nothing was changed but the run recorded.
    Refused(Refusal),
    /// Stopped by the mass-removal guard: nothing was changed; the run is held, with its
    /// payload, for a person to approve or reject.
    Guarded(Held),
}

/// A sync stopped by the mass-removal guard and held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The held run.
    pub run_id: String,
    /// What the guard found.
    pub guard: MassRemoval,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (held as run {})", self.guard, self.run_id)
    }
}

/// A sync written to the store.
#[derive(Debug)]
pub struct Applied {
    /// The run: a new one, the held run approved, or a revert.
    pub run_id: String,
    /// The four counts.
    pub summary: Summary,
    /// The warnings of the sent set (`unknown_field`, `user_name_mismatch`).
    pub warnings: Vec<Problem>,
    /// The active set after the sync, in the order sent: each contract's wire JSON.
    pub contracts: ContractObjects,
    /// What changed, contract by contract: added and updated ones in the order sent, then
    /// removed ones in the stored order.
    pub changes: Vec<ContractChange>,
}

/// How one contract changed in a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractChange {
    /// The contract's `codeContrat`.
    #[serde(rename = "codeContrat")]
    pub code: String,
    /// Added, updated or removed (archived).
    pub change: ChangeKind,
    /// The changed fields of an update; empty otherwise.
    pub fields: Vec<FieldChange>,
}

/// One changed field, the values as sent (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field; serialized as its wire name.
    #[serde(serialize_with = "wire_name")]
    pub field: Field,
    /// The value before.
    pub old: Option<String>,
    /// The value sent.
    pub new: Option<String>,
}

fn wire_name<S: serde::Serializer>(field: &Field, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(field.name())
}

/// A sync refused by validation: every problem of the delta, then every problem of the set.
#[derive(Debug, Clone, Default)]
pub struct Refusal {
    /// The refused run (`None` for a dry run, which is not a run).
    pub run_id: Option<String>,
    /// The problems of a delta's lists (`already_active`, `unknown_contract`, ...), if any.
    pub delta_problems: Vec<ChangeProblem>,
    /// Every problem of the set to sync, warnings included.
    pub report: Report,
}

impl Refusal {
    /// The number of errors (warnings left out).
    pub fn errors(&self) -> usize {
        self.report.errors().count() + self.delta_problems.iter().filter(|p| p.is_error()).count()
    }

    /// The number of warnings.
    pub fn warnings(&self) -> usize {
        self.report.problems.len() + self.delta_problems.len() - self.errors()
    }
}

/// How a dry run ended.
#[derive(Debug)]
pub enum PreviewOutcome<T> {
    /// Checked and compared: what the caller made of the diff.
    Compared(T),
    /// Refused by validation.
    Refused(Refusal),
}

/// The set to sync, parsed (borrowing from the input) and merged.
struct Parsed<'b> {
    payload: Payload<'b>,
    delta_problems: Vec<ChangeProblem>,
}

fn parse_list<'b>(bytes: Option<&'b [u8]>, what: &'static str) -> Result<Payload<'b>, EngineError> {
    match bytes {
        None => Ok(Payload::default()),
        Some(bytes) => {
            sync_core::parse(bytes).map_err(|source| EngineError::InvalidJson { what, source })
        }
    }
}

fn parse<'b>(active: &[Contract<'b>], input: SyncInput<'b>) -> Result<Parsed<'b>, EngineError> {
    match input {
        SyncInput::Full(bytes) => Ok(Parsed {
            payload: parse_list(Some(bytes), "the contracts")?,
            delta_problems: Vec::new(),
        }),
        SyncInput::Changes(changes) => {
            let changes = Changes {
                added: parse_list(changes.added, "changes.added")?,
                updated: parse_list(changes.updated, "changes.updated")?,
                removed: changes.removed,
            };
            let merged = merge_changes(active, changes);
            Ok(Parsed {
                payload: Payload::from_contracts(merged.contracts),
                delta_problems: merged.problems,
            })
        }
    }
}

/// The changes of a diff, owned: added and updated contracts in the order sent, then the
/// removed ones in the stored order.
pub(crate) fn changes(diff: &Diff<'_, '_>) -> Vec<ContractChange> {
    let mut changes =
        Vec::with_capacity(diff.added.len() + diff.updated.len() + diff.removed.len());
    let added = diff.added.iter().map(|&i| (i, None));
    let updated = diff
        .updated
        .iter()
        .zip(diff.updates())
        .map(|(u, update)| (u.current, Some(update)));
    let mut sent: Vec<_> = added.chain(updated).collect();
    sent.sort_unstable_by_key(|(i, _)| *i);
    for (i, update) in sent {
        changes.push(match update {
            None => ContractChange {
                code: diff.current[i].key().to_owned(),
                change: ChangeKind::Added,
                fields: Vec::new(),
            },
            Some(update) => ContractChange {
                code: update.key.to_owned(),
                change: ChangeKind::Updated,
                fields: update
                    .changes()
                    .map(|c| FieldChange {
                        field: c.field,
                        old: c.old.map(str::to_owned),
                        new: c.new.map(str::to_owned),
                    })
                    .collect(),
            },
        });
    }
    changes.extend(diff.removed_contracts().map(|c| ContractChange {
        code: c.key().to_owned(),
        change: ChangeKind::Removed,
        fields: Vec::new(),
    }));
    changes
}

impl Engine {
    /// Syncs a tenant's active set: parses the input (merging a delta into the active set),
    /// validates the set against itself and the tenant's stored accounts (archived ones
    /// included), diffs it with the active set, applies the mass-removal guard and writes the
    /// diff in one transaction. Two syncs of one tenant never interleave: in one engine they
    /// take turns; across processes the write is based on the contracts version read before
    /// the active set, and a stale one is recomputed from a fresh read (at most
    /// [`ATTEMPTS`](crate::ATTEMPTS) times, then [`EngineError::Conflict`]).
    ///
    /// Input that is not JSON is an error; a set with problems, or one the guard stops, is an
    /// outcome that changed nothing.
    pub fn sync(
        &self,
        tenant: TenantId,
        input: SyncInput<'_>,
        options: SyncOptions,
    ) -> Result<SyncOutcome, EngineError> {
        let kind = match input {
            SyncInput::Full(_) => RunKind::Full,
            SyncInput::Changes(_) => RunKind::Changes,
        };
        let recording = Recording::New {
            id: new_run_id()?,
            kind,
            received_at: self.now_ms(),
            user_agent: options.user_agent.clone(),
        };
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| self.sync_once(tenant, input.clone(), &options, &recording))
    }

    /// One attempt of a sync (or of an approval), the tenant's turn held.
    pub(crate) fn sync_once(
        &self,
        tenant: TenantId,
        input: SyncInput<'_>,
        options: &SyncOptions,
        recording: &Recording,
    ) -> Result<SyncOutcome, EngineError> {
        let store = &*self.store;
        // Read before the set: a set newer than it makes the write stale, never wrong.
        let based_on = store.contracts_version(tenant)?;
        if let Recording::Approve { held } = recording {
            if held.based_on != based_on {
                return Err(EngineError::StaleHold(recording.id().to_owned()));
            }
        }
        let active_set = store.active_set(tenant)?;
        let active = active_set.contracts();
        let checked = match self.check(tenant, active, input.clone())? {
            Ok(checked) => checked,
            Err(mut refusal) => {
                refusal.run_id = Some(recording.id().to_owned());
                if let Recording::New { .. } = recording {
                    let mut run = recording.run(RunOutcome::Refused, Summary::default(), based_on);
                    run.errors = refusal.errors() as u64;
                    run.warnings = refusal.warnings() as u64;
                    let problems = problems_json(&refusal)?;
                    store.record_run(
                        tenant,
                        &RunWrite::New {
                            run: &run,
                            changes: &[],
                            problems: Some(&problems),
                            payload: None,
                        },
                    )?;
                }
                return Ok(SyncOutcome::Refused(refusal));
            }
        };
        let (payload, report) = (&checked.0, &checked.1);
        let diff = sync_core::diff(active, payload);
        let warnings: Vec<Problem> = report.warnings().cloned().collect();
        if !options.allow_mass_removal {
            if let Err(guard) =
                guard_mass_removal(active.len(), diff.removed.len(), payload.contracts.len())
            {
                let mut run = recording.run(RunOutcome::Held, diff.summary(), based_on);
                run.warnings = warnings.len() as u64;
                let records = change_records(&diff)?;
                let held = held_payload(&input)?;
                store.record_run(
                    tenant,
                    &RunWrite::New {
                        run: &run,
                        changes: &records,
                        problems: None,
                        payload: Some(&held),
                    },
                )?;
                tracing::info!(tenant, run = %run.id, removed = guard.removed, "sync held");
                return Ok(SyncOutcome::Guarded(Held {
                    run_id: run.id,
                    guard,
                }));
            }
        }
        // Each contract serialized once, on every core: for the store and the answer.
        let contracts = ContractObjects::new(&payload.contracts);
        let upserted = diff
            .added
            .iter()
            .copied()
            .chain(diff.updated.iter().map(|u| u.current));
        let (upsert, upsert_json) = upserted
            .map(|i| (&payload.contracts[i], contracts.get(i)))
            .unzip();
        let summary = diff.summary();
        // An approval keeps the records made when the run was held (the same diff).
        let records = match recording {
            Recording::New { .. } => change_records(&diff)?,
            Recording::Approve { .. } => Vec::new(),
        };
        let mut run = recording.run(RunOutcome::Applied, summary, based_on);
        run.warnings = warnings.len() as u64;
        let write = SyncWrite {
            upsert,
            upsert_json,
            archive: diff.removed_contracts().map(Contract::key).collect(),
            restore_archived: Vec::new(),
            based_on: Some(based_on),
            run: Some(match recording {
                Recording::New { .. } => RunWrite::New {
                    run: &run,
                    changes: &records,
                    problems: None,
                    payload: None,
                },
                Recording::Approve { held } => RunWrite::Approve {
                    run_id: &held.id,
                    decided_at: self.now_ms(),
                },
            }),
        };
        // What changed is gathered while the store writes (the database uses one core).
        let (written, changes) =
            rayon::join(|| store.apply_sync(tenant, &write), || changes(&diff));
        written?;
        tracing::info!(
            tenant,
            run = %run.id,
            same = summary.same,
            added = summary.added,
            updated = summary.updated,
            removed = summary.removed,
            "sync applied"
        );
        Ok(SyncOutcome::Applied(Applied {
            run_id: run.id,
            summary,
            warnings,
            contracts,
            changes,
        }))
    }

    /// The dry run of [`Engine::sync`]: the same checks and diff, nothing written, no guard.
    /// `answer` makes what the caller needs of the diff and the warnings while they are
    /// borrowed from the input and the active set.
    pub fn preview<T>(
        &self,
        tenant: TenantId,
        input: SyncInput<'_>,
        answer: impl FnOnce(&Diff<'_, '_>, &[&Problem]) -> T,
    ) -> Result<PreviewOutcome<T>, EngineError> {
        let active_set = self.store.active_set(tenant)?;
        let active = active_set.contracts();
        let (payload, report) = match self.check(tenant, active, input)? {
            Ok(checked) => checked,
            Err(refusal) => return Ok(PreviewOutcome::Refused(refusal)),
        };
        let diff = sync_core::diff(active, &payload);
        let warnings: Vec<&Problem> = report.warnings().collect();
        Ok(PreviewOutcome::Compared(answer(&diff, &warnings)))
    }

    /// Parses, merges and validates the set to sync against the active set and the stored
    /// accounts.
    fn check<'b>(
        &self,
        tenant: TenantId,
        active: &[Contract<'static>],
        input: SyncInput<'b>,
    ) -> Result<Result<(Payload<'b>, Report), Refusal>, EngineError> {
        let mut known = sync_core::accounts(active);
        known.extend(self.store.archived_accounts(tenant)?);
        let parsed = parse(active, input)?;
        let report = sync_core::validate_with(&parsed.payload, &known);
        let delta_errors = parsed.delta_problems.iter().any(ChangeProblem::is_error);
        if !report.is_valid() || delta_errors {
            return Ok(Err(Refusal {
                run_id: None,
                delta_problems: parsed.delta_problems,
                report,
            }));
        }
        Ok(Ok((parsed.payload, report)))
    }

    /// Deletes every contract, calendar and absence of a sandbox tenant; the delete is a run
    /// (kind `delete`, its summary the active contracts it removed), recorded in its
    /// transaction; returns its id. A delete is never reverted: its contracts are gone.
    pub fn delete_all(
        &self,
        tenant: &Tenant,
        user_agent: Option<&str>,
    ) -> Result<String, EngineError> {
        if !tenant.sandbox {
            return Err(EngineError::NotSandbox(tenant.name.clone()));
        }
        let recording = Recording::New {
            id: new_run_id()?,
            kind: RunKind::Delete,
            received_at: self.now_ms(),
            user_agent: user_agent.map(str::to_owned),
        };
        let _turn = self.locks.lock(tenant.id);
        let based_on = self.store.contracts_version(tenant.id)?;
        let removed = self.store.active_set(tenant.id)?.len();
        let summary = Summary {
            removed,
            ..Summary::default()
        };
        let run = recording.run(RunOutcome::Applied, summary, based_on);
        self.store.delete_all(
            tenant.id,
            Some(&RunWrite::New {
                run: &run,
                changes: &[],
                problems: None,
                payload: None,
            }),
        )?;
        Ok(run.id)
    }

    /// Replaces a tenant's session models, once checked; contracts they match become
    /// integrated.
    pub fn set_session_models(
        &self,
        tenant: TenantId,
        models: &[SessionModel],
    ) -> Result<(), EngineError> {
        let problems = check_session_models(models);
        if !problems.is_empty() {
            return Err(EngineError::InvalidSessionModels(problems));
        }
        let _turn = self.locks.lock(tenant);
        Ok(self.store.set_session_models(tenant, models)?)
    }
}
