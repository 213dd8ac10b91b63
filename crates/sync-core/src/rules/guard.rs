//! The mass-removal guard: a sync may not archive too much of the active set unconfirmed.

/// Share of the active contracts a sync may archive without confirmation, in percent.
pub const MASS_REMOVAL_PERCENT: usize = 30;
/// Below this many active contracts, the share is not checked.
pub const MASS_REMOVAL_MIN_ACTIVE: usize = 20;

/// A sync refused because it would archive too much of the active set (DESIGN 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this sync would archive {removed} of {active} active contracts, leaving {remaining}; \
     confirm with ?allowMassRemoval=true"
)]
pub struct MassRemoval {
    /// Active contracts before the sync.
    pub active: usize,
    /// Contracts the sync would archive.
    pub removed: usize,
    /// Contracts the sync would leave active.
    pub remaining: usize,
}

/// Refuses a sync that would archive more than 30% of the active set when it holds at least
/// 20 contracts, or that would leave nothing of a non-empty set.
///
/// ```
/// use sync_core::rules::guard_mass_removal;
/// assert!(guard_mass_removal(100, 30, 70).is_ok());
/// assert_eq!(guard_mass_removal(100, 31, 69).unwrap_err().removed, 31);
/// assert!(guard_mass_removal(10, 9, 1).is_ok());
/// assert!(guard_mass_removal(3, 3, 0).is_err());
/// ```
pub fn guard_mass_removal(
    active: usize,
    removed: usize,
    remaining: usize,
) -> Result<(), MassRemoval> {
    let too_many =
        active >= MASS_REMOVAL_MIN_ACTIVE && removed * 100 > active * MASS_REMOVAL_PERCENT;
    let emptied = active > 0 && remaining == 0;
    if too_many || emptied {
        Err(MassRemoval {
            active,
            removed,
            remaining,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_removal() {
        let check = |active, removed, remaining, refused| {
            assert_eq!(
                guard_mass_removal(active, removed, remaining).is_err(),
                refused,
                "{active} {removed} {remaining}"
            );
        };
        check(0, 0, 0, false);
        check(19, 19, 5, false);
        check(19, 19, 0, true);
        check(20, 6, 14, false);
        check(20, 7, 13, true);
        check(1000, 300, 700, false);
        check(1000, 301, 10_000, true);
        assert!(MassRemoval {
            active: 20,
            removed: 7,
            remaining: 13
        }
        .to_string()
        .contains("7 of 20"));
    }
}
