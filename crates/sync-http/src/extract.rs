//! The extractors of the API: the bearer token's tenant ([`Auth`]), JSON bodies
//! ([`JsonBytes`], [`ApiJson`], [`parse_json`], [`parse_object`]) and query parameters
//! ([`Params`]), whose rejections are [`ApiError`]s and so answer with the same body as every
//! other error.
//!
//! Imports `error` and `state`, neither of which imports it back; the handlers import it.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use std::collections::HashMap;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::json;
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

/// A JSON object body deserialized into `T`: not JSON, or not the shape `T` takes (another
/// top-level type, a member missing or of the wrong type) is a 400 `invalid_json` naming
/// where ([`parse_object`]).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_object(&bytes).map(ApiJson)
    }
}

/// The query parameters of a request, each given at most once (a repeated one is a 400).
#[derive(Debug, Clone, Default)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Parses a query string (without `?`).
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::BadParameter(format!("the query string is malformed: {e}")))?;
        let mut params = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if params.contains_key(&name) {
                return Err(ApiError::BadParameter(format!(
                    "the parameter {name} is given more than once"
                )));
            }
            params.insert(name, value);
        }
        Ok(Params(params))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Params::parse(parts.uri.query().unwrap_or(""))
    }
}

/// The JSON type a body starts with, for messages.
fn json_type(bytes: &[u8]) -> &'static str {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The 400 of a body that is JSON of the wrong shape, `path` naming where (`.` for the whole
/// body).
fn shape_error(path: &str, message: impl std::fmt::Display) -> ApiError {
    let path = if path.is_empty() { "." } else { path };
    ApiError::InvalidJson {
        message: format!("the body does not have the shape this route takes: at {path}: {message}"),
        details: vec![json!({"path": path, "message": message.to_string()})],
    }
}

/// Deserializes a body of any JSON type (a leading UTF-8 byte order mark skipped, as
/// `sync_core::parse` does): not JSON, or not the shape `T` takes, is a 400 `invalid_json`
/// whose message and detail name where (`[0].codeFormation`, `changes.removed`).
pub fn parse_json<'de, T: serde::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    let bytes = sync_core::without_bom(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let error = error.into_inner();
        if error.is_data() {
            // A syntax error further on says more than a type error before it.
            if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(bytes) {
                return not_json(syntax);
            }
            shape_error(&path, error)
        } else {
            not_json(error)
        }
    })?;
    deserializer.end().map_err(not_json)?;
    Ok(value)
}

/// Deserializes a body that must be a JSON object, as [`parse_json`]: an array, even of the
/// right length, is not taken for the object.
pub fn parse_object<'de, T: serde::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    let bytes = sync_core::without_bom(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some() && first != Some(&b'{') {
        if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(bytes) {
            return Err(not_json(syntax));
        }
        return Err(shape_error(
            ".",
            format!("expected an object, found {}", json_type(bytes)),
        ));
    }
    parse_json(bytes)
}

/// A JSON object nested in a body, as [`parse_object`], `path` naming it in errors.
pub fn parse_nested_object<'de, T: serde::Deserialize<'de>>(
    path: &str,
    bytes: &'de [u8],
) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(shape_error(
            path,
            format!("expected an object, found {}", json_type(bytes)),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| shape_error(path, e))
}

fn not_json(error: serde_json::Error) -> ApiError {
    ApiError::InvalidJson {
        message: format!("the body is not valid JSON: {error}"),
        details: vec![],
    }
}

/// The request's `User-Agent`, recorded with the runs it starts: trimmed, at most
/// [`USER_AGENT_MAX`] characters, `None` when absent, blank or not visible ASCII.
#[derive(Debug, Clone, Default)]
pub struct UserAgent(pub Option<String>);

/// The longest `User-Agent` recorded, in characters (the rest is cut).
pub const USER_AGENT_MAX: usize = 256;

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(USER_AGENT_MAX).collect());
        Ok(UserAgent(agent))
    }
}
