//! `GET /metrics`: requests by route and status, their latency, syncs by outcome, contracts
//! written and the store's cache hits and misses, in the Prometheus text format (0.0.4).
//!
//! The registry belongs to the application's state, not to the process: two applications in
//! one process (as the tests build them) count apart. Labels are route templates, methods,
//! statuses and fixed words; **never a tenant, a token or a raw path.**

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    prometheus_text, DescriptorEncoder, EncodeLabelSet, EncodeMetric,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use sync_engine::SyncOutcome;
use sync_store::Store;

use crate::error::ApiError;

/// The prefix of every metric's name.
pub const PREFIX: &str = "campus_sync";

/// The `route` label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The latency buckets' upper bounds, in seconds: 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The labels of a request's latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The labels of a sync count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncLabels {
    kind: &'static str,
    outcome: &'static str,
}

/// The labels of a count of decisions on runs.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: &'static str,
}

/// The labels of a count of contracts written.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    change: &'static str,
}

/// Which sync route a sync came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// The whole active set (`POST /api/sync/v2/contrats`).
    Full,
    /// A delta (`POST /api/sync/v2/contrats/changes`).
    Changes,
}

impl SyncKind {
    fn label(self) -> &'static str {
        match self {
            SyncKind::Full => "full",
            SyncKind::Changes => "changes",
        }
    }
}

/// The metrics of one application, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    syncs: Family<SyncLabels, Counter>,
    contracts_written: Family<ChangeLabels, Counter>,
    run_decisions: Family<DecisionLabels, Counter>,
}

impl Metrics {
    /// The metrics of an application over `store` (whose cache counts are read at each scrape).
    pub fn new(store: Arc<dyn Store>) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (until its headers), by method and route template",
            Unit::Seconds,
            latency.clone(),
        );
        let syncs = Family::<SyncLabels, Counter>::default();
        registry.register(
            "syncs",
            "Syncs by kind (full, changes) and outcome (applied, refused, guarded: held as a run)",
            syncs.clone(),
        );
        let contracts_written = Family::<ChangeLabels, Counter>::default();
        registry.register(
            "contracts_written",
            "Contracts written by applied syncs: added, updated, archived",
            contracts_written.clone(),
        );
        let run_decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "run_decisions",
            "Runs decided after they were recorded: held runs approved, rejected or expired, \
             runs reverted",
            run_decisions.clone(),
        );
        for decision in ["approved", "rejected", "expired", "reverted"] {
            drop(run_decisions.get_or_create(&DecisionLabels { decision }));
        }
        registry.register_collector(Box::new(CacheCollector(store)));
        // Every sync and contract series from the start, at zero, so that a rate is defined
        // before the first sync.
        for kind in [SyncKind::Full, SyncKind::Changes] {
            for outcome in ["applied", "refused", "guarded"] {
                drop(syncs.get_or_create(&SyncLabels {
                    kind: kind.label(),
                    outcome,
                }));
            }
        }
        for change in ["added", "updated", "archived"] {
            drop(contracts_written.get_or_create(&ChangeLabels { change }));
        }
        Metrics {
            registry,
            requests,
            latency,
            syncs,
            contracts_written,
            run_decisions,
        }
    }

    /// Counts `n` runs decided: `approved`, `rejected`, `expired` or `reverted`.
    pub fn record_decision(&self, decision: &'static str, n: usize) {
        self.run_decisions
            .get_or_create(&DecisionLabels { decision })
            .inc_by(n as u64);
    }

    /// Counts one answered request.
    fn record_request(&self, method: &'static str, route: String, status: u16, took: Duration) {
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Counts one sync by its outcome, and the contracts an applied one wrote.
    pub fn record_sync(&self, kind: SyncKind, outcome: &SyncOutcome) {
        let outcome_label = match outcome {
            SyncOutcome::Applied(applied) => {
                let summary = &applied.summary;
                for (change, count) in [
                    ("added", summary.added),
                    ("updated", summary.updated),
                    ("archived", summary.removed),
                ] {
                    self.contracts_written
                        .get_or_create(&ChangeLabels { change })
                        .inc_by(count as u64);
                }
                "applied"
            }
            SyncOutcome::Refused(_) => "refused",
            SyncOutcome::Guarded(_) => "guarded",
        };
        self.syncs
            .get_or_create(&SyncLabels {
                kind: kind.label(),
                outcome: outcome_label,
            })
            .inc();
    }

    /// Every metric in the Prometheus text format.
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The store's cache counts, read at each scrape.
#[derive(Debug)]
struct CacheCollector(Arc<dyn Store>);

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let stats = self.0.cache_stats();
        for (name, help, value) in [
            (
                "active_set_cache_hits",
                "Reads of a tenant's active contracts answered from memory.",
                stats.hits,
            ),
            (
                "active_set_cache_misses",
                "Reads of a tenant's active contracts from the database.",
                stats.misses,
            ),
        ] {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        Ok(())
    }
}

/// The `method` label: the standard methods by name, any other as `other` (a client can send
/// any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts each request under its route template (`unmatched` when none).
pub(crate) async fn record_request(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`.
pub(crate) async fn get_metrics(metrics: Arc<Metrics>) -> Result<Response, ApiError> {
    let text = metrics
        .encode()
        .map_err(|e| ApiError::Internal(format!("metrics encoding failed: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        let check = |method: &str, expected: &str| {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(method_label(&method), expected, "{method}");
        };
        check("GET", "GET");
        check("DELETE", "DELETE");
        check("OPTIONS", "OPTIONS");
        check("TRACE", "other");
        check("X-TENANT-SECRET", "other");
    }
}
