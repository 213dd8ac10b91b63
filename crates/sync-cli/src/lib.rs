//! `sync-cli`: the integrator's command line over `sync-core`.
//!
//! A thin layer: argument parsing, file reading, output formatting and exit codes. Every rule
//! (parsing, validation, diff, generation) is a call into `sync-core`.
//!
//! Exit codes, as ripgrep and ruff use them: **0** success, **1** the input has errors (or a
//! server refused it), **2** the command could not do its job (usage error, unreadable file,
//! server unreachable).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod diff;
mod gen;
mod html;
mod input;
mod lms_import;
mod output;
mod progress;
mod push;
pub mod runs;
mod server;
mod validate;

pub use input::Input;

/// The bytes of an export as every command reads them: a regular file of 64 MB or more is
/// mapped into memory, anything else is read. Public for the compare tool of `benches/`,
/// whose floor (reading and parsing alone) must read files the way `sync-cli diff` does.
pub fn read_export(path: &std::path::Path) -> anyhow::Result<Input> {
    input::open(path, &progress::Progress::bytes("reading", 0))
}

/// Exit code: the input has errors, or a server refused it.
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: usage error, unreadable file, unreachable server.
pub const EXIT_FAILURE: u8 = 2;

/// Validate, diff, generate and push apprenticeship contract exports (document 000).
#[derive(Debug, Parser)]
#[command(name = "sync-cli", version, about, long_about = None)]
#[command(after_help = "\
Exit codes: 0 success, 1 the input has errors (or the server refused it), 2 usage error,
unreadable file or unreachable server.

Examples:
  sync-cli validate export.json
  sync-cli diff previous.json current.json --format json --output diff.json
  sync-cli gen --contracts 100000 --out /tmp/school
  sync-cli push export.json --url https://sync.example.org --dry-run")]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. New ones (`serve`, `tenant`) are added as variants here.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an export: every problem at once, errors and warnings.
    #[command(after_help = "\
Exit codes: 0 valid (warnings allowed), 1 the file has errors, 2 usage error or unreadable file.

Examples:
  sync-cli validate export.json
  sync-cli validate export.json --format json > report.json")]
    Validate(ValidateArgs),
    /// Compare two exports: same, added, updated and removed contracts.
    #[command(after_help = "\
Both files are validated first; if either has errors, the problems are shown (naming the file)
and the exit code is 1. Otherwise the exit code is 0, whether or not there are differences.

--format html writes one self-contained page (no asset fetched, opens offline): the counts,
the problems of both files at the top, every change with its fields old and new, a filter
over codes and names and pages of 200 changes.

Examples:
  sync-cli diff previous.json current.json
  sync-cli diff previous.json current.json --format json --output diff.json
  sync-cli diff previous.json current.json --format html --output report.html")]
    Diff(DiffArgs),
    /// Generate a realistic previous and current export of a school, for tests and benches.
    #[command(after_help = "\
Writes DIR/previous.json and DIR/current.json (bare JSON arrays, one contract per line);
the same options give the same bytes. Prints the counts `sync-cli diff` will find.

Example:
  sync-cli gen --contracts 10000 --seed 7 --change-rate 0.2 --out /tmp/school")]
    Gen(GenArgs),
    /// Send an export to a server speaking document 000 (validated locally first).
    #[command(after_help = "\
Without --dry-run the file is posted to BASE_URL/api/sync/v2/contrats and the server's summary
is printed; with it, to BASE_URL/api/sync/v1/contrats-diff and the four counts are printed.
The token is sent as `Authorization: Bearer ...` and never printed. Network errors and 5xx
answers are retried with exponential backoff; a 4xx answer is shown and not retried.

Exit codes: 0 accepted, 1 invalid file or refused by the server (4xx), 2 usage error,
unreadable file, or server unreachable or failing (5xx) after the retries.

Examples:
  SYNC_TOKEN=... sync-cli push export.json --url https://sync.example.org --dry-run
  sync-cli push export.json --url http://127.0.0.1:8080 --token \"$TOKEN\"")]
    Push(PushArgs),
    /// Load cycles, periods, members and credits (document 004) into a server.
    #[command(after_help = "\
