//! `sync-store`: what the server keeps, behind the [`Store`] trait, and its backends: SQLite
//! ([`SqliteStore`], embedded, the default) and PostgreSQL (`PostgresStore`, cargo feature
//! `postgres`, one database several server instances share).
//!
//! Tenants and their hashed tokens, each tenant's contracts (active and archived), session
//! models, group calendars and absences. The trait is blocking and object safe: the server
//! calls it from `spawn_blocking`; every method is one statement or one transaction, keyed by
//! tenant.
//!
//! ```
//! use sync_store::{hash_token, SqliteStore, Store, SyncWrite};
//! let dir = tempfile::tempdir().unwrap();
//! let store = SqliteStore::open(dir.path()).unwrap();
//! let tenant = store.create_tenant("school", false).unwrap();
//! store.add_token(tenant.id, &hash_token("secret")).unwrap();
//! assert_eq!(store.tenant_by_token_hash(&hash_token("secret")).unwrap(), Some(tenant.clone()));
//!
//! let payload = sync_core::parse(br#"[{"codeContrat": "C1", "codeGroupe": "G1"}]"#).unwrap();
//! let upsert: Vec<_> = payload.contracts.iter().collect();
//! store.apply_sync(tenant.id, &SyncWrite { upsert, ..Default::default() }).unwrap();
//! assert_eq!(store.active_set(tenant.id).unwrap().contracts()[0].key(), "C1");
//! ```
//!
//! The schema is numbered migrations per backend (`migrations/sqlite/V1__initial.sql`, ...,
//! and the same in `migrations/postgres/`), applied when a store opens. Errors keep their cause; [`StoreError::Unavailable`] is the
//! one a caller may retry (a full disk, a read-only or unreachable database). The behaviour
//! every backend owes the engine is one suite, the `conformance` module (cargo feature
//! `conformance`), that each backend's tests run.
//!
//! **Only sync-store knows SQL.**

mod active;
#[cfg(feature = "conformance")]
pub mod conformance;
mod cycle_rows;
mod location;
#[cfg(feature = "postgres")]
mod postgres;
mod review;
mod runs;
mod sqlite;
mod token;

use std::fmt;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use sync_core::rules::{is_integrated, Absence, CalendarEvent, SessionModel};
use sync_core::{Contract, KnownAccount};
use sync_cycle::{CycleData, CycleScope};

pub use active::DEFAULT_CACHE_BYTES;
pub use location::{open, redact_password, StoreLocation};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use review::ReviewKey;
pub use runs::{
    decode_change_chunk, encode_change_chunk, encode_change_chunks, page_of_chunks, ChangeKind,
    ChangePage, ChangeRecord, EncodedChunk, Run, RunKind, RunOutcome, RunPage, RunWrite,
    CHANGE_CHUNK,
};
pub use sqlite::SqliteStore;
pub use token::{hash_token, new_run_id, new_token};

/// A tenant's id in the store.
pub type TenantId = i64;

/// A training organisation using the server; its tokens are kept apart, hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Store id.
    pub id: TenantId,
    /// Unique name.
    pub name: String,
    /// Whether the tenant may delete all its data (`DELETE /api/sync/v1/contrats`).
    pub sandbox: bool,
}

