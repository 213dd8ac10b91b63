//! Contract routes of document 000: sync (full and delta), dry-run diff, listings, sandbox
//! delete, session models and the token check.

use std::collections::{BTreeMap, HashMap};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sync_core::rules::SessionModel;
use sync_core::{Change, Contract, Problem, Summary};
use sync_engine::{
    Applied, ChangesInput, Engine, PreviewOutcome, SyncInput, SyncOptions, SyncOutcome,
};
use sync_store::{Listing, TenantId};

use crate::error::ApiError;
use crate::extract::{parse_json, ApiJson, Auth, JsonBytes};
use crate::metrics::SyncKind;
use crate::state::{blocking, AppState};

/// Default page size of the listings.
pub const DEFAULT_LIMIT: usize = 1000;
/// Largest page size of the listings.
pub const MAX_LIMIT: usize = 10_000;

/// A JSON answer from bytes already serialized.
pub(crate) fn json_bytes(bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(bytes),
    )
        .into_response()
}

fn serialize<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::Internal(format!("serialization failed: {e}")))
}

/// Checks the bearer token.
#[utoipa::path(get, path = "/api/sync/v1/test", tag = "contrats",
    responses((status = 200, description = "`{\"value\": \"token valid\", \"name\": TENANT}`"),
              (status = 401, description = "no valid token", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn token_check(Auth(tenant): Auth) -> Json<Value> {
    Json(json!({"value": "token valid", "name": tenant.name}))
}

/// Reads `?allowMassRemoval=`.
fn allow_mass_removal(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    match query.get("allowMassRemoval").map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(ApiError::BadParameter(format!(
            "allowMassRemoval must be true or false, not \"{other}\""
        ))),
    }
}

#[derive(Deserialize)]
struct ChangesBody<'a> {
    #[serde(borrow)]
    changes: ChangeLists<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeLists<'a> {
    #[serde(borrow, default)]
    added: Option<&'a RawValue>,
    #[serde(borrow, default)]
    updated: Option<&'a RawValue>,
    #[serde(default)]
    removed: Vec<String>,
}

/// A list of a delta as the engine takes it: its JSON text, `null` as absent.
fn delta_list(raw: Option<&RawValue>) -> Option<&[u8]> {
    raw.map(|raw| raw.get().trim())
        .filter(|raw| *raw != "null")
        .map(str::as_bytes)
}

/// What the body of a sync route is.
#[derive(Clone, Copy)]
enum SyncBody {
    /// The whole active set (a bare array or `{"contrats": [...]}`).
    Full,
    /// `{"changes": {...}}`.
    Changes,
}

/// Reads a sync body and hands it to the engine, on a blocking thread.
async fn engine_call<T: Send + 'static>(
    state: &AppState,
    bytes: Bytes,
    body: SyncBody,
    call: impl FnOnce(&Engine, SyncInput<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    blocking(move || match body {
        SyncBody::Full => call(&engine, SyncInput::Full(&bytes)),
        SyncBody::Changes => {
            let body = parse_json::<ChangesBody<'_>>(&bytes)?;
            let changes = ChangesInput {
                added: delta_list(body.changes.added),
                updated: delta_list(body.changes.updated),
                removed: body.changes.removed,
            };
            call(&engine, SyncInput::Changes(changes))
        }
    })
    .await
}

/// Applies a sync and answers it: `{"total", "contrats", "summary", "warnings"}`.
async fn sync(
    state: AppState,
    tenant: TenantId,
    query: &HashMap<String, String>,
    bytes: Bytes,
    body: SyncBody,
) -> Result<Response, ApiError> {
    let options = SyncOptions {
        allow_mass_removal: allow_mass_removal(query)?,
    };
    let metrics = state.metrics.clone();
    let kind = match body {
        SyncBody::Full => SyncKind::Full,
        SyncBody::Changes => SyncKind::Changes,
    };
    engine_call(&state, bytes, body, move |engine, input| {
        let outcome = engine.sync(tenant, input, options)?;
        if let Some(metrics) = &metrics {
            metrics.record_sync(kind, &outcome);
        }
        match outcome {
            SyncOutcome::Applied(applied) => Ok(json_bytes(sync_answer(&applied)?)),
            SyncOutcome::Refused(refusal) => Err(refusal.into()),
            SyncOutcome::Guarded(guarded) => Err(ApiError::MassRemoval(guarded)),
        }
    })
    .await
}

