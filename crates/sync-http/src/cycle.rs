//! The cycle API of document 004 (`POST /lmsapi/cycle/...`) and the import that loads its
//! data (`POST /lmsapi/admin/import`). The rules are sync-cycle's; this file
//! maps requests, the tenant's stored data and the document's error answers.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sync_cycle::{
    ChangeCurrentMemberStatusRequest, CycleData, CycleError, CycleScope, MemberStatusesRequest,
    PeriodListRequest, ScopedRequest, UpdateMemberStatusRequest, UpdateMemberStatusesRequest,
    UserProgressRequest,
};
use sync_engine::{Engine, EngineError};
use sync_store::{Tenant, TenantId};

use crate::error::ApiError;
use crate::extract::{parse_json, parse_object, Auth, JsonBytes};
use crate::state::{blocking, AppState};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lmsapi/cycle/getlist", post(get_list))
        .route("/lmsapi/cycle/getperiodlist", post(get_period_list))
        .route("/lmsapi/cycle/getuserprogress", post(get_user_progress))
        .route("/lmsapi/cycle/getmemberstatuses", post(get_member_statuses))
        .route(
            "/lmsapi/cycle/updatememberstatuses",
            post(update_member_statuses),
        )
        .route(
            "/lmsapi/cycle/updatememberstatus",
            post(update_member_status),
        )
        .route(
            "/lmsapi/cycle/changecurrentmemberstatus",
            post(change_current_member_status),
        )
        .route("/lmsapi/admin/import", post(import))
}

/// The answer of a cycle route: the document's body, or its error body with 400 or 404.
#[derive(Debug)]
pub struct Reply(Result<Value, CycleError>);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(body) => Json(body).into_response(),
            Err(error) => {
                let status = if error.is_not_found() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                (status, Json(error.to_json())).into_response()
            }
        }
    }
}

/// What every cycle route takes: the state, the tenant of the bearer token and the JSON body,
/// extracted in that order (no valid token is a 401 whatever the body).
#[derive(Debug)]
pub struct CycleCall<R = Value> {
    state: AppState,
    tenant: Tenant,
    request: R,
}

/// A cycle route's request: whether the API refuses any body but a JSON object itself (400
/// `invalid_json`), or hands every JSON value to the rules, which answer the document's codes
/// (an array is then a request without any of the members it needs).
pub trait CycleRequest: DeserializeOwned + Send {
    /// Whether only a JSON object is taken.
    const OBJECT: bool;
}

macro_rules! cycle_request {
    ($($request:ty => $object:expr),* $(,)?) => {
        $(impl CycleRequest for $request {
            const OBJECT: bool = $object;
        })*
    };
}

cycle_request! {
    crate::wire::EmptyRequest => true,
    Value => true,
    PeriodListRequest => false,
    UserProgressRequest => false,
    MemberStatusesRequest => false,
    UpdateMemberStatusesRequest => false,
    UpdateMemberStatusRequest => false,
    ChangeCurrentMemberStatusRequest => false,
}

impl<R: CycleRequest> FromRequest<AppState> for CycleCall<R> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Auth(tenant) = Auth::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let JsonBytes(bytes) = JsonBytes::from_request(request, state).await?;
        let request = if R::OBJECT {
            parse_object(&bytes)?
        } else {
            parse_json(&bytes)?
        };
        Ok(CycleCall {
            state: state.clone(),
            tenant,
            request,
        })
    }
}

impl<R: ScopedRequest + Send + 'static> CycleCall<R> {
    /// Answers with a rule that only reads the part of the tenant's data the request needs.
    async fn read(
        self,
        rule: fn(&CycleData, &R) -> Result<Value, CycleError>,
    ) -> Result<Reply, ApiError> {
        self.run(move |engine, tenant, request| {
            engine.read_cycle_slice(tenant, &request.scope(), |data| rule(data, &request))
        })
        .await
        .map(Reply)
    }

    /// Answers with a rule that changes the part of the tenant's data the request needs;
    /// what changed is saved in one transaction when the rule succeeds.
    async fn write(
        self,
        rule: fn(&mut CycleData, &R) -> Result<Value, CycleError>,
    ) -> Result<Reply, ApiError> {
        self.run(move |engine, tenant, request| {
            engine.write_cycle_slice(tenant, &request.scope(), |data| rule(data, &request))
        })
        .await
        .map(Reply)
    }
}

/// `getlist` reads every cycle, and nothing else.
impl ScopedRequest for crate::wire::EmptyRequest {
    fn scope(&self) -> CycleScope {
        CycleScope::all_cycles()
    }
}

impl<R: Send + 'static> CycleCall<R> {
    /// Runs an engine call with the tenant and the request, off the async workers.
    async fn run<T: Send + 'static>(
        self,
        call: impl FnOnce(&Engine, TenantId, R) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let CycleCall {
            state,
            tenant,
            request,
        } = self;
        let engine = state.engine.clone();
        blocking(move || Ok(call(&engine, tenant.id, request)?)).await
    }
}

/// The regulations (cycles) of the portal.
#[utoipa::path(post, path = "/lmsapi/cycle/getlist", tag = "cycle",
    request_body(content = crate::wire::EmptyRequest, content_type = "application/json"),
    responses((status = 200, description = "the cycles", body = Vec<crate::wire::CycleWire>),
              (status = 400, description = "the body is not a JSON object; or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest)),
    security(("bearer" = [])))]
