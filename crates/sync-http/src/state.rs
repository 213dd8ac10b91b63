//! The state every handler shares: the store, the per-tenant sync locks and the settings,
//! and [`blocking`] to run store work off the async workers.
//!
//! Imports only `error`; `extract` and the handlers build on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sync_store::{Store, TenantId};
use tokio::sync::OwnedMutexGuard;

use crate::error::ApiError;

/// Settings of a running server that handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether calendar URLs may point at loopback, private or link-local addresses.
    pub calendar_allow_private: bool,
    /// Largest accepted body, in MiB.
    pub max_body_mb: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            calendar_allow_private: false,
            max_body_mb: 256,
        }
    }
}

/// Shared by every handler; cheap to clone. Other route sets (the cycle API) take the same
/// state and are merged into [`crate::app`]'s router.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The settings.
    pub settings: Arc<Settings>,
    locks: Arc<Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<()>>>>>,
}

impl AppState {
    /// A state over a store.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        AppState {
            store,
            settings: Arc::new(settings),
            locks: Arc::default(),
        }
    }

    /// Waits for the tenant's write lock: two writes of one tenant never interleave, writes
    /// of different tenants run side by side.
    pub async fn lock_tenant(&self, tenant: TenantId) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(tenant).or_default().clone()
        };
        lock.lock_owned().await
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
