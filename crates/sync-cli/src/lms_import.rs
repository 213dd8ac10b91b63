//! `sync-cli lms-import FILE --url BASE_URL`: loads cycle data (document 004) into a server.
//! The server checks the import as a whole (sync-cycle's import rules); the CLI only makes
//! sure the file is JSON before sending it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::Url;
use serde_json::Value;

use crate::push::{body, excerpt, refusal, Request};
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
    let url = format!("{}{IMPORT_PATH}", args.url.trim_end_matches('/'));
    let url = Url::parse(&url).with_context(|| format!("invalid --url {}", args.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!(
            "invalid --url {}: expected an http:// or https:// address",
            args.url
        );
    }
    let timeout = Duration::from_secs(args.timeout);
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .context("cannot start the HTTP client")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let request = Request {
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
