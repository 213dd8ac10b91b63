//! Absences of a student: the list sent replaces the stored one.

use axum::extract::State;
use axum::Json;
use serde_json::json;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth, Params};
use crate::state::{blocking, AppState};

pub use crate::wire::AbsencesRequest;

/// Replaces a student's absences.
#[utoipa::path(post, path = "/api/sync/v1/absences-for-student", tag = "absences",
    request_body(content = crate::wire::AbsencesRequest, content_type = "application/json",
        description = "the student's absences, dates `DD/MM/YYYY-HH:mm`; `isJustifie` is accepted for `isJusitifie`"),
    responses((status = 200, description = "the list replaced the stored one", body = crate::wire::AbsencesStored),
              (status = 400, description = "not JSON, or not the shape this route takes (`invalid_json`, naming where); or a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody),
              (status = 404, description = "the email is no active apprentice (`not_found`)", body = crate::openapi::ErrorBody),
              (status = 409, description = "another server on the same database kept changing the data this write was computed from (`conflict`); nothing changed, send it again", body = crate::openapi::ErrorBody),
              (status = 422, description = "a blank email or bad items: every problem in `details` (`validation_failed`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_absences(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    ApiJson(request): ApiJson<AbsencesRequest>,
) -> Result<Json<Value>, ApiError> {
    let engine = state.engine.clone();
    blocking(move || {
        let stored = engine.replace_absences(tenant.id, &request.email, &request.data)?;
        Ok(Json(
            json!({"email": request.email.trim(), "absences": stored}),
        ))
    })
    .await
}

/// A student's stored absences.
#[utoipa::path(get, path = "/api/sync/v1/absences-for-student", tag = "absences",
    params(("email" = String, Query, pattern = r"\S", description = "the apprentice's email")),
    responses((status = 200, description = "the student's stored absences", body = crate::wire::AbsencesList),
              (status = 400, description = "no email, or a repeated parameter (`invalid_parameter`)", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_absences(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    query: Params,
) -> Result<Json<Value>, ApiError> {
    let email = query
        .get("email")
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::BadParameter("the email parameter is required".to_owned()))?;
    let store = state.store.clone();
    blocking(move || {
        let absences = store.absences(tenant.id, &email)?;
        Ok(Json(json!({"email": email, "absences": absences})))
    })
    .await
}
