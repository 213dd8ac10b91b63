//! Why a use case could not run: the engine's one error type, mapped to statuses or exit codes
//! by the adapters, in one place each.

use sync_core::rules::{AbsenceProblem, MassRemoval};
use sync_core::ParseError;
use sync_store::{RunOutcome, StoreError};

/// A failure of a use case. Refusals of a sync (validation problems, the mass-removal guard)
/// are not errors but outcomes: see [`SyncOutcome`](crate::SyncOutcome).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (never a problem of the caller's input).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A list of contracts is not JSON, or not an array of contract objects; `what` names the
    /// list (`the contracts`, `changes.added`, `changes.updated`).
    #[error("{what}: {source}")]
    InvalidJson {
        /// Which list.
        what: &'static str,
        /// Where and why.
        source: ParseError,
    },
    /// Only a sandbox tenant may delete all its data.
    #[error("tenant {0} is not a sandbox: its contracts cannot be deleted")]
    NotSandbox(String),
    /// Session models with a blank code or a repeated model; every problem, one sentence each.
    #[error("the session models are refused")]
    InvalidSessionModels(Vec<String>),
    /// The absences were sent without an email.
    #[error("email is required")]
    MissingEmail,
    /// The email of the absences is no active apprentice's.
    #[error("{0} is not the email of an active apprentice")]
    UnknownApprentice(String),
    /// Absence items with problems; every bad item is listed.
    #[error("{} bad absence item(s): nothing was changed", .0.len())]
    InvalidAbsences(Vec<AbsenceProblem>),
    /// No active contract has the calendar's group.
    #[error("no active contract has codeGroupe \"{0}\"")]
    UnknownGroup(String),
    /// Other writers (other processes on the same database) changed the data this write was
    /// computed from at each of its attempts: nothing was written, the same call may succeed.
    #[error(
        "the tenant's data kept changing while this write was computed ({} attempts): \
         nothing was changed, retry",
        crate::ATTEMPTS
    )]
    Conflict,
    /// A calendar is not an iCalendar file, or could not be parsed.
    #[error("{0}")]
    InvalidCalendar(String),
    /// No run of this id for the tenant (unknown, pruned, or another tenant's).
    #[error("no run {0}")]
    RunNotFound(String),
    /// Approving or rejecting a run that is not held.
    #[error(
        "run {run_id} is not held (it is {outcome}): only a held run can be approved or rejected"
    )]
    NotHeld {
        /// The run.
        run_id: String,
        /// Its outcome.
        outcome: RunOutcome,
    },
    /// Approving a held run after the tenant's contracts changed: it stays held (reject it,
    /// or send the export again).
    #[error(
        "the contracts changed since run {0} was held: it cannot be approved as it was \
         computed (it stays held; reject it, or send the export again)"
    )]
    StaleHold(String),
    /// Reverting a run that is not the tenant's latest change of its contracts.
    #[error("run {run_id} cannot be reverted: {reason}")]
    NotLatest {
        /// The run.
        run_id: String,
        /// Why.
        reason: String,
    },
    /// A revert stopped by the mass-removal guard (nothing written, nothing recorded).
    #[error("the revert {0}; confirm with allowMassRemoval=true")]
    RevertGuarded(MassRemoval),
    /// The system gave no randomness for a run id.
    #[error("{0}")]
    NoRandomness(String),
}
