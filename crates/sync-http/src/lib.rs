//! `sync-http`: the contract sync API of document 000 over `sync-core` and `sync-store`.
//!
//! A thin axum adapter: handlers parse the request, hand the work to the core and the store on
//! a blocking thread, and map the outcome to a status in one place ([`ApiError`]). Business
//! rules (validation, diff, merge, mass-removal guard, session models, absences) are the core's.
//!
//! - [`app`] builds the router over an [`AppState`] (tests can drive it without a socket);
//!   [`app_with`] merges more routes over the same state (the cycle API);
//! - [`start`] opens the store ([`ServeConfig::store`]: SQLite in a directory, or PostgreSQL
//!   shared by several instances), checks that it answers, registers the configured tokens
//!   and listens; [`serve`] runs
//!   until SIGTERM or SIGINT, then shuts down gracefully: it stops accepting and lets the
//!   requests in flight finish (within [`ServeConfig::shutdown_timeout`]);
//! - limits: at most [`ServeConfig::max_connections`] connections at once (the next ones
//!   wait), and 408 for a request whose headers or body stall past
//!   [`ServeConfig::read_timeout`];
//! - [`metrics::Metrics`] counts requests, syncs and cache reads for `GET /metrics` (on unless
//!   [`Settings::metrics`] is off; not behind the bearer token);
//! - [`init_tracing`] logs to stderr for a binary, as text or JSON lines ([`LogFormat`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), sync_http::ServeError> {
//! let config = sync_http::ServeConfig {
//!     addr: "127.0.0.1:0".parse().unwrap(),
//!     store: sync_store::StoreLocation::Directory("/tmp/campus-sync".into()),
//!     tokens: vec![("school".into(), "secret".into())],
//!     ..Default::default()
//! };
//! let server = sync_http::start(config).await?;
//! println!("listening on {}", server.addr());
//! server.stop().await
//! # }
//! ```
//!
//! **Only sync-http knows about HTTP.** Tokens and payloads are never logged.

pub mod absences;
pub mod calendar;
#[cfg(any(test, feature = "fuzzing"))]
pub mod check;
mod connections;
pub mod contracts;
pub mod cycle;
pub mod error;
pub mod extract;
pub mod health;
pub mod html;
pub mod metrics;
pub mod openapi;
pub mod review;
pub mod runs;
pub mod state;
pub mod wire;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sync_store::{hash_token, Store, StoreError, StoreLocation};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;

pub use error::ApiError;
pub use state::{blocking, AppState, Settings};

/// The routes of document 000, without state: merge others into it, then call
/// `.with_state(...)`, or use [`app_with`].
pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/healthz", get(health::get_health))
        .route("/api/sync/v1/test", get(contracts::token_check))
        .route("/api/sync/v2/contrats", post(contracts::post_contracts))
        .route(
            "/api/sync/v2/contrats/changes",
            post(contracts::post_changes),
        )
        .route("/api/sync/v1/contrats-diff", post(contracts::post_diff))
        .route(
            "/api/sync/v1/contrats",
            get(contracts::get_integrated).delete(contracts::delete_contracts),
        )
        .route(
            "/api/sync/v1/contrats-get-all",
            get(contracts::get_transmitted),
        )
        .route(
            "/api/sync/v1/session-models",
            get(contracts::get_models).put(contracts::put_models),
        )
        .route(
            "/api/sync/v1/calendar-group-ics",
            post(calendar::post_calendar),
        )
        .route(
            "/api/sync/v1/calendar-group-ics/{groupId}",
            get(calendar::get_calendar),
        )
        .route(
            "/api/sync/v1/absences-for-student",
            post(absences::post_absences).get(absences::get_absences),
        )
        .route("/api/sync/v1/runs", get(runs::get_runs))
        .route("/api/sync/v1/runs/{runId}", get(runs::get_run))
        .route("/api/sync/v1/runs/{runId}/approve", post(runs::approve))
        .route("/api/sync/v1/runs/{runId}/reject", post(runs::reject))
        .route("/api/sync/v1/runs/{runId}/revert", post(runs::revert))
        .route("/review/{runId}", get(review::get_page))
        .route("/review/{runId}/approve", post(review::post_approve))
        .route("/review/{runId}/reject", post(review::post_reject))
}

