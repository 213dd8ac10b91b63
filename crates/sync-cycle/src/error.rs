//! The errors of the cycle API, with the document's codes 1000 to 1010.

use serde_json::{json, Value};

/// An error of the cycle API, with the document's code and message (its table "Description
/// des codes d'erreurs de cycle").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CycleError {
    /// 1000: no `id` was given.
    #[error("Required id")]
    RequiredId,
    /// 1001: no cycle (or period) has this `id`.
    #[error("Invalid id")]
    InvalidId,
    /// 1002: no `memberId` was given.
    #[error("Required memberId")]
    RequiredMemberId,
    /// 1003: no member has this `memberId`.
    #[error("Invalid memberId")]
    InvalidMemberId,
    /// 1004: neither `userId` nor `customFieldAPIName` was given.
    #[error("Required customFieldAPIName")]
    RequiredCustomFieldApiName,
    /// 1005: no member has a custom field of this name.
    #[error("Invalid customFieldAPIName")]
    InvalidCustomFieldApiName,
    /// 1006: `statuses` is missing.
    #[error("A list of statuses must be provided")]
    StatusesRequired,
    /// 1007: a status is missing or empty.
    #[error("A status must be provided")]
    StatusRequired,
    /// 1008: no status entry has this `entryId`.
    #[error("Invalid status id")]
    InvalidStatusId,
    /// 1009: no member, or more than one, matches the user given.
    #[error("Invalid user")]
    InvalidUser,
    /// 1010: a date is not ISO 8601, or a range ends before it starts; says which and why.
    #[error("Invalid date: {0}")]
    InvalidDate(String),
}

impl CycleError {
    /// The document's error number.
    pub fn code(&self) -> u16 {
        match self {
            CycleError::RequiredId => 1000,
            CycleError::InvalidId => 1001,
            CycleError::RequiredMemberId => 1002,
            CycleError::InvalidMemberId => 1003,
            CycleError::RequiredCustomFieldApiName => 1004,
            CycleError::InvalidCustomFieldApiName => 1005,
            CycleError::StatusesRequired => 1006,
            CycleError::StatusRequired => 1007,
            CycleError::InvalidStatusId => 1008,
            CycleError::InvalidUser => 1009,
            CycleError::InvalidDate(_) => 1010,
        }
    }

    /// Whether the error names something that does not exist (an HTTP 404) rather than a
    /// request that is incomplete or malformed (an HTTP 400).
    pub fn is_not_found(&self) -> bool {
        matches!(self.code(), 1001 | 1003 | 1005 | 1008 | 1009)
    }

    /// The answer body: `{"isSuccess": false, "errorCode": N, "message": "..."}`.
    pub fn to_json(&self) -> Value {
        json!({"isSuccess": false, "errorCode": self.code(), "message": self.to_string()})
    }
}
