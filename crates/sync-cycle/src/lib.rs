//! `sync-cycle`: the cycle API of document 004. Regulations (cycles), their periods and
//! requirements, members with custom fields, credits, and member status timelines.
//!
//! A pure library, like sync-core: no I/O, no async, no clock. A tenant's [`CycleData`] is a
//! value that the store loads whole or in part (a slice); each route of the document is a method of it
//! taking the route's typed request and giving the answer's JSON, or a [`CycleError`]
//! carrying the document's code (1000 to 1010). A refused request changes nothing.
//!
//! ```
//! use serde_json::json;
//! use sync_cycle::{CycleData, UserProgressRequest};
//!
//! let mut data = CycleData::default();
//! data.import(&json!({
//!     "cycles": [{"cycleId": "c1"}],
//!     "periods": [{"cyclePeriodId": "p1", "cycleId": "c1", "startDate": "2020-01-01T00:00:00Z",
//!                  "requirements": [{"type": 1, "targetValue": 40}]}],
//!     "members": [{"userId": "u%3d%3d", "customFields": {"matricule": "7"}}],
//!     "credits": [{"memberId": "u==", "cyclePeriodId": "p1", "kind": "completed", "credits": 12}]
//! }))
//! .expect("a valid import");
//!
//! let request = UserProgressRequest::from(json!({"id": "p1", "memberId": "u%3d%3d"}));
//! let progress = data.get_user_progress(&request)?;
//! assert_eq!(progress["requiredCredits"], 40.0);
//! assert_eq!(progress["completedCredits"], 12.0);
//!
//! let status = json!({"customFieldAPIName": "matricule", "customFieldValue": 7,
//!                     "status": {"status": "Membre", "startDate": "2021-01-01T00:00:00"}});
//! data.change_current_member_status(&status.into())?;
//! assert!(data.statuses["u=="][0].is_active_member);
//!
//! let unknown = data.get_user_progress(&json!({"id": "p1", "memberId": "x"}).into());
//! assert_eq!(unknown.unwrap_err().code(), 1003);
//! # Ok::<(), sync_cycle::CycleError>(())
//! ```
//!
//! - [`CycleData::import`] loads cycles, periods, members and credits from one JSON object
//!   (`{"cycles", "periods", "members", "credits"}`, upserts by id): an [`ImportSummary`],
//!   or every [`ImportProblem`] when anything is wrong, and then nothing is loaded.
//! - The routes, one method each: [`get_list`](CycleData::get_list),
//!   [`get_period_list`](CycleData::get_period_list),
//!   [`get_user_progress`](CycleData::get_user_progress),
//!   [`get_member_statuses`](CycleData::get_member_statuses),
//!   [`update_member_statuses`](CycleData::update_member_statuses) (replaces the timeline),
//!   [`update_member_status`](CycleData::update_member_status) (changes one entry) and
//!   [`change_current_member_status`](CycleData::change_current_member_status) (closes the
//!   open range at the new one's start).
//! - A request body is decoded from any JSON value ([`From<Value>`](serde_json::Value), which
//!   serde uses too) without failing: what is missing or malformed is refused by the route,
//!   in the document's order. A member is named by [`MemberSelector`]; a status by
//!   [`StatusInput`], whose `isActiveMember` left null follows [`is_active_status`].
//! - Ids are opaque strings compared in their [`normalize_id`] form (`abc%3d%3d` and `abc==`
//!   name the same object); dates are ISO 8601 as the document writes them ([`parse_date`]).
//! - Each request says which part of the data it needs ([`ScopedRequest::scope`], a
//!   [`CycleScope`]): a store loads that slice, the rule runs on it as on the whole data, and
//!   only what changed is written back. [`CycleData::slice`] is the reference slice.
//! - [`CycleError::is_not_found`] tells an unknown object (an HTTP 404) from an incomplete
//!   request (a 400); [`CycleError::to_json`] is the document's error body.

#![forbid(unsafe_code)]

mod dates;
mod error;
mod ids;
mod import;
mod model;
mod request;
mod scope;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use dates::parse_date;
pub use error::CycleError;
pub use ids::normalize_id;
pub use import::{ImportProblem, ImportSummary};
pub use model::{is_active_status, Credit, CreditKind, CycleData, Member, StatusEntry};
pub use request::{
    ChangeCurrentMemberStatusRequest, MemberSelector, MemberStatusesRequest, PeriodListRequest,
    StatusInput, UpdateMemberStatusRequest, UpdateMemberStatusesRequest, UserProgressRequest,
};
pub use scope::{CycleScope, MemberScope, ScopedRequest};
