//! Every route of the application, through `app()` without a socket: a missing or wrong token,
//! bodies that are not JSON, of the wrong type or of the wrong shape, and the shape of each
//! success; the unknown route and the wrong method. One line per case. The last test starts
//! the real server once and talks to it over TCP.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sync_http::{AppState, Settings};
use sync_store::{hash_token, SqliteStore, Store};

use crate::calendar::calendar_host;
use crate::{contracts, send, TOKEN_A};

/// The token of a sandbox tenant, `s`, registered beside `a`.
const TOKEN_S: &str = "token-s";
/// A token no tenant has.
const WRONG: &str = "not-a-token";

/// Every route with its method, the group of the calendar route as `{groupId}`, a run as
/// `{runId}`.
const ROUTES: [&str; 26] = [
    "GET /api/sync/v1/test",
    "POST /api/sync/v2/contrats",
    "POST /api/sync/v2/contrats/changes",
    "POST /api/sync/v1/contrats-diff",
    "GET /api/sync/v1/contrats",
    "DELETE /api/sync/v1/contrats",
    "GET /api/sync/v1/contrats-get-all",
    "GET /api/sync/v1/session-models",
    "PUT /api/sync/v1/session-models",
    "POST /api/sync/v1/calendar-group-ics",
    "GET /api/sync/v1/calendar-group-ics/{groupId}",
    "POST /api/sync/v1/absences-for-student",
    "GET /api/sync/v1/absences-for-student",
    "POST /lmsapi/cycle/getlist",
    "POST /lmsapi/cycle/getperiodlist",
    "POST /lmsapi/cycle/getuserprogress",
    "POST /lmsapi/cycle/getmemberstatuses",
    "POST /lmsapi/cycle/updatememberstatuses",
    "POST /lmsapi/cycle/updatememberstatus",
    "POST /lmsapi/cycle/changecurrentmemberstatus",
    "POST /lmsapi/admin/import",
    "GET /api/sync/v1/runs",
    "GET /api/sync/v1/runs/{runId}",
    "POST /api/sync/v1/runs/{runId}/approve",
    "POST /api/sync/v1/runs/{runId}/reject",
    "POST /api/sync/v1/runs/{runId}/revert",
];

/// The routes that need no token (beside `/openapi.json` and `/metrics`, which the document
/// does not list).
const PUBLIC_ROUTES: [&str; 1] = ["GET /healthz"];

/// The routes that read a JSON body.
const BODY_ROUTES: [&str; 14] = [
    "POST /api/sync/v2/contrats",
    "POST /api/sync/v2/contrats/changes",
    "POST /api/sync/v1/contrats-diff",
    "PUT /api/sync/v1/session-models",
    "POST /api/sync/v1/calendar-group-ics",
    "POST /api/sync/v1/absences-for-student",
    "POST /lmsapi/cycle/getlist",
    "POST /lmsapi/cycle/getperiodlist",
    "POST /lmsapi/cycle/getuserprogress",
    "POST /lmsapi/cycle/getmemberstatuses",
    "POST /lmsapi/cycle/updatememberstatuses",
    "POST /lmsapi/cycle/updatememberstatus",
    "POST /lmsapi/cycle/changecurrentmemberstatus",
    "POST /lmsapi/admin/import",
];

/// The whole answer to a request without a valid token, on every route.
fn unauthorized() -> Value {
    json!({"error": {"code": "unauthorized", "message": "a valid bearer token is required", "details": []}})
}

/// What a request sends.
enum Body {
    /// Nothing, no `Content-Type`.
    None,
    /// A JSON value as `application/json`.
    Json(Value),
    /// Bytes with a content type.
    Raw(&'static [u8], &'static str),
}

use Body::{Json, Raw};

/// What an answer must be, besides its status.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// The API's `{"error": {"code", "message", "details"}}` with this code (and `runId`
    /// when the request was a run).
    Error(&'static str),
    /// The cycle API's `{"isSuccess": false, "errorCode", "message"}` with this code.
    Cycle(u64),
    /// An object with exactly these top-level keys.
    Keys(&'static [&'static str]),
    /// An array.
    List,
    /// An empty body.
    Empty,
}