FILE is one JSON object {\"cycles\": [...], \"periods\": [...], \"members\": [...],
\"credits\": [...]} (see the README, Cycle API), posted to BASE_URL/lmsapi/admin/import. Objects
are created or updated by id (fields left out stay as they were); an import with any problem
is refused whole and every problem is shown.

Exit codes: 0 loaded, 1 not JSON or refused by the server (4xx), 2 usage error, unreadable
file, or server unreachable or failing (5xx) after the retries.

Example:
  SYNC_TOKEN=... sync-cli lms-import cycles.json --url http://127.0.0.1:8080")]
    LmsImport(LmsImportArgs),
    /// The history of a server's syncs (runs); approve or reject a held sync, undo the latest.
    #[command(after_help = "\
Every full sync, delta sync and sandbox delete is a run, whatever its outcome (applied,
refused, held by the mass-removal guard). A held run waits for `runs approve` or `runs reject`
(or expires, serve --hold-for); `runs revert` undoes the latest run that changed the contracts.

Exit codes: 0 done, 1 refused by the server (4xx, e.g. 409 not_held, stale_hold, not_latest),
2 usage error, or server unreachable or failing (5xx) after the retries.

Examples:
  SYNC_TOKEN=... sync-cli runs list --url http://127.0.0.1:8080
  sync-cli runs show 4f9c2d7e0b1a4c3d8e6f5a4b3c2d1e0f --url http://127.0.0.1:8080 --format json
  sync-cli runs approve 4f9c2d7e0b1a4c3d8e6f5a4b3c2d1e0f --url http://127.0.0.1:8080
  sync-cli runs revert 4f9c2d7e0b1a4c3d8e6f5a4b3c2d1e0f --url http://127.0.0.1:8080 --allow-mass-removal")]
    Runs(runs::RunsArgs),
    /// Run the HTTP API of document 000 on an embedded SQLite database, or on PostgreSQL.
    #[command(after_help = "\
The store is SQLite in --data DIR (nothing to install), or a PostgreSQL database given by
--database-url URL or SYNC_DATABASE_URL, which several instances behind a load balancer may
share (each with at most --pool-size connections). A store that cannot be opened or does not
answer stops the start with exit code 2. GET /healthz answers 200 while the store answers.

Tokens come from --token TENANT=TOKEN (repeatable) and SYNC_TOKENS=t1=tok1,t2=tok2; only their
hashes are stored. Logs go to stderr: text (coloured only on a terminal), or with
--log-format json (or SYNC_LOG_FORMAT=json) one JSON object per line.

On SIGTERM or SIGINT (Ctrl-C) the server stops accepting connections, lets the requests in
flight finish (at most --shutdown-timeout seconds) and exits 0. A request whose headers or body
stall for --read-timeout seconds is answered 408 and closed; at most --max-connections
connections are served at once, the next ones wait.

Examples:
  sync-cli serve --addr 127.0.0.1:8080 --data /var/lib/campus-sync --token school=s3cret
  SYNC_DATABASE_URL=postgres://campus:pw@db/campus sync-cli serve --addr 0.0.0.0:8080")]
    Serve(server::ServeArgs),
    /// Manage tenants: `tenant create NAME (--data DIR | --database-url URL) [--sandbox]`.
    #[command(after_help = "\
Examples:
  sync-cli tenant create school --data /var/lib/campus-sync   # prints the token once
  sync-cli tenant create school --database-url postgres://campus:pw@db/campus")]
    Tenant(server::TenantArgs),
}

