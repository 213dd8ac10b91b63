//! Absences of a student: the list sent replaces the stored one.

use serde_json::Value;
use sync_core::rules::check_absences;
use sync_store::TenantId;

use crate::error::EngineError;
use crate::Engine;

impl Engine {
    /// Replaces the absences of the active apprentice with this email by the items sent,
    /// once every item is checked; answers how many were stored.
    pub fn replace_absences(
        &self,
        tenant: TenantId,
        email: &str,
        items: &[Value],
    ) -> Result<usize, EngineError> {
        let email = email.trim();
        if email.is_empty() {
            return Err(EngineError::MissingEmail);
        }
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| {
            // The check and the write of one version of the contracts.
            let version = self.store.contracts_version(tenant)?;
            if !self.store.apprentice_is_active(tenant, email)? {
                return Err(EngineError::UnknownApprentice(email.to_owned()));
            }
            let absences = check_absences(items).map_err(EngineError::InvalidAbsences)?;
            self.store
                .replace_absences(tenant, email, &absences, Some(version))?;
            Ok(absences.len())
        })
    }
}
