//! A store that cannot be written (a full disk, a read-only database): the sync is answered
//! 503 `store_unavailable`, the previous set stays listed, and the next sync once the store
//! can be written again succeeds; a store that cannot be reached: `GET /healthz` answers 503
//! until it can. The failures are made on purpose by a store wrapping SQLite.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use sync_core::rules::{Absence, CalendarEvent, SessionModel};
use sync_core::KnownAccount;
use sync_cycle::{CycleData, CycleScope};
use sync_http::{AppState, Settings};
use sync_store::{
    hash_token, ActiveSet, CacheStats, ChangePage, Listing, Page, Result, Run, RunOutcome, RunPage,
    RunWrite, SqliteStore, Store, StoreError, SyncWrite, Tenant, TenantId,
};

use crate::{contracts, error_code, send, TOKEN_A};

/// SQLite, except that `apply_sync` fails as a full disk does while `full` is set, `ping`
/// fails as an unreachable database does while `down` is set, and the next `stale` writes
/// are refused as stale (as if another process wrote each time).
#[derive(Debug, Default)]
struct FullDisk {
    inner: Option<SqliteStore>,
    full: Arc<AtomicBool>,
    down: Arc<AtomicBool>,
    stale: Arc<AtomicUsize>,
}

impl FullDisk {
    /// Over a store in `dir` with tenant `a`.
    fn open(dir: &std::path::Path) -> Self {
        let inner = SqliteStore::open(dir).unwrap();
        inner
            .tenant_with_token("a", &hash_token(TOKEN_A), false)
            .unwrap();
        FullDisk {
            inner: Some(inner),
            ..FullDisk::default()
        }
    }

    fn inner(&self) -> &SqliteStore {
        self.inner.as_ref().expect("opened")
    }
}

