//! `sync-core`: parse, validate and diff apprenticeship contracts (document 000).
//!
//! A pure library: no I/O, no async, no clock, no global state. A host application hands it
//! the bytes of an export and gets back every problem in it at once, and the difference with
//! the previous export, down to the changed fields.
//!
//! ```
//! let previous = sync_core::parse(br#"[{"codeContrat": "C1", "nomEntreprise": "Acme"}]"#)?;
//! let current = sync_core::parse(br#"{"contrats": [{"codeContrat": "C1", "nomEntreprise": "Acme SA"}]}"#)?;
//! let report = sync_core::validate(&current);
//! let diff = sync_core::diff(&previous.contracts, &current.contracts);
//!
//! assert!(report.errors().all(|p| p.code == sync_core::Code::MissingField));
//! assert_eq!(diff.summary().updated, 1);
//! assert_eq!(diff.changes(&diff.updated[0])[0].new, Some("Acme SA"));
//! # Ok::<(), sync_core::ParseError>(())
//! ```
//!
//! - [`parse`] reads a bare array or `{"contrats": [...]}`, borrowing strings from the input
//!   where it can; a syntax error is a [`ParseError`] with line and column.
//! - [`validate`] returns a [`Report`] of every [`Problem`] (codes of DESIGN 3.2), in payload
//!   order; [`validate_with`] also checks accounts the host already holds.
//! - [`validate_indexed`] validates an export and keeps where its values first show up, so
//!   that [`validate_since`] can validate the export after it reading only the contracts that
//!   changed, with the same report.
//! - [`diff`] splits two sets into same / added / updated / removed, in parallel, with a result
//!   that does not depend on the number of threads.
//! - [`gen`] generates realistic, seeded test data.

#![forbid(unsafe_code)]

pub mod check;
pub mod contract;
mod cross;
pub mod diff;
pub mod field;
pub mod gen;
pub mod parse;
pub mod problem;
mod scan;
pub mod validate;

pub use contract::Contract;
pub use diff::{diff, diff_sequential, Change, Diff, FieldSet, Summary, Update};
pub use field::{Field, Role};
pub use parse::{parse, without_bom, ParseError, Payload};
pub use problem::{Code, Problem, Report, Severity};
pub use validate::{
    validate, validate_indexed, validate_since, validate_with, Carried, KnownAccount,
};
pub mod sync;