/// The whole application over a state.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The application with more routes over the same state (their own auth and errors).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let limit = state.settings.max_body_mb.saturating_mul(1 << 20);
    let mut router = routes()
        .merge(cycle::routes())
        .merge(extra)
        .route("/openapi.json", get(|| async { Json(openapi::openapi()) }));
    if let Some(scraped) = state.metrics.clone() {
        router = router.route(
            "/metrics",
            get(move || metrics::get_metrics(scraped.clone())),
        );
    }
    router = router.fallback(|| async { ApiError::NotFound("no such route".to_owned()) });
    if let Some(counted) = state.metrics.clone() {
        // A layer of the router runs after routing, so it sees the route template; added
        // after the fallback, it counts unmatched requests too.
        router = router.layer(middleware::from_fn_with_state(
            counted,
            metrics::record_request,
        ));
    }
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(reject_repeated_parameters))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A query parameter given twice is a 400 on every route, whether it reads it or not.
async fn reject_repeated_parameters(request: Request, next: Next) -> Response {
    match extract::Params::parse(request.uri().query().unwrap_or("")) {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// One line per request: method, path (no query: it may hold an email), status, time.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub addr: SocketAddr,
    /// The store: a directory of the SQLite database (created if missing), or a PostgreSQL
    /// database that several instances share.
    pub store: StoreLocation,
    /// `(tenant, token)` pairs registered at start (only the tokens' hashes are stored).
    pub tokens: Vec<(String, String)>,
    /// Whether the tenants of `tokens` are sandboxes.
    pub sandbox: bool,
    /// Whether calendar URLs may point at loopback or private addresses.
    pub calendar_allow_private: bool,
    /// Largest accepted body, in MiB.
    pub max_body_mb: usize,
    /// Longest wait for a request's headers, and for each part of its body: 408 after it.
    pub read_timeout: Duration,
    /// Longest wait, once stopping, for the requests in flight to finish.
    pub shutdown_timeout: Duration,
    /// Most connections served at once; the next ones wait until one closes.
    pub max_connections: usize,
    /// Whether `GET /metrics` answers (without a token).
    pub metrics: bool,
    /// Bound of the store's active-set cache, in MiB (estimated size of the sets kept).
    pub cache_mb: usize,
    /// How long a held run waits for a decision before it expires.
    pub hold_for: Duration,
    /// How long runs and their change records are kept.
    pub keep_runs_for: Duration,
    /// The public base URL put before review URLs (`https://sync.example.org`); `None`:
    /// review URLs are paths.
    pub public_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: StoreLocation::Directory("data".into()),
            tokens: Vec::new(),
            sandbox: false,
            calendar_allow_private: false,
            max_body_mb: 256,
            read_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            max_connections: 1024,
            metrics: true,
            cache_mb: 512,
            hold_for: sync_engine::DEFAULT_HOLD_FOR,
            keep_runs_for: sync_engine::DEFAULT_KEEP_RUNS_FOR,
            public_url: None,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened, or does not answer: nothing was started.
    #[error("cannot open the {} store at {location}: {cause}", location.backend())]
    Open {
        /// Where it is (shown with a URL's password hidden).
        location: StoreLocation,
        /// Why, shown in the message (not as a `source()`, which would show it twice).
        cause: StoreError,
    },
    /// The store failed while registering the tokens.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    /// A startup task crashed.
    #[error("startup failed: {0}")]
    Startup(String),
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    upkeep: JoinHandle<()>,
}

impl Server {
    /// The address actually bound (the port chosen for `:0`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets the requests in flight finish within the shutdown timeout
    /// (closing the connections still open after it), and waits.
    pub async fn stop(self) -> Result<(), ServeError> {
        let _ = self.shutdown.send(true);
        self.upkeep.abort();
        self.task
            .await
            .map_err(|e| ServeError::Startup(e.to_string()))
    }
}

/// Opens the store at `config.store` and checks that it answers ([`ServeError::Open`] if
/// not: a wrong URL or an unreachable database stops the start here, before listening),
/// registers the tokens, binds and serves in the background.
pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
    let ServeConfig {
        addr,
        store: location,
        tokens,
        sandbox,
        calendar_allow_private,
        max_body_mb,
        read_timeout,
        shutdown_timeout,
        max_connections,
        metrics,
        cache_mb,
        hold_for,
        keep_runs_for,
        public_url,
    } = config;
    let cache_bytes = u64::try_from(cache_mb)
        .unwrap_or(u64::MAX)
        .saturating_mul(1 << 20);
    let store = tokio::task::spawn_blocking(move || -> Result<Arc<dyn Store>, ServeError> {
        let opened = sync_store::open(&location, cache_bytes).and_then(|store| {
            store.ping()?;
            Ok(store)
        });
        let store = opened.map_err(|cause| ServeError::Open { location, cause })?;
        for (tenant, token) in &tokens {
            // An existing tenant keeps its sandbox flag: `--sandbox` applies to new ones.
            store.tenant_with_token(tenant, &hash_token(token), sandbox)?;
        }
        Ok(store)
    })
    .await
    .map_err(|e| ServeError::Startup(e.to_string()))??;
    let settings = Settings {
        calendar_allow_private,
        max_body_mb,
        read_timeout,
        metrics,
        public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
    };
    let options = sync_engine::EngineOptions {
        hold_for,
        keep_runs_for,
        ..Default::default()
    };
    let state = AppState::with_engine_options(store, settings, options);
    let upkeep = tokio::spawn(run_upkeep(state.clone()));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let addr = listener.local_addr()?;
    let (shutdown, stop) = watch::channel(false);
    let limits = connections::Limits {
        read_timeout,
        shutdown_timeout,
        max_connections: max_connections.max(1),
    };
    let task = tokio::spawn(connections::serve(listener, app(state), limits, stop));
    tracing::info!(%addr, "listening");
    Ok(Server {
        addr,
        shutdown,
        task,
        upkeep,
    })
}