use Answer::{Cycle, Empty, Error, Keys, List};

const SYNC_KEYS: &[&str] = &["contrats", "runId", "summary", "total", "warnings"];
const RUN_KEYS: &[&str] = &["changes", "changesTotal", "problems", "run"];
/// A held run also has its review page.
const HELD_RUN_KEYS: &[&str] = &["changes", "changesTotal", "problems", "reviewUrl", "run"];
const DIFF_KEYS: &[&str] = &[
    "added", "changes", "removed", "same", "summary", "updated", "warnings",
];
const LIST_KEYS: &[&str] = &["contrats", "total"];

/// The application over a store in `dir` with tenant `a` (`TOKEN_A`) and the sandbox tenant
/// `s` (`TOKEN_S`); calendar URLs on loopback allowed.
fn app(dir: &std::path::Path) -> Router {
    let store = SqliteStore::open(dir).expect("store opens");
    store
        .tenant_with_token("a", &hash_token(TOKEN_A), false)
        .unwrap();
    store
        .tenant_with_token("s", &hash_token(TOKEN_S), true)
        .unwrap();
    let settings = Settings {
        calendar_allow_private: true,
        ..Settings::default()
    };
    sync_http::app(AppState::new(Arc::new(store) as Arc<dyn Store>, settings))
}

/// Sends `route` (`"METHOD /path"`, `{groupId}` replaced by `G1`) and checks the status and
/// the answer; returns the answer's body.
async fn check(
    app: &Router,
    route: &str,
    token: Option<&str>,
    body: Body,
    status: u16,
    answer: Answer,
) -> Value {
    let (method, path) = route.split_once(' ').expect("METHOD /path");
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let path = path
        .replace("{groupId}", "G1")
        .replace("{runId}", "0123456789abcdef0123456789abcdef");
    let body = match body {
        Body::None => None,
        Json(value) => Some((serde_json::to_vec(&value).unwrap(), "application/json")),
        Raw(bytes, content_type) => Some((bytes.to_vec(), content_type)),
    };
    let (got, body) = send(app, method, &path, token, body).await;
    let case = format!("{route} with {token:?}: {body}");
    assert_eq!(got, StatusCode::from_u16(status).unwrap(), "{case}");
    let keys = |value: &Value| -> Vec<String> {
        value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    match answer {
        Error(code) => {
            assert_eq!(keys(&body), ["error"], "{case}");
            let mut error_keys = keys(&body["error"]);
            for optional in ["runId", "reviewUrl"] {
                if let Some(at) = error_keys.iter().position(|k| k == optional) {
                    assert!(body["error"][optional].is_string(), "{case}");
                    error_keys.remove(at);
                }
            }
            assert_eq!(error_keys, ["code", "details", "message"], "{case}");
            assert_eq!(body["error"]["code"], code, "{case}");
            assert!(body["error"]["details"].is_array(), "{case}");
            assert!(body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()));
        }
        Cycle(code) => {
            assert_eq!(keys(&body), ["errorCode", "isSuccess", "message"], "{case}");
            assert_eq!(body["isSuccess"], false, "{case}");
            assert_eq!(body["errorCode"], code, "{case}");
        }
        Keys(expected) => assert_eq!(keys(&body), expected, "{case}"),
        List => assert!(body.is_array(), "{case}"),
        Empty => assert_eq!(body, Value::Null, "{case}"),
    }
    body
}

