//! Integration tests: the real server on 127.0.0.1 with a temporary data directory, driven
//! with a real HTTP client.

mod calendar;
mod contracts;
mod cycle;
mod extras;

use std::path::Path;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use sync_http::{ServeConfig, Server};

/// Tokens registered by [`start`]: tenant `a` (not sandbox unless asked) and tenant `b`.
pub const TOKEN_A: &str = "token-a";
pub const TOKEN_B: &str = "token-b";

/// A running test server.
#[derive(Debug)]
pub struct TestServer {
    pub server: Server,
    pub client: Client,
}

/// Options of a test server.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    pub sandbox: bool,
    pub allow_private: bool,
    pub max_body_mb: Option<usize>,
}

pub async fn start(dir: &Path, options: Options) -> TestServer {
    let config = ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        tokens: vec![("a".into(), TOKEN_A.into()), ("b".into(), TOKEN_B.into())],
        sandbox: options.sandbox,
        calendar_allow_private: options.allow_private,
        max_body_mb: options.max_body_mb.unwrap_or(256),
    };
    let server = sync_http::start(config).await.expect("server starts");
    TestServer {
        server,
        client: Client::new(),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.server.addr(), path)
    }

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
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.header("Content-Type", content_type).body(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("body read");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("server stops");
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
