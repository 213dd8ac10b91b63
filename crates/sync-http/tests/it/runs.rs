//! Runs over HTTP (`app()` without a socket), each outcome: applied, refused, held then
//! approved, rejected, stale or expired (a clock the test sets), reverted; the listing after
//! a revert compared byte for byte; another tenant's runs; retention; a restart.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sync_engine::{EngineOptions, ManualClock};
use sync_http::{AppState, Settings};
use sync_store::{hash_token, SqliteStore, Store};
use tower::ServiceExt;

use crate::{contracts, error_code, TOKEN_A, TOKEN_B};

/// An application over a store in `dir` (tenants `a` and `b`), its engine on `clock`, holds
/// of 2 s and runs kept 3 s.
fn app(dir: &std::path::Path, clock: &Arc<ManualClock>) -> (Router, AppState) {
    let store = SqliteStore::open(dir).expect("store opens");
    for (tenant, token) in [("a", TOKEN_A), ("b", TOKEN_B)] {
        store
            .tenant_with_token(tenant, &hash_token(token), false)
            .unwrap();
    }
    let options = EngineOptions {
        hold_for: Duration::from_secs(2),
        keep_runs_for: Duration::from_secs(3),
        clock: clock.clone(),
    };
    let state = AppState::with_engine_options(
        Arc::new(store) as Arc<dyn Store>,
        Settings::default(),
        options,
    );
    (sync_http::app(state.clone()), state)
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000),
    ))
}