impl Store for FullDisk {
    fn ping(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            let source = std::io::Error::other("connection refused");
            return Err(StoreError::Unavailable {
                source: Box::new(source),
            });
        }
        self.inner().ping()
    }
    fn create_tenant(&self, name: &str, sandbox: bool) -> Result<Tenant> {
        self.inner().create_tenant(name, sandbox)
    }
    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        self.inner().tenant_by_name(name)
    }
    fn add_token(&self, tenant: TenantId, token_hash: &str) -> Result<()> {
        self.inner().add_token(tenant, token_hash)
    }
    fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>> {
        self.inner().tenant_by_token_hash(token_hash)
    }
    fn contracts_version(&self, tenant: TenantId) -> Result<i64> {
        self.inner().contracts_version(tenant)
    }
    fn active_set(&self, tenant: TenantId) -> Result<Arc<ActiveSet>> {
        self.inner().active_set(tenant)
    }
    fn cache_stats(&self) -> CacheStats {
        self.inner().cache_stats()
    }
    fn archived_accounts(&self, tenant: TenantId) -> Result<Vec<KnownAccount>> {
        self.inner().archived_accounts(tenant)
    }
    fn apply_sync(&self, tenant: TenantId, write: &SyncWrite<'_, '_>) -> Result<()> {
        if self.full.load(Ordering::SeqCst) {
            let source = std::io::Error::other("database or disk is full");
            return Err(StoreError::Unavailable {
                source: Box::new(source),
            });
        }
        let stale = self
            .stale
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if stale.is_ok() {
            return Err(StoreError::Stale {
                what: "contracts",
                based_on: write.based_on.unwrap_or(0),
                stored: write.based_on.unwrap_or(0) + 1,
            });
        }
        self.inner().apply_sync(tenant, write)
    }
    fn page(
        &self,
        tenant: TenantId,
        listing: Listing,
        offset: usize,
        limit: usize,
    ) -> Result<Page> {
        self.inner().page(tenant, listing, offset, limit)
    }
    fn delete_all(&self, tenant: TenantId, run: Option<&RunWrite<'_>>) -> Result<()> {
        self.inner().delete_all(tenant, run)
    }
    fn session_models(&self, tenant: TenantId) -> Result<Vec<SessionModel>> {
        self.inner().session_models(tenant)
    }
    fn set_session_models(&self, tenant: TenantId, models: &[SessionModel]) -> Result<()> {
        self.inner().set_session_models(tenant, models)
    }
    fn group_is_active(&self, tenant: TenantId, group: &str) -> Result<bool> {
        self.inner().group_is_active(tenant, group)
    }
    fn replace_events(
        &self,
        tenant: TenantId,
        group: &str,
        events: &[CalendarEvent],
        based_on: Option<i64>,
    ) -> Result<()> {
        self.inner().replace_events(tenant, group, events, based_on)
    }
    fn events(&self, tenant: TenantId, group: &str) -> Result<Vec<CalendarEvent>> {
        self.inner().events(tenant, group)
    }
    fn apprentice_is_active(&self, tenant: TenantId, email: &str) -> Result<bool> {
        self.inner().apprentice_is_active(tenant, email)
    }
    fn replace_absences(
        &self,
        tenant: TenantId,
        email: &str,
        absences: &[Absence],
        based_on: Option<i64>,
    ) -> Result<()> {
        self.inner()
            .replace_absences(tenant, email, absences, based_on)
    }
    fn absences(&self, tenant: TenantId, email: &str) -> Result<Vec<Absence>> {
        self.inner().absences(tenant, email)
    }
    fn cycle_version(&self, tenant: TenantId) -> Result<i64> {
        self.inner().cycle_version(tenant)
    }
    fn cycle_data(&self, tenant: TenantId) -> Result<CycleData> {
        self.inner().cycle_data(tenant)
    }
    fn set_cycle_data(&self, tenant: TenantId, data: &CycleData) -> Result<()> {
        self.inner().set_cycle_data(tenant, data)
    }
    fn cycle_slice(&self, tenant: TenantId, scope: &CycleScope) -> Result<CycleData> {
        self.inner().cycle_slice(tenant, scope)
    }
    fn save_cycle_changes(
        &self,
        tenant: TenantId,
        before: &CycleData,
        after: &CycleData,
        based_on: Option<i64>,
    ) -> Result<()> {
        self.inner()
            .save_cycle_changes(tenant, before, after, based_on)
    }
    fn record_run(&self, tenant: TenantId, run: &RunWrite<'_>) -> Result<()> {
        self.inner().record_run(tenant, run)
    }
    fn runs(&self, tenant: TenantId, offset: usize, limit: usize) -> Result<RunPage> {
        self.inner().runs(tenant, offset, limit)
    }
    fn run(&self, tenant: TenantId, run_id: &str) -> Result<Option<Run>> {
        self.inner().run(tenant, run_id)
    }
    fn run_problems(&self, tenant: TenantId, run_id: &str) -> Result<Option<String>> {
        self.inner().run_problems(tenant, run_id)
    }
    fn run_payload(&self, tenant: TenantId, run_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner().run_payload(tenant, run_id)
    }
    fn run_changes(
        &self,
        tenant: TenantId,
        run_id: &str,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ChangePage> {
        self.inner()
            .run_changes(tenant, run_id, filter, offset, limit)
    }
    fn settle_run(
        &self,
        tenant: TenantId,
        run_id: &str,
        outcome: RunOutcome,
        decided_at: i64,
    ) -> Result<bool> {
        self.inner().settle_run(tenant, run_id, outcome, decided_at)
    }
    fn expire_runs(
        &self,
        tenant: Option<TenantId>,
        received_before: i64,
        decided_at: i64,
    ) -> Result<usize> {
        self.inner()
            .expire_runs(tenant, received_before, decided_at)
    }
    fn prune_runs(&self, received_before: i64) -> Result<usize> {
        self.inner().prune_runs(received_before)
    }
    fn add_review_key(
        &self,
        tenant: TenantId,
        run_id: &str,
        key_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.inner()
            .add_review_key(tenant, run_id, key_hash, expires_at)
    }
    fn review_key(&self, key_hash: &str, now: i64) -> Result<Option<sync_store::ReviewKey>> {
        self.inner().review_key(key_hash, now)
    }
    fn prune_review_keys(&self, now: i64) -> Result<usize> {
        self.inner().prune_review_keys(now)
    }
}

