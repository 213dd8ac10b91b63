//! `serve` and `tenant create`: run the HTTP API, and create tenants with a random token,
//! on the store `--data DIR` (SQLite) or `--database-url URL` (PostgreSQL) names.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use sync_store::StoreLocation;

/// Which store a command opens: exactly one of `--data` and `--database-url`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct StoreArgs {
    /// Directory of the SQLite database (created if missing): the embedded default, for one
    /// server instance.
    #[arg(long = "data", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// URL of a PostgreSQL database (postgres://user:password@host:port/database), which
    /// several server instances may share; instead of --data. Migrated at start.
    #[arg(
        long = "database-url",
        value_name = "URL",
        env = "SYNC_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// The store named, with at most `pool_size` connections for PostgreSQL.
    pub fn location(&self, pool_size: Option<u32>) -> StoreLocation {
        match (&self.database_url, &self.data) {
            (Some(url), _) => StoreLocation::Postgres {
                url: url.clone(),
                pool_size: pool_size.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            },
            (None, Some(dir)) => StoreLocation::Directory(dir.clone()),
            // The group is required: clap refuses a command line with neither.
            (None, None) => StoreLocation::Directory(PathBuf::from("data")),
        }
    }
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Most connections this instance opens to PostgreSQL (--database-url only); the
    /// server's pool: requests wait for a free one.
    #[arg(long, value_name = "N", conflicts_with = "data", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub pool_size: Option<u32>,
    /// A tenant and its bearer token, repeatable; `SYNC_TOKENS=t1=tok1,t2=tok2` adds more.
    #[arg(long = "token", value_name = "TENANT=TOKEN", value_parser = parse_token)]
    pub tokens: Vec<(String, String)>,
    /// Create the new tenants of --token and SYNC_TOKENS as sandboxes (DELETE allowed); a
    /// tenant already stored keeps its flag.
    #[arg(long)]
    pub sandbox: bool,
    /// Allow calendar URLs on loopback, private or link-local addresses.
    #[arg(long)]
    pub calendar_allow_private: bool,
    /// Largest accepted request body, in MB.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_body_mb: u64,
    /// Longest wait for a request's headers, and for each part of its body, in seconds: the
    /// request is answered 408 and its connection closed after it.
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
    /// Longest wait on SIGTERM or SIGINT for the requests in flight to finish, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub shutdown_timeout: u64,
    /// Most connections served at once; the next ones wait until one closes.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Serve `GET /metrics` (Prometheus text format, no token needed); `false` makes it a 404.
    #[arg(long, value_name = "true|false", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Most memory kept for the tenants' active sets, in MiB (estimated); the sets used
    /// least recently are dropped first and read back from the database when needed.
    #[arg(long, default_value_t = 512, value_name = "MB")]
    pub cache_mb: u64,
    /// How long a sync held by the mass-removal guard waits to be approved or rejected
    /// before it expires: a whole number and a unit, s, m, h or d (30s, 72h, 3d).
    #[arg(long, default_value = "72h", value_name = "DURATION", value_parser = sync_engine::parse_duration)]
    pub hold_for: Duration,
    /// How long runs (the history of syncs) are kept, as --hold-for; contracts are never
    /// pruned.
    #[arg(long, default_value = "90d", value_name = "DURATION", value_parser = sync_engine::parse_duration)]
    pub keep_runs_for: Duration,
    /// The server's public base URL (http or https, e.g. https://sync.example.org), put
    /// before the review URLs of held syncs; without it they are paths (/review/...).
    #[arg(long, value_name = "URL", env = "SYNC_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Format of the log lines on stderr.
    #[arg(long, value_enum, default_value_t, env = "SYNC_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// Format of `serve`'s log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Lines for a person, coloured only on a terminal.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl From<LogFormat> for sync_http::LogFormat {
    fn from(format: LogFormat) -> Self {
        match format {
            LogFormat::Text => sync_http::LogFormat::Text,
            LogFormat::Json => sync_http::LogFormat::Json,
        }
    }
}

/// Arguments of `tenant`.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TenantCommand,
}

/// `tenant` subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (or add a token to an existing one): prints a random token once and
    /// stores only its hash.
    Create(TenantCreateArgs),
}

/// Arguments of `tenant create`.
#[derive(Debug, Args)]
pub struct TenantCreateArgs {
    /// The tenant's name.
    pub name: String,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Make the tenant a sandbox (DELETE allowed).
    #[arg(long)]
    pub sandbox: bool,
}

