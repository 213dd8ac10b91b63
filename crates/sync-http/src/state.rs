//! The state every handler shares: the engine (over the store), the settings and the
//! metrics, and [`blocking`] to run engine and store work off the async workers.
//!
//! Imports only `error` and `metrics`; `extract` and the handlers build on it.

use std::sync::Arc;
use std::time::Duration;

use sync_engine::{Engine, EngineOptions};
use sync_store::Store;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Settings of a running server that handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether calendar URLs may point at loopback, private or link-local addresses.
    pub calendar_allow_private: bool,
    /// Largest accepted body, in MiB.
    pub max_body_mb: usize,
    /// Longest wait for the next part of a request body (408 after it).
    pub read_timeout: Duration,
    /// Whether `GET /metrics` answers and requests are counted.
    pub metrics: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            calendar_allow_private: false,
            max_body_mb: 256,
            read_timeout: Duration::from_secs(60),
            metrics: true,
        }
    }
}

/// Shared by every handler; cheap to clone. Other route sets (the cycle API) take the same
/// state and are merged into [`crate::app`]'s router.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases, and their per-tenant single flight.
    pub engine: Arc<Engine>,
    /// The engine's store, for reads.
    pub store: Arc<dyn Store>,
    /// The settings.
    pub settings: Arc<Settings>,
    /// The metrics of `GET /metrics`, when [`Settings::metrics`] is on.
    pub metrics: Option<Arc<Metrics>>,
}

impl AppState {
    /// A state over a store, the engine with its default options (the system clock).
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        Self::with_engine_options(store, settings, EngineOptions::default())
    }

    /// A state over a store, the engine with these options (hold and retention times, clock).
    pub fn with_engine_options(
        store: Arc<dyn Store>,
        settings: Settings,
        options: EngineOptions,
    ) -> Self {
        let metrics = settings
            .metrics
            .then(|| Arc::new(Metrics::new(store.clone())));
        AppState {
            engine: Arc::new(Engine::with_options(store.clone(), options)),
            store,
            settings: Arc::new(settings),
            metrics,
        }
    }
}

/// Runs blocking work (store calls, parse, validate, diff) off the async workers.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}
