//! Sync runs (DESIGN 9): the tenant's runs newest first, one run with a page of what it
//! changed, and the decisions: approve or reject a held run, revert the latest change.
//! Each calls the engine; the answers are built here.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use sync_engine::{ChangeKind, SyncOptions, SyncOutcome};

use crate::contracts::{allow_mass_removal, json_bytes, paging, sync_answer};
use crate::error::ApiError;
use crate::extract::{Auth, Params, UserAgent};
use crate::state::{blocking, AppState};
use crate::wire::{RejectAnswer, RunWire, RunsAnswer};

fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::Internal(format!("serialization failed: {e}")))
}

/// The tenant's runs, newest first.
#[utoipa::path(get, path = "/api/sync/v1/runs", tag = "runs",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "page size, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, minimum = 1, maximum = 1000000, description = "1-based page, 1 to 1000000, default 1")),
    responses((status = 200, description = "a page of the tenant's runs, newest first", body = RunsAnswer),
        (status = 400, description = "a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_runs(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
) -> Result<Json<RunsAnswer>, ApiError> {
    let (offset, limit) = paging(&query)?;
    let engine = state.engine.clone();
    let page = blocking(move || Ok(engine.runs(tenant.id, offset, limit)?)).await?;
    Ok(Json(RunsAnswer {
        total: page.total,
        runs: page.runs.iter().map(RunWire::from).collect(),
    }))
}

/// One run and a page of what it changed (or, held, would change).
#[utoipa::path(get, path = "/api/sync/v1/runs/{runId}", tag = "runs",
    params(("runId" = String, Path, description = "the run's id, as a sync answer or `GET /api/sync/v1/runs` gives it"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "changes per page, 1 to 10000, default 1000"),
           ("page" = Option<u32>, Query, minimum = 1, maximum = 1000000, description = "1-based page of changes, 1 to 1000000, default 1")),
    responses((status = 200, description = "the run, a page of its changes (`fields` filled for updates), a refused run's problems", body = crate::wire::RunAnswer),
        (status = 400, description = "a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such run for this tenant (`not_found`): unknown, pruned, or another tenant's", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_run(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Path(run_id): Path<String>,
    query: Params,
) -> Result<Response, ApiError> {
    let (offset, limit) = paging(&query)?;
    let engine = state.engine.clone();
    let bytes = blocking(move || {
        let run = engine.run(tenant.id, &run_id)?;
        let page = engine.run_changes(tenant.id, &run_id, None, offset, limit)?;
        let problems = engine.run_problems(tenant.id, &run_id)?;
        // Built around the stored JSON of each change's fields and of the problems.
        let mut out = Vec::with_capacity(256 + page.changes.len() * 128);
        out.extend_from_slice(b"{\"run\":");
        out.extend_from_slice(&serialize(&RunWire::from(&run))?);
        out.extend_from_slice(format!(",\"changesTotal\":{},\"changes\":[", page.total).as_bytes());
        for (i, change) in page.changes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"codeContrat\":");
            out.extend_from_slice(&serialize(change.code.as_ref())?);
            out.extend_from_slice(b",\"change\":");
            out.extend_from_slice(&serialize(&change.change)?);
            out.extend_from_slice(b",\"fields\":");
            out.extend_from_slice(if change.change == ChangeKind::Updated {
                change.fields.as_bytes()
            } else {
                b"[]"
            });
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"problems\":");
        out.extend_from_slice(problems.as_deref().unwrap_or("[]").as_bytes());
        out.push(b'}');
        Ok(out)
    })
    .await?;
    Ok(json_bytes(bytes))
}

/// Approves a held run: applies it as if sent with `allowMassRemoval=true`.
#[utoipa::path(post, path = "/api/sync/v1/runs/{runId}/approve", tag = "runs",
    params(("runId" = String, Path, description = "the held run's id, as the 409 `mass_removal` named it")),
    responses((status = 200, description = "the held sync is applied, answered as a sync; the run's outcome is now `approved`", body = crate::wire::SyncAnswer),
        (status = 400, description = "a repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such run for this tenant (`not_found`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "the run is not held (`not_held`: applied, refused, decided or expired); or the tenant's contracts changed since it was held (`stale_hold`, it stays held); or another server kept changing them (`conflict`); nothing changed", body = crate::openapi::ErrorBody),
        (status = 422, description = "the held payload no longer passes validation (`validation_failed`); nothing changed", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Path(run_id): Path<String>,
) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    let metrics = state.metrics.clone();
    blocking(move || match engine.approve(tenant.id, &run_id)? {
        SyncOutcome::Applied(applied) => {
            if let Some(metrics) = &metrics {
                metrics.record_decision("approved", 1);
            }
            Ok(json_bytes(sync_answer(&applied)?))
        }
        SyncOutcome::Refused(refusal) => Err(refusal.into()),
        SyncOutcome::Guarded(held) => Err(ApiError::Held(held)),
    })
    .await
}

/// Rejects a held run: nothing is written, its payload is dropped.
#[utoipa::path(post, path = "/api/sync/v1/runs/{runId}/reject", tag = "runs",
    params(("runId" = String, Path, description = "the held run's id")),
    responses((status = 200, description = "the run, now `rejected`", body = RejectAnswer),
        (status = 400, description = "a repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such run for this tenant (`not_found`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "the run is not held (`not_held`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Path(run_id): Path<String>,
) -> Result<Json<RejectAnswer>, ApiError> {
    let engine = state.engine.clone();
    let run = blocking(move || Ok(engine.reject(tenant.id, &run_id)?)).await?;
    if let Some(metrics) = &state.metrics {
        metrics.record_decision("rejected", 1);
    }
    Ok(Json(RejectAnswer {
        run: RunWire::from(&run),
    }))
}

/// Reverts the latest run that changed the tenant's contracts.
#[utoipa::path(post, path = "/api/sync/v1/runs/{runId}/revert", tag = "runs",
    params(("runId" = String, Path, description = "the run to undo: the latest that changed the contracts (applied, approved or a revert)"),
           ("allowMassRemoval" = Option<bool>, Query, description = "`true` confirms a revert that archives more than 30% of the active contracts; `true` or `false`")),
    responses((status = 200, description = "the contracts are as they were before the run; answered as a sync, with the `runId` of the new run of kind `revert`; the reverted run's outcome is now `reverted`", body = crate::wire::SyncAnswer),
        (status = 400, description = "a bad or repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody),
        (status = 404, description = "no such run for this tenant (`not_found`)", body = crate::openapi::ErrorBody),
        (status = 409, description = "not the latest run that changed the contracts, or one that changed none, or a sandbox delete (`not_latest`); or the revert would archive more than 30% of the active contracts (`mass_removal`, confirm with `allowMassRemoval=true`); or another server kept changing them (`conflict`); nothing changed", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revert(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Path(run_id): Path<String>,
    query: Params,
    user_agent: UserAgent,
) -> Result<Response, ApiError> {
    let options = SyncOptions {
        allow_mass_removal: allow_mass_removal(&query)?,
        user_agent: user_agent.0,
    };
    let engine = state.engine.clone();
    let applied = blocking(move || Ok(engine.revert(tenant.id, &run_id, options)?)).await?;
    if let Some(metrics) = &state.metrics {
        metrics.record_decision("reverted", 1);
    }
    Ok(json_bytes(sync_answer(&applied)?))
}
