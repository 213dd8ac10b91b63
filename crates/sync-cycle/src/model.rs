//! The stored data of a tenant: cycles, periods, members, credits and status timelines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A tenant's cycle data: what the import loads and the routes read and change.
///
/// Every map is keyed by ids in their [`normalize_id`](crate::normalize_id) form. The store
/// keeps it in rows, and loads the whole of it or a slice ([`CycleData::slice`]); its serde
/// form is what data directories held before the cycle tables, so its field names stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CycleData {
    /// Cycles (regulations) as `getlist` returns them, by normalized `cycleId`.
    pub cycles: BTreeMap<String, Map<String, Value>>,
    /// Periods as `getperiodlist` returns them, by normalized `cyclePeriodId`.
    pub periods: BTreeMap<String, Map<String, Value>>,
    /// Members by normalized `userId`: their id as imported and their custom fields.
    pub members: BTreeMap<String, Member>,
    /// Credits, by normalized `memberId`, then `cyclePeriodId`.
    pub credits: BTreeMap<String, BTreeMap<String, Vec<Credit>>>,
    /// Status timelines by normalized `userId`.
    pub statuses: BTreeMap<String, Vec<StatusEntry>>,
    /// The number of the next status entry.
    pub next_entry: u64,
}

/// A member of the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The id as imported.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Custom fields, by API name.
    #[serde(rename = "customFields", default)]
    pub custom_fields: BTreeMap<String, String>,
}

/// Credits of one kind earned by a member in a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    /// What the credits count as.
    pub kind: CreditKind,
    /// How many.
    pub credits: f64,
}

/// The kinds of credits `getuserprogress` sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditKind {
    /// Completed by the member.
    Completed,
    /// Exempted.
    Exempted,
    /// Given by a provider.
    Provider,
}

/// One range of a member's status timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// The entry's id, unique in the tenant.
    #[serde(rename = "entryId")]
    pub entry_id: String,
    /// The member's id, as imported.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The status's name (`Membre`, ...).
    pub status: String,
    /// Whether the member counts as active during the range.
    #[serde(rename = "isActiveMember")]
    pub is_active_member: bool,
    /// Start of the range, as sent.
    #[serde(rename = "startDate")]
    pub start_date: String,
    /// End of the range, as sent; `None` while the range is open.
    #[serde(rename = "endDate")]
    pub end_date: Option<String>,
}

/// The rule of the document for an `isActiveMember` left null: active exactly when the
/// status is `Membre` (trimmed, any case).
pub fn is_active_status(status: &str) -> bool {
    status.trim().to_lowercase() == "membre"
}
