//! `sync-engine`: the use cases of campus-sync over a [`Store`], what a host application
//! embeds to run whole syncs without HTTP.
//!
//! The rules are `sync-core`'s (parse, validate, diff, the delta merge, the mass-removal
//! guard, session models, absence items); the engine runs them against what the store keeps,
//! in the order a sync needs, and writes the result in one transaction. It returns typed
//! outcomes ([`SyncOutcome`]: applied, refused with every problem, stopped by the guard) that
//! the HTTP server maps to statuses, and a host to whatever it shows.
//!
//! ```
//! use std::sync::Arc;
//! use sync_engine::{Engine, SyncInput, SyncOptions, SyncOutcome};
//! use sync_store::{hash_token, SqliteStore};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::new(Arc::new(SqliteStore::open(dir.path())?));
//! let school = engine.store().tenant_with_token("school", &hash_token("secret"), false)?;
//!
//! let export = br#"[{"codeContrat": "C1", "nomEntreprise": "Acme"}]"#;
//! match engine.sync(school.id, SyncInput::Full(export), SyncOptions::default())? {
//!     SyncOutcome::Refused(refusal) => assert!(refusal.errors() > 0), // required fields missing
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/host.rs` syncs two exports into an embedded store and prints what changed.
//!
//! Every method blocks (the store's calls and the parallel core); an async caller runs them
//! on a blocking thread. Two writes of one tenant never interleave within one engine; across
//! engines (several processes on one database), every write carries the version of the data
//! it was computed from, a stale one is refused by the store and recomputed from a fresh read
//! (at most [`ATTEMPTS`] times, then [`EngineError::Conflict`]).

#![warn(missing_docs)]

mod absences;
mod calendar;
mod clock;
mod contracts;
mod cycle;
mod error;
mod locks;
mod objects;
mod runs;

use std::sync::Arc;

use sync_store::{Store, StoreError};

pub use calendar::{parse_events, CalendarSummary};
pub use clock::{
    millis, parse_duration, Clock, DurationError, EngineOptions, ManualClock, SystemClock,
    DEFAULT_HOLD_FOR, DEFAULT_KEEP_RUNS_FOR,
};
pub use contracts::{
    Applied, ChangeKind, ChangesInput, ContractChange, FieldChange, Held, PreviewOutcome, Refusal,
    SyncInput, SyncOptions, SyncOutcome,
};
pub use error::EngineError;
pub use objects::ContractObjects;
pub use runs::{Upkeep, MAX_RECORDED_PROBLEMS};
pub use sync_store::{ChangePage, ChangeRecord, Run, RunKind, RunOutcome, RunPage};

/// The use cases over one store; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Engine {
    store: Arc<dyn Store>,
    locks: locks::TenantLocks,
    options: EngineOptions,
}

impl Engine {
    /// An engine over a store, with the default [`EngineOptions`] (the system clock).
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_options(store, EngineOptions::default())
    }

    /// An engine over a store, with these settings and clock.
    pub fn with_options(store: Arc<dyn Store>, options: EngineOptions) -> Self {
        Engine {
            store,
            locks: locks::TenantLocks::default(),
            options,
        }
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Now, by the engine's clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.options.now_ms()
    }

    /// The store, for reads (listings, stored models, absences and events) and tenants.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs `attempt` (read, decide, write based on the version read) until the store does
    /// not refuse its write as stale, at most [`ATTEMPTS`] times; then [`EngineError::Conflict`].
    fn retry_stale<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        for _ in 1..ATTEMPTS {
            match attempt() {
                Err(EngineError::Store(StoreError::Stale { .. })) => {
                    tracing::debug!("stale write: read again and retry");
                }
                done => return done,
            }
        }
        match attempt() {
            Err(EngineError::Store(StoreError::Stale { .. })) => Err(EngineError::Conflict),
            done => done,
        }
    }
}

/// How many times a write refused as stale (another process wrote meanwhile) is recomputed
/// from a fresh read before the engine gives up with [`EngineError::Conflict`].
pub const ATTEMPTS: usize = 5;
