//! `GET /metrics`: requests under their route template, syncs by outcome, contracts written,
//! cache counts; no token, tenant name or raw path in the output; off, a 404.

use std::sync::Arc;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sync_http::{AppState, Settings};
use sync_store::{hash_token, SqliteStore, Store};
use tower::ServiceExt;

use crate::{contracts, error_code, send};

/// A tenant name and a token that must never show in the metrics.
const TENANT: &str = "ecole-des-secrets";
const TOKEN: &str = "jeton-tres-secret-42";
const SYNC: &str = "/api/sync/v2/contrats";
const CHANGES: &str = "/api/sync/v2/contrats/changes";

/// The application over a store in `dir` with the tenant [`TENANT`], metrics on or off.
fn app(dir: &std::path::Path, metrics: bool) -> Router {
    let store = SqliteStore::open(dir).expect("store opens");
    store
        .tenant_with_token(TENANT, &hash_token(TOKEN), false)
        .unwrap();
    let settings = Settings {
        metrics,
        ..Settings::default()
    };
    sync_http::app(AppState::new(Arc::new(store) as Arc<dyn Store>, settings))
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let body = body.map(|b| (serde_json::to_vec(b).unwrap(), "application/json"));
    send(app, method, path, Some(TOKEN), body).await
}

/// `GET /metrics` without a token: the status, the content type and the text.
async fn scrape(app: &Router) -> (StatusCode, String, String) {
    let request = Request::get("/metrics").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// The value of one series (`name{labels}` as written), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// Checks each series' value: `None` for absent.
fn check(text: &str, expected: &[(&str, Option<f64>)]) {
    for (series, want) in expected {
        assert_eq!(value(text, series), *want, "{series} in\n{text}");
    }
}

#[tokio::test]
async fn a_sync_is_counted_with_its_route_and_the_contracts_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), true);
    let set = contracts(30, 1);
    let (status, body) = call(&app, Method::POST, SYNC, Some(&Value::Array(set.clone()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let removed = set[0]["codeContrat"].clone();
    let delta = json!({"changes": {"removed": [removed]}});
    let (status, body) = call(&app, Method::POST, CHANGES, Some(&delta)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A path holding an id, and a path no route matches.
    let group = "/api/sync/v1/calendar-group-ics/GROUPE-SECRET-7";
    let (status, _) = call(&app, Method::GET, group, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::GET, "/nowhere/CONTRAT-SECRET", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::GET, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, content_type, text) = scrape(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let requests = "campus_sync_http_requests_total";
    let latency = "campus_sync_http_request_duration_seconds";
    let syncs = "campus_sync_syncs_total";
    let written = "campus_sync_contracts_written_total";
    #[rustfmt::skip]
    check(&text, &[
        (&format!(r#"{requests}{{method="POST",route="/api/sync/v2/contrats",status="200"}}"#), Some(1.0)),
        (&format!(r#"{requests}{{method="POST",route="/api/sync/v2/contrats/changes",status="200"}}"#), Some(1.0)),
        (&format!(r#"{requests}{{method="GET",route="/api/sync/v1/calendar-group-ics/{{groupId}}",status="200"}}"#), Some(1.0)),
        (&format!(r#"{requests}{{method="GET",route="unmatched",status="404"}}"#), Some(1.0)),
        (&format!(r#"{requests}{{method="GET",route="/healthz",status="200"}}"#), Some(1.0)),
        // The scrape itself is counted once it is answered.
        (&format!(r#"{requests}{{method="GET",route="/metrics",status="200"}}"#), None),
        (&format!(r#"{latency}_count{{method="POST",route="/api/sync/v2/contrats"}}"#), Some(1.0)),
        (&format!(r#"{latency}_bucket{{method="POST",route="/api/sync/v2/contrats",le="30"}}"#), Some(1.0)),
        (&format!(r#"{latency}_bucket{{method="POST",route="/api/sync/v2/contrats",le="+Inf"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="full",outcome="applied"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="changes",outcome="applied"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="full",outcome="refused"}}"#), Some(0.0)),
        (&format!(r#"{syncs}{{kind="full",outcome="guarded"}}"#), Some(0.0)),
        (&format!(r#"{written}{{change="added"}}"#), Some(30.0)),
        (&format!(r#"{written}{{change="updated"}}"#), Some(0.0)),
        (&format!(r#"{written}{{change="archived"}}"#), Some(1.0)),
    ]);
    let hits = value(&text, "campus_sync_active_set_cache_hits_total").unwrap();
    let misses = value(&text, "campus_sync_active_set_cache_misses_total").unwrap();
    // The first sync reads the empty set from the database; the delta finds it in memory.
    assert!(misses >= 1.0 && hits >= 1.0, "{text}");
    for secret in [
        TENANT,
        TOKEN,
        "GROUPE-SECRET",
        "CONTRAT-SECRET",
        "nowhere",
        "Bearer",
    ] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }

    let (_, _, text) = scrape(&app).await;
    let scrape = format!(r#"{requests}{{method="GET",route="/metrics",status="200"}}"#);
    check(&text, &[(&scrape, Some(1.0))]);
}

#[tokio::test]
async fn refused_and_guarded_syncs_are_counted_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), true);
    let mut bad = contracts(30, 2);
    bad[0]["dateDebut"] = json!("31/02/2025");
    let (status, _) = call(&app, Method::POST, SYNC, Some(&Value::Array(bad))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = contracts(30, 2);
    let (status, _) = call(&app, Method::POST, SYNC, Some(&Value::Array(set))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&app, Method::POST, SYNC, Some(&json!([]))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "mass_removal")
    );

    let (status, _, text) = scrape(&app).await;
    assert_eq!(status, StatusCode::OK);
    let syncs = "campus_sync_syncs_total";
    let requests = "campus_sync_http_requests_total";
    #[rustfmt::skip]
    check(&text, &[
        (&format!(r#"{syncs}{{kind="full",outcome="refused"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="full",outcome="applied"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="full",outcome="guarded"}}"#), Some(1.0)),
        (&format!(r#"{syncs}{{kind="changes",outcome="applied"}}"#), Some(0.0)),
        (r#"campus_sync_contracts_written_total{change="added"}"#, Some(30.0)),
        (r#"campus_sync_contracts_written_total{change="archived"}"#, Some(0.0)),
        (&format!(r#"{requests}{{method="POST",route="/api/sync/v2/contrats",status="422"}}"#), Some(1.0)),
        (&format!(r#"{requests}{{method="POST",route="/api/sync/v2/contrats",status="409"}}"#), Some(1.0)),
    ]);
}

#[tokio::test]
async fn metrics_off_is_a_404() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), false);
    let (status, _) = call(
        &app,
        Method::POST,
        SYNC,
        Some(&Value::Array(contracts(3, 3))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&app, Method::GET, "/metrics", None, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = call(&app, Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