/// Sends a request; returns the status and the body's bytes.
async fn raw(
    app: &Router,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Vec<u8>) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(USER_AGENT, "runs-test/1.0");
    let body = match body {
        Some(body) => {
            request = request.header(CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(body).unwrap())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let (status, bytes) = raw(app, method, path, token, body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn get(app: &Router, path: &str, token: &str) -> (StatusCode, Value) {
    call(app, Method::GET, path, token, None).await
}

async fn post(app: &Router, path: &str, token: &str, body: Option<&Value>) -> (StatusCode, Value) {
    call(app, Method::POST, path, token, body).await
}

/// The whole active listing, as the server writes it.
async fn listing(app: &Router, token: &str) -> Vec<u8> {
    let (status, bytes) = raw(
        app,
        Method::GET,
        "/api/sync/v1/contrats-get-all?limit=10000",
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    bytes
}

/// A run as `GET /api/sync/v1/runs/{id}` answers it.
async fn run(app: &Router, token: &str, id: &str) -> Value {
    let (status, body) = get(app, &format!("/api/sync/v1/runs/{id}?limit=10000"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn run_id(answer: &Value) -> String {
    answer["runId"]
        .as_str()
        .or_else(|| answer["error"]["runId"].as_str())
        .unwrap_or_else(|| panic!("no runId in {answer}"))
        .to_owned()
}

const SYNC: &str = "/api/sync/v2/contrats";

/// Every outcome is a run, listed newest first with what it did; a refused run keeps the
/// problems its 422 listed; an unchanged resend records a run and no change; the user agent
/// is recorded; another tenant's run is 404 on every route.
#[tokio::test]
async fn every_sync_is_a_run_and_a_tenant_sees_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(dir.path(), &clock());
    let set = contracts(30, 3);
    let (status, first) = post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = run_id(&first);
    let (status, again) = post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    assert_eq!(status, StatusCode::OK);
    let again = run_id(&again);
    let mut invalid = set.clone();
    invalid[0]["emailApprenant"] = json!("not an email");
    invalid[1].as_object_mut().unwrap().remove("nomGroupe");
    let (status, refused) = post(&app, SYNC, TOKEN_A, Some(&json!(invalid))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused_id = run_id(&refused);

    let (status, list) = get(&app, "/api/sync/v1/runs", TOKEN_A).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 3, "{list}");
    let ids: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [refused_id.as_str(), again.as_str(), first.as_str()],
        "newest first"
    );
    let (_, page) = get(&app, "/api/sync/v1/runs?limit=1&page=2", TOKEN_A).await;
    assert_eq!(
        (page["total"].as_u64(), page["runs"][0]["runId"].as_str()),
        (Some(3), Some(again.as_str()))
    );

    let shown = run(&app, TOKEN_A, &first).await;
    let r = &shown["run"];
    assert_eq!(
        (r["kind"].as_str(), r["outcome"].as_str()),
        (Some("full"), Some("applied"))
    );
    assert_eq!(
        r["summary"],
        json!({"same": 0, "added": 30, "updated": 0, "removed": 0})
    );
    assert_eq!(r["userAgent"], "runs-test/1.0");
    assert!(
        r["receivedAt"]
            .as_str()
            .unwrap()
            .starts_with("2025-12-06T05:46:40"),
        "{r}"
    );
    assert_eq!(shown["changesTotal"], 30);
    assert_eq!(
        shown["changes"][0],
        json!({"codeContrat": set[0]["codeContrat"], "change": "added", "fields": []})
    );
    assert_eq!(shown["problems"], json!([]));

    let unchanged = run(&app, TOKEN_A, &again).await;
    assert_eq!(unchanged["run"]["summary"]["same"], 30);
    assert_eq!(
        (
            unchanged["changesTotal"].as_u64(),
            unchanged["changes"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    let refused_run = run(&app, TOKEN_A, &refused_id).await;
    assert_eq!(refused_run["run"]["outcome"], "refused");
    assert_eq!(refused_run["run"]["errors"], 2);
    assert_eq!(
        refused_run["problems"], refused["error"]["details"],
        "the problems as the 422 listed them"
    );

    // Tenant b sees none of a's runs, on any route.
    let (_, theirs) = get(&app, "/api/sync/v1/runs", TOKEN_B).await;
    assert_eq!(theirs, json!({"total": 0, "runs": []}));
    for (method, path) in [
        (Method::GET, format!("/api/sync/v1/runs/{first}")),
        (Method::POST, format!("/api/sync/v1/runs/{first}/approve")),
        (Method::POST, format!("/api/sync/v1/runs/{first}/reject")),
        (Method::POST, format!("/api/sync/v1/runs/{first}/revert")),
    ] {
        let (status, body) = call(&app, method, &path, TOKEN_B, None).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    // And a's contracts are untouched by b's attempts.
    assert_eq!(
        run(&app, TOKEN_A, &first).await["run"]["outcome"],
        "applied"
    );
}

/// A guarded sync is held; approving it applies it (the same answer a sync gives) while the
/// contracts are as they were; a delta is held and approved the same way.
#[tokio::test]
async fn a_held_sync_is_approved() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = app(dir.path(), &clock());
    let set = contracts(30, 5);
    post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    let before = listing(&app, TOKEN_A).await;
    let (status, held) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..10]))).await;
    assert_eq!(
        (status, error_code(&held)),
        (StatusCode::CONFLICT, "mass_removal"),
        "{held}"
    );
    let held = run_id(&held);
    assert_eq!(
        listing(&app, TOKEN_A).await,
        before,
        "a held sync changes nothing"
    );
    let shown = run(&app, TOKEN_A, &held).await;
    assert_eq!(shown["run"]["outcome"], "held");
    assert_eq!(
        shown["run"]["summary"],
        json!({"same": 10, "added": 0, "updated": 0, "removed": 20})
    );
    assert_eq!(shown["changesTotal"], 20, "the would-be changes");
    assert_eq!(shown["changes"][0]["change"], "removed");
    let tenant = state.store.tenant_by_name("a").unwrap().unwrap();
    assert!(
        state.store.run_payload(tenant.id, &held).unwrap().is_some(),
        "the payload is kept"
    );

    let (status, approved) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(run_id(&approved), held);
    assert_eq!(
        (
            approved["total"].as_u64(),
            approved["summary"]["removed"].as_u64()
        ),
        (Some(10), Some(20))
    );
    let (_, listed) = get(&app, "/api/sync/v1/contrats-get-all", TOKEN_A).await;
    assert_eq!(listed["total"], 10);
    assert_eq!(
        run(&app, TOKEN_A, &held).await["run"]["outcome"],
        "approved"
    );
    assert!(
        state.store.run_payload(tenant.id, &held).unwrap().is_none(),
        "the payload is dropped"
    );
    let (status, again) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&again)),
        (StatusCode::CONFLICT, "not_held")
    );

    // A delta removing all 10 (a set below 20 is guarded only when it would be emptied) is
    // held, then approved.
    let removed: Vec<&Value> = set[..10].iter().map(|c| &c["codeContrat"]).collect();
    let delta = json!({"changes": {"removed": removed}});
    let (status, held) = post(&app, "/api/sync/v2/contrats/changes", TOKEN_A, Some(&delta)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{held}");
    let held = run_id(&held);
    assert_eq!(run(&app, TOKEN_A, &held).await["run"]["kind"], "changes");
    let (status, approved) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["total"], 0);
}

/// A held run whose tenant's contracts changed since is `stale_hold` and stays held; it can
/// still be rejected: nothing is written, the payload is dropped, and it cannot be decided
/// again.
#[tokio::test]
async fn a_stale_hold_stays_held_and_a_rejected_one_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = app(dir.path(), &clock());
    let set = contracts(30, 7);
    post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    let (_, held) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..5]))).await;
    let held = run_id(&held);
    // Another sync changes the set meanwhile.
    let (status, _) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..29]))).await;
    assert_eq!(status, StatusCode::OK);
    let after = listing(&app, TOKEN_A).await;
    let (status, stale) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&stale)),
        (StatusCode::CONFLICT, "stale_hold"),
        "{stale}"
    );
    assert_eq!(run(&app, TOKEN_A, &held).await["run"]["outcome"], "held");
    assert_eq!(listing(&app, TOKEN_A).await, after);

    let (status, rejected) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/reject"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(
        (
            rejected["run"]["runId"].as_str(),
            rejected["run"]["outcome"].as_str()
        ),
        (Some(held.as_str()), Some("rejected"))
    );
    assert_eq!(
        listing(&app, TOKEN_A).await,
        after,
        "a reject writes nothing"
    );
    let tenant = state.store.tenant_by_name("a").unwrap().unwrap();
    assert!(state.store.run_payload(tenant.id, &held).unwrap().is_none());
    for decision in ["approve", "reject"] {
        let (status, body) = post(
            &app,
            &format!("/api/sync/v1/runs/{held}/{decision}"),
            TOKEN_A,
            None,
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::CONFLICT, "not_held"),
            "{decision}"
        );
    }
}

