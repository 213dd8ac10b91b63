//! Problems found in a payload: a stable machine code, a severity and a human message
//! (DESIGN 3.2).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::contract::Contract;
use crate::field::Field;

/// The stable machine code of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Not JSON, or not an array of objects.
    InvalidJson,
    /// A required field is absent, null or blank.
    MissingField,
    /// A field is not a string.
    InvalidType,
    /// A date is not a real `DD/MM/YYYY` date.
    InvalidDate,
    /// `dateDebut` is after `dateFin`.
    DateOrder,
    /// An email is not a plausible address.
    InvalidEmail,
    /// Two contracts share a `codeContrat`.
    DuplicateContract,
    /// `codeContrat` and `ccodeContrat` are both present with different values.
    KeyConflict,
    /// One user code is used in two roles.
    CodeRoleConflict,
    /// One email is carried by two different user codes.
    EmailConflict,
    /// One user code is carried with two different emails.
    UserConflict,
    /// One reference code (period, formation, site, year, group, brand) has two names.
    ReferenceConflict,
    /// One group is placed in two different site/period/formation/year.
    GroupConflict,
    /// `codeMarque` without `nomMarque`, or the reverse.
    BrandIncomplete,
    /// One user code with two different first or last names (warning).
    UserNameMismatch,
    /// A field the document does not list (warning).
    UnknownField,
}

impl Code {
    /// Every code, in the order of DESIGN 3.2.
    pub const ALL: [Code; 16] = [
        Code::InvalidJson,
        Code::MissingField,
        Code::InvalidType,
        Code::InvalidDate,
        Code::DateOrder,
        Code::InvalidEmail,
        Code::DuplicateContract,
        Code::KeyConflict,
        Code::CodeRoleConflict,
        Code::EmailConflict,
        Code::UserConflict,
        Code::ReferenceConflict,
        Code::GroupConflict,
        Code::BrandIncomplete,
        Code::UserNameMismatch,
        Code::UnknownField,
    ];

    /// The code as written on the wire, e.g. `missing_field`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJson => "invalid_json",
            Code::MissingField => "missing_field",
            Code::InvalidType => "invalid_type",
            Code::InvalidDate => "invalid_date",
            Code::DateOrder => "date_order",
            Code::InvalidEmail => "invalid_email",
            Code::DuplicateContract => "duplicate_contract",
            Code::KeyConflict => "key_conflict",
            Code::CodeRoleConflict => "code_role_conflict",
            Code::EmailConflict => "email_conflict",
            Code::UserConflict => "user_conflict",
            Code::ReferenceConflict => "reference_conflict",
            Code::GroupConflict => "group_conflict",
            Code::BrandIncomplete => "brand_incomplete",
            Code::UserNameMismatch => "user_name_mismatch",
            Code::UnknownField => "unknown_field",
        }
    }

    /// Errors refuse a sync; warnings do not.
    pub const fn severity(self) -> Severity {
        match self {
            Code::UserNameMismatch | Code::UnknownField => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a problem refuses the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Refuses the sync.
    Error,
    /// Reported; the sync goes on.
    Warning,
}

/// One problem, located as precisely as the payload allows.
///
/// Serializes as `{"index", "codeContrat", "field", "code", "message"}`, the problem object of
/// `sync-cli validate --format json` and of the server's 422 answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 0-based position of the contract in the payload; `None` for a whole-file problem.
    pub index: Option<usize>,
    /// The contract's `codeContrat`, trimmed, when known.
    #[serde(rename = "codeContrat")]
    pub contract_code: Option<String>,
    /// The field concerned, if one is; serialized as its wire name.
    pub field: Option<ProblemField>,
    /// The stable machine code.
    pub code: Code,
    /// A sentence a person can act on.
    pub message: String,
}

/// The field a problem is about, as the payload names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProblemField {
    /// A field of document 000.
    Known(Field),
    /// A key that is not one of them: an unknown field (`unknown_field`), or `ccodeContrat`,
    /// the key's spelling in the document's table (`key_conflict`, `invalid_type`).
    Other(String),
}

impl ProblemField {
    /// The name as on the wire.
    ///
    /// ```
    /// use sync_core::{Field, ProblemField};
    /// assert_eq!(ProblemField::Known(Field::EmailApprenant).name(), "emailApprenant");
    /// assert_eq!(ProblemField::Other("couleur".into()).name(), "couleur");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            ProblemField::Known(field) => field.name(),
            ProblemField::Other(key) => key,
        }
    }

    /// The field of document 000, when it is one.
    pub fn known(&self) -> Option<Field> {
        match self {
            ProblemField::Known(field) => Some(*field),
            ProblemField::Other(_) => None,
        }
    }
}

impl From<Field> for ProblemField {
    fn from(field: Field) -> Self {
        ProblemField::Known(field)
    }
}

impl PartialEq<Field> for ProblemField {
    fn eq(&self, other: &Field) -> bool {
        self.known() == Some(*other)
    }
}

impl fmt::Display for ProblemField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ProblemField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Problem {
    /// A problem about contract `index` (its `codeContrat` taken from it).
    pub(crate) fn about(
        index: usize,
        contract: &Contract<'_>,
        field: Field,
        code: Code,
        message: String,
    ) -> Problem {
        let key = contract.key();
        Problem {
            index: Some(index),
            contract_code: (!key.is_empty()).then(|| key.to_owned()),
            field: Some(ProblemField::Known(field)),
            code,
            message,
        }
    }

    /// Whether this problem refuses the sync.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this problem is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

impl fmt::Display for Problem {
    /// `#12 C0042 emailApprenant: email_conflict: ...`; parts that are unknown are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.index {
            write!(f, "#{index} ")?;
        }
        if let Some(code) = self.contract_code.as_deref().filter(|c| !c.is_empty()) {
            write!(f, "{code} ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Every problem of a payload, in payload order (whole-file problems first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Report {
    /// The problems, errors and warnings mixed, in payload order.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether the payload can be synced: no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.problems.iter().any(Problem::is_error)
    }

    /// The errors, in payload order.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }

    /// The warnings, in payload order.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| !p.is_error())
    }

    /// Sorts problems into payload order, keeping the order of discovery within one contract.
    pub(crate) fn sort(&mut self) {
        self.problems.sort_by_key(|p| p.index.map_or(0, |i| i + 1));
    }
}
