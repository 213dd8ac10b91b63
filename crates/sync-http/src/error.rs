//! The one error type of the API and its mapping to statuses (one `match`), answered as
//! `{"error": {"code", "message", "details"}}`.
//!
//! The bottom of the crate's modules: it imports none of them. `state` and `extract` build
//! on it, the handlers on all three.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use sync_core::rules::MassRemoval;
use sync_engine::{EngineError, Held, Refusal};
use sync_store::StoreError;

/// Everything a request can end with other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer` header, or an unknown token (401).
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The tenant may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The route, group or student does not exist for this tenant (404).
    #[error("{0}")]
    NotFound(String),
    /// The body is not JSON, or not of the expected shape at the JSON level (400).
    #[error("{message}")]
    InvalidJson {
        /// What was wrong.
        message: String,
        /// Problem objects, if any.
        details: Vec<Value>,
    },
    /// A query parameter is missing or malformed (400).
    #[error("{0}")]
    BadParameter(String),
    /// The body is larger than the configured limit (413).
    #[error("the body is larger than {0} MB")]
    TooLarge(usize),
    /// The headers or the body did not arrive within the read timeout (408).
    #[error("the request did not arrive within the read timeout of {} s", .0.as_secs_f64())]
    RequestTimeout(std::time::Duration),
    /// The body is not sent as `application/json` (415).
    #[error("the body must be sent with Content-Type: application/json")]
    NotJson,
    /// The body is JSON but refused by validation: every problem is in `details` (422).
    #[error("{message}")]
    Validation {
        /// A summary sentence.
        message: String,
        /// Every problem, as the core serializes them.
        details: Vec<Value>,
        /// The refused run, when the request was a sync (answered in the error object).
        run_id: Option<String>,
    },
    /// A calendar could not be fetched or parsed (422).
    #[error("{0}")]
    Calendar(String),
    /// A revert would archive too much of the active set (409 `mass_removal`).
    #[error(transparent)]
    MassRemoval(#[from] MassRemoval),
    /// A sync would archive too much of the active set: held as a run (409 `mass_removal`,
    /// its `runId` in the error object).
    #[error(
        "{} It is held as run {}: approve it (POST /api/sync/v1/runs/{}/approve) or reject it, \
         or send it again with ?allowMassRemoval=true; nothing was changed",
        .0.guard, .0.run_id, .0.run_id
    )]
    Held(Held),
    /// Approving or rejecting a run that is not held (409 `not_held`).
    #[error("{0}")]
    NotHeld(String),
    /// Approving a held run after the contracts changed (409 `stale_hold`).
    #[error("{0}")]
    StaleHold(String),
    /// Reverting a run that is not the latest change (409 `not_latest`).
    #[error("{0}")]
    NotLatest(String),
    /// Other writers (another server on the same database) kept changing the data this
    /// write was computed from: nothing was written, the request may be sent again (409).
    #[error("{0}")]
    Conflict(String),
    /// The store failed: 503 when it cannot be written or reached now, else 500.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or a crashed worker (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 whose details are the given serializable problems.
    pub fn validation<P: Serialize>(message: impl Into<String>, problems: &[P]) -> Self {
        ApiError::Validation {
            message: message.into(),
            details: problems
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok())
                .collect(),
            run_id: None,
        }
    }
}

/// Each failure of a use case, as the API answers it.
impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        match error {
            EngineError::Conflict | EngineError::Store(StoreError::Stale { .. }) => {
                ApiError::Conflict(message)
            }
            EngineError::Store(e) => ApiError::Store(e),
            EngineError::InvalidJson { source, .. } => ApiError::InvalidJson {
                message,
                details: vec![serde_json::to_value(source.to_problem()).unwrap_or_default()],
            },
            EngineError::NotSandbox(_) => ApiError::Forbidden(message),
            EngineError::InvalidSessionModels(problems) => ApiError::validation(message, &problems),
            EngineError::MissingEmail => ApiError::validation(
                message,
                &[
                    json!({"field": "email", "code": "missing_field", "message": "email is required"}),
                ],
            ),
            EngineError::InvalidAbsences(problems) => ApiError::validation(message, &problems),
            EngineError::UnknownApprentice(_) | EngineError::UnknownGroup(_) => {
                ApiError::NotFound(message)
            }
            EngineError::InvalidCalendar(_) => ApiError::Calendar(message),
            EngineError::RunNotFound(_) => ApiError::NotFound(message),
            EngineError::NotHeld { .. } => ApiError::NotHeld(message),
            EngineError::StaleHold(_) => ApiError::StaleHold(message),
            EngineError::NotLatest { .. } => ApiError::NotLatest(message),
            EngineError::RevertGuarded(guard) => ApiError::MassRemoval(guard),
            EngineError::NoRandomness(_) => ApiError::Internal(message),
        }
    }
}

/// A sync refused by validation: 422 with every problem, the delta's first.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let mut details: Vec<Value> = refusal
            .delta_problems
            .iter()
            .filter_map(|p| serde_json::to_value(p).ok())
            .collect();
        details.extend(
            refusal
                .report
                .problems
                .iter()
                .filter_map(|p| serde_json::to_value(p).ok()),
        );
        ApiError::Validation {
            message: format!(
                "{} error(s): the sync is refused and nothing was changed",
                refusal.errors()
            ),
            details,
            run_id: refusal.run_id,
        }
    }
}

impl ApiError {
    /// The status and the JSON body this error is answered with.
    pub(crate) fn status_and_body(self) -> (StatusCode, Value) {
        let message = self.to_string();
        let run_id = match &self {
            ApiError::Validation { run_id, .. } => run_id.clone(),
            ApiError::Held(held) => Some(held.run_id.clone()),
            _ => None,
        };
        let (status, code, details) = match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", vec![]),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", vec![]),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ApiError::InvalidJson { details, .. } => {
                (StatusCode::BAD_REQUEST, "invalid_json", details)
            }
            ApiError::BadParameter(_) => (StatusCode::BAD_REQUEST, "invalid_parameter", vec![]),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", vec![]),
            ApiError::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout", vec![]),
            ApiError::NotJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json", vec![]),
            ApiError::Validation { details, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                details,
            ),
            ApiError::Calendar(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "calendar_unusable",
                vec![],
            ),
            ApiError::MassRemoval(m) | ApiError::Held(Held { guard: m, .. }) => (
                StatusCode::CONFLICT,
                "mass_removal",
                vec![json!({"active": m.active, "removed": m.removed, "remaining": m.remaining})],
            ),
            ApiError::NotHeld(_) => (StatusCode::CONFLICT, "not_held", vec![]),
            ApiError::StaleHold(_) => (StatusCode::CONFLICT, "stale_hold", vec![]),
            ApiError::NotLatest(_) => (StatusCode::CONFLICT, "not_latest", vec![]),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", vec![]),
            ApiError::Store(e) if e.is_unavailable() => {
                tracing::error!(error = %message, "store unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", vec![])
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                tracing::error!(error = %message, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", vec![])
            }
        };
        let mut body = json!({"error": {"code": code, "message": message, "details": details}});
        if let Some(run_id) = run_id {
            body["error"]["runId"] = Value::String(run_id);
        }
        (status, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        (status, axum::Json(body)).into_response()
    }
}
