//! Absences of a student: the list sent replaces the stored one.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{ApiJson, Auth};
use crate::state::{blocking, AppState};

/// Body of `POST /api/sync/v1/absences-for-student`.
#[derive(Debug, Deserialize)]
pub struct AbsencesRequest {
    /// The apprentice's email.
    pub email: String,
    /// The absence items, checked by the core.
    pub data: Vec<Value>,
}

/// Replaces a student's absences.
#[utoipa::path(post, path = "/api/sync/v1/absences-for-student", tag = "absences",
    request_body(content = Value, content_type = "application/json",
        description = "`{\"email\", \"data\": [{\"dateDebut\", \"dateFin\", \"type\", \"isJusitifie\", \"motif\"?}]}`, dates `DD/MM/YYYY-HH:mm`, `isJustifie` accepted"),
    responses((status = 200, description = "`{\"email\", \"absences\": n}`"),
              (status = 404, description = "the email is no active apprentice", body = crate::openapi::ErrorBody),
              (status = 422, description = "every bad item", body = crate::openapi::ErrorBody)),
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
    params(("email" = String, Query, description = "the apprentice's email")),
    responses((status = 200, description = "`{\"email\", \"absences\": [...]}`"),
              (status = 400, description = "no email parameter", body = crate::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_absences(
    State(state): State<AppState>,
    Auth(tenant): Auth,
    Query(query): Query<HashMap<String, String>>,
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