/// The table of routes is the OpenAPI document's, which every handler is listed in.
#[test]
fn the_routes_tested_are_the_documented_ones() {
    let document = serde_json::to_value(sync_http::openapi::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let tested: BTreeSet<String> = ROUTES
        .iter()
        .chain(&PUBLIC_ROUTES)
        .map(|r| r.to_string())
        .collect();
    assert_eq!(tested, documented);
}

/// The document describes every body and every answer: a request schema for each route that
/// reads a body, a schema for each status, 401 on every route, 400/413/415 on every body route.
#[test]
fn the_document_describes_every_body_and_answer() {
    let document = serde_json::to_value(sync_http::openapi::openapi()).unwrap();
    for route in ROUTES.iter().chain(&PUBLIC_ROUTES) {
        let (method, path) = route.split_once(' ').unwrap();
        let operation = &document["paths"][path][method.to_lowercase()];
        let responses = operation["responses"].as_object().expect(route);
        for (status, response) in responses {
            let schema = &response["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{route} {status}: no schema");
        }
        let public = PUBLIC_ROUTES.contains(route);
        assert_eq!(responses.contains_key("401"), !public, "{route}: 401");
        assert_eq!(
            operation["security"].is_array(),
            !public,
            "{route}: security"
        );
        let mut expected = vec!["200", "400", "503"];
        if BODY_ROUTES.contains(route) {
            expected.extend(["400", "413", "415"]);
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{route}: no request schema");
        }
        for status in expected {
            assert!(responses.contains_key(status), "{route}: {status} missing");
        }
    }
    // Paging bounds.
    for path in ["/api/sync/v1/contrats", "/api/sync/v1/contrats-get-all"] {
        let parameters = document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap();
        let bounds: Vec<(Value, Value)> = parameters
            .iter()
            .map(|p| {
                (
                    p["schema"]["minimum"].clone(),
                    p["schema"]["maximum"].clone(),
                )
            })
            .collect();
        assert_eq!(
            bounds,
            [(json!(1), json!(10000)), (json!(1), json!(1000000))],
            "{path}"
        );
    }
}

#[tokio::test]
#[rustfmt::skip] // one line per case
async fn every_route_refuses_a_missing_or_wrong_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    for route in ROUTES {
        let bad_body = || Raw(b"{", "text/plain");
        for token in [None, Some(WRONG), Some("")] {
            let body = check(&app, route, token, bad_body(), 401, Error("unauthorized")).await;
            assert_eq!(body, unauthorized());
        }
        // Not a bearer token at all.
        let (method, path) = route.split_once(' ').unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path.replace("{groupId}", "G1").replace("{runId}", "r1"))
            .header("Authorization", format!("Basic {TOKEN_A}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.clone(), request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{route}");
    }
    // The OpenAPI document and the health check are public.
    check(&app, "GET /openapi.json", None, Body::None, 200, Keys(&["components", "info", "openapi", "paths"])).await;
    let body = check(&app, "GET /healthz", None, Body::None, 200, Keys(&["status"])).await;
    assert_eq!(body, json!({"status": "ok"}));
    check(&app, "GET /healthz", Some(WRONG), Body::None, 200, Keys(&["status"])).await;
}

