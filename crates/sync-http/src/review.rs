//! The review page of a run (DESIGN 9): what a held sync would change, for the person who
//! decides, opened with the run's review key instead of a bearer token.
//!
//! - `GET /review/{runId}?key=KEY[&q=TEXT][&page=N]`: the run's counts, its changes
//!   [`PAGE_SIZE`] at a time (filtered by the engine over codes and apprentice names), a
//!   refused run's problems, and for a held run the Approve and Reject buttons;
//! - `POST /review/{runId}/approve?key=KEY` and `POST /review/{runId}/reject?key=KEY`: the
//!   engine's approve and reject, then the page with the result.
//!
//! The key is made by the engine for one run ([`sync_engine::Engine::new_review_key`]) and
//! given in the `reviewUrl` of the 409 of a held sync and of `GET /api/sync/v1/runs/{runId}`;
//! it opens that run's page and decisions only, until the hold ends. A wrong, expired or
//! other run's key is the same 404 page, which says nothing about the run. The pages are
//! HTML (`html.rs`), not in the OpenAPI document; the key is in the query, which is never
//! logged, and the pages are sent with `Referrer-Policy: no-referrer`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sync_core::{Code, Severity};
use sync_engine::{Engine, RunOutcome, SyncOutcome};
use sync_store::TenantId;

use crate::error::ApiError;
use crate::extract::Params;
use crate::html::{self, ChangeKind, ChangeRow, Counts, DiffView, FieldChange, Navigation};
use crate::state::{blocking, AppState};
use crate::wire::{rfc3339, ProblemWire};

/// Changes shown per page.
pub const PAGE_SIZE: usize = 100;

/// The review URL of a run with this key: `{public_url}/review/{runId}?key={key}`, a path
/// when the server has no public URL.
pub fn review_url(public_url: Option<&str>, run_id: &str, key: &str) -> String {
    let query = serde_urlencoded::to_string([("key", key)]).unwrap_or_default();
    format!(
        "{}/review/{}?{query}",
        public_url.unwrap_or(""),
        percent_path(run_id)
    )
}

/// A new review URL for the tenant's run while it is held, `None` otherwise. A key that
/// cannot be made is logged and left out: the answer it goes with stands without it.
pub(crate) fn new_review_url(
    engine: &Engine,
    public_url: Option<&str>,
    tenant: TenantId,
    run_id: &str,
) -> Option<String> {
    match engine.new_review_key(tenant, run_id) {
        Ok(key) => key.map(|key| review_url(public_url, run_id, &key)),
        Err(error) => {
            tracing::warn!(%error, "no review key could be made");
            None
        }
    }
}

/// `GET /review/{runId}?key=KEY`: the run's page, or the 404 page.
pub async fn get_page(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    query: Params,
) -> Response {
    let request = PageRequest::new(run_id, &query);
    let engine = state.engine.clone();
    let answer = blocking(move || {
        let Some(tenant) = engine.review_access(&request.key, &request.run_id)? else {
            return Ok(not_found());
        };
        render_run(&engine, tenant, &request, StatusCode::OK, None)
    })
    .await;
    answer.unwrap_or_else(error_page)
}

/// `POST /review/{runId}/approve?key=KEY`: applies the held run, then shows the page.
pub async fn post_approve(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    query: Params,
) -> Response {
    decide(state, run_id, &query, Decision::Approve).await
}

/// `POST /review/{runId}/reject?key=KEY`: drops the held run, then shows the page.
pub async fn post_reject(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    query: Params,
) -> Response {
    decide(state, run_id, &query, Decision::Reject).await
}

#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve,
    Reject,
}

