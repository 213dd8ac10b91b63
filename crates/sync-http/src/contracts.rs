//! Contract routes of document 000: sync (full and delta), dry-run diff, listings, sandbox
//! delete, session models and the token check.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sync_core::rules::SessionModel;
use sync_core::{Change, Contract};
use sync_engine::{
    Applied, ChangesInput, Engine, PreviewOutcome, SyncInput, SyncOptions, SyncOutcome,
};
use sync_store::{Listing, TenantId};

use crate::error::ApiError;
use crate::extract::{
    parse_json, parse_nested_object, parse_object, Auth, JsonBytes, Params, UserAgent,
};
use crate::metrics::SyncKind;
use crate::state::{blocking, AppState};
use crate::wire::{ProblemWire, SummaryWire};

/// Default page size of the listings.
pub const DEFAULT_LIMIT: usize = 1000;
/// Largest page size of the listings.
pub const MAX_LIMIT: usize = 10_000;
/// Largest page number of the listings.
pub const MAX_PAGE: usize = 1_000_000;

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
    responses((status = 200, description = "the token is valid", body = crate::wire::TokenAnswer),
              (status = 400, description = "a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn token_check(Auth(tenant): Auth) -> Json<crate::wire::TokenAnswer> {
    Json(crate::wire::TokenAnswer {
        value: "token valid".to_owned(),
        name: tenant.name,
    })
}

/// Reads `?allowMassRemoval=`.
pub(crate) fn allow_mass_removal(query: &Params) -> Result<bool, ApiError> {
    match query.get("allowMassRemoval") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::BadParameter(format!(
            "allowMassRemoval must be true or false, not \"{other}\""
        ))),
    }
}

#[derive(Deserialize)]
struct ChangesBody<'a> {
    #[serde(borrow)]
    changes: &'a RawValue,
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
            let body = parse_object::<ChangesBody<'_>>(&bytes)?;
            let lists: ChangeLists<'_> =
                parse_nested_object("changes", body.changes.get().as_bytes())?;
            let changes = ChangesInput {
                added: delta_list(lists.added),
                updated: delta_list(lists.updated),
                removed: lists.removed,
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
    query: &Params,
    bytes: Bytes,
    body: SyncBody,
    user_agent: UserAgent,
) -> Result<Response, ApiError> {
    let options = SyncOptions {
        allow_mass_removal: allow_mass_removal(query)?,
        user_agent: user_agent.0,
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
            SyncOutcome::Guarded(held) => Err(ApiError::Held(held)),
        }
    })
    .await
}

/// The sync's answer around the contracts' JSON objects already serialized.
pub(crate) fn sync_answer(applied: &Applied) -> Result<Vec<u8>, ApiError> {
    let summary = serialize(&SummaryWire::from(applied.summary))?;
    let warnings: Vec<ProblemWire> = applied.warnings.iter().map(ProblemWire::from).collect();
    let warnings = serialize(&warnings)?;
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
    out.extend_from_slice(b",\"runId\":");
    out.extend_from_slice(&serialize(&applied.run_id)?);
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
    summary: SummaryWire,
    warnings: Vec<ProblemWire>,
}