/// How often the upkeep of runs runs: every 10 seconds, or half the shorter of the hold and
/// retention times when that is less (at least every second).
pub fn upkeep_interval(options: &sync_engine::EngineOptions) -> Duration {
    (options.hold_for.min(options.keep_runs_for) / 2)
        .clamp(Duration::from_secs(1), Duration::from_secs(10))
}

/// Expires held runs past their time and prunes runs past retention, periodically, until
/// the server stops (the task is aborted). A failure is logged and tried again next time.
async fn run_upkeep(state: AppState) {
    let mut ticks = tokio::time::interval(upkeep_interval(state.engine.options()));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let engine = state.engine.clone();
        match blocking(move || Ok(engine.upkeep()?)).await {
            Ok(done) => {
                if let Some(metrics) = &state.metrics {
                    metrics.record_decision("expired", done.expired);
                }
            }
            Err(error) => tracing::warn!(%error, "run upkeep failed; tried again later"),
        }
    }
}

/// Runs the server until SIGTERM or SIGINT (Ctrl-C), then stops it gracefully
/// ([`Server::stop`]).
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    // The handlers are installed before the server says it listens: a signal sent from then
    // on stops it gracefully, never by the default action.
    let stop = StopSignal::install()?;
    let server = start(config).await?;
    let signal = stop.recv().await?;
    tracing::info!(signal, "shutting down");
    server.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM (what service managers and container runtimes send) and SIGINT, caught.
#[cfg(unix)]
struct StopSignal {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignal {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for one of them; returns its name.
    async fn recv(mut self) -> std::io::Result<&'static str> {
        Ok(tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        })
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct StopSignal;

#[cfg(not(unix))]
impl StopSignal {
    fn install() -> std::io::Result<Self> {
        Ok(StopSignal)
    }

    async fn recv(self) -> std::io::Result<&'static str> {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}

/// How [`init_tracing`] writes log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for a person, coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line for a log collector (`timestamp`, `level`, `message` and the
    /// event's fields at the top level), never coloured.
    Json,
}

/// Logs to stderr at info level in `format` (for binaries; a library user sets up its own
/// subscriber). Does nothing if a global subscriber is already set.
pub fn init_tracing(format: LogFormat) {
    let terminal = std::io::stderr().is_terminal();
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stderr, terminal));
}

/// The subscriber of [`init_tracing`], writing to `writer`; colours only for text on a
/// terminal.
fn subscriber<W>(format: LogFormat, writer: W, terminal: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(terminal).finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).with_ansi(false).finish()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into memory, shared with the test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;

        fn make_writer(&'w self) -> Captured {
            self.clone()
        }
    }

    /// The lines one request's log line and one debug line give in `format`, to a terminal or
    /// not: whether they hold colour codes, and whether each one is a JSON object.
    fn check(format: LogFormat, terminal: bool, (coloured, json): (bool, bool)) {
        let captured = Captured::default();
        let subscriber = subscriber(format, captured.clone(), terminal);
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("not at info level");
            tracing::info!(
                method = "GET",
                path = "/api/sync/v1/test",
                status = 401,
                "request"
            );
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let case = format!("{format:?}, terminal: {terminal}: {text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{case}");
        assert!(lines[0].contains("request"), "{case}");
        assert_eq!(text.contains("\x1b["), coloured, "{case}");
        let object = serde_json::from_str::<serde_json::Value>(lines[0]).ok();
        assert_eq!(object.is_some(), json, "{case}");
        if let Some(object) = object {
            assert_eq!(object["level"], "INFO", "{case}");
            assert_eq!(object["message"], "request", "{case}");
            assert_eq!(object["status"], 401, "{case}");
            assert_eq!(object["path"], "/api/sync/v1/test", "{case}");
            assert!(object["timestamp"].is_string(), "{case}");
        }
    }

    #[test]
    fn log_lines() {
        check(LogFormat::Text, false, (false, false));
        check(LogFormat::Text, true, (true, false));
        check(LogFormat::Json, false, (false, true));
        check(LogFormat::Json, true, (false, true));
    }
}