async fn decide(state: AppState, run_id: String, query: &Params, decision: Decision) -> Response {
    let request = PageRequest::new(run_id, query);
    let engine = state.engine.clone();
    let metrics = state.metrics.clone();
    let answer = blocking(move || {
        let Some(tenant) = engine.review_access(&request.key, &request.run_id)? else {
            return Ok(not_found());
        };
        let run_id = request.run_id.as_str();
        let (status, notice) = match decision {
            Decision::Approve => match engine.approve(tenant, run_id) {
                Ok(SyncOutcome::Applied(applied)) => {
                    if let Some(metrics) = &metrics {
                        metrics.record_decision("approved", 1);
                    }
                    let s = applied.summary;
                    (
                        StatusCode::OK,
                        html::Notice {
                            ok: true,
                            text: format!(
                                "Approved: the sync is applied (same {}, added {}, updated {}, removed {}).",
                                s.same, s.added, s.updated, s.removed
                            ),
                        },
                    )
                }
                Ok(SyncOutcome::Refused(refusal)) => failed(ApiError::from(refusal))?,
                Ok(SyncOutcome::Guarded(held)) => failed(ApiError::Held(held, None))?,
                Err(error) => failed(error.into())?,
            },
            Decision::Reject => match engine.reject(tenant, run_id) {
                Ok(_) => {
                    if let Some(metrics) = &metrics {
                        metrics.record_decision("rejected", 1);
                    }
                    (
                        StatusCode::OK,
                        html::Notice {
                            ok: true,
                            text: "Rejected: nothing was applied, and the held sync is dropped."
                                .to_owned(),
                        },
                    )
                }
                Err(error) => failed(error.into())?,
            },
        };
        render_run(&engine, tenant, &request, status, Some(notice))
    })
    .await;
    answer.unwrap_or_else(error_page)
}

/// A refused decision as a notice on the page (`stale_hold`, `not_held`...); an error the
/// page cannot show (the run gone, the store failing) is passed on.
fn failed(error: ApiError) -> Result<(StatusCode, html::Notice), ApiError> {
    if matches!(
        error,
        ApiError::NotFound(_) | ApiError::Store(_) | ApiError::Internal(_)
    ) {
        return Err(error);
    }
    let (status, body) = error.status_and_body();
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
    Ok((
        status,
        html::Notice {
            ok: false,
            text: format!("Not done ({code}): {message}"),
        },
    ))
}

/// What a page request asks for.
#[derive(Debug, Clone)]
struct PageRequest {
    run_id: String,
    key: String,
    filter: String,
    page: usize,
}

impl PageRequest {
    fn new(run_id: String, query: &Params) -> Self {
        PageRequest {
            run_id,
            key: query.get("key").unwrap_or("").to_owned(),
            filter: query.get("q").unwrap_or("").trim().to_owned(),
            // A page that is not a positive number is the first: this is a page for people.
            page: query
                .get("page")
                .and_then(|p| p.trim().parse::<usize>().ok())
                .filter(|&p| p > 0)
                .unwrap_or(1),
        }
    }
}

