//! The cycle API's use cases (document 004): a rule of the cycle domain run on the part of a
//! tenant's stored cycle data a request needs (a slice, [`CycleScope`]), and what the rule
//! changed written back when it succeeds.

use sync_cycle::{CycleData, CycleScope};
use sync_store::TenantId;

use crate::error::EngineError;
use crate::Engine;

impl Engine {
    /// Runs a rule that reads the part of the tenant's cycle data that `scope` names.
    pub fn read_cycle_slice<T>(
        &self,
        tenant: TenantId,
        scope: &CycleScope,
        rule: impl FnOnce(&CycleData) -> T,
    ) -> Result<T, EngineError> {
        let data = self.store.cycle_slice(tenant, scope)?;
        Ok(rule(&data))
    }

    /// Runs a rule that changes the part of the tenant's cycle data that `scope` names; what
    /// it changed is written, in one transaction, only when the rule succeeds and the cycle
    /// version is still the one read before the slice (else the slice is read again and the
    /// rule run again: it may run more than once). Writes of one tenant take turns.
    pub fn write_cycle_slice<T, E>(
        &self,
        tenant: TenantId,
        scope: &CycleScope,
        mut rule: impl FnMut(&mut CycleData) -> Result<T, E>,
    ) -> Result<Result<T, E>, EngineError> {
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| {
            let version = self.store.cycle_version(tenant)?;
            let before = self.store.cycle_slice(tenant, scope)?;
            self.change(tenant, version, before, &mut rule)
        })
    }

    /// Runs a rule that reads the tenant's whole cycle data.
    pub fn read_cycle_data<T>(
        &self,
        tenant: TenantId,
        rule: impl FnOnce(&CycleData) -> T,
    ) -> Result<T, EngineError> {
        let data = self.store.cycle_data(tenant)?;
        Ok(rule(&data))
    }

    /// Runs a rule that changes the tenant's whole cycle data (the import); what it changed
    /// is written, in one transaction, only when the rule succeeds. Writes of one tenant
    /// take turns.
    pub fn write_cycle_data<T, E>(
        &self,
        tenant: TenantId,
        mut rule: impl FnMut(&mut CycleData) -> Result<T, E>,
    ) -> Result<Result<T, E>, EngineError> {
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| {
            let version = self.store.cycle_version(tenant)?;
            let before = self.store.cycle_data(tenant)?;
            self.change(tenant, version, before, &mut rule)
        })
    }

    /// Runs `rule` on a copy of `before` (read at cycle version `version`, read before it)
    /// and writes what it changed if it succeeds and the version is still the stored one.
    fn change<T, E>(
        &self,
        tenant: TenantId,
        version: i64,
        before: CycleData,
        rule: &mut impl FnMut(&mut CycleData) -> Result<T, E>,
    ) -> Result<Result<T, E>, EngineError> {
        let mut after = before.clone();
        let result = rule(&mut after);
        if result.is_ok() {
            self.store
                .save_cycle_changes(tenant, &before, &after, Some(version))?;
        }
        Ok(result)
    }
}
