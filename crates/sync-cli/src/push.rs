//! `sync-cli push FILE --url BASE_URL`: a client for any server speaking document 000.
//!
//! The file is validated locally first and refused when it has errors. Its bytes are then sent
//! as they are (but for a leading UTF-8 byte order mark), with the bearer token; network errors
//! and 5xx answers are retried with an exponential backoff, a 4xx answer is shown as the
//! server's error.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode, Url};
use serde::de::IgnoredAny;
use serde::Deserialize;
use sync_core::Summary;

use crate::input;
use crate::output;
use crate::progress::Progress;
use crate::{PushArgs, EXIT_FAILURE, EXIT_PROBLEMS};

/// The sync route (document 000: POST is `v2`).
const SYNC_PATH: &str = "/api/sync/v2/contrats";
/// The dry-run route.
const DIFF_PATH: &str = "/api/sync/v1/contrats-diff";
/// Warnings shown on stderr before sending.
const WARNINGS_SHOWN: usize = 10;
/// Longest piece of an unexpected answer shown.
const BODY_SHOWN: usize = 2000;

pub(crate) fn run(args: &PushArgs) -> anyhow::Result<ExitCode> {
    let path = args.file.as_path();
    let url = endpoint(&args.url, args.dry_run)?;

    let reading = Progress::bytes("reading", input::size(path));
    let bytes = input::read(path, &reading)?;
    reading.finish();
    let step = Progress::step("validating");
    let checked = input::check(path, &bytes);
    step.finish();
    if !checked.report.is_valid() {
        let mut out = std::io::stdout().lock();
        output::write_report_text(&mut out, path, &checked, "")?;
        out.flush()?;
        eprintln!("error: {} has errors; nothing was sent", path.display());
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    output::warn(
        path,
        &checked.report.warnings().collect::<Vec<_>>(),
        WARNINGS_SHOWN,
    );
    let contracts = checked.contracts();
    drop(checked);

    let client = http_client(args.timeout())?;
    let runtime = runtime()?;
    let request = Request {
        method: Method::POST,
        client: &client,
        url: &url,
        token: &args.token,
        body: body(bytes),
    };
    let step = Progress::step("sending");
    let answer = runtime.block_on(request.send(args.retries, args.retry_delay()));
    step.finish();
    let (status, body) = answer?;

    if status.is_success() {
        let shown = if args.dry_run {
            dry_run_answer(&body)
        } else {
            sync_answer(&body, contracts)
        };
        let shown = shown.with_context(|| {
            format!(
                "the server at {url} answered {status} with an unexpected body: {}",
                excerpt(&body)
            )
        })?;
        println!("{shown}");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}", refusal(&url, status, &body));
    Ok(ExitCode::from(if status.is_client_error() {
        EXIT_PROBLEMS
    } else {
        EXIT_FAILURE
    }))
}

/// The route's URL under the base URL.
fn endpoint(base: &str, dry_run: bool) -> anyhow::Result<Url> {
    api_url(base, if dry_run { DIFF_PATH } else { SYNC_PATH })
}

/// `path` under the base URL of `--url` (an http:// or https:// address).
pub(crate) fn api_url(base: &str, path: &str) -> anyhow::Result<Url> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let url = Url::parse(&url).with_context(|| format!("invalid --url {base}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("invalid --url {base}: expected an http:// or https:// address");
    }
    Ok(url)
}

/// The `User-Agent` of the CLI's requests (servers record it with the runs it starts).
pub(crate) const USER_AGENT: &str = concat!("sync-cli/", env!("CARGO_PKG_VERSION"));

/// The HTTP client of the CLI's commands: this time limit per attempt, the CLI's user agent.
pub(crate) fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(USER_AGENT)
        .build()
        .context("cannot start the HTTP client")
}

/// The runtime the CLI's requests run on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// One request, retried.
pub(crate) struct Request<'r> {
    /// GET or POST.
    pub method: Method,
    pub client: &'r reqwest::Client,
    pub url: &'r Url,
    pub token: &'r str,
    pub body: Bytes,
}

