//! A validated export kept to compare the next one against: the report and the diff of the
//! next export in one call, reading only what changed where it can.

use crate::diff::{diff, Diff};
use crate::parse::Payload;
use crate::problem::Report;
use crate::validate::{validate, validate_indexed, validate_since, FirstOccurrences};

/// An export validated once, to compare the exports after it against.
///
/// [`Baseline::compare`] gives what [`validate`] and [`diff`] give for the next export, and
/// is faster when most of it is unchanged: the contracts that are the same, byte for byte,
/// are not checked again, and where the values of the changed ones first show up in this
/// export is known. When this export has problems, `compare` validates the next one whole.
///
/// ```
/// use sync_core::gen::{generate, Options};
/// use sync_core::{Baseline, Payload};
///
/// let school = generate(&Options { contracts: 1000, seed: 7, change_rate: 0.1 });
/// let previous = Payload::from_contracts(school.previous);
/// let current = Payload::from_contracts(school.current);
///
/// let base = Baseline::new(&previous);
/// assert!(base.report().is_valid());
/// let comparison = base.compare(&current);
/// assert_eq!(comparison.report, sync_core::validate(&current));
/// assert_eq!(comparison.diff.summary(), sync_core::diff(&previous, &current).summary());
/// ```
pub struct Baseline<'p, 'a> {
    payload: &'p Payload<'a>,
    report: Report,
    /// Where each value first shows up; `None` when the export has problems.
    firsts: Option<FirstOccurrences>,
}

impl std::fmt::Debug for Baseline<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline")
            .field("contracts", &self.payload.contracts.len())
            .field("problems", &self.report.problems.len())
            .finish_non_exhaustive()
    }
}

/// The next export compared with a [`Baseline`]: its report, and the diff from the baseline.
#[derive(Debug)]
pub struct Comparison<'c, 'a> {
    /// Every problem of the next export, as [`validate`] reports them.
    pub report: Report,
    /// The diff from the baseline's export to the next one.
    pub diff: Diff<'c, 'a>,
}

impl<'p, 'a> Baseline<'p, 'a> {
    /// Validates an export and keeps what comparing the next one needs.
    pub fn new(payload: &'p Payload<'a>) -> Self {
        let (report, firsts) = validate_indexed(payload);
        Baseline {
            payload,
            report,
            firsts,
        }
    }

    /// Every problem of the baseline's export, as [`validate`] reports them.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The baseline's export.
    pub fn payload(&self) -> &'p Payload<'a> {
        self.payload
    }

    /// Validates `current` and diffs it from the baseline's export.
    pub fn compare<'c>(&'c self, current: &'c Payload<'a>) -> Comparison<'c, 'a> {
        let diff = diff(self.payload, current);
        let report = match &self.firsts {
            Some(firsts) => validate_since(firsts, &self.payload.contracts, &diff, current),
            None => validate(current),
        };
        Comparison { report, diff }
    }
}