/// The run's page: counts, facts, problems, a page of changes, the buttons of a held run.
fn render_run(
    engine: &Engine,
    tenant: TenantId,
    request: &PageRequest,
    status: StatusCode,
    notice: Option<html::Notice>,
) -> Result<Response, ApiError> {
    let run_id = request.run_id.as_str();
    let run = engine.run(tenant, run_id)?;
    let filter = (!request.filter.is_empty()).then_some(request.filter.as_str());
    let offset = (request.page - 1).saturating_mul(PAGE_SIZE);
    let changes = engine.run_changes(tenant, run_id, filter, offset, PAGE_SIZE)?;
    let problems: Vec<ProblemWire> = match engine.run_problems(tenant, run_id)? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => Vec::new(),
    };
    // Each record's changed fields, parsed from the stored JSON.
    let fields: Vec<Vec<StoredField>> = changes
        .changes
        .iter()
        .map(|c| serde_json::from_str(&c.fields).unwrap_or_default())
        .collect();
    let rows = changes
        .changes
        .iter()
        .zip(&fields)
        .map(|(record, fields)| ChangeRow {
            kind: match record.change {
                sync_engine::ChangeKind::Added => ChangeKind::Added,
                sync_engine::ChangeKind::Updated => ChangeKind::Updated,
                sync_engine::ChangeKind::Removed => ChangeKind::Removed,
            },
            code: &record.code,
            apprentice: apprentice(&record.first_name, &record.last_name).into(),
            group: &record.group_name,
            site: &record.site_name,
            fields: fields
                .iter()
                .map(|f| FieldChange {
                    field: &f.field,
                    old: f.old.as_deref(),
                    new: f.new.as_deref(),
                })
                .collect(),
        })
        .collect();
    let held = run.outcome == RunOutcome::Held;
    let path = format!("/review/{}", percent_path(run_id));
    let key_query =
        serde_urlencoded::to_string([("key", request.key.as_str())]).unwrap_or_default();
    let mut page_href = format!("{path}?{key_query}&");
    if let Some(filter) = filter {
        page_href.push_str(&serde_urlencoded::to_string([("q", filter)]).unwrap_or_default());
        page_href.push('&');
    }
    page_href.push_str("page=");
    let mut facts = vec![
        ("runId", run.id.clone()),
        ("kind", run.kind.to_string()),
        ("outcome", run.outcome.to_string()),
        ("receivedAt", rfc3339(run.received_at)),
    ];
    if let Some(decided_at) = run.decided_at {
        facts.push(("decidedAt", rfc3339(decided_at)));
    }
    if let Some(user_agent) = &run.user_agent {
        facts.push(("userAgent", user_agent.clone()));
    }
    let view = DiffView {
        title: if held {
            format!("Held sync {}: approve or reject", run.id)
        } else {
            format!("Sync run {} ({})", run.id, run.outcome)
        },
        facts,
        notice,
        counts: Counts {
            same: run.summary.same,
            added: run.summary.added,
            updated: run.summary.updated,
            removed: run.summary.removed,
        },
        problems: problems
            .iter()
            .map(|p| html::ProblemLine {
                error: Code::ALL
                    .iter()
                    .find(|c| c.as_str() == p.code)
                    .is_none_or(|c| c.severity() == Severity::Error),
                source: None,
                text: problem_text(p),
            })
            .collect(),
        no_changes_reason: None,
        changes: rows,
        navigation: Navigation::Server {
            action: path.clone(),
            hidden: vec![("key".to_owned(), request.key.clone())],
            query: request.filter.clone(),
            page: request.page,
            pages: changes.total.div_ceil(PAGE_SIZE).max(1),
            matching: changes.total,
            page_href,
        },
        actions: held.then(|| html::Actions {
            approve: format!("{path}/approve?{key_query}"),
            reject: format!("{path}/reject?{key_query}"),
        }),
    };
    Ok(html_response(status, html::render(&view)))
}

/// One changed field as the store keeps it.
#[derive(Debug, serde::Deserialize)]
struct StoredField {
    field: String,
    old: Option<String>,
    new: Option<String>,
}

/// `prenomApprenant nomApprenant`, either alone when the other is empty.
fn apprentice(first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first} {last}"),
        (true, _) => last.to_owned(),
        (false, true) => first.to_owned(),
    }
}

/// `#12 C0042 emailApprenant: email_conflict: ...`, as the CLI prints a problem.
fn problem_text(p: &ProblemWire) -> String {
    let mut text = String::new();
    if let Some(index) = p.index {
        text.push_str(&format!("#{index} "));
    }
    if let Some(code) = p.contract_code.as_deref().filter(|c| !c.is_empty()) {
        text.push_str(code);
        text.push(' ');
    }
    if let Some(field) = &p.field {
        text.push_str(field);
        text.push_str(": ");
    }
    text.push_str(&format!("{}: {}", p.code, p.message));
    text
}

/// A path segment percent-encoded (run ids are hex: this only guards what a request sent).
fn percent_path(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The one page of a wrong, expired or other run's key, or of a run that is gone: it says
/// nothing about what exists.
fn not_found() -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        html::message_page(
            "Not found",
            "This review link is not valid, or it has expired. Ask for a new link.",
        ),
    )
}

/// A failure the page cannot show: the 404 page, or a page saying to try again.
fn error_page(error: ApiError) -> Response {
    if matches!(error, ApiError::NotFound(_)) {
        return not_found();
    }
    // A 5xx is logged by the error's own mapping.
    let (status, _) = error.status_and_body();
    html_response(
        status,
        html::message_page(
            "Not available",
            "The review page cannot be shown now. Try again in a moment.",
        ),
    )
}

/// An HTML answer: never cached, never framed, no referrer (the key is in the URL), nothing
/// loaded from elsewhere, no script.
fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_urls() {
        assert_eq!(review_url(None, "ab12", "k1"), "/review/ab12?key=k1");
        assert_eq!(
            review_url(Some("https://sync.example.org"), "ab12", "k1"),
            "https://sync.example.org/review/ab12?key=k1"
        );
        assert_eq!(percent_path("a/b c"), "a%2Fb%20c");
    }
}
