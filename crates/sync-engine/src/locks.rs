//! Per-tenant single flight: two writes of one tenant never interleave in this process, writes
//! of different tenants run side by side.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, PoisonError};

use sync_store::TenantId;

/// The tenants being written, and a condition to wait on for one to be released.
#[derive(Debug, Default)]
pub(crate) struct TenantLocks {
    busy: Mutex<HashSet<TenantId>>,
    released: Condvar,
}

/// A tenant's lock, held until dropped.
pub(crate) struct TenantGuard<'l> {
    locks: &'l TenantLocks,
    tenant: TenantId,
}

impl TenantLocks {
    /// Waits (blocking the calling thread) until no other write of the tenant runs, and
    /// holds the tenant until the guard is dropped.
    pub(crate) fn lock(&self, tenant: TenantId) -> TenantGuard<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while busy.contains(&tenant) {
            busy = self
                .released
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        busy.insert(tenant);
        TenantGuard {
            locks: self,
            tenant,
        }
    }
}

impl Drop for TenantGuard<'_> {
    fn drop(&mut self) {
        let mut busy = self
            .locks
            .busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        busy.remove(&self.tenant);
        drop(busy);
        self.locks.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::TenantLocks;

    /// Writers of one tenant take turns; a writer of another tenant is not held up.
    #[test]
    fn writes_of_one_tenant_take_turns() {
        let locks = TenantLocks::default();
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let _guard = locks.lock(1);
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 1);
        let _one = locks.lock(1);
        let _two = locks.lock(2);
    }
}
