//! Review keys (DESIGN 9): a held run is opened for a person with a random key instead of a
//! bearer token. The key is made here and given once; the store keeps its hash, the run it
//! opens and the end of the hold, after which it opens nothing (and the upkeep deletes it).

use sync_store::{hash_token, new_token, RunOutcome, TenantId};

use crate::{Engine, EngineError};

impl Engine {
    /// A new review key for the tenant's run while it is held: random (32 bytes, hex), its
    /// hash stored, opening the run's review page and its approve and reject until the hold
    /// ends (`received_at` + `hold_for`). `None` when the run is not held; a run may have
    /// several keys. [`EngineError::RunNotFound`] for no such run.
    pub fn new_review_key(
        &self,
        tenant: TenantId,
        run_id: &str,
    ) -> Result<Option<String>, EngineError> {
        let run = self.run(tenant, run_id)?;
        if run.outcome != RunOutcome::Held {
            return Ok(None);
        }
        let key = new_token().map_err(EngineError::NoRandomness)?;
        let expires_at = self.options.hold_ends_at(run.received_at);
        self.store
            .add_review_key(tenant, run_id, &hash_token(&key), expires_at)?;
        Ok(Some(key))
    }

    /// The tenant whose run `run_id` this review key opens now: `None` for an unknown key, an
    /// expired one, or the key of another run.
    pub fn review_access(&self, key: &str, run_id: &str) -> Result<Option<TenantId>, EngineError> {
        if key.is_empty() {
            return Ok(None);
        }
        let found = self.store.review_key(&hash_token(key), self.now_ms())?;
        Ok(found.filter(|k| k.run_id == run_id).map(|k| k.tenant))
    }
}
