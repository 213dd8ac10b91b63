//! `sync-core`: parse, validate and diff apprenticeship contracts (document 000).
//!
//! A pure library: no I/O, no async, no clock, no global state. A host application hands it
//! the bytes of an export and gets back every problem in it at once, and the difference with
//! the previous export, down to the changed fields.
//!
//! ```
//! use sync_core::{Baseline, Code};
//!
//! let previous = sync_core::parse(br#"[{"codeContrat": "C1", "nomEntreprise": "Acme"}]"#)?;
//! let current = sync_core::parse(br#"{"contrats": [{"codeContrat": "C1", "nomEntreprise": "Acme SA"}]}"#)?;
//!
//! let base = Baseline::new(&previous);
//! let comparison = base.compare(&current);
//! assert!(comparison.report.errors().all(|p| p.code == Code::MissingField));
//! assert_eq!(comparison.diff.summary().updated, 1);
//! let update = comparison.diff.updates().next().unwrap();
//! assert_eq!(update.changes().next().unwrap().new, Some("Acme SA"));
//! # Ok::<(), sync_core::ParseError>(())
//! ```
//!
//! - [`parse`] reads a bare array or `{"contrats": [...]}`, borrowing strings from the input
//!   where it can; a syntax error is a [`ParseError`] with line and column.
//! - [`validate`] returns a [`Report`] of every [`Problem`] (codes of DESIGN 3.2), in payload
//!   order; [`validate_with`] also checks accounts the host already holds ([`accounts`]).
//! - [`diff`] splits two sets into same / added / updated / removed, in parallel, with a result
//!   that does not depend on the number of threads; [`Diff::updates`] yields each update with
//!   its changed fields.
//! - [`Baseline`] validates an export once and compares the next one with it: the report and
//!   the diff of the next export, reading only the contracts that changed where it can. Use
//!   it when both are needed; [`validate`] and [`diff`] when only one is.
//! - [`rules`] holds the server's rules beyond these: the delta merge, the mass-removal
//!   guard, session models, absence items.
//! - [`gen`] generates realistic, seeded test data.
//!
//! With the `fuzzing` feature, `fuzzing` holds the invariant checkers the fuzz targets call
//! (not part of the documented API).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod baseline;
mod contract;
mod diff;
mod field;
mod parse;
mod problem;
mod validate;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod gen;
pub mod rules;

pub use baseline::{Baseline, Comparison};
pub use contract::{email_eq, field_eq, normalize_email, Contract};
#[cfg(any(test, feature = "fuzzing"))]
pub use diff::diff_sequential;
pub use diff::{diff, Change, Diff, FieldSet, Summary, Update, UpdatedContract};
pub use field::{Field, Role, FIELD_COUNT};
pub use parse::{parse, without_bom, ParseError, Payload};
pub use problem::{Code, Problem, ProblemField, Report, Severity};
pub use validate::{
    accounts, is_plausible_email, parse_dd_mm_yyyy, parse_dd_mm_yyyy_hh_mm, validate,
    validate_with, KnownAccount,
};