impl Request<'_> {
    /// Sends the request; retries up to `retries` times after a network error or a 5xx
    /// answer, waiting `delay`, then twice as long each time. Returns the last answer.
    pub(crate) async fn send(
        &self,
        retries: u32,
        mut delay: Duration,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.once().await {
                Ok((status, body)) if !status.is_server_error() || attempt > retries => {
                    return Ok((status, body))
                }
                Ok((status, _)) => format!("the server answered {status}"),
                Err(err) if attempt > retries => {
                    return Err(anyhow!(
                        "cannot reach {}: {} ({})",
                        self.url,
                        describe(&err),
                        output::plural(attempt as usize, "attempt")
                    ))
                }
                Err(err) => describe(&err),
            };
            eprintln!(
                "warning: {failure}; retrying in {} ms ({attempt}/{retries})",
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }

    async fn once(&self) -> reqwest::Result<(StatusCode, Bytes)> {
        let mut request = self
            .client
            .request(self.method.clone(), self.url.clone())
            .bearer_auth(self.token);
        if !self.body.is_empty() {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(self.body.clone());
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.bytes().await?))
    }
}

/// A network error with its causes: `error sending request...: connection closed...`.
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else {
        String::new()
    };
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(err) = source {
        let message = err.to_string();
        if !text.contains(&message) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&message);
        }
        source = err.source();
    }
    text
}

/// The four counts of a `contrats-diff` answer (the contracts themselves are skipped).
fn dry_run_answer(body: &[u8]) -> serde_json::Result<String> {
    #[derive(Deserialize)]
    struct Answer {
        same: Vec<IgnoredAny>,
        added: Vec<IgnoredAny>,
        updated: Vec<IgnoredAny>,
        removed: Vec<IgnoredAny>,
    }
    let a: Answer = serde_json::from_slice(body)?;
    let summary = Summary {
        same: a.same.len(),
        added: a.added.len(),
        updated: a.updated.len(),
        removed: a.removed.len(),
    };
    Ok(format!(
        "dry run, nothing changed: {}",
        output::summary_line(&summary)
    ))
}

/// The summary of a sync answer `{"total", "contrats", "summary"}` (the original platform
/// sends no summary).
fn sync_answer(body: &[u8], sent: usize) -> serde_json::Result<String> {
    #[derive(Deserialize)]
    struct Answer {
        total: Option<u64>,
        summary: Option<Counts>,
    }
    #[derive(Deserialize)]
    struct Counts {
        same: usize,
        added: usize,
        updated: usize,
        removed: usize,
    }
    let a: Answer = serde_json::from_slice(body)?;
    let mut text = format!("synced {}", output::plural(sent, "contract"));
    if let Some(total) = a.total {
        let _ = write!(text, "; the server holds {total}");
    }
    if let Some(c) = a.summary {
        let summary = Summary {
            same: c.same,
            added: c.added,
            updated: c.updated,
            removed: c.removed,
        };
        let _ = write!(text, "\n{}", output::summary_line(&summary));
    }
    Ok(text)
}

/// The server's error, readably: status, code and message, then one line per detail.
pub(crate) fn refusal(url: &Url, status: StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Envelope {
        error: ErrorBody,
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        code: Option<String>,
        message: Option<String>,
        #[serde(default)]
        details: Vec<serde_json::Value>,
    }
    let mut text = format!("error: the server at {url} answered {status}");
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error }) => {
            let code = error.code.unwrap_or_default();
            let message = error.message.unwrap_or_default();
            let _ = match (code.is_empty(), message.is_empty()) {
                (true, true) => Ok(()),
                (false, true) => write!(text, "\n  {code}"),
                (true, false) => write!(text, "\n  {message}"),
                (false, false) => write!(text, "\n  {code}: {message}"),
            };
            for detail in &error.details {
                let _ = write!(text, "\n  {}", detail_line(detail));
            }
        }
        Err(_) if body.is_empty() => {}
        Err(_) => {
            let _ = write!(text, "\n  {}", excerpt(body));
        }
    }
    text
}