/// A held run not decided within the hold time expires: read after it, it is `expired` and
/// cannot be approved; the periodic upkeep expires the ones nobody reads.
#[tokio::test]
async fn a_held_run_expires() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (app, state) = app(dir.path(), &clock);
    let set = contracts(30, 9);
    post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    let (_, first) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..5]))).await;
    let first = run_id(&first);
    clock.advance(Duration::from_millis(1500));
    let (_, second) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..6]))).await;
    let second = run_id(&second);
    clock.advance(Duration::from_millis(600));
    // The first is past 2 s: expired when read; the second is not.
    assert_eq!(
        run(&app, TOKEN_A, &first).await["run"]["outcome"],
        "expired"
    );
    let (_, list) = get(&app, "/api/sync/v1/runs", TOKEN_A).await;
    let outcomes: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["held", "expired", "applied"]);
    let (status, body) = post(
        &app,
        &format!("/api/sync/v1/runs/{first}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "not_held")
    );
    let tenant = state.store.tenant_by_name("a").unwrap().unwrap();
    assert!(
        state
            .store
            .run_payload(tenant.id, &first)
            .unwrap()
            .is_none(),
        "an expired run's payload is dropped"
    );

    // The upkeep expires the second, unread.
    clock.advance(Duration::from_secs(2));
    let done = state.engine.upkeep().unwrap();
    assert_eq!(done.expired, 1);
    assert_eq!(
        state
            .store
            .run(tenant.id, &second)
            .unwrap()
            .unwrap()
            .outcome,
        sync_store::RunOutcome::Expired
    );
    let (_, listed) = get(&app, "/api/sync/v1/contrats-get-all", TOKEN_A).await;
    assert_eq!(listed["total"], 30, "nothing was applied");
}

