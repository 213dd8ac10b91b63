//! `sync-cli runs list|show|approve|reject|revert --url BASE_URL`: a client of a server's
//! runs (the history of syncs, held syncs, undo), over the HTTP client of `push`.
//!
//! Text for a person, or `--format json`: the server's answer as it is. Exit codes as for
//! `push`: 0 done, 1 refused by the server (4xx: a 409 `not_held`, `stale_hold`,
//! `not_latest`...), 2 usage error, or server unreachable or failing (5xx) after the retries.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde::Deserialize;
use sync_core::Summary;

use crate::output;
use crate::push::{api_url, excerpt, http_client, refusal, runtime, Request};
use crate::{Format, EXIT_FAILURE, EXIT_PROBLEMS};

/// The runs' route.
const RUNS_PATH: &str = "/api/sync/v1/runs";

/// Arguments of `runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RunsCommand,
    /// The server's base URL, e.g. https://sync.example.org (required).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Bearer token of the training organisation (required).
    #[arg(long, env = "SYNC_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format: lines for a person, or the server's JSON answer.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
    /// Time limit of one attempt, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS", global = true)]
    pub timeout: u64,
    /// Retries after a network error or a 5xx answer.
    #[arg(long, default_value_t = 3, global = true)]
    pub retries: u32,
}

/// `runs` subcommands.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// The runs, newest first.
    List(PageArgs),
    /// One run and what it changed.
    Show {
        /// The run's id.
        id: String,
        /// Which changes.
        #[command(flatten)]
        page: PageArgs,
    },
    /// Approve a held run: apply it as if sent with allowMassRemoval=true.
    Approve {
        /// The held run's id.
        id: String,
    },
    /// Reject a held run: nothing is written.
    Reject {
        /// The held run's id.
        id: String,
    },
    /// Revert the latest run that changed the contracts.
    Revert {
        /// The run's id.
        id: String,
        /// Confirm a revert that archives more than 30% of the active contracts.
        #[arg(long)]
        allow_mass_removal: bool,
    },
}

/// A page of a listing.
#[derive(Debug, Clone, Copy, Args)]
pub struct PageArgs {
    /// Items per page, 1 to 10000.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: u32,
    /// 1-based page.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub page: u32,
}

