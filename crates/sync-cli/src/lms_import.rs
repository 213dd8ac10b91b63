//! `sync-cli lms-import FILE --url BASE_URL`: loads cycle data (document 004) into a server.
//! The server checks the import as a whole (sync-cycle's import rules); the CLI only makes
//! sure the file is JSON before sending it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use crate::push::{api_url, body, excerpt, http_client, refusal, runtime, Request};
use crate::{LmsImportArgs, EXIT_FAILURE, EXIT_PROBLEMS};

/// The import route under the base URL.
const IMPORT_PATH: &str = "/lmsapi/admin/import";

pub(crate) fn run(args: &LmsImportArgs) -> anyhow::Result<ExitCode> {
    let path = args.file.as_path();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // A byte order mark is skipped, as in contract files, and not sent on.
    if let Err(err) = serde_json::from_slice::<Value>(sync_core::without_bom(&bytes)) {
        eprintln!(
            "error: {} is not JSON (invalid_json at line {}, column {}): {err}; nothing was sent",
            path.display(),
            err.line(),
            err.column()
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    let url = api_url(&args.url, IMPORT_PATH)?;
    let client = http_client(Duration::from_secs(args.timeout))?;
    let runtime = runtime()?;
    let request = Request {
        method: reqwest::Method::POST,
        client: &client,
        url: &url,
        token: &args.token,
        body: body(bytes),
    };
    let delay = Duration::from_millis(args.retry_delay);
    let (status, body) = runtime.block_on(request.send(args.retries, delay))?;
    if status.is_success() {
        let imported = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("imported").cloned())
            .with_context(|| {
                format!(
                    "the server at {url} answered {status} with an unexpected body: {}",
                    excerpt(&body)
                )
            })?;
        let count = |name: &str| imported.get(name).and_then(Value::as_u64).unwrap_or(0);
        println!(
            "imported: {} cycles, {} periods, {} members, {} credits",
            count("cycles"),
            count("periods"),
            count("members"),
            count("credits")
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}", refusal(&url, status, &body));
    Ok(ExitCode::from(if status.is_client_error() {
        EXIT_PROBLEMS
    } else {
        EXIT_FAILURE
    }))
}