/// A problem object as `#12 C0042 emailApprenant: email_conflict: ...`; anything else as JSON.
fn detail_line(detail: &serde_json::Value) -> String {
    #[derive(Deserialize)]
    struct WireProblem {
        index: Option<usize>,
        #[serde(rename = "codeContrat")]
        contract_code: Option<String>,
        field: Option<String>,
        code: String,
        message: String,
    }
    #[derive(Deserialize)]
    struct PathProblem {
        path: String,
        message: String,
    }
    let Ok(p) = WireProblem::deserialize(detail) else {
        return match PathProblem::deserialize(detail) {
            Ok(p) => format!("{}: {}", p.path, p.message),
            Err(_) => detail.to_string(),
        };
    };
    let mut line = String::new();
    if let Some(index) = p.index {
        let _ = write!(line, "#{index} ");
    }
    if let Some(code) = p.contract_code.filter(|c| !c.is_empty()) {
        let _ = write!(line, "{code} ");
    }
    if let Some(field) = p.field {
        let _ = write!(line, "{field}: ");
    }
    let _ = write!(line, "{}: {}", p.code, p.message);
    line
}

/// A file's bytes as a request body: without a leading UTF-8 byte order mark, which the local
/// checks skip and which a sender must not add (RFC 8259).
pub(crate) fn body(bytes: Vec<u8>) -> Bytes {
    let bom = bytes.len() - sync_core::without_bom(&bytes).len();
    Bytes::from(bytes).slice(bom..)
}

/// The start of a body, as text.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_SHOWN)]);
    let more = if body.len() > BODY_SHOWN { "..." } else { "" };
    format!("{}{more}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_refusal(body: &str, expected: &str) {
        let url = Url::parse("http://127.0.0.1:1/api/sync/v2/contrats").unwrap();
        let got = refusal(&url, StatusCode::UNPROCESSABLE_ENTITY, body.as_bytes());
        let prefix = "error: the server at http://127.0.0.1:1/api/sync/v2/contrats answered 422 Unprocessable Entity";
        assert_eq!(got, format!("{prefix}{expected}"), "for {body}");
    }

    #[test]
    fn server_errors_are_shown_readably() {
        check_refusal(
            r#"{"error":{"code":"validation_failed","message":"2 problems","details":[
                {"index":3,"codeContrat":"C1","field":"emailApprenant","code":"invalid_email","message":"not an email"},
                {"index":null,"codeContrat":null,"field":null,"code":"invalid_json","message":"bad"}]}}"#,
            "\n  validation_failed: 2 problems\n  #3 C1 emailApprenant: invalid_email: not an email\n  invalid_json: bad",
        );
        check_refusal(
            r#"{"error":{"code":"x","message":"m","details":[{"other":1}]}}"#,
            "\n  x: m\n  {\"other\":1}",
        );
        check_refusal(
            r#"{"error":{"message":"only a message"}}"#,
            "\n  only a message",
        );
        check_refusal("plain text", "\n  plain text");
        check_refusal("", "");
    }

    #[test]
    fn endpoints() {
        let check = |base: &str, dry: bool, expected: &str| {
            let got = endpoint(base, dry).map_or_else(|e| format!("{e:#}"), |u| u.to_string());
            assert_eq!(got, expected);
        };
        check("http://h:8080", false, "http://h:8080/api/sync/v2/contrats");
        check(
            "http://h:8080/",
            true,
            "http://h:8080/api/sync/v1/contrats-diff",
        );
        check(
            "https://h/base/",
            false,
            "https://h/base/api/sync/v2/contrats",
        );
        check(
            "ftp://h",
            false,
            "invalid --url ftp://h: expected an http:// or https:// address",
        );
        check(
            "h:8080",
            false,
            "invalid --url h:8080: expected an http:// or https:// address",
        );
        check(
            "not a url",
            false,
            "invalid --url not a url: relative URL without a base",
        );
    }
}
