//! `GET /healthz`: whether this instance can reach its store now, for a load balancer's
//! health check (no token; it reads no tenant's data).

use axum::extract::State;
use axum::Json;
use sync_store::StoreError;

use crate::error::ApiError;
use crate::state::{blocking, AppState};
use crate::wire::HealthAnswer;

/// Answers 200 `{"status": "ok"}` when the store answers a trivial query, else 503
/// `store_unavailable`.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "the store answers: the instance can serve requests", body = HealthAnswer),
              (status = 400, description = "a query parameter given twice (`invalid_parameter`)", body = crate::openapi::ErrorBody),
              (status = 503, description = "the store cannot be reached now (`store_unavailable`): take the instance out of rotation", body = crate::openapi::ErrorBody)))]
pub async fn get_health(State(state): State<AppState>) -> Result<Json<HealthAnswer>, ApiError> {
    let store = state.store.clone();
    blocking(move || {
        store.ping().map_err(|error| match error {
            StoreError::Unavailable { .. } => error,
            // Whatever the cause, a store that does not answer is unavailable to a balancer.
            other => StoreError::Unavailable {
                source: Box::new(other),
            },
        })?;
        Ok(())
    })
    .await?;
    Ok(Json(HealthAnswer {
        status: "ok".to_owned(),
    }))
}