pub async fn get_list(call: CycleCall<crate::wire::EmptyRequest>) -> Result<Reply, ApiError> {
    call.read(|data, _| Ok(data.get_list())).await
}

/// The periods of a cycle, starting on or after `filterDate` when given.
#[utoipa::path(post, path = "/lmsapi/cycle/getperiodlist", tag = "cycle",
    request_body(content = crate::wire::PeriodListRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the cycle's periods with their requirements", body = Vec<crate::wire::PeriodWire>),
              (status = 400, description = "1000 (no id) or 1010 (filterDate not ISO 8601); or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1001: no cycle has this id", body = crate::wire::CycleErrorBody)),
    security(("bearer" = [])))]
pub async fn get_period_list(call: CycleCall<PeriodListRequest>) -> Result<Reply, ApiError> {
    call.read(CycleData::get_period_list).await
}

/// A member's credits in a period against the period's requirement.
#[utoipa::path(post, path = "/lmsapi/cycle/getuserprogress", tag = "cycle",
    request_body(content = crate::wire::UserProgressRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the member's credits in the period", body = crate::wire::UserProgressWire),
              (status = 400, description = "1000 (no id) or 1002 (no memberId); or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1001 (no period has this id) or 1003 (no member has this memberId)", body = crate::wire::CycleErrorBody)),
    security(("bearer" = [])))]
pub async fn get_user_progress(call: CycleCall<UserProgressRequest>) -> Result<Reply, ApiError> {
    call.read(CycleData::get_user_progress).await
}

/// A member's status timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/getmemberstatuses", tag = "cycle",
    request_body(content = crate::wire::MemberStatusesRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the member's timeline", body = crate::wire::MemberStatusesWire),
              (status = 400, description = "1004 (neither userId nor customFieldAPIName); or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1005 (no member has this custom field) or 1009 (no member, or several, match)", body = crate::wire::CycleErrorBody)),
    security(("bearer" = [])))]
pub async fn get_member_statuses(
    call: CycleCall<MemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    call.read(CycleData::get_member_statuses).await
}

/// Replaces a member's whole timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatuses", tag = "cycle",
    request_body(content = crate::wire::UpdateMemberStatusesRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the timeline is replaced", body = crate::wire::CycleSuccess),
              (status = 400, description = "1004, 1006 (no statuses), 1007 (a status missing) or 1010 (a bad date or range); or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1005 or 1009", body = crate::wire::CycleErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_member_statuses(
    call: CycleCall<UpdateMemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::update_member_statuses).await
}

/// Changes the fields passed of one status entry.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatus", tag = "cycle",
    request_body(content = crate::wire::UpdateMemberStatusRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the entry is changed", body = crate::wire::CycleSuccess),
              (status = 400, description = "1004, 1007 or 1010; or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1005, 1008 (no entry has this entryId) or 1009", body = crate::wire::CycleErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_member_status(
    call: CycleCall<UpdateMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::update_member_status).await
}

/// Closes the open status range at the new range's start and adds the new range.
#[utoipa::path(post, path = "/lmsapi/cycle/changecurrentmemberstatus", tag = "cycle",
    request_body(content = crate::wire::ChangeCurrentMemberStatusRequestWire, content_type = "application/json"),
    responses((status = 200, description = "the open range is closed and the new one added", body = crate::wire::CycleStatusAdded),
              (status = 400, description = "1004, 1007 or 1010; or the body is not JSON (`invalid_json`); or a query parameter given twice (`invalid_parameter`)", body = crate::wire::CycleBadRequest),
              (status = 404, description = "1005 or 1009", body = crate::wire::CycleErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_current_member_status(
    call: CycleCall<ChangeCurrentMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::change_current_member_status).await
}

/// Loads cycles, periods, members and credits: upsert by id, refused whole with every
/// problem (422) when anything is wrong.
#[utoipa::path(post, path = "/lmsapi/admin/import", tag = "cycle",
    request_body(content = crate::wire::ImportRequest, content_type = "application/json"),
    responses((status = 200, description = "everything is loaded", body = crate::wire::ImportAnswer),
              (status = 400, description = "not JSON, or not the shape this route takes: a member missing or of the wrong type, an unknown key (`invalid_json`, every problem in `details` as `{\"path\", \"message\"}`); or a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody),
              (status = 422, description = "values that break a rule (a blank id, a date that is not ISO 8601, an unknown cycle, member or period, an unknown credit kind): every problem, as `{\"path\", \"message\"}` (`validation_failed`); nothing loaded", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(call: CycleCall) -> Result<Json<Value>, ApiError> {
    let imported = call
        .run(|engine, tenant, request| {
            engine.write_cycle_data(tenant, |data| data.import(&request))
        })
        .await?;
    let summary = imported.map_err(|problems| {
        let message = format!(
            "{} problem(s) in the import: nothing was loaded",
            problems.len()
        );
        // A member missing or of the wrong type is the body's shape: 400. Only values that
        // break a rule make a 422. Either way, every problem is in `details`.
        let details = problems
            .iter()
            .filter_map(|p| serde_json::to_value(p).ok())
            .collect();
        if problems.iter().any(|p| p.shape) {
            ApiError::InvalidJson {
                message: format!("the body does not have the shape this route takes: {message}"),
                details,
            }
        } else {
            ApiError::Validation {
                message,
                details,
                run_id: None,
            }
        }
    })?;
    Ok(Json(json!({"isSuccess": true, "imported": summary})))
}
