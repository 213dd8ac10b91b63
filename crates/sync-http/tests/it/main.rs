//! Integration tests: the application of `sync_http::app` over a store in a temporary data
//! directory, driven without a socket (`tower::ServiceExt::oneshot`); `routes` also starts
//! the real server once and talks to it over TCP, and `server` drives the real server at its
//! edges (timeouts, connection cap, stop).

mod calendar;
mod contracts;
mod cycle;
mod extras;
mod metrics;
mod processes;
mod routes;
mod runs;
mod server;
mod unavailable;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use sync_http::{AppState, Settings};
use sync_store::{hash_token, SqliteStore, Store};
use tower::ServiceExt;

/// Tokens registered by [`start`]: tenant `a` (not sandbox unless asked) and tenant `b`.
pub const TOKEN_A: &str = "token-a";
pub const TOKEN_B: &str = "token-b";

/// The application over a store, as the server runs it.
#[derive(Debug)]
pub struct TestServer {
    pub app: Router,
}

/// Options of a test server.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    pub sandbox: bool,
    pub allow_private: bool,
    pub max_body_mb: Option<usize>,
}

/// Opens the store in `dir` and registers the tokens of tenants `a` and `b` as
/// `sync_http::start` does, and builds the application over it (no socket). A later `start`
/// on the same directory, after [`TestServer::stop`], is a restart.
pub async fn start(dir: &Path, options: Options) -> TestServer {
    let store = SqliteStore::open(dir).expect("store opens");
    for (tenant, token) in [("a", TOKEN_A), ("b", TOKEN_B)] {
        store
            .tenant_with_token(tenant, &hash_token(token), options.sandbox)
            .expect("tenant registered");
    }
    let settings = Settings {
        calendar_allow_private: options.allow_private,
        max_body_mb: options.max_body_mb.unwrap_or(256),
        ..Settings::default()
    };
    let state = AppState::new(Arc::new(store) as Arc<dyn Store>, settings);
    TestServer {
        app: sync_http::app(state),
    }
}

/// Sends one request through `app`, with an optional bearer token and body; returns the
/// status and the body as JSON (`Value::Null` when it is not JSON).
pub async fn send(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(Vec<u8>, &str)>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some((bytes, content_type)) => {
            request = request.header(CONTENT_TYPE, content_type);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let request = request.body(body).expect("a valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body read");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl TestServer {
    /// Sends a request with an optional token and JSON body; returns status and JSON body
    /// (`Value::Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw(method, path, token, body, "application/json")
            .await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let body = body.map(|bytes| (bytes, content_type));
        send(&self.app, method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Drops the application and its store.
    pub async fn stop(self) {
        drop(self.app);
    }
}

/// `n` valid generated contracts as JSON values.
pub fn contracts(n: usize, seed: u64) -> Vec<Value> {
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed,
        change_rate: 0.0,
    });
    generated
        .previous
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect()
}

/// The `codeContrat` of each contract of an answer's `contrats`.
pub fn codes(answer: &Value) -> Vec<String> {
    answer["contrats"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["codeContrat"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The error code of an error answer.
pub fn error_code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("")
}

/// The problem codes of an error answer's details.
pub fn detail_codes(answer: &Value) -> Vec<String> {
    answer["error"]["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}