/// The sync's answer around the contracts' JSON objects already serialized.
fn sync_answer(applied: &Applied) -> Result<Vec<u8>, ApiError> {
    let summary = serialize(&applied.summary)?;
    let warnings = serialize(&applied.warnings)?;
    let objects = &applied.contracts;
    let size: usize = objects.chunks().map(|c| c.len() + 1).sum();
    let mut out = Vec::with_capacity(size + summary.len() + warnings.len() + 64);
    out.extend_from_slice(format!("{{\"total\":{},\"contrats\":[", objects.len()).as_bytes());
    for (i, chunk) in objects.chunks().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(b"],\"summary\":");
    out.extend_from_slice(&summary);
    out.extend_from_slice(b",\"warnings\":");
    out.extend_from_slice(&warnings);
    out.push(b'}');
    Ok(out)
}

#[derive(Serialize)]
struct DiffAnswer<'c, 'a> {
    same: Vec<&'c Contract<'a>>,
    added: Vec<&'c Contract<'a>>,
    updated: Vec<&'c Contract<'a>>,
    removed: Vec<&'c Contract<'a>>,
    changes: BTreeMap<&'c str, Vec<Change<'c>>>,
    summary: Summary,
    warnings: &'c [&'c Problem],
}

/// Syncs the tenant's whole active set.
#[utoipa::path(post, path = "/api/sync/v2/contrats", tag = "contrats",
    params(("allowMassRemoval" = Option<bool>, Query, description = "confirm a sync that archives more than 30% of the active contracts")),
    request_body(content = Value, content_type = "application/json",
        description = "every active contract: a bare array, or `{\"contrats\": [...]}`"),
    responses(
        (status = 200, description = "`{\"total\", \"contrats\", \"summary\": {same, added, updated, removed}, \"warnings\"}`"),
        (status = 400, description = "not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "no valid token", body = crate::openapi::ErrorBody),
        (status = 409, description = "`mass_removal`", body = crate::openapi::ErrorBody),
        (status = 413, description = "body too large", body = crate::openapi::ErrorBody),
        (status = 415, description = "not application/json", body = crate::openapi::ErrorBody),
        (status = 422, description = "every problem; nothing changed", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_contracts(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Query(query): Query<HashMap<String, String>>,
    JsonBytes(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    sync(state, tenant.id, &query, bytes, SyncBody::Full).await
}

/// Merges a delta into the active set, then syncs the merged set.
#[utoipa::path(post, path = "/api/sync/v2/contrats/changes", tag = "contrats",
    params(("allowMassRemoval" = Option<bool>, Query, description = "confirm a mass removal")),
    request_body(content = Value, content_type = "application/json",
        description = "`{\"changes\": {\"added\": [...], \"updated\": [...], \"removed\": [\"codeContrat\"]}}`"),
    responses(
        (status = 200, description = "as `POST /api/sync/v2/contrats`"),
        (status = 400, description = "not JSON", body = crate::openapi::ErrorBody),
        (status = 409, description = "`mass_removal`", body = crate::openapi::ErrorBody),
        (status = 422, description = "every problem of the delta and of the merged set", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_changes(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Query(query): Query<HashMap<String, String>>,
    JsonBytes(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    sync(state, tenant.id, &query, bytes, SyncBody::Changes).await
}

/// The same checks and diff as the sync, nothing written.
#[utoipa::path(post, path = "/api/sync/v1/contrats-diff", tag = "contrats",
    request_body(content = Value, content_type = "application/json", description = "as the sync"),
    responses(
        (status = 200, description = "`{\"same\", \"added\", \"updated\", \"removed\", \"changes\": {codeContrat: [{field, old, new}]}, \"summary\"}`"),
        (status = 422, description = "every problem", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_diff(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    JsonBytes(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    engine_call(&state, bytes, SyncBody::Full, move |engine, input| {
        let answer = engine.preview(tenant.id, input, |diff, warnings| {
            serialize(&DiffAnswer {
                same: diff.same_contracts().collect(),
                added: diff.added_contracts().collect(),
                updated: diff.updated_contracts().collect(),
                removed: diff.removed_contracts().collect(),
                changes: diff
                    .updates()
                    .map(|u| (u.key, u.changes().collect()))
                    .collect(),
                summary: diff.summary(),
                warnings,
            })
        })?;
        match answer {
            PreviewOutcome::Compared(bytes) => Ok(json_bytes(bytes?)),
            PreviewOutcome::Refused(refusal) => Err(refusal.into()),
        }
    })
    .await
}

/// `?limit=&page=` as (offset, limit).
fn paging(query: &HashMap<String, String>) -> Result<(usize, usize), ApiError> {
    let positive = |name: &str, default: usize| -> Result<usize, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ApiError::BadParameter(format!(
                    "{name} must be a positive integer, not \"{raw}\""
                ))),
            },
        }
    };
    let limit = positive("limit", DEFAULT_LIMIT)?;
    if limit > MAX_LIMIT {
        return Err(ApiError::BadParameter(format!(
            "limit must be at most {MAX_LIMIT}, not {limit}"
        )));
    }
    let page = positive("page", 1)?;
    let offset = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| ApiError::BadParameter(format!("page {page} is out of range")))?;
    Ok((offset, limit))
}

async fn list(
    state: AppState,
    tenant: TenantId,
    listing: Listing,
    query: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let (offset, limit) = paging(&query)?;
    let store = state.store.clone();
    let bytes = blocking(move || {
        let page = store.page(tenant, listing, offset, limit)?;
        let size: usize = page.contracts.iter().map(|c| c.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 40);
        out.extend_from_slice(format!("{{\"total\":{},\"contrats\":[", page.total).as_bytes());
        for (i, contract) in page.contracts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(contract.as_bytes());
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    })
    .await?;
    Ok(json_bytes(bytes))
}

/// Integrated contracts: active and matched by a session model.
#[utoipa::path(get, path = "/api/sync/v1/contrats", tag = "contrats",
    params(("limit" = Option<u32>, Query, description = "page size, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, description = "1-based page, default 1")),
    responses((status = 200, description = "`{\"total\", \"contrats\"}` ordered by codeContrat"),
              (status = 400, description = "bad limit or page", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_integrated(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    list(state, tenant.id, Listing::Integrated, query).await
}

/// Transmitted contracts: every active one.
#[utoipa::path(get, path = "/api/sync/v1/contrats-get-all", tag = "contrats",
    params(("limit" = Option<u32>, Query, description = "page size, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, description = "1-based page, default 1")),
    responses((status = 200, description = "`{\"total\", \"contrats\"}` ordered by codeContrat"),
              (status = 400, description = "bad limit or page", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_transmitted(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    list(state, tenant.id, Listing::Transmitted, query).await
}

/// Deletes every contract, calendar and absence of a sandbox tenant.
#[utoipa::path(delete, path = "/api/sync/v1/contrats", tag = "contrats",
    responses((status = 200, description = "`{\"deleted\": true}`"),
              (status = 403, description = "not a sandbox tenant", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_contracts(
    State(state): State<AppState>,
    Auth(tenant): Auth,
) -> Result<Json<Value>, ApiError> {
    let engine = state.engine.clone();
    blocking(move || Ok(engine.delete_all(&tenant)?)).await?;
    Ok(Json(json!({"deleted": true})))
}

/// The tenant's session models.
#[utoipa::path(get, path = "/api/sync/v1/session-models", tag = "session models",
    responses((status = 200, description = "`[{\"codeFormation\", \"codeAnnee\", \"codeSite\"?, \"codePeriode\"?}]`")),
    security(("bearer" = [])))]
pub async fn get_models(
    State(state): State<AppState>,
    Auth(tenant): Auth,
) -> Result<Json<Vec<SessionModel>>, ApiError> {
    let store = state.store.clone();
    Ok(Json(
        blocking(move || Ok(store.session_models(tenant.id)?)).await?,
    ))
}

/// Replaces the tenant's session models; contracts they match become integrated.
#[utoipa::path(put, path = "/api/sync/v1/session-models", tag = "session models",
    request_body(content = Value, content_type = "application/json",
        description = "`[{\"codeFormation\", \"codeAnnee\", \"codeSite\"?, \"codePeriode\"?}]`; omitted fields match anything"),
    responses((status = 200, description = "the stored models"),
              (status = 422, description = "a blank code or a repeated model", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_models(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(models): ApiJson<Vec<SessionModel>>,
) -> Result<Json<Vec<SessionModel>>, ApiError> {
    let engine = state.engine.clone();
    blocking(move || {
        engine.set_session_models(tenant.id, &models)?;
        Ok(Json(models))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_paging(query: &[(&str, &str)], expected: Result<(usize, usize), ()>) {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(paging(&query).map_err(|_| ()), expected, "{query:?}");
    }

    #[test]
    fn paging_parameters() {
        check_paging(&[], Ok((0, 1000)));
        check_paging(&[("limit", "10"), ("page", "3")], Ok((20, 10)));
        check_paging(&[("limit", "10000")], Ok((0, 10000)));
        check_paging(&[("limit", "10001")], Err(()));
        check_paging(&[("limit", "0")], Err(()));
        check_paging(&[("page", "0")], Err(()));
        check_paging(&[("page", "-1")], Err(()));
        check_paging(&[("page", "x")], Err(()));
        check_paging(&[("page", "99999999999999999999")], Err(()));
    }
}