/// A boxed error, the cause a [`StoreError`] keeps (a backend's own error type).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of the store itself, never a problem of the caller's input, except
/// [`StoreError::TenantExists`]. Each keeps its cause as its `source()`, and shows it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be written or reached now: disk full, read-only file, I/O error,
    /// a file that cannot be opened, or a lock still held after the busy timeout. Nothing of
    /// the failed call was written; the same call may succeed later.
    #[error(
        "the store cannot be written or reached now (disk full, read-only, I/O error or busy); \
         nothing was changed, retry later: {source}"
    )]
    Unavailable {
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The database refused or failed a statement for another reason.
    #[error("database error: {source}")]
    Database {
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The schema could not be brought to the version this build uses.
    #[error("the database schema could not be migrated: {source}")]
    Migration {
        /// The migration tool's error.
        #[source]
        source: BoxError,
    },
    /// The database URL does not parse (nothing was connected to).
    #[error("invalid database URL {url}: {source}")]
    InvalidUrl {
        /// The URL, without its password.
        url: String,
        /// Why it does not parse.
        #[source]
        source: BoxError,
    },
    /// The data directory could not be created.
    #[error("data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A stored value could not be read back.
    #[error("corrupt stored value: {source}")]
    Corrupt {
        /// Why it does not parse.
        #[source]
        source: BoxError,
    },
    /// A write based on a version of the tenant's data that is no longer the stored one
    /// (another writer, maybe another process, wrote meanwhile): nothing was written; read
    /// again, recompute and retry.
    #[error("the {what} changed since they were read (version {based_on}, now {stored}): nothing was written")]
    Stale {
        /// What changed: `contracts` or `cycle data`.
        what: &'static str,
        /// The version the write was computed from.
        based_on: i64,
        /// The stored version.
        stored: i64,
    },
    /// [`Store::create_tenant`] of a name that is already a tenant's (nothing was changed).
    #[error("tenant {name} already exists")]
    TenantExists {
        /// The name.
        name: String,
    },
}

impl StoreError {
    /// Whether the database could not be written or reached ([`StoreError::Unavailable`]):
    /// worth retrying later, and answered 503 by the server.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt {
            source: Box::new(err),
        }
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The tenant's active contracts as stored, ordered by `codeContrat`, each owning its text.
///
/// The store hands out one shared copy per tenant ([`Store::active_set`]) and keeps it in
/// memory between syncs, so a sync does not read the set back from the database.
#[derive(Default)]
pub struct ActiveSet {
    contracts: Vec<Contract<'static>>,
    /// The positions of the integrated contracts under the session models last asked about.
    integrated: Mutex<Option<IntegratedUnder>>,
}

/// Session models, and the positions of the contracts they match.
type IntegratedUnder = (Vec<SessionModel>, Arc<[u32]>);

impl Clone for ActiveSet {
    fn clone(&self) -> Self {
        ActiveSet {
            contracts: self.contracts.clone(),
            integrated: Mutex::default(),
        }
    }
}

impl ActiveSet {
    /// A set of these contracts, sorted by key (equal keys keep their order).
    pub fn from_contracts(mut contracts: Vec<Contract<'static>>) -> Self {
        contracts.par_sort_by(|a, b| a.key().cmp(b.key()));
        ActiveSet {
            contracts,
            integrated: Mutex::default(),
        }
    }

    /// Parses wire-format JSON objects, one per contract (as stored). Stored contracts were
    /// valid when written, so an object that does not parse (a corrupt store) is an error.
    pub fn from_objects<'s>(objects: impl IntoIterator<Item = &'s str>) -> Result<Self> {
        let mut json = Vec::with_capacity(1 << 20);
        for object in objects {
            json.push(if json.is_empty() { b'[' } else { b',' });
            json.extend_from_slice(object.as_bytes());
        }
        if json.is_empty() {
            json.push(b'[');
        }
        json.push(b']');
        let payload = sync_core::parse(&json).map_err(|e| StoreError::Corrupt {
            source: Box::new(e),
        })?;
        let contracts = payload
            .contracts
            .into_par_iter()
            .map(Contract::into_owned)
            .collect();
        Ok(Self::from_contracts(contracts))
    }

    /// The contracts, ordered by key.
    pub fn contracts(&self) -> &[Contract<'static>] {
        &self.contracts
    }

    /// The contract with this key (trimmed `codeContrat`).
    pub fn get(&self, key: &str) -> Option<&Contract<'static>> {
        self.contracts
            .binary_search_by(|c| c.key().cmp(key))
            .ok()
            .map(|i| &self.contracts[i])
    }

    /// The positions, in key order, of the contracts a session model matches. Kept with the
    /// set for the last `models` asked about, so that paging the integrated listing does not
    /// match every contract again.
    pub fn integrated(&self, models: &[SessionModel]) -> Arc<[u32]> {
        let mut cache = self
            .integrated
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((cached, positions)) = &*cache {
            if cached.as_slice() == models {
                return positions.clone();
            }
        }
        let positions: Arc<[u32]> = self
            .contracts
            .par_iter()
            .enumerate()
            .filter(|(_, c)| is_integrated(models, c))
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
            .collect::<Vec<_>>()
            .into();
        *cache = Some((models.to_vec(), positions.clone()));
        positions
    }

    /// Number of contracts.
    pub fn len(&self) -> usize {
        self.contracts.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }
}