/// Output format of `validate` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON document for a program.
    Json,
}

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DiffFormat {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON document for a program.
    Json,
    /// One self-contained HTML page (the review page's view), to open in a browser.
    Html,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The export: a JSON array of contracts or {"contrats": [...]}.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The previous export.
    pub previous: PathBuf,
    /// The current export.
    pub current: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Write the output to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Arguments of `gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of contracts in the previous export.
    #[arg(long)]
    pub contracts: usize,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Share of contracts that differ in the current export (split between added, updated and
    /// removed), from 0 to 1.
    #[arg(long, default_value_t = 0.1, value_parser = parse_rate)]
    pub change_rate: f64,
    /// Directory to write previous.json and current.json into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The export to send.
    pub file: PathBuf,
    /// The server's base URL, e.g. https://sync.example.org (the API paths are appended).
    #[arg(long)]
    pub url: String,
    /// Bearer token of the training organisation.
    #[arg(long, env = "SYNC_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Ask the server what would change (contrats-diff) without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Time limit of one attempt, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
    /// Retries after a network error or a 5xx answer.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Delay before the first retry, in milliseconds; doubled at each retry.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub retry_delay: u64,
}

impl PushArgs {
    /// The time limit of one attempt.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// The delay before the first retry.
    pub fn retry_delay(&self) -> Duration {
        Duration::from_millis(self.retry_delay)
    }
}

/// Arguments of `sync-cli lms-import`.
#[derive(Debug, Args)]
pub struct LmsImportArgs {
    /// The import file.
    pub file: PathBuf,
    /// The server's base URL (`/lmsapi/admin/import` is appended).
    #[arg(long)]
    pub url: String,
    /// Bearer token of the training organisation.
    #[arg(long, env = "SYNC_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Time limit of one attempt, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
    /// Retries after a network error or a 5xx answer.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Delay before the first retry, in milliseconds; doubled at each retry.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub retry_delay: u64,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let rate: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is not between 0 and 1"))
    }
}

/// Parses the command line (the program name first), without exiting or printing.
pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// Runs a parsed command; `Err` is a failure of the command itself (exit code 2).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Gen(args) => gen::run(&args),
        Command::Push(args) => push::run(&args),
        Command::Runs(args) => runs::run(&args),
        Command::LmsImport(args) => lms_import::run(&args),
        Command::Serve(args) => server::serve(args),
        Command::Tenant(args) => server::tenant(args),
    }
}

/// The whole program: parse, run, report a failure, return the exit code.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match parse_args(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_FAILURE } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Whether the output's reader went away (`sync-cli diff a b | head`): not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Parses `line` (split on spaces) and describes the result, or the error's kind.
    fn check(line: &str, expected: &str) {
        let args = std::iter::once("sync-cli").chain(line.split_whitespace());
        let got = match parse_args(args) {
            Ok(cli) => match cli.command {
                Command::Validate(a) => format!("validate {} {:?}", a.file.display(), a.format),
                Command::Diff(a) => format!(
                    "diff {} {} {:?} {:?}",
                    a.previous.display(),
                    a.current.display(),
                    a.format,
                    a.output
                ),
                Command::Gen(a) => format!(
                    "gen {} {} {} {}",
                    a.contracts,
                    a.seed,
                    a.change_rate,
                    a.out.display()
                ),
                Command::Push(a) => format!(
                    "push {} {} token={} dry={} {:?} {} {:?}",
                    a.file.display(),
                    a.url,
                    a.token,
                    a.dry_run,
                    a.timeout(),
                    a.retries,
                    a.retry_delay()
                ),
                Command::LmsImport(a) => format!(
                    "lms-import {} {} token={} {} {} {}",
                    a.file.display(),
                    a.url,
                    a.token,
                    a.timeout,
                    a.retries,
                    a.retry_delay
                ),
                Command::Serve(a) => format!(
                    "serve {} {:?} {:?} sandbox={} private={} {} log={:?} read={} shutdown={} max={} metrics={} cache={}",
                    a.addr,
                    a.store.location(a.pool_size),
                    a.tokens,
                    a.sandbox,
                    a.calendar_allow_private,
                    a.max_body_mb,
                    a.log_format,
                    a.read_timeout,
                    a.shutdown_timeout,
                    a.max_connections,
                    a.metrics,
                    a.cache_mb
                ),
                Command::Runs(a) => format!(
                    "runs {:?} {:?} token={:?} {:?} {} {}",
                    a.command, a.url, a.token, a.format, a.timeout, a.retries
                ),
                Command::Tenant(a) => match a.command {
                    server::TenantCommand::Create(c) => {
                        format!(
                            "tenant create {} {:?} sandbox={}",
                            c.name,
                            c.store.location(None),
                            c.sandbox
                        )
                    }
                },
            },
            Err(err) => format!("error {:?}", err.kind()),
        };
        assert_eq!(got, expected, "for `{line}`");
    }

    #[test]
    fn runs_commands() {
        check(
            "runs list --url http://h --token t",
            "runs List(PageArgs { limit: 50, page: 1 }) Some(\"http://h\") token=Some(\"t\") Text 60 3",
        );
        check(
            "runs show abc --limit 10 --page 2 --url http://h --token t --format json",
            "runs Show { id: \"abc\", page: PageArgs { limit: 10, page: 2 } } Some(\"http://h\") token=Some(\"t\") Json 60 3",
        );
        check(
            "runs --url http://h revert abc --allow-mass-removal --token t",
            "runs Revert { id: \"abc\", allow_mass_removal: true } Some(\"http://h\") token=Some(\"t\") Text 60 3",
        );
        check(
            "runs approve abc --url http://h --token t --retries 0 --timeout 5",
            "runs Approve { id: \"abc\" } Some(\"http://h\") token=Some(\"t\") Text 5 0",
        );
        check("runs reject", "error MissingRequiredArgument");
        check("runs list --limit 0", "error ValueValidation");
        check("runs forget abc", "error InvalidSubcommand");
    }

    #[test]
    fn serve_public_url() {
        let serve = |line: &str| {
            let args = std::iter::once("sync-cli").chain(line.split_whitespace());
            match parse_args(args).map(|cli| cli.command) {
                Ok(Command::Serve(a)) => Ok(a.public_url),
                Ok(_) => Err("another command".to_owned()),
                Err(err) => Err(format!("{:?}", err.kind())),
            }
        };
        assert_eq!(serve("serve --data d"), Ok(None));
        assert_eq!(
            serve("serve --data d --public-url https://sync.example.org/"),
            Ok(Some("https://sync.example.org".into()))
        );
        assert_eq!(
            serve("serve --data d --public-url http://h:8080/campus"),
            Ok(Some("http://h:8080/campus".into()))
        );
        for bad in ["ftp://h", "h.example.org", "https://", "https://h/?a=1"] {
            assert_eq!(
                serve(&format!("serve --data d --public-url {bad}")),
                Err("ValueValidation".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn serve_durations() {
        let serve = |line: &str| {
            let args = std::iter::once("sync-cli").chain(line.split_whitespace());
            match parse_args(args).map(|cli| cli.command) {
                Ok(Command::Serve(a)) => Ok((a.hold_for.as_secs(), a.keep_runs_for.as_secs())),
                Ok(_) => Err("another command".to_owned()),
                Err(err) => Err(format!("{:?}", err.kind())),
            }
        };
        assert_eq!(serve("serve --data d"), Ok((72 * 3600, 90 * 86_400)));
        assert_eq!(
            serve("serve --data d --hold-for 2s --keep-runs-for 3d"),
            Ok((2, 3 * 86_400))
        );
        assert_eq!(
            serve("serve --data d --hold-for 30m"),
            Ok((1800, 90 * 86_400))
        );
        assert_eq!(
            serve("serve --data d --hold-for 3w"),
            Err("ValueValidation".into())
        );
        assert_eq!(
            serve("serve --data d --keep-runs-for 0d"),
            Err("ValueValidation".into())
        );
    }

    #[test]
    fn lms_import_command() {
        check(
            "lms-import c.json --url http://h --token t --retries 1",
            "lms-import c.json http://h token=t 60 1 500",
        );
    }

    #[test]
    fn server_commands() {
        check(
            "serve --data d --token a=x --token b=y=z --sandbox --max-body-mb 5",
            r#"serve 127.0.0.1:8080 Directory("d") [("a", "x"), ("b", "y=z")] sandbox=true private=false 5 log=Text read=60 shutdown=30 max=1024 metrics=true cache=512"#,
        );
        check(
            "serve --addr 0.0.0.0:9000 --data d --calendar-allow-private",
            "serve 0.0.0.0:9000 Directory(\"d\") [] sandbox=false private=true 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=512",
        );
        check(
            "serve --data d --log-format json",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Json read=60 shutdown=30 max=1024 metrics=true cache=512",
        );
        check(
            "serve --data d --log-format text",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=512",
        );
        check(
            "serve --data d --metrics false",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=false cache=512",
        );
        check(
            "serve --data d --metrics true",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=512",
        );
        check(
            "serve --data d --cache-mb 64",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=64",
        );
        check(
            "serve --data d --cache-mb 0",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=0",
        );
        check("serve --data d --cache-mb lots", "error ValueValidation");
        check("serve --data d --metrics no", "error InvalidValue");
        check("serve --data d --metrics", "error InvalidValue");
        check("serve --data d --log-format xml", "error InvalidValue");
        check("serve --data d --token nope", "error ValueValidation");
        check("serve --data d --max-body-mb 0", "error ValueValidation");
        check(
            "serve --data d --read-timeout 5 --shutdown-timeout 0 --max-connections 2",
            "serve 127.0.0.1:8080 Directory(\"d\") [] sandbox=false private=false 256 log=Text read=5 shutdown=0 max=2 metrics=true cache=512",
        );
        check("serve --data d --read-timeout 0", "error ValueValidation");
        check(
            "serve --data d --max-connections 0",
            "error ValueValidation",
        );
        check(
            "serve --data d --shutdown-timeout soon",
            "error ValueValidation",
        );
        check("serve", "error MissingRequiredArgument");
        check(
            "tenant create school --data d --sandbox",
            "tenant create school Directory(\"d\") sandbox=true",
        );
        check("tenant create school", "error MissingRequiredArgument");
    }

    #[test]
    fn store_options() {
        let rest = "[] sandbox=false private=false 256 log=Text read=60 shutdown=30 max=1024 metrics=true cache=512";
        check(
            "serve --database-url postgres://campus:pw@db/campus --pool-size 4",
            &format!(
                "serve 127.0.0.1:8080 Postgres {{ url: \"postgres://campus@db/campus\", pool_size: Some(4) }} {rest}"
            ),
        );
        check(
            "serve --database-url postgres://db/campus",
            &format!(
                "serve 127.0.0.1:8080 Postgres {{ url: \"postgres://db/campus\", pool_size: None }} {rest}"
            ),
        );
        check(
            "serve --data d --database-url postgres://db/campus",
            "error ArgumentConflict",
        );
        check("serve --data d --pool-size 4", "error ArgumentConflict");
        check(
            "serve --database-url postgres://db/campus --pool-size 0",
            "error ValueValidation",
        );
        check(
            "tenant create school --database-url postgres://db/campus",
            "tenant create school Postgres { url: \"postgres://db/campus\", pool_size: None } sandbox=false",
        );
        check(
            "tenant create school --data d --database-url postgres://db/campus",
            "error ArgumentConflict",
        );
    }

    #[test]
    fn arguments() {
        check("validate a.json", "validate a.json Text");
        check("validate a.json --format json", "validate a.json Json");
        check("validate a.json --format xml", "error InvalidValue");
        check("validate", "error MissingRequiredArgument");
        check("diff a b", "diff a b Text None");
        check(
            "diff a b --format json --output o.json",
            "diff a b Json Some(\"o.json\")",
        );
        check(
            "diff a b --format html -o r.html",
            "diff a b Html Some(\"r.html\")",
        );
        check("diff a b --format xml", "error InvalidValue");
        check("diff a", "error MissingRequiredArgument");
        check("gen --contracts 10 --out d", "gen 10 42 0.1 d");
        check(
            "gen --contracts 10 --seed 7 --change-rate 0.5 --out d",
            "gen 10 7 0.5 d",
        );
        check(
            "gen --contracts 10 --change-rate 2 --out d",
            "error ValueValidation",
        );
        check("gen --contracts ten --out d", "error ValueValidation");
        check("gen --out d", "error MissingRequiredArgument");
        check(
            "push f.json --url http://h --token t --dry-run",
            "push f.json http://h token=t dry=true 300s 3 500ms",
        );
        check(
            "push f.json --url http://h --token t --timeout 5 --retries 0 --retry-delay 1",
            "push f.json http://h token=t dry=false 5s 0 1ms",
        );
        check("frobnicate", "error InvalidSubcommand");
        check("--help", "error DisplayHelp");
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains(&format!("sync-cli {}", sub.get_name())),
                "{}: {help}",
                sub.get_name()
            );
        }
    }
}
