//! The cycle API of document 004 (`POST /lmsapi/cycle/...`) and the import that loads its
//! data (`POST /lmsapi/admin/import`). The rules are sync-cycle's; this file
//! maps requests, the tenant's stored data and the document's error answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sync_cycle::{
    ChangeCurrentMemberStatusRequest, CycleData, CycleError, MemberStatusesRequest,
    PeriodListRequest, UpdateMemberStatusRequest, UpdateMemberStatusesRequest, UserProgressRequest,
};

use crate::error::{ApiError, ApiJson, Auth};
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

/// Runs a route's rule on the tenant's data, off the async workers, under the tenant's lock;
/// a rule that changes the data and succeeds is saved in one transaction.
async fn run(
    state: AppState,
    tenant: sync_store::Tenant,
    writes: bool,
    rule: impl FnOnce(&mut CycleData) -> Result<Value, CycleError> + Send + 'static,
) -> Result<Reply, ApiError> {
    let _guard = state.lock_tenant(tenant.id).await;
    let store = state.store.clone();
    blocking(move || {
        let mut data = store.cycle_data(tenant.id)?;
        let result = rule(&mut data);
        if writes && result.is_ok() {
            store.set_cycle_data(tenant.id, &data)?;
        }
        Ok(Reply(result))
    })
    .await
}

/// The regulations (cycles) of the portal.
#[utoipa::path(post, path = "/lmsapi/cycle/getlist", tag = "cycle",
    request_body(content = Value, description = "`{}`"),
    responses((status = 200, description = "`[{\"cycleId\", \"adminName\", \"name\", \"ruleId\", \"isActive\", \"isDeleted\"}]`")),
    security(("bearer" = [])))]
pub async fn get_list(
    State(state): State<AppState>,
    Auth(tenant): Auth,
) -> Result<Reply, ApiError> {
    run(state, tenant, false, |data| Ok(data.get_list())).await
}

/// The periods of a cycle, starting on or after `filterDate` when given.
#[utoipa::path(post, path = "/lmsapi/cycle/getperiodlist", tag = "cycle",
    request_body(content = Value, description = "`{\"id\", \"filterDate\"?}`"),
    responses((status = 200, description = "periods with their requirements"),
              (status = 400, description = "1000 or 1010: `{\"isSuccess\": false, \"errorCode\", \"message\"}`"),
              (status = 404, description = "1001")),
    security(("bearer" = [])))]
pub async fn get_period_list(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<PeriodListRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, false, move |data| {
        data.get_period_list(&request)
    })
    .await
}

/// A member's credits in a period against the period's requirement.
#[utoipa::path(post, path = "/lmsapi/cycle/getuserprogress", tag = "cycle",
    request_body(content = Value, description = "`{\"id\", \"memberId\", \"customFieldAPIName\"?}`"),
    responses((status = 200, description = "`{\"id\", \"memberId\", \"requiredCredits\", \"completedCredits\", \"exemptedCredits\", \"providerCredits\", \"customFieldAPIName\"}`"),
              (status = 400, description = "1000 or 1002"),
              (status = 404, description = "1001 or 1003")),
    security(("bearer" = [])))]
pub async fn get_user_progress(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<UserProgressRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, false, move |data| {
        data.get_user_progress(&request)
    })
    .await
}

/// A member's status timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/getmemberstatuses", tag = "cycle",
    request_body(content = Value, description = "`{\"userId\"}` or `{\"customFieldAPIName\", \"customFieldValue\"}`"),
    responses((status = 200, description = "`{\"statuses\": [{\"entryId\", \"userId\", \"status\", \"isActiveMember\", \"startDate\", \"endDate\"}]}`"),
              (status = 400, description = "1004"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn get_member_statuses(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<MemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, false, move |data| {
        data.get_member_statuses(&request)
    })
    .await
}

/// Replaces a member's whole timeline.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatuses", tag = "cycle",
    request_body(content = Value, description = "member, and `\"statuses\": [{\"status\", \"isActiveMember\"?, \"startDate\", \"endDate\"?}]`"),
    responses((status = 200, description = "`{\"isSuccess\": true}`"),
              (status = 400, description = "1004, 1006, 1007 or 1010"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn update_member_statuses(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<UpdateMemberStatusesRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, true, move |data| {
        data.update_member_statuses(&request)
    })
    .await
}

/// Changes the fields passed of one status entry.
#[utoipa::path(post, path = "/lmsapi/cycle/updatememberstatus", tag = "cycle",
    request_body(content = Value, description = "member, `\"entryId\"` and `\"status\": {...}`"),
    responses((status = 200, description = "`{\"isSuccess\": true}`"),
              (status = 400, description = "1004, 1007 or 1010"),
              (status = 404, description = "1005, 1008 or 1009")),
    security(("bearer" = [])))]
pub async fn update_member_status(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<UpdateMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, true, move |data| {
        data.update_member_status(&request)
    })
    .await
}

/// Closes the open status range at the new range's start and adds the new range.
#[utoipa::path(post, path = "/lmsapi/cycle/changecurrentmemberstatus", tag = "cycle",
    request_body(content = Value, description = "member and `\"status\": {...}`"),
    responses((status = 200, description = "`{\"isSuccess\": true, \"entryId\"}`"),
              (status = 400, description = "1004, 1007 or 1010"),
              (status = 404, description = "1005 or 1009")),
    security(("bearer" = [])))]
pub async fn change_current_member_status(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<ChangeCurrentMemberStatusRequest>,
) -> Result<Reply, ApiError> {
    run(state, tenant, true, move |data| {
        data.change_current_member_status(&request)
    })
    .await
}

/// Loads cycles, periods, members and credits: upsert by id, refused whole with every
/// problem (422) when anything is wrong.
#[utoipa::path(post, path = "/lmsapi/admin/import", tag = "cycle",
    request_body(content = Value, description = "`{\"cycles\": [...], \"periods\": [...], \"members\": [{\"userId\", \"customFields\"}], \"credits\": [{\"memberId\", \"cyclePeriodId\", \"kind\", \"credits\"}]}`"),
    responses((status = 200, description = "`{\"isSuccess\": true, \"imported\": {\"cycles\", \"periods\", \"members\", \"credits\"}}`"),
              (status = 422, description = "every problem, as `{\"path\", \"message\"}`", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let _guard = state.lock_tenant(tenant.id).await;
    let store = state.store.clone();
    blocking(move || {
        let mut data = store.cycle_data(tenant.id)?;
        let summary = data.import(&request).map_err(|problems| {
            ApiError::validation(
                format!(
                    "{} problem(s) in the import: nothing was loaded",
                    problems.len()
                ),
                &problems,
            )
        })?;
        store.set_cycle_data(tenant.id, &data)?;
        Ok(Json(json!({"isSuccess": true, "imported": summary})))
    })
    .await
}