impl fmt::Debug for ActiveSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSet")
            .field("len", &self.contracts.len())
            .finish()
    }
}

/// What one sync writes, computed by the caller from the diff: contracts to insert or
/// replace (added and updated; an archived one coming back is un-archived), and codes to
/// archive (removed).
#[derive(Debug, Default)]
pub struct SyncWrite<'c, 'a> {
    /// Added and updated contracts, new versions.
    pub upsert: Vec<&'c Contract<'a>>,
    /// The wire JSON of each `upsert` contract, in the same order, when the caller already
    /// has it (the server serializes the answer once); empty: the store serializes them.
    pub upsert_json: Vec<&'c str>,
    /// `codeContrat` of removed contracts.
    pub archive: Vec<&'c str>,
    /// Contracts written back archived with these values, sorted by key (a revert: a
    /// contract the reverted run brought back from the archive returns to its archived
    /// row); each key is also in `archive`.
    pub restore_archived: Vec<&'c Contract<'a>>,
    /// The tenant's contracts version ([`Store::contracts_version`]) the write was computed
    /// from: the store refuses the write with [`StoreError::Stale`] if it is no longer the
    /// stored one (checked in the write's transaction, an empty write included). `None`:
    /// written whatever the stored version (tests, tools).
    pub based_on: Option<i64>,
    /// The run this write is, recorded in its transaction (an empty write included).
    pub run: Option<RunWrite<'c>>,
}

impl SyncWrite<'_, '_> {
    /// Whether the sync writes nothing.
    pub fn is_empty(&self) -> bool {
        self.upsert.is_empty() && self.archive.is_empty() && self.restore_archived.is_empty()
    }
}

/// Which contracts a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Transmitted: every active (not archived) contract.
    Transmitted,
    /// Integrated: active and matched by a session model.
    Integrated,
}

/// One page of contracts, in wire-format JSON objects, ordered by `codeContrat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Every contract of the listing, not only this page.
    pub total: usize,
    /// The page's contracts, one JSON object each.
    pub contracts: Vec<String>,
}

/// Counts of [`Store::active_set`] calls since the store was opened (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Calls answered from the set kept in memory.
    pub hits: u64,
    /// Calls that read the set from the database.
    pub misses: u64,
}