const SYNC: &str = "/api/sync/v2/contrats";
const ALL: &str = "/api/sync/v1/contrats-get-all?limit=1000&page=1";

async fn sync(app: &axum::Router, body: &Value) -> (axum::http::StatusCode, Value) {
    let body = (serde_json::to_vec(body).unwrap(), "application/json");
    send(
        app,
        axum::http::Method::POST,
        SYNC,
        Some(TOKEN_A),
        Some(body),
    )
    .await
}

async fn listed(app: &axum::Router) -> Value {
    let (status, answer) = send(app, axum::http::Method::GET, ALL, Some(TOKEN_A), None).await;
    assert_eq!(status, 200, "{answer}");
    answer["total"].clone()
}

#[tokio::test]
async fn a_sync_on_a_full_disk_is_503_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let store = FullDisk::open(dir.path());
    let full = store.full.clone();
    let app = sync_http::app(AppState::new(
        Arc::new(store) as Arc<dyn Store>,
        Settings::default(),
    ));

    let next = contracts(40, 1);
    let previous = &next[..30];
    let (status, answer) = sync(&app, &json!(previous)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(listed(&app).await, 30);

    full.store(true, Ordering::SeqCst);
    let (status, answer) = sync(&app, &json!(next)).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(error_code(&answer), "store_unavailable", "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("disk full") && message.contains("retry later"),
        "{message}"
    );
    // The previous set stays listed, reads still work.
    assert_eq!(listed(&app).await, 30);

    full.store(false, Ordering::SeqCst);
    let (status, answer) = sync(&app, &json!(next)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["summary"]["added"], 10, "{answer}");
    assert_eq!(listed(&app).await, 40);
}

/// A sync refused as stale is recomputed from a fresh read: it succeeds at its last allowed
/// attempt; refused at every attempt, it is answered 409 `conflict` and nothing changed.
#[tokio::test]
async fn a_sync_stale_at_every_attempt_is_409_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = FullDisk::open(dir.path());
    let stale = store.stale.clone();
    let app = sync_http::app(AppState::new(
        Arc::new(store) as Arc<dyn Store>,
        Settings::default(),
    ));
    let next = contracts(40, 1);

    stale.store(sync_engine::ATTEMPTS - 1, Ordering::SeqCst);
    let (status, answer) = sync(&app, &json!(next[..30])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stale.load(Ordering::SeqCst), 0, "every attempt ran");
    assert_eq!(listed(&app).await, 30);

    stale.store(sync_engine::ATTEMPTS, Ordering::SeqCst);
    let (status, answer) = sync(&app, &json!(next)).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(error_code(&answer), "conflict", "{answer}");
    assert_eq!(
        stale.load(Ordering::SeqCst),
        0,
        "no more attempts than allowed"
    );
    assert_eq!(listed(&app).await, 30);
}

/// `GET /healthz` follows the store: 503 `store_unavailable` while it cannot be reached (a
/// balancer takes the instance out), 200 again once it can; no token either way.
#[tokio::test]
async fn the_health_check_is_503_while_the_store_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let store = FullDisk::open(dir.path());
    let (down, full) = (store.down.clone(), store.full.clone());
    let app = sync_http::app(AppState::new(
        Arc::new(store) as Arc<dyn Store>,
        Settings::default(),
    ));
    let health = || send(&app, axum::http::Method::GET, "/healthz", None, None);

    let (status, answer) = health().await;
    assert_eq!((status.as_u16(), &answer), (200, &json!({"status": "ok"})));
    down.store(true, Ordering::SeqCst);
    let (status, answer) = health().await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(error_code(&answer), "store_unavailable", "{answer}");
    // Reachable again, but its disk full (writes fail, reads work): still in rotation.
    down.store(false, Ordering::SeqCst);
    full.store(true, Ordering::SeqCst);
    let (status, answer) = health().await;
    assert_eq!((status.as_u16(), &answer), (200, &json!({"status": "ok"})));
}