#[tokio::test]
#[rustfmt::skip] // one line per case
async fn every_body_route_refuses_bodies_that_are_not_json_or_of_the_wrong_shape() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let a = Some(TOKEN_A);
    for route in BODY_ROUTES {
        check(&app, route, a, Raw(b"not json", "application/json"), 400, Error("invalid_json")).await;
        check(&app, route, a, Raw(b"\xff\xfe", "application/json"), 400, Error("invalid_json")).await;
        check(&app, route, a, Raw(b"{}", "text/plain"), 415, Error("not_json")).await;
        check(&app, route, a, Raw(b"{}", "application/x-www-form-urlencoded"), 415, Error("not_json")).await;
        check(&app, route, a, Body::None, 415, Error("not_json")).await;
    }
    // getlist reads its body like the others, though it uses nothing in it.
    check(&app, "POST /lmsapi/cycle/getlist", a, Json(json!([])), 400, Error("invalid_json")).await;

    // JSON of the wrong type or shape, route by route: 400 naming where. (Before, several
    // of these answered 422 `validation_failed`.)
    check(&app, "POST /api/sync/v2/contrats", a, Json(json!({"a": 1})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v2/contrats", a, Json(json!("text")), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v2/contrats", a, Json(json!([1])), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!({"nothing": 1})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!([])), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!({"changes": {"added": 1}})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/contrats-diff", a, Json(json!({"a": 1})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/contrats-diff", a, Json(json!(null)), 400, Error("invalid_json")).await;
    check(&app, "PUT /api/sync/v1/session-models", a, Json(json!({})), 400, Error("invalid_json")).await;
    check(&app, "PUT /api/sync/v1/session-models", a, Json(json!([{"codeAnnee": "Y"}])), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(json!({"groupId": 1})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(json!([])), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(json!({"email": "x"})), 400, Error("invalid_json")).await;
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(json!({"email": " ", "data": []})), 422, Error("validation_failed")).await;
    check(&app, "POST /lmsapi/cycle/getperiodlist", a, Json(json!([])), 400, Cycle(1000)).await;
    check(&app, "POST /lmsapi/cycle/getuserprogress", a, Json(json!([])), 400, Cycle(1000)).await;
    check(&app, "POST /lmsapi/cycle/getmemberstatuses", a, Json(json!([])), 400, Cycle(1004)).await;
    check(&app, "POST /lmsapi/cycle/updatememberstatuses", a, Json(json!([])), 400, Cycle(1004)).await;
    check(&app, "POST /lmsapi/cycle/updatememberstatus", a, Json(json!([])), 400, Cycle(1004)).await;
    check(&app, "POST /lmsapi/cycle/changecurrentmemberstatus", a, Json(json!([])), 400, Cycle(1004)).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!([])), 400, Error("invalid_json")).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!({"cycles": 1})), 400, Error("invalid_json")).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!({"cycles": [], "extra": []})), 400, Error("invalid_json")).await;

    // Query parameters.
    check(&app, "GET /api/sync/v1/contrats?limit=0", a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, "GET /api/sync/v1/contrats-get-all?page=x", a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, "GET /api/sync/v1/absences-for-student", a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, "POST /api/sync/v2/contrats?allowMassRemoval=maybe", a, Json(json!([])), 400, Error("invalid_parameter")).await;
    check(&app, "POST /api/sync/v2/contrats/changes?allowMassRemoval=2", a, Json(json!({"changes": {}})), 400, Error("invalid_parameter")).await;

    // Nothing of the above was written.
    check(&app, "GET /api/sync/v1/contrats-get-all", a, Body::None, 200, Keys(LIST_KEYS)).await;
}