/// Syncs the tenant's whole active set.
#[utoipa::path(post, path = "/api/sync/v2/contrats", tag = "contrats",
    params(("allowMassRemoval" = Option<bool>, Query, description = "`true` confirms a sync that archives more than 30% of the active contracts (tenants of 20 or more); `true` or `false`")),
    request_body(content = crate::wire::ContractsRequest, content_type = "application/json",
        description = "every active contract: a bare array, or `{\"contrats\": [...]}`"),
    responses(
        (status = 200, description = "the sync is applied: the active set, the counts, the warnings", body = crate::wire::SyncAnswer),
        (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where), or a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "the sync would archive more than 30% of the active contracts (`mass_removal`): it is held as a run (`runId` in the error object) to approve or reject, or confirm with `allowMassRemoval=true`; or another server on the same database kept changing the active set while this sync was computed (`conflict`), send it again; nothing changed", body = crate::openapi::ErrorBody),
        (status = 422, description = "a contract breaks a rule of document 000: every problem in `details` (`validation_failed`), the refused run's `runId` in the error object; nothing changed", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_contracts(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
    user_agent: UserAgent,
    JsonBytes(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    sync(state, tenant.id, &query, bytes, SyncBody::Full, user_agent).await
}

/// Merges a delta into the active set, then syncs the merged set.
#[utoipa::path(post, path = "/api/sync/v2/contrats/changes", tag = "contrats",
    params(("allowMassRemoval" = Option<bool>, Query, description = "`true` confirms a sync that archives more than 30% of the active contracts (tenants of 20 or more); `true` or `false`")),
    request_body(content = crate::wire::ChangesRequest, content_type = "application/json",
        description = "a delta: contracts added and updated in full, `codeContrat`s removed"),
    responses(
        (status = 200, description = "the merged set is synced, as `POST /api/sync/v2/contrats`", body = crate::wire::SyncAnswer),
        (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where), or a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "the sync would archive more than 30% of the active contracts (`mass_removal`): it is held as a run (`runId` in the error object) to approve or reject, or confirm with `allowMassRemoval=true`; or another server on the same database kept changing the active set while this sync was computed (`conflict`), send it again; nothing changed", body = crate::openapi::ErrorBody),
        (status = 422, description = "every problem of the delta and of the merged set (`validation_failed`), the refused run's `runId` in the error object; nothing changed", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_changes(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
    user_agent: UserAgent,
    JsonBytes(bytes): JsonBytes,
) -> Result<Response, ApiError> {
    sync(
        state,
        tenant.id,
        &query,
        bytes,
        SyncBody::Changes,
        user_agent,
    )
    .await
}

/// The same checks and diff as the sync, nothing written.
#[utoipa::path(post, path = "/api/sync/v1/contrats-diff", tag = "contrats",
    request_body(content = crate::wire::ContractsRequest, content_type = "application/json", description = "as the sync"),
    responses(
        (status = 200, description = "what a sync would do; nothing written", body = crate::wire::DiffAnswer),
        (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where), or a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "a contract breaks a rule of document 000: every problem in `details` (`validation_failed`)", body = crate::openapi::ErrorBody)),
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
                summary: diff.summary().into(),
                warnings: warnings.iter().map(|p| ProblemWire::from(*p)).collect(),
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
pub(crate) fn paging(query: &Params) -> Result<(usize, usize), ApiError> {
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
    if page > MAX_PAGE {
        return Err(ApiError::BadParameter(format!(
            "page must be at most {MAX_PAGE}, not {page}"
        )));
    }
    let offset = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| ApiError::BadParameter(format!("page {page} is out of range")))?;
    Ok((offset, limit))
}

async fn list(
    state: AppState,
    tenant: TenantId,
    listing: Listing,
    query: Params,
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
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "page size, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, minimum = 1, maximum = 1000000, description = "1-based page, 1 to 1000000, default 1")),
    responses((status = 200, description = "a page of integrated contracts, by codeContrat", body = crate::wire::ContractPage),
        (status = 400, description = "a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_integrated(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
) -> Result<Response, ApiError> {
    list(state, tenant.id, Listing::Integrated, query).await
}

/// Transmitted contracts: every active one.
#[utoipa::path(get, path = "/api/sync/v1/contrats-get-all", tag = "contrats",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "page size, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, minimum = 1, maximum = 1000000, description = "1-based page, 1 to 1000000, default 1")),
    responses((status = 200, description = "a page of active contracts, by codeContrat", body = crate::wire::ContractPage),
        (status = 400, description = "a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_transmitted(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
) -> Result<Response, ApiError> {
    list(state, tenant.id, Listing::Transmitted, query).await
}

/// Deletes every contract, calendar and absence of a sandbox tenant.
#[utoipa::path(delete, path = "/api/sync/v1/contrats", tag = "contrats",
    responses((status = 200, description = "everything of the tenant is deleted (a run of kind `delete`, `runId`)", body = crate::wire::DeletedAnswer),
              (status = 400, description = "a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 403, description = "not a sandbox tenant (`forbidden`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_contracts(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    user_agent: UserAgent,
) -> Result<Json<Value>, ApiError> {
    let engine = state.engine.clone();
    let run_id = blocking(move || Ok(engine.delete_all(&tenant, user_agent.0.as_deref())?)).await?;
    Ok(Json(json!({"deleted": true, "runId": run_id})))
}

/// The tenant's session models.
#[utoipa::path(get, path = "/api/sync/v1/session-models", tag = "session models",
    responses((status = 200, description = "the tenant's session models", body = Vec<crate::wire::SessionModelWire>),
              (status = 400, description = "a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
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
    request_body(content = Vec<crate::wire::SessionModelWire>, content_type = "application/json",
        description = "every session model of the tenant; omitted fields match anything"),
    responses((status = 200, description = "the stored models", body = Vec<crate::wire::SessionModelWire>),
        (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where), or a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 422, description = "a blank code or a repeated model: every problem in `details` (`validation_failed`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_models(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    JsonBytes(bytes): JsonBytes,
) -> Result<Json<Vec<SessionModel>>, ApiError> {
    let engine = state.engine.clone();
    blocking(move || {
        let models = session_models(&bytes)?;
        engine.set_session_models(tenant.id, &models)?;
        Ok(Json(models))
    })
    .await
}

/// A body of session models: an array of objects (an item sent as an array is not taken for
/// one), each of the shape [`crate::wire::SessionModelWire`].
fn session_models(bytes: &[u8]) -> Result<Vec<SessionModel>, ApiError> {
    let items: Vec<serde_json::Map<String, Value>> = parse_json(bytes)?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let bytes = serde_json::to_vec(&item)
                .map_err(|e| ApiError::Internal(format!("serialization failed: {e}")))?;
            parse_nested_object(&format!("[{i}]"), &bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_paging(query: &[(&str, &str)], expected: Result<(usize, usize), ()>) {
        let query = Params(
            query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        assert_eq!(paging(&query).map_err(|_| ()), expected, "{:?}", query.0);
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
        check_paging(
            &[("limit", "10000"), ("page", "1000000")],
            Ok((9_999_990_000, 10000)),
        );
        check_paging(&[("page", "1000001")], Err(()));
    }
}
