//! The review page of a held run: opened with the key of the 409's `reviewUrl` (no bearer
//! token), the counts and changes shown, filtered and paged by the server, approved or
//! rejected from the page; a wrong, expired or other run's key is one 404 page.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use sync_engine::{EngineOptions, ManualClock};
use sync_http::{AppState, Settings};
use sync_store::{hash_token, SqliteStore, Store};
use tower::ServiceExt;

use crate::{contracts, send, TOKEN_A, TOKEN_B};

/// An answer with its body as text.
#[derive(Debug)]
struct Page {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    /// The number shown for `name` (`same`, `added`, ...).
    fn count(&self, name: &str) -> usize {
        let start = format!("id=\"count-{name}\">");
        let at = self.body.find(&start).expect("the count") + start.len();
        self.body[at..at + self.body[at..].find('<').unwrap()]
            .parse()
            .unwrap()
    }

    /// The codes of the changes listed, in order.
    fn codes(&self) -> Vec<&str> {
        self.body
            .split("<tbody class=\"c\"><tr class=\"k-")
            .skip(1)
            .map(|row| {
                let at = row.find("<th scope=\"row\">").unwrap() + "<th scope=\"row\">".len();
                &row[at..at + row[at..].find('<').unwrap()]
            })
            .collect()
    }
}

