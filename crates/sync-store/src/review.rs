//! Review keys: what opens a held run's review page without a bearer token (DESIGN 9). The
//! store keeps only each key's hash ([`crate::hash_token`]), the run it opens and until when.

use crate::TenantId;

/// The run a review key opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewKey {
    /// The run's tenant.
    pub tenant: TenantId,
    /// The run's id.
    pub run_id: String,
    /// When the key stops opening it, in milliseconds since the Unix epoch (UTC).
    pub expires_at: i64,
}
