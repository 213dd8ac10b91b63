//! The extractors of the API: the bearer token's tenant ([`Auth`]) and JSON bodies
//! ([`JsonBytes`], [`ApiJson`], [`parse_json`]), whose rejections are [`ApiError`]s and so
//! answer with the same body as every other error.
//!
//! Imports `error` and `state`, neither of which imports it back; the handlers import it.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sync_store::{hash_token, Tenant};

use crate::error::ApiError;
use crate::state::{blocking, AppState};

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
        let tenant = blocking(move || Ok(store.tenant_by_token_hash(&hash)?)).await?;
        tenant.map(Auth).ok_or(ApiError::Unauthorized)
    }
}

/// A JSON body as raw bytes: `Content-Type` checked (415), size capped (413), each part
/// awaited at most the read timeout (408).
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
        read_body(req.into_body(), limit_mb, state.settings.read_timeout)
            .await
            .map(JsonBytes)
    }
}

/// Reads a whole body of at most `limit_mb` MiB (413 beyond), waiting at most `timeout` for
/// each part of it (408 when the client stalls).
async fn read_body(mut body: Body, limit_mb: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let limit = limit_mb.saturating_mul(1 << 20);
    let announced = body.size_hint().lower();
    if announced > limit as u64 {
        return Err(ApiError::TooLarge(limit_mb));
    }
    // Room for the announced length, up to a few MiB: a client announcing a large body and
    // then stalling holds no large allocation.
    let mut bytes = Vec::with_capacity((announced as usize).min(4 << 20));
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match tokio::time::timeout(timeout, next).await {
            Err(_) => return Err(ApiError::RequestTimeout(timeout)),
            Ok(None) => return Ok(Bytes::from(bytes)),
            Ok(Some(Err(e))) => {
                return Err(ApiError::InvalidJson {
                    message: format!("the body could not be read: {e}"),
                    details: vec![],
                })
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > limit {
                return Err(ApiError::TooLarge(limit_mb));
            }
            bytes.extend_from_slice(&data);
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