/// One error rule on every route (DESIGN section 4): not JSON, or not the route's shape, is a
/// 400 naming where; the right shape breaking a rule is a 422; a parameter given twice is a
/// 400; `getlist` checks its content type and size like the others.
#[tokio::test]
#[rustfmt::skip] // one line per case
async fn one_error_rule_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let a = Some(TOKEN_A);
    let invalid = Error("invalid_json");
    // A request object sent as an array, even of the right length, is a shape error.
    let body = check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(json!(["g", "u"])), 400, invalid).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("expected an object, found an array"), "{body}");
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(json!(["a", "b", "c"])), 400, invalid).await;
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(json!(["x@example.org", []])), 400, invalid).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!([{}])), 400, invalid).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!({"changes": [[], [], []]})), 400, invalid).await;
    check(&app, "PUT /api/sync/v1/session-models", a, Json(json!([["F1", "A1"]])), 400, invalid).await;
    check(&app, "POST /lmsapi/cycle/getlist", a, Json(json!([])), 400, invalid).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!([{}])), 400, invalid).await;

    // A shape error names where, with serde's message.
    let cases = [
        ("PUT /api/sync/v1/session-models", json!([{"codeFormation": "F1", "codeAnnee": "A1"}, {"codeFormation": 7, "codeAnnee": "A1"}]), "[1]"),
        ("PUT /api/sync/v1/session-models", json!([{"codeAnnee": "A1"}]), "missing field `codeFormation`"),
        ("POST /api/sync/v1/calendar-group-ics", json!({"groupId": 1, "calendarUrl": "https://example.org/a.ics"}), "groupId"),
        ("POST /api/sync/v1/calendar-group-ics", json!({"groupId": "G1"}), "missing field `calendarUrl`"),
        ("POST /api/sync/v1/absences-for-student", json!({"email": "x@example.org", "data": 5}), "data"),
        ("POST /api/sync/v1/absences-for-student", json!({"email": true, "data": []}), "email"),
        ("POST /api/sync/v2/contrats/changes", json!({"changes": {"removed": [1]}}), "changes"),
        ("POST /api/sync/v2/contrats/changes", json!({"changes": {"moved": []}}), "unknown field `moved`"),
    ];
    for (route, sent, place) in cases {
        let body = check(&app, route, a, Json(sent), 400, invalid).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(place), "{route}: {message}");
        assert!(message.contains("shape"), "{route}: {message}");
    }
    // A syntax error is a 400 whatever comes before it.
    for route in ["POST /api/sync/v2/contrats/changes", "POST /api/sync/v1/calendar-group-ics", "POST /api/sync/v1/absences-for-student", "POST /lmsapi/cycle/getlist"] {
        let body = check(&app, route, a, Raw(b"[1, 2,]", "application/json"), 400, invalid).await;
        assert!(body["error"]["message"].as_str().unwrap().contains("not valid JSON"), "{route}: {body}");
    }

    // The right shape, content that breaks a rule: 422 with every problem.
    let body = check(&app, "PUT /api/sync/v1/session-models", a, Json(json!([{"codeFormation": " ", "codeAnnee": "A1"}, {"codeFormation": "F1", "codeAnnee": " "}])), 422, Error("validation_failed")).await;
    assert_eq!(body["error"]["details"].as_array().map(Vec::len), Some(2), "{body}");
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(json!({"email": " ", "data": []})), 422, Error("validation_failed")).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!({"cycles": [{"cycleId": " "}]})), 422, Error("validation_failed")).await;

    // getlist checks its content type like the others.
    check(&app, "POST /lmsapi/cycle/getlist", a, Raw(b"{}", "text/plain"), 415, Error("not_json")).await;
    check(&app, "POST /lmsapi/cycle/getlist", a, Body::None, 415, Error("not_json")).await;
    check(&app, "POST /lmsapi/cycle/getlist", a, Json(json!({})), 200, List).await;

    // A parameter given twice is a 400, whichever value comes first.
    let twice = Error("invalid_parameter");
    check(&app, "GET /api/sync/v1/contrats?limit=1&limit=2", a, Body::None, 400, twice).await;
    check(&app, "GET /api/sync/v1/contrats-get-all?limit=abc&limit=3", a, Body::None, 400, twice).await;
    check(&app, "GET /api/sync/v1/contrats-get-all?limit=3&limit=abc", a, Body::None, 400, twice).await;
    check(&app, "GET /api/sync/v1/absences-for-student?email=a%40example.org&email=b%40example.org", a, Body::None, 400, twice).await;
    check(&app, "POST /api/sync/v2/contrats?allowMassRemoval=true&allowMassRemoval=true", a, Json(json!([])), 400, twice).await;
    check(&app, "GET /api/sync/v1/test?x=1&x=1", a, Body::None, 400, twice).await;
    check(&app, "GET /api/sync/v1/session-models?x=1&x=2", a, Body::None, 400, twice).await;
    check(&app, "POST /lmsapi/cycle/getlist?x=1&x=2", a, Json(json!({})), 400, twice).await;
    check(&app, "GET /api/sync/v1/contrats?limit=2&page=1", a, Body::None, 200, Keys(LIST_KEYS)).await;
    // Paging bounds, as the document gives them.
    check(&app, "GET /api/sync/v1/contrats?limit=10000&page=1000000", a, Body::None, 200, Keys(LIST_KEYS)).await;
    check(&app, "GET /api/sync/v1/contrats?page=1000001", a, Body::None, 400, twice).await;
    check(&app, "GET /api/sync/v1/contrats?limit=10001", a, Body::None, 400, twice).await;
}

/// `getlist` caps its body like every other route.
#[tokio::test]
async fn getlist_refuses_a_body_over_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).expect("store opens");
    store
        .tenant_with_token("a", &hash_token(TOKEN_A), false)
        .unwrap();
    let settings = Settings {
        max_body_mb: 1,
        ..Settings::default()
    };
    let app = sync_http::app(AppState::new(Arc::new(store) as Arc<dyn Store>, settings));
    let mut big = b"{\"padding\": \"".to_vec();
    big.resize((1 << 20) + 16, b'x');
    big.extend_from_slice(b"\"}");
    let big: &'static [u8] = Box::leak(big.into_boxed_slice());
    for route in [
        "POST /lmsapi/cycle/getlist",
        "POST /lmsapi/cycle/getperiodlist",
    ] {
        check(
            &app,
            route,
            Some(TOKEN_A),
            Raw(big, "application/json"),
            413,
            Error("body_too_large"),
        )
        .await;
    }
    check(
        &app,
        "POST /lmsapi/cycle/getlist",
        Some(TOKEN_A),
        Json(json!({})),
        200,
        List,
    )
    .await;
}

