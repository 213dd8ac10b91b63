//! The one error type of the API, its mapping to statuses (one `match`), and the extractors
//! whose rejections answer with the same body: `{"error": {"code", "message", "details"}}`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sync_core::rules::MassRemoval;
use sync_store::{hash_token, StoreError, Tenant};

use crate::state::AppState;

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
    },
    /// A calendar could not be fetched or parsed (422).
    #[error("{0}")]
    Calendar(String),
    /// The sync would archive too much of the active set (409).
    #[error(transparent)]
    MassRemoval(#[from] MassRemoval),
    /// The store failed (500).
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
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code, details) = match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", vec![]),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", vec![]),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ApiError::InvalidJson { details, .. } => {
                (StatusCode::BAD_REQUEST, "invalid_json", details)
            }
            ApiError::BadParameter(_) => (StatusCode::BAD_REQUEST, "invalid_parameter", vec![]),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", vec![]),
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
            ApiError::MassRemoval(m) => (
                StatusCode::CONFLICT,
                "mass_removal",
                vec![json!({"active": m.active, "removed": m.removed, "remaining": m.remaining})],
            ),
            ApiError::Store(_) | ApiError::Internal(_) => {
                tracing::error!(error = %message, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", vec![])
            }
        };
        let body = json!({"error": {"code": code, "message": message, "details": details}});
        (status, axum::Json(body)).into_response()
    }
}

/// The tenant of the request's bearer token.
#[derive(Debug, Clone)]
pub struct Auth(pub Tenant);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let hash = hash_token(token);
        let store = state.store.clone();
        let tenant = crate::state::blocking(move || Ok(store.tenant_by_token_hash(&hash)?)).await?;
        tenant.map(Auth).ok_or(ApiError::Unauthorized)
    }
}

/// A JSON body as raw bytes: `Content-Type` checked (415), size capped (413).
#[derive(Debug, Clone)]
pub struct JsonBytes(pub Bytes);

impl FromRequest<AppState> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::NotJson);
        }
        let limit_mb = state.settings.max_body_mb;
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(JsonBytes(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(limit_mb))
            }
            Err(rejection) => Err(ApiError::InvalidJson {
                message: format!("the body could not be read: {}", rejection.body_text()),
                details: vec![],
            }),
        }
    }
}

/// A JSON body deserialized into `T`: syntax errors are 400 `invalid_json`, a body of the
/// wrong shape is 422 with serde's explanation.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes a body (a leading UTF-8 byte order mark skipped, as `sync_core::parse` does)
/// with the API's error mapping.
pub fn parse_json<'de, T: serde::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(sync_core::without_bom(bytes)).map_err(|e| {
        if e.is_data() {
            ApiError::Validation {
                message: format!("the body does not have the expected shape: {e}"),
                details: vec![],
            }
        } else {
            ApiError::InvalidJson {
                message: format!("the body is not valid JSON: {e}"),
                details: vec![],
            }
        }
    })
}
