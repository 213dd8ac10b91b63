//! The cycle API's use cases (document 004): a rule of the cycle domain run on a tenant's
//! stored cycle data, the data saved when a rule that changes it succeeds.

use sync_cycle::CycleData;
use sync_store::TenantId;

use crate::error::EngineError;
use crate::Engine;

impl Engine {
    /// Runs a rule that reads the tenant's cycle data.
    pub fn read_cycle_data<T>(
        &self,
        tenant: TenantId,
        rule: impl FnOnce(&CycleData) -> T,
    ) -> Result<T, EngineError> {
        let data = self.store.cycle_data(tenant)?;
        Ok(rule(&data))
    }

    /// Runs a rule that changes the tenant's cycle data; the data is saved, in one
    /// transaction, only when the rule succeeds. Writes of one tenant take turns.
    pub fn write_cycle_data<T, E>(
        &self,
        tenant: TenantId,
        rule: impl FnOnce(&mut CycleData) -> Result<T, E>,
    ) -> Result<Result<T, E>, EngineError> {
        let _turn = self.locks.lock(tenant);
        let mut data = self.store.cycle_data(tenant)?;
        let result = rule(&mut data);
        if result.is_ok() {
            self.store.set_cycle_data(tenant, &data)?;
        }
        Ok(result)
    }
}