#[tokio::test]
#[rustfmt::skip] // one line per case
async fn every_route_answers_its_shape() {
    let host = calendar_host().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let (a, s) = (Some(TOKEN_A), Some(TOKEN_S));
    let set = contracts(10, 11);
    let group = set[0]["codeGroupe"].clone();
    let email = set[0]["emailApprenant"].clone();
    let code = set[0]["codeContrat"].clone();

    let body = check(&app, "GET /api/sync/v1/test", a, Body::None, 200, Keys(&["name", "value"])).await;
    assert_eq!(body, json!({"value": "token valid", "name": "a"}));
    check(&app, "POST /api/sync/v2/contrats", a, Json(json!(set)), 200, Keys(SYNC_KEYS)).await;
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(json!({"changes": {}})), 200, Keys(SYNC_KEYS)).await;
    check(&app, "POST /api/sync/v1/contrats-diff", a, Json(json!(set)), 200, Keys(DIFF_KEYS)).await;
    check(&app, "GET /api/sync/v1/contrats", a, Body::None, 200, Keys(LIST_KEYS)).await;
    check(&app, "GET /api/sync/v1/contrats-get-all?limit=2&page=1", a, Body::None, 200, Keys(LIST_KEYS)).await;
    check(&app, "GET /api/sync/v1/session-models", a, Body::None, 200, List).await;
    check(&app, "PUT /api/sync/v1/session-models", a, Json(json!([])), 200, List).await;

    let calendar = json!({"groupId": group, "calendarUrl": format!("http://{host}/cal.ics")});
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(calendar), 200, Keys(&["events", "from", "groupId", "to"])).await;
    let unknown = json!({"groupId": "NO-SUCH-GROUP", "calendarUrl": format!("http://{host}/cal.ics")});
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(unknown), 404, Error("not_found")).await;
    let ftp = json!({"groupId": group, "calendarUrl": "ftp://example.org/cal.ics"});
    check(&app, "POST /api/sync/v1/calendar-group-ics", a, Json(ftp), 422, Error("calendar_unusable")).await;
    let path = format!("GET /api/sync/v1/calendar-group-ics/{}", group.as_str().unwrap());
    let body = check(&app, &path, a, Body::None, 200, Keys(&["events", "groupId"])).await;
    assert_eq!(body["events"].as_array().map(Vec::len), Some(2), "{body}");
    check(&app, "GET /api/sync/v1/calendar-group-ics/{groupId}", a, Body::None, 200, Keys(&["events", "groupId"])).await;

    let absences = json!({"email": email, "data": []});
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(absences), 200, Keys(&["absences", "email"])).await;
    let nobody = json!({"email": "nobody@example.org", "data": []});
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(nobody), 404, Error("not_found")).await;
    let bad_item = json!({"email": email, "data": [{"type": "vacances"}]});
    check(&app, "POST /api/sync/v1/absences-for-student", a, Json(bad_item), 422, Error("validation_failed")).await;
    let path = format!("GET /api/sync/v1/absences-for-student?email={}", email.as_str().unwrap());
    check(&app, &path, a, Body::None, 200, Keys(&["absences", "email"])).await;

    let mut invalid = set.clone();
    invalid[0].as_object_mut().unwrap().remove("nomGroupe");
    check(&app, "POST /api/sync/v2/contrats", a, Json(json!(invalid)), 422, Error("validation_failed")).await;
    check(&app, "POST /api/sync/v1/contrats-diff", a, Json(json!(invalid)), 422, Error("validation_failed")).await;
    let removed = json!({"changes": {"removed": [code]}});
    check(&app, "POST /api/sync/v2/contrats/changes", a, Json(removed), 200, Keys(SYNC_KEYS)).await;
    let held = check(&app, "POST /api/sync/v2/contrats", a, Json(json!([])), 409, Error("mass_removal")).await;
    let held = held["error"]["runId"].as_str().expect("the held run's id").to_owned();

    // Runs: the list, one run, the decisions.
    let runs = check(&app, "GET /api/sync/v1/runs?limit=2", a, Body::None, 200, Keys(&["runs", "total"])).await;
    assert_eq!(runs["runs"][0]["runId"], held.as_str(), "{runs}");
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(2), "{runs}");
    let first = runs["total"].as_u64().unwrap();
    let all = check(&app, "GET /api/sync/v1/runs?limit=100", a, Body::None, 200, Keys(&["runs", "total"])).await;
    let oldest = all["runs"][first as usize - 1]["runId"].as_str().unwrap().to_owned();
    let body = check(&app, &format!("GET /api/sync/v1/runs/{held}?limit=1"), a, Body::None, 200, Keys(HELD_RUN_KEYS)).await;
    assert_eq!((body["run"]["outcome"].as_str(), body["changesTotal"].as_u64()), (Some("held"), Some(9)), "{body}");
    check(&app, "GET /api/sync/v1/runs/{runId}", a, Body::None, 404, Error("not_found")).await;
    check(&app, &format!("GET /api/sync/v1/runs/{held}"), s, Body::None, 404, Error("not_found")).await;
    check(&app, "GET /api/sync/v1/runs?limit=0", a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, &format!("GET /api/sync/v1/runs/{held}?page=0"), a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, "POST /api/sync/v1/runs/{runId}/approve", a, Body::None, 404, Error("not_found")).await;
    check(&app, "POST /api/sync/v1/runs/{runId}/reject", a, Body::None, 404, Error("not_found")).await;
    check(&app, "POST /api/sync/v1/runs/{runId}/revert", a, Body::None, 404, Error("not_found")).await;
    check(&app, &format!("POST /api/sync/v1/runs/{oldest}/revert"), a, Body::None, 409, Error("not_latest")).await;
    check(&app, &format!("POST /api/sync/v1/runs/{oldest}/revert?allowMassRemoval=no"), a, Body::None, 400, Error("invalid_parameter")).await;
    check(&app, &format!("POST /api/sync/v1/runs/{oldest}/approve"), a, Body::None, 409, Error("not_held")).await;
    let body = check(&app, &format!("POST /api/sync/v1/runs/{held}/reject"), a, Body::None, 200, Keys(&["run"])).await;
    assert_eq!(body["run"]["outcome"], "rejected", "{body}");
    check(&app, &format!("POST /api/sync/v1/runs/{held}/reject"), a, Body::None, 409, Error("not_held")).await;
    check(&app, &format!("POST /api/sync/v1/runs/{held}/approve"), a, Body::None, 409, Error("not_held")).await;

    check(&app, "DELETE /api/sync/v1/contrats", a, Body::None, 403, Error("forbidden")).await;
    let body = check(&app, "DELETE /api/sync/v1/contrats", s, Body::None, 200, Keys(&["deleted", "runId"])).await;
    assert_eq!(body["deleted"], true);
    let delete = body["runId"].as_str().unwrap();
    let body = check(&app, &format!("GET /api/sync/v1/runs/{delete}"), s, Body::None, 200, Keys(RUN_KEYS)).await;
    assert_eq!((body["run"]["kind"].as_str(), body["run"]["outcome"].as_str()), (Some("delete"), Some("applied")), "{body}");
    check(&app, &format!("POST /api/sync/v1/runs/{delete}/revert"), s, Body::None, 409, Error("not_latest")).await;

    let import = json!({
        "cycles": [{"cycleId": "c1", "adminName": "Règlement", "ruleId": "c1", "isActive": true, "isDeleted": false}],
        "periods": [{"cyclePeriodId": "p1", "cycleId": "c1", "startDate": "2020-01-01T00:00:00Z",
                     "requirements": [{"id": "r1", "type": 1, "targetValue": 40.0}]}],
        "members": [{"userId": "u1", "customFields": {}}],
        "credits": [{"memberId": "u1", "cyclePeriodId": "p1", "kind": "completed", "credits": 22}]
    });
    check(&app, "POST /lmsapi/admin/import", a, Json(import), 200, Keys(&["imported", "isSuccess"])).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!({"cycles": [{}]})), 400, Error("invalid_json")).await;
    check(&app, "POST /lmsapi/admin/import", a, Json(json!({"cycles": [{"cycleId": " "}]})), 422, Error("validation_failed")).await;
    check(&app, "POST /lmsapi/cycle/getlist", a, Json(json!({})), 200, List).await;
    check(&app, "POST /lmsapi/cycle/getperiodlist", a, Json(json!({"id": "c1"})), 200, List).await;
    check(&app, "POST /lmsapi/cycle/getperiodlist", a, Json(json!({"id": "nope"})), 404, Cycle(1001)).await;
    let progress = &["completedCredits", "customFieldAPIName", "exemptedCredits", "id", "memberId", "providerCredits", "requiredCredits"];
    check(&app, "POST /lmsapi/cycle/getuserprogress", a, Json(json!({"id": "p1", "memberId": "u1"})), 200, Keys(progress)).await;
    let statuses = json!({"userId": "u1", "statuses": [{"status": "Membre", "startDate": "2020-01-01T00:00:00"}]});
    let success = Keys(&["isSuccess"]);
    check(&app, "POST /lmsapi/cycle/updatememberstatuses", a, Json(statuses), 200, success).await;
    let body = check(&app, "POST /lmsapi/cycle/getmemberstatuses", a, Json(json!({"userId": "u1"})), 200, Keys(&["statuses"])).await;
    let entry = body["statuses"][0]["entryId"].clone();
    let status = json!({"userId": "u1", "entryId": entry, "status": {"status": "Suspendu"}});
    check(&app, "POST /lmsapi/cycle/updatememberstatus", a, Json(status), 200, success).await;
    let change = json!({"userId": "u1", "status": {"status": "Membre", "startDate": "2021-01-01T00:00:00"}});
    check(&app, "POST /lmsapi/cycle/changecurrentmemberstatus", a, Json(change), 200, Keys(&["entryId", "isSuccess"])).await;
    check(&app, "POST /lmsapi/cycle/getmemberstatuses", a, Json(json!({"userId": "nope"})), 404, Cycle(1009)).await;
}

