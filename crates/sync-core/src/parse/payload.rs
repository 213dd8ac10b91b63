//! What a parse gives: the [`Payload`] of contracts with its shape problems, or the
//! [`ParseError`] of input that is not JSON.

use foldhash::HashSet;

use crate::contract::Contract;
use crate::field::Field;
use crate::problem::{Code, Problem};

/// A payload that is not JSON, or not an array of contract objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem (0 when the input is empty).
    pub column: usize,
    /// What was wrong, without the position.
    pub message: String,
}

impl ParseError {
    pub(super) fn from_json(err: serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        ParseError {
            line,
            column,
            message,
        }
    }

    /// The same error as an `invalid_json` problem of the whole file.
    pub fn to_problem(&self) -> Problem {
        Problem {
            index: None,
            contract_code: None,
            field: None,
            code: Code::InvalidJson,
            message: self.to_string(),
        }
    }
}

/// A parsed payload: the contracts in payload order, and the shape problems met on the way.
#[derive(Debug, Clone, Default)]
pub struct Payload<'a> {
    /// The contracts, in payload order: `contracts[i]` is item `i` of the payload.
    pub contracts: Vec<Contract<'a>>,
    /// Shape problems (`invalid_type`, `unknown_field`, `key_conflict`), in payload order.
    pub problems: Vec<Problem>,
    /// `(index, field)` of every value that was not a string, so that validation does not
    /// also report it missing.
    pub(crate) type_errors: HashSet<(usize, Field)>,
}

impl<'a> Payload<'a> {
    /// A payload made of contracts that were not parsed (built in code or loaded from a store).
    pub fn from_contracts(contracts: Vec<Contract<'a>>) -> Self {
        Payload {
            contracts,
            ..Payload::default()
        }
    }

    /// Whether item `index` carried `field` with a value that was not a string.
    pub(crate) fn has_type_error(&self, index: usize, field: Field) -> bool {
        !self.type_errors.is_empty() && self.type_errors.contains(&(index, field))
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> Payload<'static> {
        Payload {
            contracts: self
                .contracts
                .into_iter()
                .map(Contract::into_owned)
                .collect(),
            problems: self.problems,
            type_errors: self.type_errors,
        }
    }
}

impl<'a> AsRef<[Contract<'a>]> for Payload<'a> {
    fn as_ref(&self) -> &[Contract<'a>] {
        &self.contracts
    }
}