/// A run id as a path segment: the server's ids are hex, anything else is escaped.
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub(crate) fn run(args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let Some(base) = args.url.as_deref().filter(|u| !u.is_empty()) else {
        anyhow::bail!("--url BASE_URL is required");
    };
    let Some(token) = args.token.as_deref().filter(|t| !t.is_empty()) else {
        anyhow::bail!("--token (or SYNC_TOKEN) is required");
    };
    let (method, path) = match &args.command {
        RunsCommand::List(page) => (
            Method::GET,
            format!("{RUNS_PATH}?limit={}&page={}", page.limit, page.page),
        ),
        RunsCommand::Show { id, page } => (
            Method::GET,
            format!(
                "{RUNS_PATH}/{}?limit={}&page={}",
                segment(id),
                page.limit,
                page.page
            ),
        ),
        RunsCommand::Approve { id } => {
            (Method::POST, format!("{RUNS_PATH}/{}/approve", segment(id)))
        }
        RunsCommand::Reject { id } => (Method::POST, format!("{RUNS_PATH}/{}/reject", segment(id))),
        RunsCommand::Revert {
            id,
            allow_mass_removal,
        } => (
            Method::POST,
            format!(
                "{RUNS_PATH}/{}/revert?allowMassRemoval={allow_mass_removal}",
                segment(id)
            ),
        ),
    };
    let url = api_url(base, &path)?;
    let client = http_client(Duration::from_secs(args.timeout))?;
    let request = Request {
        method,
        client: &client,
        url: &url,
        token,
        body: Bytes::new(),
    };
    let (status, body) =
        runtime()?.block_on(request.send(args.retries, Duration::from_millis(500)))?;
    if !status.is_success() {
        eprintln!("{}", refusal(&url, status, &body));
        return Ok(ExitCode::from(if status.is_client_error() {
            EXIT_PROBLEMS
        } else {
            EXIT_FAILURE
        }));
    }
    let text = match args.format {
        Format::Json => String::from_utf8_lossy(&body).into_owned(),
        Format::Text => text(&args.command, &body).with_context(|| {
            format!(
                "the server at {url} answered {status} with an unexpected body: {}",
                excerpt(&body)
            )
        })?,
    };
    println!("{}", text.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// A run as the server answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    run_id: String,
    kind: String,
    received_at: String,
    outcome: String,
    summary: Counts,
    errors: u64,
    warnings: u64,
    user_agent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Counts {
    same: usize,
    added: usize,
    updated: usize,
    removed: usize,
}

impl Counts {
    fn line(&self) -> String {
        output::summary_line(&Summary {
            same: self.same,
            added: self.added,
            updated: self.updated,
            removed: self.removed,
        })
    }
}

impl Run {
    /// `<id>  <time>  <kind>  <outcome>  <counts>`, one line.
    fn line(&self) -> String {
        let mut line = format!(
            "{}  {}  {:<7}  {:<8}  {}",
            self.run_id,
            self.received_at,
            self.kind,
            self.outcome,
            self.summary.line()
        );
        if self.errors > 0 || self.warnings > 0 {
            let _ = write!(
                line,
                "; {}, {}",
                output::plural(self.errors as usize, "error"),
                output::plural(self.warnings as usize, "warning")
            );
        }
        line
    }
}

/// The text of an answer.
fn text(command: &RunsCommand, body: &[u8]) -> serde_json::Result<String> {
    match command {
        RunsCommand::List(page) => {
            #[derive(Deserialize)]
            struct Answer {
                total: usize,
                runs: Vec<Run>,
            }
            let a: Answer = serde_json::from_slice(body)?;
            let mut text = format!(
                "{} (page {}, newest first)\n",
                output::plural(a.total, "run"),
                page.page
            );
            for run in &a.runs {
                let _ = writeln!(text, "{}", run.line());
            }
            Ok(text)
        }
        RunsCommand::Show { page, .. } => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Answer {
                run: Run,
                changes_total: usize,
                changes: Vec<Change>,
                problems: Vec<serde_json::Value>,
            }
            #[derive(Deserialize)]
            struct Change {
                #[serde(rename = "codeContrat")]
                code: String,
                change: String,
                fields: Vec<Field>,
            }
            #[derive(Deserialize)]
            struct Field {
                field: String,
                old: Option<String>,
                new: Option<String>,
            }
            let a: Answer = serde_json::from_slice(body)?;
            let run = &a.run;
            let mut text = format!(
                "run {}\n  kind {}, received {}, outcome {}\n  {}\n",
                run.run_id,
                run.kind,
                run.received_at,
                run.outcome,
                run.summary.line()
            );
            if run.errors > 0 || run.warnings > 0 {
                let _ = writeln!(
                    text,
                    "  {}, {}",
                    output::plural(run.errors as usize, "error"),
                    output::plural(run.warnings as usize, "warning")
                );
            }
            if let Some(agent) = &run.user_agent {
                let _ = writeln!(text, "  sent by {agent}");
            }
            let _ = writeln!(
                text,
                "{} (page {})",
                output::plural(a.changes_total, "change"),
                page.page
            );
            let value = |v: &Option<String>| match v {
                Some(v) => format!("{v:?}"),
                None => "(absent)".to_owned(),
            };
            for change in &a.changes {
                let _ = writeln!(text, "  {:<7} {}", change.change, change.code);
                for field in &change.fields {
                    let _ = writeln!(
                        text,
                        "            {}: {} -> {}",
                        field.field,
                        value(&field.old),
                        value(&field.new)
                    );
                }
            }
            if !a.problems.is_empty() {
                let _ = writeln!(text, "{}", output::plural(a.problems.len(), "problem"));
                for problem in &a.problems {
                    let line = match (problem.get("code"), problem.get("message")) {
                        (Some(code), Some(message)) => format!(
                            "{}: {}",
                            code.as_str().unwrap_or_default(),
                            message.as_str().unwrap_or_default()
                        ),
                        _ => problem.to_string(),
                    };
                    let _ = writeln!(text, "  {line}");
                }
            }
            Ok(text)
        }
        RunsCommand::Reject { .. } => {
            #[derive(Deserialize)]
            struct Answer {
                run: Run,
            }
            let a: Answer = serde_json::from_slice(body)?;
            Ok(format!(
                "rejected run {}: nothing was changed",
                a.run.run_id
            ))
        }
        RunsCommand::Approve { id } | RunsCommand::Revert { id, .. } => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Answer {
                total: u64,
                summary: Counts,
                run_id: String,
            }
            let a: Answer = serde_json::from_slice(body)?;
            let what = match command {
                RunsCommand::Approve { .. } => format!("approved run {id}"),
                _ => format!("reverted run {id} as run {}", a.run_id),
            };
            Ok(format!(
                "{what}; the server holds {}\n{}",
                a.total,
                a.summary.line()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_escaped_in_paths() {
        assert_eq!(segment("4f9c2d7e"), "4f9c2d7e");
        assert_eq!(segment("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