#[tokio::test]
#[rustfmt::skip] // one line per case
async fn unknown_routes_and_wrong_methods() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let a = Some(TOKEN_A);
    check(&app, "GET /api/sync/v1/nothing-here", a, Body::None, 404, Error("not_found")).await;
    check(&app, "GET /api/sync/v1/nothing-here", None, Body::None, 404, Error("not_found")).await;
    check(&app, "POST /lmsapi/cycle/nothing", a, Json(json!({})), 404, Error("not_found")).await;
    check(&app, "GET /", None, Body::None, 404, Error("not_found")).await;
    check(&app, "GET /api/sync/v2/contrats", a, Body::None, 405, Empty).await;
    check(&app, "POST /api/sync/v1/test", a, Json(json!({})), 405, Empty).await;
    check(&app, "PATCH /api/sync/v1/contrats", a, Body::None, 405, Empty).await;
    check(&app, "GET /lmsapi/cycle/getlist", a, Body::None, 405, Empty).await;
    check(&app, "DELETE /lmsapi/admin/import", None, Body::None, 405, Empty).await;
    check(&app, "POST /openapi.json", None, Body::None, 405, Empty).await;
    check(&app, "POST /healthz", None, Body::None, 405, Empty).await;
}

/// The real server, on a socket, once.
#[tokio::test]
async fn the_real_server_answers_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let config = sync_http::ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        store: sync_store::StoreLocation::Directory(dir.path().to_path_buf()),
        tokens: vec![("a".into(), TOKEN_A.into())],
        ..sync_http::ServeConfig::default()
    };
    let server = sync_http::start(config).await.expect("server starts");
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/sync/v1/test", server.addr()))
        .bearer_auth(TOKEN_A)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.expect("body read");
    let body: Value = serde_json::from_slice(&bytes).expect("a JSON body");
    assert_eq!(body, json!({"value": "token valid", "name": "a"}));
    server.stop().await.expect("server stops");
}