/// Parses `TENANT=TOKEN`.
pub fn parse_token(raw: &str) -> Result<(String, String), String> {
    let (tenant, token) = raw
        .split_once('=')
        .ok_or_else(|| "expected TENANT=TOKEN".to_owned())?;
    let (tenant, token) = (tenant.trim(), token.trim());
    if tenant.is_empty() || token.is_empty() {
        return Err("expected TENANT=TOKEN with a non-empty tenant and token".to_owned());
    }
    Ok((tenant.to_owned(), token.to_owned()))
}

/// Parses `SYNC_TOKENS` (`t1=tok1,t2=tok2`; blank entries ignored).
pub fn parse_token_list(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| parse_token(item).map_err(|e| format!("SYNC_TOKENS: {e}")))
        .collect()
}

/// Runs the server until SIGTERM or SIGINT, then stops it gracefully (exit code 0).
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut tokens = args.tokens;
    if let Ok(raw) = std::env::var("SYNC_TOKENS") {
        tokens.extend(parse_token_list(&raw).map_err(anyhow::Error::msg)?);
    }
    let config = sync_http::ServeConfig {
        addr: args.addr,
        store: args.store.location(args.pool_size),
        tokens,
        sandbox: args.sandbox,
        calendar_allow_private: args.calendar_allow_private,
        max_body_mb: usize::try_from(args.max_body_mb).unwrap_or(usize::MAX),
        read_timeout: Duration::from_secs(args.read_timeout),
        shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        metrics: args.metrics,
        cache_mb: usize::try_from(args.cache_mb).unwrap_or(usize::MAX),
        hold_for: args.hold_for,
        keep_runs_for: args.keep_runs_for,
        public_url: args.public_url,
    };
    sync_http::init_tracing(args.log_format.into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(sync_http::serve(config))?;
    // Past the shutdown timeout, work of closed connections may still run on blocking
    // threads: do not wait for it (an unfinished sync's transaction is rolled back).
    runtime.shutdown_background();
    Ok(ExitCode::SUCCESS)
}

/// An `http://` or `https://` URL with a host, no query, trailing slashes removed.
fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{raw}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "`{raw}` is not a base URL (a host, maybe a path; no query)"
        ));
    }
    Ok(url.to_owned())
}

/// Runs `tenant ...`.
pub fn tenant(args: TenantArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TenantCommand::Create(args) => {
            let location = args.store.location(Some(1));
            // The store's error shows its cause: not a context, which would show it twice.
            let store = sync_store::open(&location, 0).map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the {} store at {location}: {e}",
                    location.backend()
                )
            })?;
            let token = sync_store::new_token().map_err(anyhow::Error::msg)?;
            // An existing tenant is an error: its sandbox flag and tokens stay as they are.
            let tenant = match store.create_tenant(&args.name, args.sandbox) {
                Err(sync_store::StoreError::TenantExists { .. }) => anyhow::bail!(
                    "tenant {} already exists in {location}; nothing was changed",
                    args.name,
                ),
                created => created?,
            };
            store.add_token(tenant.id, &sync_store::hash_token(&token))?;
            eprintln!(
                "tenant {} ready in {location}; its token, shown only this once:",
                args.name,
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(parse_token("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_token("a").is_err());
        assert!(parse_token("=tok").is_err());
        assert!(parse_token("t=").is_err());
        assert_eq!(
            parse_token_list("t1=tok1, t2=tok2,").unwrap(),
            [("t1".into(), "tok1".into()), ("t2".into(), "tok2".into())]
        );
        assert!(parse_token_list("t1").is_err());
    }

    #[test]
    fn tenant_create_prints_a_token_that_the_store_knows_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let args = TenantCreateArgs {
            name: "school".into(),
            store: StoreArgs {
                data: Some(dir.path().to_path_buf()),
                database_url: None,
            },
            sandbox: true,
        };
        tenant(TenantArgs {
            command: TenantCommand::Create(args),
        })
        .unwrap();
        use sync_store::Store;
        let store = sync_store::SqliteStore::open(dir.path()).unwrap();
        assert!(store.tenant_by_name("school").unwrap().unwrap().sandbox);
        // The token itself is not stored anywhere in the database file.
        let bytes = std::fs::read(store.path()).unwrap();
        assert!(!bytes.is_empty());
    }
}