/// The server's needs. Every method is scoped by tenant: no call reads or writes another
/// tenant's data. Methods block; async callers use `spawn_blocking`.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Answers a trivial query on the database (`SELECT 1`): `Ok` when it can be reached now,
    /// [`StoreError::Unavailable`] (or another error) when not. The health check of a load
    /// balancer (`GET /healthz`) and the server's start call it; it reads no tenant's data.
    fn ping(&self) -> Result<()>;

    /// Creates a tenant; [`StoreError::TenantExists`] if the name is taken, and then the
    /// stored tenant is left as it is (a tenant's settings change only when asked).
    fn create_tenant(&self, name: &str, sandbox: bool) -> Result<Tenant>;
    /// The tenant of this name.
    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>>;
    /// Binds a token hash to a tenant (a hash bound to another tenant moves to this one).
    fn add_token(&self, tenant: TenantId, token_hash: &str) -> Result<()>;
    /// The tenant of this name with the token hash bound to it, creating the tenant with
    /// `sandbox_if_new` if there is none: a stored tenant's sandbox flag is left as it is.
    fn tenant_with_token(
        &self,
        name: &str,
        token_hash: &str,
        sandbox_if_new: bool,
    ) -> Result<Tenant> {
        let tenant = match self.tenant_by_name(name)? {
            Some(tenant) => tenant,
            None => match self.create_tenant(name, sandbox_if_new) {
                // Created meanwhile by another process.
                Err(StoreError::TenantExists { .. }) => {
                    self.tenant_by_name(name)?
                        .ok_or_else(|| StoreError::TenantExists {
                            name: name.to_owned(),
                        })?
                }
                created => created?,
            },
        };
        self.add_token(tenant.id, token_hash)?;
        Ok(tenant)
    }
    /// The tenant owning a token hash.
    fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>>;

    /// The tenant's contracts version: bumped by every write of its contracts (syncs, the
    /// sandbox delete). Read it before the data a write is computed from, and pass it as the
    /// write's `based_on`.
    fn contracts_version(&self, tenant: TenantId) -> Result<i64>;
    /// The active contracts, shared: a backend may keep them in memory between calls, as
    /// long as every write it makes (or another process makes) is seen by the next call.
    fn active_set(&self, tenant: TenantId) -> Result<Arc<ActiveSet>>;
    /// How many [`Store::active_set`] calls were answered from memory and how many read the
    /// database, since the store was opened; zeros for a backend that keeps nothing in memory.
    fn cache_stats(&self) -> CacheStats {
        CacheStats::default()
    }
    /// The accounts (user code, role, email) of the tenant's archived contracts; with
    /// [`sync_core::accounts`] of the active set, every account the tenant knows.
    fn archived_accounts(&self, tenant: TenantId) -> Result<Vec<KnownAccount>>;
    /// Applies one sync in one transaction: all of it or nothing.
    fn apply_sync(&self, tenant: TenantId, write: &SyncWrite<'_, '_>) -> Result<()>;
    /// A page of a listing; `offset` and `limit` count contracts.
    fn page(&self, tenant: TenantId, listing: Listing, offset: usize, limit: usize)
        -> Result<Page>;
    /// Deletes every contract, calendar and absence of the tenant (sandbox only: the caller
    /// checks), and records `run` in the same transaction; the tenant's runs are kept.
    fn delete_all(&self, tenant: TenantId, run: Option<&RunWrite<'_>>) -> Result<()>;

    /// The tenant's session models.
    fn session_models(&self, tenant: TenantId) -> Result<Vec<SessionModel>>;
    /// Replaces the session models and re-marks which contracts are integrated.
    fn set_session_models(&self, tenant: TenantId, models: &[SessionModel]) -> Result<()>;

    /// Whether an active contract has this `codeGroupe`.
    fn group_is_active(&self, tenant: TenantId, group: &str) -> Result<bool>;
    /// Replaces a group's events, in one transaction; with `based_on`, only if the
    /// contracts version is still that one (else [`StoreError::Stale`], nothing written).
    fn replace_events(
        &self,
        tenant: TenantId,
        group: &str,
        events: &[CalendarEvent],
        based_on: Option<i64>,
    ) -> Result<()>;
    /// A group's events, by start.
    fn events(&self, tenant: TenantId, group: &str) -> Result<Vec<CalendarEvent>>;

    /// Whether the email is an active apprentice's (compared case-insensitively, trimmed).
    fn apprentice_is_active(&self, tenant: TenantId, email: &str) -> Result<bool>;
    /// Replaces a student's absences, in one transaction; with `based_on`, only if the
    /// contracts version is still that one (else [`StoreError::Stale`], nothing written).
    fn replace_absences(
        &self,
        tenant: TenantId,
        email: &str,
        absences: &[Absence],
        based_on: Option<i64>,
    ) -> Result<()>;
    /// A student's absences, in the order they were sent.
    fn absences(&self, tenant: TenantId, email: &str) -> Result<Vec<Absence>>;

    /// The tenant's cycle version: bumped by every write of its cycle data. Read it before
    /// the slice a write is computed from, and pass it to [`Store::save_cycle_changes`].
    fn cycle_version(&self, tenant: TenantId) -> Result<i64>;
    /// The tenant's cycle data (document 004); empty until a first import.
    fn cycle_data(&self, tenant: TenantId) -> Result<CycleData>;
    /// Replaces the tenant's cycle data, in one transaction (the cycle version is bumped).
    fn set_cycle_data(&self, tenant: TenantId, data: &CycleData) -> Result<()>;
    /// The part of the tenant's cycle data that `scope` names: equal to
    /// [`CycleData::slice`] of the whole data, read without reading the rest.
    fn cycle_slice(&self, tenant: TenantId, scope: &CycleScope) -> Result<CycleData>;
    /// Writes, in one transaction, what differs between `before` (data as loaded, whole or
    /// a slice) and `after` (the same once changed): rows of objects in `after` that differ
    /// are written, objects of `before` missing from `after` are deleted, nothing else is
    /// touched. The cycle version is bumped; with `based_on`, only if it is still that one
    /// (else [`StoreError::Stale`], nothing written).
    fn save_cycle_changes(
        &self,
        tenant: TenantId,
        before: &CycleData,
        after: &CycleData,
        based_on: Option<i64>,
    ) -> Result<()>;

    /// Records a run that writes no contracts (refused, held), with its change records, in
    /// one transaction. A run that writes contracts is recorded by [`Store::apply_sync`]
    /// ([`SyncWrite::run`]) or [`Store::delete_all`], in their transaction.
    fn record_run(&self, tenant: TenantId, run: &RunWrite<'_>) -> Result<()>;
    /// A page of the tenant's runs, newest first (the order they were recorded in, reversed);
    /// `offset` and `limit` count runs.
    fn runs(&self, tenant: TenantId, offset: usize, limit: usize) -> Result<RunPage>;
    /// The tenant's run of this id (`None`: no such run, or another tenant's).
    fn run(&self, tenant: TenantId, run_id: &str) -> Result<Option<Run>>;
    /// A refused run's problems as recorded (a JSON array), `None` for any other run.
    fn run_problems(&self, tenant: TenantId, run_id: &str) -> Result<Option<String>>;
    /// A held run's payload, `None` once the run is decided (or for any other run).
    fn run_payload(&self, tenant: TenantId, run_id: &str) -> Result<Option<Vec<u8>>>;
    /// A page of a run's change records, in their order; with `filter`, only those whose
    /// code or apprentice names contain it, case-insensitively ([`ChangeRecord::matches`]).
    /// `total` counts the records the filter matches. Records are stored in chunks of
    /// [`CHANGE_CHUNK`] ([`encode_change_chunks`]); [`page_of_chunks`] cuts the page.
    fn run_changes(
        &self,
        tenant: TenantId,
        run_id: &str,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ChangePage>;
    /// Decides a held run without writing contracts: its outcome becomes `outcome`
    /// (rejected or expired), `decided_at` this time, its payload is dropped. `false`, and
    /// nothing changed, if the run is not held (or not the tenant's).
    fn settle_run(
        &self,
        tenant: TenantId,
        run_id: &str,
        outcome: RunOutcome,
        decided_at: i64,
    ) -> Result<bool>;
    /// Expires the held runs received before `received_before` (of one tenant, or of all):
    /// outcome expired, `decided_at` this time, payload dropped. Returns how many.
    fn expire_runs(
        &self,
        tenant: Option<TenantId>,
        received_before: i64,
        decided_at: i64,
    ) -> Result<usize>;
    /// Deletes the runs of every tenant received before `received_before`, with their change
    /// records, in one transaction; contracts are never touched. Returns how many runs.
    fn prune_runs(&self, received_before: i64) -> Result<usize>;

    /// Stores the hash of a new review key ([`hash_token`] of it) opening the tenant's run
    /// until `expires_at` (milliseconds since the Unix epoch). A run may have several keys.
    fn add_review_key(
        &self,
        tenant: TenantId,
        run_id: &str,
        key_hash: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// The run a review key's hash opens at `now`: `None` for an unknown hash, or one whose
    /// `expires_at` is not after `now`. The one lookup not scoped by tenant, as a token's: the
    /// key names the tenant.
    fn review_key(&self, key_hash: &str, now: i64) -> Result<Option<ReviewKey>>;
    /// Deletes the review keys of every tenant that no longer open anything at `now`
    /// (`expires_at` not after it). Returns how many.
    fn prune_review_keys(&self, now: i64) -> Result<usize>;
}