/// The value of `field` in contract `i` changed to `value`.
fn with(mut contract: Value, field: &str, value: &str) -> Value {
    contract[field] = json!(value);
    contract
}

/// A revert of the latest change restores the listing byte for byte: added contracts
/// archived (one back from the archive to its archived row), updated ones back, removed ones
/// active again; the revert is itself the latest change and can be reverted; an older run
/// is `not_latest`; the guard applies.
#[tokio::test]
async fn a_revert_restores_the_listing_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (app, state) = app(dir.path(), &clock());
    let set = contracts(40, 11);
    let (_, first) = post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    let first = run_id(&first);
    // Second: 4 removed (archived), 4 updated.
    let second_set: Vec<Value> = set[4..]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 4 {
                with(c.clone(), "missionTitle", "Second")
            } else {
                c.clone()
            }
        })
        .collect();
    let (status, second) = post(&app, SYNC, TOKEN_A, Some(&json!(second_set))).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second = run_id(&second);
    let before = listing(&app, TOKEN_A).await;

    // Third: 2 archived ones come back in a new version, 3 updated, 3 removed.
    let mut third_set: Vec<Value> = second_set[3..]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 3 {
                with(c.clone(), "missionTitle", "Third")
            } else {
                c.clone()
            }
        })
        .collect();
    third_set.push(with(set[0].clone(), "missionTitle", "Back"));
    third_set.push(set[1].clone());
    let (status, third) = post(&app, SYNC, TOKEN_A, Some(&json!(third_set))).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(
        third["summary"],
        json!({"same": 30, "added": 2, "updated": 3, "removed": 3})
    );
    let third = run_id(&third);
    let after_third = listing(&app, TOKEN_A).await;
    let shown = run(&app, TOKEN_A, &third).await;
    let updated = shown["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "updated")
        .unwrap()
        .clone();
    assert_eq!(
        updated["fields"],
        json!([{"field": "missionTitle", "old": "Second", "new": "Third"}])
    );

    // An older run is not the latest change.
    let (status, body) = post(
        &app,
        &format!("/api/sync/v1/runs/{second}/revert"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "not_latest"),
        "{body}"
    );

    let (status, reverted) = post(
        &app,
        &format!("/api/sync/v1/runs/{third}/revert"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reverted}");
    assert_eq!(
        reverted["summary"],
        json!({"same": 30, "added": 3, "updated": 3, "removed": 2})
    );
    let revert = run_id(&reverted);
    assert_ne!(revert, third);
    assert_eq!(
        listing(&app, TOKEN_A).await,
        before,
        "the listing before the third run, byte for byte"
    );
    assert_eq!(
        run(&app, TOKEN_A, &third).await["run"]["outcome"],
        "reverted"
    );
    let shown = run(&app, TOKEN_A, &revert).await;
    assert_eq!(
        (
            shown["run"]["kind"].as_str(),
            shown["run"]["outcome"].as_str()
        ),
        (Some("revert"), Some("applied"))
    );
    assert_eq!(shown["changesTotal"], 8);
    // The third run is no longer revertible; the revert is, and reverting it redoes the third.
    let (status, body) = post(
        &app,
        &format!("/api/sync/v1/runs/{third}/revert"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "not_latest")
    );
    let (status, redone) = post(
        &app,
        &format!("/api/sync/v1/runs/{revert}/revert"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{redone}");
    assert_eq!(
        listing(&app, TOKEN_A).await,
        after_third,
        "the listing after the third run, byte for byte"
    );
    assert_eq!(
        run(&app, TOKEN_A, &revert).await["run"]["outcome"],
        "reverted"
    );
    // The contract that came back in the third run was archived again by the revert in its
    // archived version: the redo found that version as the row it brought back.
    let tenant = state.store.tenant_by_name("a").unwrap().unwrap();
    let code = set[0]["codeContrat"].as_str().unwrap();
    let records = state
        .store
        .run_changes(tenant.id, &run_id(&redone), Some(code), 0, 10)
        .unwrap();
    let record = &records.changes[0];
    assert_eq!(record.change, sync_store::ChangeKind::Added);
    let previous: Value =
        serde_json::from_str(record.previous.as_deref().expect("its archived row")).unwrap();
    assert_eq!(
        previous, set[0],
        "the archived version, not the third run's"
    );

    // The first run of tenant b, reverted: every contract would be archived, the guard
    // applies.
    let (_, b_first) = post(&app, SYNC, TOKEN_B, Some(&json!(contracts(25, 13)))).await;
    let b_first = run_id(&b_first);
    let (status, body) = post(
        &app,
        &format!("/api/sync/v1/runs/{b_first}/revert"),
        TOKEN_B,
        None,
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "mass_removal"),
        "{body}"
    );
    assert!(
        body["error"].get("runId").is_none(),
        "a guarded revert is not held"
    );
    let (status, body) = post(
        &app,
        &format!("/api/sync/v1/runs/{b_first}/revert?allowMassRemoval=true"),
        TOKEN_B,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 0);
    let (_, listed) = get(&app, "/api/sync/v1/contrats-get-all", TOKEN_B).await;
    assert_eq!(listed["total"], 0);
    // Tenant a is untouched, and its first run is still not the latest.
    assert_eq!(listing(&app, TOKEN_A).await, after_third);
    let (status, _) = post(
        &app,
        &format!("/api/sync/v1/runs/{first}/revert"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Runs older than the retention time go with their changes; contracts, active and
/// archived, stay.
#[tokio::test]
async fn retention_prunes_runs_and_never_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (app, state) = app(dir.path(), &clock);
    let set = contracts(30, 17);
    post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
    post(&app, SYNC, TOKEN_A, Some(&json!(set[2..]))).await;
    let before = listing(&app, TOKEN_A).await;
    let tenant = state.store.tenant_by_name("a").unwrap().unwrap();
    let archived = state.store.archived_accounts(tenant.id).unwrap();
    assert!(!archived.is_empty());
    clock.advance(Duration::from_secs(2));
    let (_, recent) = post(&app, SYNC, TOKEN_A, Some(&json!(set[3..]))).await;
    let recent = run_id(&recent);
    clock.advance(Duration::from_millis(1500));
    assert_eq!(
        state.engine.upkeep().unwrap().pruned,
        2,
        "the two runs older than 3 s"
    );
    let (_, list) = get(&app, "/api/sync/v1/runs", TOKEN_A).await;
    assert_eq!(
        (list["total"].as_u64(), list["runs"][0]["runId"].as_str()),
        (Some(1), Some(recent.as_str()))
    );
    clock.advance(Duration::from_secs(2));
    state.engine.upkeep().unwrap();
    assert_eq!(get(&app, "/api/sync/v1/runs", TOKEN_A).await.1["total"], 0);
    let (status, _) = get(&app, &format!("/api/sync/v1/runs/{recent}"), TOKEN_A).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Contracts: the listing is the one after the last sync, the archive kept.
    assert_ne!(listing(&app, TOKEN_A).await, before);
    assert_eq!(
        get(&app, "/api/sync/v1/contrats-get-all", TOKEN_A).await.1["total"],
        27
    );
    assert!(state.store.archived_accounts(tenant.id).unwrap().len() >= archived.len());
}

/// Runs survive a restart: a store opened again on the directory lists them, and a run
/// held before it can be approved after it.
#[tokio::test]
async fn runs_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let set = contracts(30, 19);
    let (held, list) = {
        let (app, _) = app(dir.path(), &clock);
        post(&app, SYNC, TOKEN_A, Some(&json!(set))).await;
        let (_, held) = post(&app, SYNC, TOKEN_A, Some(&json!(set[..5]))).await;
        let (_, list) = get(&app, "/api/sync/v1/runs", TOKEN_A).await;
        (run_id(&held), list)
    };
    let (app, _) = app(dir.path(), &clock);
    assert_eq!(get(&app, "/api/sync/v1/runs", TOKEN_A).await.1, list);
    let (status, approved) = post(
        &app,
        &format!("/api/sync/v1/runs/{held}/approve"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["total"], 5);
}
