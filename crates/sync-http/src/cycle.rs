//! The cycle API of document 004 (`POST /lmsapi/cycle/...`) and the import that loads its
//! data (`POST /lmsapi/admin/import`). The rules are sync-cycle's; this file
//! maps requests, the tenant's stored data and the document's error answers.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sync_cycle::{
    ChangeCurrentMemberStatusRequest, CycleData, CycleError, MemberStatusesRequest,
    PeriodListRequest, UpdateMemberStatusRequest, UpdateMemberStatusesRequest, UserProgressRequest,
};
use sync_engine::{Engine, EngineError};
use sync_store::{Tenant, TenantId};

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth};
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

impl<R: DeserializeOwned + Send> FromRequest<AppState> for CycleCall<R> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let Auth(tenant) = Auth::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let ApiJson(request) = ApiJson::from_request(request, state).await?;
        Ok(CycleCall {
            state: state.clone(),
            tenant,
            request,
        })
    }
}

impl CycleCall {
    /// The call of a route that reads no body (whatever is sent, even no JSON at all).
    fn without_body(state: AppState, Auth(tenant): Auth) -> Self {
        let request = Value::Null;
        CycleCall {
            state,
            tenant,
            request,
        }
    }
}

impl<R: Send + 'static> CycleCall<R> {
    /// Answers with a rule that only reads the tenant's data.
    async fn read(
        self,
        rule: fn(&CycleData, &R) -> Result<Value, CycleError>,
    ) -> Result<Reply, ApiError> {
        self.run(move |engine, tenant, request| {
            engine.read_cycle_data(tenant, |data| rule(data, &request))
        })
        .await
        .map(Reply)
    }

    /// Answers with a rule that changes the tenant's data, saved in one transaction when the
    /// rule succeeds.
    async fn write(
        self,
        rule: fn(&mut CycleData, &R) -> Result<Value, CycleError>,
    ) -> Result<Reply, ApiError> {
        self.run(move |engine, tenant, request| {
            engine.write_cycle_data(tenant, |data| rule(data, &request))
        })
        .await
        .map(Reply)
    }

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
    request_body(content = Value, description = "`{}`"),
    responses((status = 200, description = "`[{\"cycleId\", \"adminName\", \"name\", \"ruleId\", \"isActive\", \"isDeleted\"}]`")),
    security(("bearer" = [])))]
pub async fn get_list(State(state): State<AppState>, auth: Auth) -> Result<Reply, ApiError> {
    CycleCall::without_body(state, auth)
        .read(|data, _| Ok(data.get_list()))
        .await
}

/// The periods of a cycle, starting on or after `filterDate` when given.
#[utoipa::path(post, path = "/lmsapi/cycle/getperiodlist", tag = "cycle",
    request_body(content = Value, description = "`{\"id\", \"filterDate\"?}`"),
    responses((status = 200, description = "periods with their requirements"),
              (status = 400, description = "1000 or 1010: `{\"isSuccess\": false, \"errorCode\", \"message\"}`"),
              (status = 404, description = "1001")),
    security(("bearer" = [])))]
pub async fn get_period_list(call: CycleCall<PeriodListRequest>) -> Result<Reply, ApiError> {
    call.read(CycleData::get_period_list).await
}

/// A member's credits in a period against the period's requirement.
#[utoipa::path(post, path = "/lmsapi/cycle/getuserprogress", tag = "cycle",
    request_body(content = Value, description = "`{\"id\", \"memberId\", \"customFieldAPIName\"?}`"),
    responses((status = 200, description = "`{\"id\", \"memberId\", \"requiredCredits\", \"completedCredits\", \"exemptedCredits\", \"providerCredits\", \"customFieldAPIName\"}`"),
              (status = 400, description = "1000 or 1002"),
              (status = 404, description = "1001 or 1003")),
    security(("bearer" = [])))]
pub async fn get_user_progress(call: CycleCall<UserProgressRequest>) -> Result<Reply, ApiError> {
    call.read(CycleData::get_user_progress).await
}

/// A member's status timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/getmemberstatuses", tag = "cycle",
    request_body(content = Value, description = "`{\"userId\"}` or `{\"customFieldAPIName\", \"customFieldValue\"}`"),
    responses((status = 200, description = "`{\"statuses\": [{\"entryId\", \"userId\", \"status\", \"isActiveMember\", \"startDate\", \"endDate\"}]}`"),
              (status = 400, description = "1004"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn get_member_statuses(
    call: CycleCall<MemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    call.read(CycleData::get_member_statuses).await
}

/// Replaces a member's whole timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatuses", tag = "cycle",
    request_body(content = Value, description = "member, and `\"statuses\": [{\"status\", \"isActiveMember\"?, \"startDate\", \"endDate\"?}]`"),
    responses((status = 200, description = "`{\"isSuccess\": true}`"),
              (status = 400, description = "1004, 1006, 1007 or 1010"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn update_member_statuses(
    call: CycleCall<UpdateMemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::update_member_statuses).await
}

/// Changes the fields passed of one status entry.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatus", tag = "cycle",
    request_body(content = Value, description = "member, `\"entryId\"` and `\"status\": {...}`"),
    responses((status = 200, description = "`{\"isSuccess\": true}`"),
              (status = 400, description = "1004, 1007 or 1010"),
              (status = 404, description = "1005, 1008 or 1009")),
    security(("bearer" = [])))]
pub async fn update_member_status(
    call: CycleCall<UpdateMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::update_member_status).await
}

/// Closes the open status range at the new range's start and adds the new range.
#[utoipa::path(post, path = "/lmsapi/cycle/changecurrentmemberstatus", tag = "cycle",
    request_body(content = Value, description = "member and `\"status\": {...}`"),
    responses((status = 200, description = "`{\"isSuccess\": true, \"entryId\"}`"),
              (status = 400, description = "1004, 1007 or 1010"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn change_current_member_status(
    call: CycleCall<ChangeCurrentMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    call.write(CycleData::change_current_member_status).await
}

/// Loads cycles, periods, members and credits: upsert by id, refused whole with every
/// problem (422) when anything is wrong.
#[utoipa::path(post, path = "/lmsapi/admin/import", tag = "cycle",
    request_body(content = Value, description = "`{\"cycles\": [...], \"periods\": [...], \"members\": [{\"userId\", \"customFields\"}], \"credits\": [{\"memberId\", \"cyclePeriodId\", \"kind\", \"credits\"}]}`"),
    responses((status = 200, description = "`{\"isSuccess\": true, \"imported\": {\"cycles\", \"periods\", \"members\", \"credits\"}}`"),
              (status = 422, description = "every problem, as `{\"path\", \"message\"}`", body = crate::openapi::ErrorBody)),
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
        ApiError::validation(message, &problems)
    })?;
    Ok(Json(json!({"isSuccess": true, "imported": summary})))
}