async fn page(app: &Router, method: Method, uri: &str) -> Page {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        content_type: headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// The application over a new store in `dir` with tenants `a` and `b`, the engine on `clock`
/// with a one-hour hold.
fn app(dir: &std::path::Path, clock: Arc<ManualClock>, public_url: Option<&str>) -> Router {
    let store = SqliteStore::open(dir).unwrap();
    for (tenant, token) in [("a", TOKEN_A), ("b", TOKEN_B)] {
        store
            .tenant_with_token(tenant, &hash_token(token), false)
            .unwrap();
    }
    let settings = Settings {
        public_url: public_url.map(str::to_owned),
        ..Settings::default()
    };
    let options = EngineOptions {
        hold_for: Duration::from_secs(3600),
        clock,
        ..EngineOptions::default()
    };
    sync_http::app(AppState::with_engine_options(
        Arc::new(store) as Arc<dyn Store>,
        settings,
        options,
    ))
}

async fn api(
    app: &Router,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let body = body.map(|b| (serde_json::to_vec(b).unwrap(), "application/json"));
    send(app, method, path, Some(token), body).await
}

/// Syncs `first` contracts, then a set that keeps `kept` of them (the first one with another
/// `nomEntreprise`) and adds one: held. Returns the 409's error object.
async fn held_sync(app: &Router, token: &str, first: &[Value], kept: usize) -> Value {
    let (status, body) = api(
        app,
        Method::POST,
        "/api/sync/v2/contrats",
        token,
        Some(&json!(first)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut next: Vec<Value> = first[..kept].to_vec();
    next[0]["nomEntreprise"] = json!("Boulangerie <Nouvelle> & Fils");
    // A new contract of an apprentice already known (the first one removed).
    let mut added = first[kept].clone();
    added["codeContrat"] = json!("ADDED-1");
    next.push(added);
    let (status, body) = api(
        app,
        Method::POST,
        "/api/sync/v2/contrats",
        token,
        Some(&json!(next)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "mass_removal", "{body}");
    body["error"].clone()
}

fn epoch() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ))
}

#[tokio::test]
async fn a_held_sync_is_reviewed_with_its_key_and_approved() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), epoch(), None);
    let first = contracts(30, 1);
    let error = held_sync(&app, TOKEN_A, &first, 10).await;
    let run_id = error["runId"].as_str().unwrap().to_owned();
    let url = error["reviewUrl"].as_str().unwrap().to_owned();
    let key = url
        .strip_prefix(&format!("/review/{run_id}?key="))
        .unwrap_or_else(|| panic!("{url}"))
        .to_owned();
    assert_eq!(key.len(), 64, "{key}");

    // Without a token: the counts, the changes, the changed field, the buttons.
    let shown = page(&app, Method::GET, &url).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.content_type, "text/html; charset=utf-8");
    assert_eq!(shown.headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(shown.headers[header::CACHE_CONTROL], "no-store");
    assert!(shown.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'none'"));
    let counts = ["same", "added", "updated", "removed"].map(|name| shown.count(name));
    assert_eq!(counts, [9, 1, 1, 20]);
    assert_eq!(shown.codes().len(), 22);
    // The changed field by its wire name, old and new as sent, escaped.
    let old = first[0]["nomEntreprise"].as_str().unwrap();
    let row = shown
        .body
        .split("<th scope=\"row\">nomEntreprise</th>")
        .nth(1)
        .expect("the changed field");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("&lt;Nouvelle&gt; &amp; Fils"), "{row}");
    let plain = |html: &str| html.replace("<del>", "").replace("</del>", "");
    assert!(plain(row).contains(&html_escape(old)), "{row}");
    assert!(!shown.body.contains("<Nouvelle>"));
    assert!(shown
        .body
        .contains(&format!("action=\"/review/{run_id}/approve?key={key}\"")));
    assert!(shown
        .body
        .contains(&format!("action=\"/review/{run_id}/reject?key={key}\"")));
    assert!(shown.body.contains("22 matching change(s)"));

    // The filter runs on the server: by code, by name.
    let code = first[15]["codeContrat"].as_str().unwrap();
    let q = |text: &str| serde_urlencoded::to_string([("q", text)]).unwrap();
    let filtered = page(
        &app,
        Method::GET,
        &format!("{url}&{}", q(&code.to_lowercase())),
    )
    .await;
    assert_eq!(filtered.codes(), [code]);
    assert!(filtered.body.contains("1 matching change(s)"));
    let name = first[15]["nomApprenant"].as_str().unwrap();
    let by_name = page(
        &app,
        Method::GET,
        &format!("{url}&{}", q(&name.to_uppercase())),
    )
    .await;
    assert!(by_name.codes().contains(&code), "{:?}", by_name.codes());
    let none = page(&app, Method::GET, &format!("{url}&q=nobody-at-all")).await;
    assert!(none.codes().is_empty());
    assert!(none.body.contains("No change to show."));

    // The API gives another key for the held run; both open it.
    let (status, body) = api(
        &app,
        Method::GET,
        &format!("/api/sync/v1/runs/{run_id}"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = body["reviewUrl"].as_str().unwrap().to_owned();
    assert_ne!(second, url);
    assert_eq!(
        page(&app, Method::GET, &second).await.status,
        StatusCode::OK
    );

    // Approve from the page: applied, shown, and seen through the API.
    let approved = page(
        &app,
        Method::POST,
        &format!("/review/{run_id}/approve?key={key}"),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert!(approved
        .body
        .contains("Approved: the sync is applied (same 9, added 1, updated 1, removed 20)."));
    assert!(
        !approved.body.contains("id=\"approve\""),
        "no buttons once decided"
    );
    assert!(approved.body.contains("<dd>approved</dd>"));
    let (_, body) = api(
        &app,
        Method::GET,
        "/api/sync/v1/contrats-get-all?limit=100",
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["total"], 11, "{body}");
    let (_, body) = api(
        &app,
        Method::GET,
        &format!("/api/sync/v1/runs/{run_id}"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["run"]["outcome"], "approved");
    assert!(body.get("reviewUrl").is_none(), "{body}");

    // Again: refused on the page, nothing changed.
    let again = page(
        &app,
        Method::POST,
        &format!("/review/{run_id}/approve?key={key}"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("Not done (not_held)"), "{}", again.body);
    let (_, body) = api(
        &app,
        Method::GET,
        "/api/sync/v1/contrats-get-all?limit=100",
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["total"], 11);
}

fn html_escape(text: &str) -> String {
    sync_http::html::Escaped(text).to_string()
}

#[tokio::test]
async fn a_wrong_expired_or_other_runs_key_is_one_404_page() {
    let dir = tempfile::tempdir().unwrap();
    let clock = epoch();
    let app = app(dir.path(), clock.clone(), Some("https://sync.example.org"));
    let error_a = held_sync(&app, TOKEN_A, &contracts(30, 1), 10).await;
    let error_b = held_sync(&app, TOKEN_B, &contracts(30, 2), 5).await;
    let (run_a, url_a) = (
        error_a["runId"].as_str().unwrap(),
        error_a["reviewUrl"].as_str().unwrap(),
    );
    let run_b = error_b["runId"].as_str().unwrap();
    let path_a = url_a
        .strip_prefix("https://sync.example.org")
        .expect("the public URL first");
    let key_a = path_a.split("key=").nth(1).unwrap();
    assert_eq!(page(&app, Method::GET, path_a).await.status, StatusCode::OK);

    let not_found = page(&app, Method::GET, &format!("/review/{run_a}?key=wrong")).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert_eq!(not_found.content_type, "text/html; charset=utf-8");
    assert!(!not_found.body.contains(run_a));
    for uri in [
        format!("/review/{run_a}"),
        format!("/review/{run_a}?key="),
        format!("/review/{run_b}?key={key_a}"),
        format!("/review/nosuchrun?key={key_a}"),
        format!("/review/{run_a}?key={}", key_a.to_uppercase()),
    ] {
        let got = page(&app, Method::GET, &uri).await;
        assert_eq!(
            (got.status, &got.body),
            (not_found.status, &not_found.body),
            "{uri}"
        );
    }
    // Nor can another run's key, or no key, decide.
    for uri in [
        format!("/review/{run_b}/approve?key={key_a}"),
        format!("/review/{run_b}/reject?key={key_a}"),
        format!("/review/{run_a}/approve?key=wrong"),
    ] {
        let got = page(&app, Method::POST, &uri).await;
        assert_eq!(
            (got.status, &got.body),
            (not_found.status, &not_found.body),
            "{uri}"
        );
    }
    let (_, body) = api(
        &app,
        Method::GET,
        &format!("/api/sync/v1/runs/{run_b}"),
        TOKEN_B,
        None,
    )
    .await;
    assert_eq!(body["run"]["outcome"], "held");

    // Past the hold the key opens nothing, and the run is expired.
    clock.advance(Duration::from_secs(3600));
    let got = page(&app, Method::GET, path_a).await;
    assert_eq!((got.status, &got.body), (not_found.status, &not_found.body));
    let (_, body) = api(
        &app,
        Method::GET,
        &format!("/api/sync/v1/runs/{run_a}"),
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["run"]["outcome"], "expired");
    assert!(body.get("reviewUrl").is_none());
}

#[tokio::test]
async fn reject_from_the_page_and_pages_of_a_large_run() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), epoch(), None);
    let first = contracts(300, 3);
    let error = held_sync(&app, TOKEN_A, &first, 60).await;
    let (run_id, url) = (
        error["runId"].as_str().unwrap(),
        error["reviewUrl"].as_str().unwrap(),
    );
    let key = url.split("key=").nth(1).unwrap();

    // 240 removed, 1 updated, 1 added: three pages of 100.
    let first_page = page(&app, Method::GET, url).await;
    assert_eq!(first_page.codes().len(), 100);
    assert!(first_page.body.contains("page 1 of 3"));
    let next = format!("href=\"/review/{run_id}?key={key}&amp;page=2\"");
    assert!(first_page.body.contains(&next), "{}", first_page.body);
    let last = page(&app, Method::GET, &format!("{url}&page=3")).await;
    assert_eq!(last.codes().len(), 42);
    assert!(last.body.contains("page 3 of 3"));
    let middle = page(&app, Method::GET, &format!("{url}&page=2")).await;
    let mut all: Vec<&str> = [&first_page, &middle, &last]
        .iter()
        .flat_map(|p| p.codes())
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 242, "every change once");
    // A page past the end is empty, not an error; a page that is not a number is the first.
    assert!(page(&app, Method::GET, &format!("{url}&page=9"))
        .await
        .codes()
        .is_empty());
    assert_eq!(
        page(&app, Method::GET, &format!("{url}&page=x"))
            .await
            .codes(),
        first_page.codes()
    );
    // The filter keeps its paging links.
    let filtered = page(&app, Method::GET, &format!("{url}&q=CT")).await;
    assert!(
        filtered.body.contains(&format!(
            "href=\"/review/{run_id}?key={key}&amp;q=CT&amp;page=2\""
        )),
        "{}",
        filtered.body
    );

    let rejected = page(
        &app,
        Method::POST,
        &format!("/review/{run_id}/reject?key={key}"),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert!(rejected.body.contains("Rejected: nothing was applied"));
    assert!(rejected.body.contains("<dd>rejected</dd>"));
    let (_, body) = api(
        &app,
        Method::GET,
        "/api/sync/v1/contrats-get-all?limit=1000",
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["total"], 300);
}

#[tokio::test]
async fn an_approval_after_the_contracts_changed_is_refused_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), epoch(), None);
    let first = contracts(30, 4);
    let error = held_sync(&app, TOKEN_A, &first, 10).await;
    let (run_id, url) = (
        error["runId"].as_str().unwrap(),
        error["reviewUrl"].as_str().unwrap(),
    );
    // Another sync changes the contracts meanwhile: the hold is stale.
    let mut changed = first.clone();
    changed[1]["nomEntreprise"] = json!("Another name");
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/sync/v2/contrats",
        TOKEN_A,
        Some(&json!(changed)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let key = url.split("key=").nth(1).unwrap();
    let refused = page(
        &app,
        Method::POST,
        &format!("/review/{run_id}/approve?key={key}"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("Not done (stale_hold)"),
        "{}",
        refused.body
    );
    // Still held: the buttons stay, and nothing was archived.
    assert!(refused.body.contains("id=\"approve\""));
    assert!(refused.body.contains("<dd>held</dd>"));
    let (_, body) = api(
        &app,
        Method::GET,
        "/api/sync/v1/contrats-get-all?limit=100",
        TOKEN_A,
        None,
    )
    .await;
    assert_eq!(body["total"], 30);
}
