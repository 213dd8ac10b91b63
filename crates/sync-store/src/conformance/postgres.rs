//! PostgreSQL databases for tests (features `conformance` and `postgres`): the server named by
//! [`URL_VARIABLE`], and a schema of its own for each database a test asks for, dropped when
//! the test is done, so that runs and tests never see each other's data.
//!
//! Without the variable, or without a server answering at it, a test is skipped with one line
//! saying how to run it; under `CI=true` it fails instead.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// The environment variable holding the test server's URL, whose user may create schemas
/// (`postgres://campus:campus@127.0.0.1:5432/campus_test`).
pub const URL_VARIABLE: &str = "SYNC_TEST_DATABASE_URL";

/// A schema of its own on the test database, dropped (with everything in it) when dropped.
#[derive(Debug)]
pub struct TestSchema {
    admin_url: String,
    name: String,
    url: String,
}

impl TestSchema {
    /// The URL of the test database whose connections use this schema (its `search_path`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (one line on the terminal, once a process) or, under `CI=true`, fails.
fn skip(why: &str) {
    assert!(
        !under_ci(),
        "{why}: with CI=true the PostgreSQL tests must run (.ci/postgres.sh starts a server \
         and sets {URL_VARIABLE})"
    );
    static PRINTED: Once = Once::new();
    PRINTED.call_once(|| {
        // Straight to the terminal, past the test harness's capture.
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped ({why}): run them with \
             {URL_VARIABLE}=postgres://USER:PASSWORD@127.0.0.1:5432/DATABASE cargo test -p sync-store"
        );
    });
}

/// The test server's URL, or `None` (skipped) when [`URL_VARIABLE`] is not set.
pub fn test_database_url() -> Option<String> {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip(&format!("{URL_VARIABLE} is not set"));
            None
        }
    }
}

/// `url` with its connections' `search_path` set to `schema`.
fn with_search_path(url: &str, schema: &str) -> String {
    if url.contains("://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options=-c%20search_path%3D{schema}")
    } else {
        format!("{url} options='-c search_path={schema}'")
    }
}

/// A new, empty schema on the test database; `None` (skipped) when there is no test database
/// or it does not answer.
pub fn new_schema() -> Option<TestSchema> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let admin_url = test_database_url()?;
    let mut client = match postgres::Client::connect(&admin_url, postgres::NoTls) {
        Ok(client) => client,
        Err(e) => {
            let shown = crate::postgres::redact_url(&admin_url);
            let cause = std::error::Error::source(&e).map_or(String::new(), |c| format!(": {c}"));
            skip(&format!("cannot connect to {shown}: {e}{cause}"));
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "campus_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .unwrap_or_else(|e| panic!("creating schema {name}: {e}"));
    let url = with_search_path(&admin_url, &name);
    Some(TestSchema {
        admin_url,
        name,
        url,
    })
}
