//! The cycle API of document 004: regulations (cycles), their periods and requirements,
//! members with custom fields, credits, and member status timelines.
//!
//! Everything here is pure: a tenant's [`CycleData`] is a value that the store loads and saves
//! whole, and each route of the document is a method taking the request's JSON and returning
//! the response's JSON or a [`CycleError`] carrying the document's error code. Ids are opaque
//! strings compared in their percent-decoded form (`abc%3d%3d` and `abc==` name the same
//! object); dates are ISO 8601 as the document writes them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

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

/// An id in the form it is compared in: percent-escapes decoded (`%2f` is `/`, `%3d` is `=`,
/// in either case), surrounding spaces removed. A `%` not followed by two hex digits stays.
pub fn normalize_id(id: &str) -> String {
    let bytes = id.trim().as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Parses an ISO 8601 date and time as the document writes them: `2018-02-08T15:02:45.73`
/// (no offset: taken as UTC), `2020-01-01T00:00:00Z` or with an offset (`+02:00`).
pub fn parse_date(value: &str) -> Result<NaiveDateTime, CycleError> {
    let text = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Ok(date.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(date) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(date);
        }
    }
    Err(CycleError::InvalidDate(format!(
        "\"{value}\" is not an ISO 8601 date and time; expected e.g. 2020-01-01T00:00:00Z or 2018-02-08T15:02:45.73"
    )))
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

/// A tenant's cycle data: what the import loads and the routes read and change.
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

/// A problem of an import: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// Where in the import: `periods[2].startDate`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Cycles created or updated.
    pub cycles: usize,
    /// Periods created or updated.
    pub periods: usize,
    /// Members created or updated.
    pub members: usize,
    /// Credits stored.
    pub credits: usize,
}

/// The member named by a request: by `userId`, or by `customFieldAPIName` and
/// `customFieldValue`.
fn str_field<'v>(request: &'v Value, name: &str) -> Option<&'v str> {
    request
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A status as a request gives it (`status`, `isActiveMember`, `startDate`, `endDate`).
#[derive(Debug, Clone, PartialEq)]
struct StatusInput {
    status: Option<String>,
    is_active_member: Option<bool>,
    start_date: Option<String>,
    end_date: Option<String>,
}

impl StatusInput {
    fn from_json(value: &Value) -> Result<Self, CycleError> {
        let Some(object) = value.as_object() else {
            return Err(CycleError::StatusRequired);
        };
        let text = |name: &str| -> Result<Option<String>, CycleError> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
                Some(other) => Err(CycleError::InvalidDate(format!(
                    "{name} must be a string, found {other}"
                ))),
            }
        };
        let status = match object.get("status") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => return Err(CycleError::StatusRequired),
        };
        let is_active_member = match object.get("isActiveMember") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(CycleError::StatusRequired),
        };
        Ok(StatusInput {
            status,
            is_active_member,
            start_date: text("startDate")?,
            end_date: text("endDate")?,
        })
    }
}

/// Checks a range: both dates ISO 8601, the end not before the start.
fn check_range(start: &str, end: Option<&str>) -> Result<(), CycleError> {
    let start_at = parse_date(start)?;
    if let Some(end) = end {
        if parse_date(end)? < start_at {
            return Err(CycleError::InvalidDate(format!(
                "the end {end} is before the start {start}"
            )));
        }
    }
    Ok(())
}

impl CycleData {
    /// The normalized id of the member a request names.
    pub fn find_member(&self, request: &Value) -> Result<String, CycleError> {
        if let Some(user) = str_field(request, "userId") {
            let id = normalize_id(user);
            return if self.members.contains_key(&id) {
                Ok(id)
            } else {
                Err(CycleError::InvalidUser)
            };
        }
        let Some(name) = str_field(request, "customFieldAPIName") else {
            return Err(CycleError::RequiredCustomFieldApiName);
        };
        if !self
            .members
            .values()
            .any(|m| m.custom_fields.contains_key(name))
        {
            return Err(CycleError::InvalidCustomFieldApiName);
        }
        let value = request
            .get("customFieldValue")
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .ok_or(CycleError::InvalidUser)?;
        let mut found = self
            .members
            .iter()
            .filter(|(_, m)| m.custom_fields.get(name).map(|v| v.trim()) == Some(value.as_str()));
        match (found.next(), found.next()) {
            (Some((id, _)), None) => Ok(id.clone()),
            _ => Err(CycleError::InvalidUser),
        }
    }

    /// `cycle/getlist`: every cycle.
    pub fn get_list(&self) -> Value {
        Value::Array(self.cycles.values().cloned().map(Value::Object).collect())
    }

    /// `cycle/getperiodlist`: the periods of cycle `id` (starting on or after `filterDate`
    /// when given), in start order.
    pub fn get_period_list(&self, request: &Value) -> Result<Value, CycleError> {
        let id = str_field(request, "id").ok_or(CycleError::RequiredId)?;
        let id = normalize_id(id);
        if !self.cycles.contains_key(&id) {
            return Err(CycleError::InvalidId);
        }
        let filter = match request.get("filterDate") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(parse_date(s)?),
            Some(other) => {
                return Err(CycleError::InvalidDate(format!(
                    "filterDate must be a string such as 2020-01-01T00:00:00Z, found {other}"
                )))
            }
        };
        let mut periods: Vec<(Option<NaiveDateTime>, &Map<String, Value>)> = self
            .periods
            .values()
            .filter(|p| {
                p.get("cycleId")
                    .and_then(Value::as_str)
                    .is_some_and(|c| normalize_id(c) == id)
            })
            .map(|p| {
                let start = p
                    .get("startDate")
                    .and_then(Value::as_str)
                    .and_then(|s| parse_date(s).ok());
                (start, p)
            })
            .filter(|(start, _)| match filter {
                None => true,
                Some(filter) => start.is_some_and(|s| s >= filter),
            })
            .collect();
        periods.sort_by_key(|(start, _)| *start);
        Ok(Value::Array(
            periods
                .into_iter()
                .map(|(_, p)| Value::Object(p.clone()))
                .collect(),
        ))
    }

    /// `cycle/getuserprogress`: a member's credits in period `id` against its requirement.
    pub fn get_user_progress(&self, request: &Value) -> Result<Value, CycleError> {
        let id_sent = str_field(request, "id").ok_or(CycleError::RequiredId)?;
        let member_sent = str_field(request, "memberId").ok_or(CycleError::RequiredMemberId)?;
        let period_id = normalize_id(id_sent);
        let period = self.periods.get(&period_id).ok_or(CycleError::InvalidId)?;
        let member_id = normalize_id(member_sent);
        if !self.members.contains_key(&member_id) {
            return Err(CycleError::InvalidMemberId);
        }
        let required = period
            .get("requirements")
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|r| r.get("type").and_then(Value::as_f64) == Some(1.0))
            })
            .and_then(|r| r.get("targetValue").and_then(Value::as_f64))
            .unwrap_or(0.0);
        let credits = self
            .credits
            .get(&member_id)
            .and_then(|periods| periods.get(&period_id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let sum = |kind: CreditKind| -> f64 {
            // A fold from 0.0, not `sum()`: an empty f64 sum is -0.0, written `-0.0` in JSON.
            credits
                .iter()
                .filter(|c| c.kind == kind)
                .fold(0.0, |total, c| total + c.credits)
        };
        Ok(json!({
            "id": id_sent,
            "memberId": member_sent,
            "requiredCredits": required,
            "completedCredits": sum(CreditKind::Completed),
            "exemptedCredits": sum(CreditKind::Exempted),
            "providerCredits": sum(CreditKind::Provider),
            "customFieldAPIName": request.get("customFieldAPIName").cloned().unwrap_or(Value::Null),
        }))
    }

    /// `cycle/getmemberstatuses`: the member's timeline, in start order.
    pub fn get_member_statuses(&self, request: &Value) -> Result<Value, CycleError> {
        let member = self.find_member(request)?;
        let statuses = self.statuses.get(&member).cloned().unwrap_or_default();
        Ok(json!({ "statuses": statuses }))
    }

    fn new_entry_id(&mut self) -> String {
        self.next_entry += 1;
        format!("entry-{}", self.next_entry)
    }

    /// A full entry from a request's status: every field required but the end.
    fn entry_from(&self, member: &str, input: &StatusInput) -> Result<StatusEntry, CycleError> {
        let status = input
            .status
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or(CycleError::StatusRequired)?;
        let start = input.start_date.clone().ok_or_else(|| {
            CycleError::InvalidDate("startDate is required, e.g. 2020-01-01T00:00:00Z".into())
        })?;
        let end = input.end_date.clone().filter(|end| !end.is_empty());
        check_range(&start, end.as_deref())?;
        Ok(StatusEntry {
            entry_id: String::new(),
            user_id: self.members[member].user_id.clone(),
            is_active_member: input
                .is_active_member
                .unwrap_or_else(|| is_active_status(&status)),
            status,
            start_date: start,
            end_date: end,
        })
    }

    /// `cycle/updatememberstatuses`: replaces the member's whole timeline. Entries equal to
    /// stored ones keep their `entryId`.
    pub fn update_member_statuses(&mut self, request: &Value) -> Result<Value, CycleError> {
        let member = self.find_member(request)?;
        let list = request
            .get("statuses")
            .and_then(Value::as_array)
            .ok_or(CycleError::StatusesRequired)?;
        let mut entries = Vec::with_capacity(list.len());
        for item in list {
            let input = StatusInput::from_json(item)?;
            entries.push(self.entry_from(&member, &input)?);
        }
        let mut old = self.statuses.remove(&member).unwrap_or_default();
        for entry in &mut entries {
            let same = |o: &StatusEntry| {
                o.status == entry.status
                    && o.is_active_member == entry.is_active_member
                    && o.start_date == entry.start_date
                    && o.end_date == entry.end_date
            };
            if let Some(at) = old.iter().position(same) {
                entry.entry_id = old.remove(at).entry_id;
            }
        }
        for entry in &mut entries {
            if entry.entry_id.is_empty() {
                entry.entry_id = self.new_entry_id();
            }
        }
        self.statuses.insert(member, entries);
        Ok(json!({"isSuccess": true}))
    }

    /// `cycle/updatememberstatus`: changes the fields passed of entry `entryId`.
    pub fn update_member_status(&mut self, request: &Value) -> Result<Value, CycleError> {
        let member = self.find_member(request)?;
        let entry_id = str_field(request, "entryId").ok_or(CycleError::InvalidStatusId)?;
        let entry_id = normalize_id(entry_id);
        let input = match request.get("status") {
            None | Some(Value::Null) => return Err(CycleError::StatusRequired),
            Some(status) => StatusInput::from_json(status)?,
        };
        let entries = self
            .statuses
            .get(&member)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let at = entries
            .iter()
            .position(|e| normalize_id(&e.entry_id) == entry_id)
            .ok_or(CycleError::InvalidStatusId)?;
        let mut entry = entries[at].clone();
        if let Some(status) = &input.status {
            if status.is_empty() {
                return Err(CycleError::StatusRequired);
            }
            entry.status = status.clone();
        }
        if let Some(start) = &input.start_date {
            entry.start_date = start.clone();
        }
        if let Some(end) = &input.end_date {
            // An empty end (the document: "vide si la plage est en cours") reopens the range.
            entry.end_date = (!end.is_empty()).then(|| end.clone());
        }
        entry.is_active_member = match input.is_active_member {
            Some(active) => active,
            None if input.status.is_some() => is_active_status(&entry.status),
            None => entry.is_active_member,
        };
        check_range(&entry.start_date, entry.end_date.as_deref())?;
        if let Some(list) = self.statuses.get_mut(&member) {
            list[at] = entry;
        }
        Ok(json!({"isSuccess": true}))
    }

    /// `cycle/changecurrentmemberstatus`: closes the open range at the new range's start and
    /// adds the new range.
    pub fn change_current_member_status(&mut self, request: &Value) -> Result<Value, CycleError> {
        let member = self.find_member(request)?;
        let input = match request.get("status") {
            None | Some(Value::Null) => return Err(CycleError::StatusRequired),
            Some(status) => StatusInput::from_json(status)?,
        };
        let mut entry = self.entry_from(&member, &input)?;
        let start = parse_date(&entry.start_date)?;
        let entries = self
            .statuses
            .get(&member)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for open in entries.iter().filter(|e| e.end_date.is_none()) {
            if parse_date(&open.start_date)? > start {
                return Err(CycleError::InvalidDate(format!(
                    "the new status starts at {}, before the current one ({})",
                    entry.start_date, open.start_date
                )));
            }
        }
        entry.entry_id = self.new_entry_id();
        let new_id = entry.entry_id.clone();
        let list = self.statuses.entry(member).or_default();
        for open in list.iter_mut().filter(|e| e.end_date.is_none()) {
            open.end_date = Some(entry.start_date.clone());
        }
        list.push(entry);
        Ok(json!({"isSuccess": true, "entryId": new_id}))
    }

    /// Loads an import (`{"cycles", "periods", "members", "credits"}`): upserts by id, where
    /// only the id is required and fields left out stay as they were; credits replace the
    /// stored credits of each member and period they name. Refused whole, with every
    /// problem, when anything is wrong.
    pub fn import(&mut self, request: &Value) -> Result<ImportSummary, Vec<ImportProblem>> {
        let mut problems = Vec::new();
        let mut next = self.clone();
        let mut summary = ImportSummary::default();
        let Some(object) = request.as_object() else {
            return Err(vec![ImportProblem {
                path: String::new(),
                message: "expected an object {\"cycles\", \"periods\", \"members\", \"credits\"}"
                    .into(),
            }]);
        };
        for key in object.keys() {
            if !["cycles", "periods", "members", "credits"].contains(&key.as_str()) {
                problems.push(ImportProblem {
                    path: key.clone(),
                    message: "unknown key: expected cycles, periods, members or credits".into(),
                });
            }
        }
        let list = |name: &str| -> &[Value] {
            object
                .get(name)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let mut problem = |path: String, message: &str| {
            problems.push(ImportProblem {
                path,
                message: message.to_owned(),
            })
        };
        let (cycles, periods) = (list("cycles"), list("periods"));
        let (members, credits) = (list("members"), list("credits"));
        for name in ["cycles", "periods", "members", "credits"] {
            if object
                .get(name)
                .is_some_and(|v| !v.is_array() && !v.is_null())
            {
                problem(name.into(), "expected an array");
            }
        }

        for (i, item) in cycles.iter().enumerate() {
            let path = |field: &str| format!("cycles[{i}].{field}");
            let Some(fields) = item.as_object() else {
                problem(format!("cycles[{i}]"), "expected an object");
                continue;
            };
            let Some(id) = fields
                .get("cycleId")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
            else {
                problem(path("cycleId"), "required: a non-empty string");
                continue;
            };
            for (field, check) in [
                ("adminName", Kind::Text),
                ("ruleId", Kind::Text),
                ("isActive", Kind::Bool),
                ("isDeleted", Kind::Bool),
                ("name", Kind::Object),
            ] {
                if let Some(message) = check.problem(fields.get(field)) {
                    problem(path(field), &message);
                }
            }
            upsert(&mut next.cycles, normalize_id(id), fields);
            summary.cycles += 1;
        }

        for (i, item) in periods.iter().enumerate() {
            let path = |field: &str| format!("periods[{i}].{field}");
            let Some(fields) = item.as_object() else {
                problem(format!("periods[{i}]"), "expected an object");
                continue;
            };
            let Some(id) = fields
                .get("cyclePeriodId")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
            else {
                problem(path("cyclePeriodId"), "required: a non-empty string");
                continue;
            };
            let id = normalize_id(id);
            for (field, check) in [
                ("cycleId", Kind::Text),
                ("adminName", Kind::Text),
                ("ruleId", Kind::Text),
                ("duration", Kind::Number),
                ("durationUnit", Kind::Number),
                ("isRequirementsShown", Kind::Bool),
                ("isUserStatement", Kind::Bool),
                ("isAccessibleBeforeStart", Kind::Bool),
                ("isActive", Kind::Bool),
                ("isDeleted", Kind::Bool),
                ("requirements", Kind::Array),
            ] {
                if let Some(message) = check.problem(fields.get(field)) {
                    problem(path(field), &message);
                }
            }
            if let Some(start) = fields.get("startDate") {
                match start.as_str().map(parse_date) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => problem(path("startDate"), &e.to_string()),
                    None => problem(path("startDate"), "expected an ISO 8601 string"),
                }
            }
            if let Some(requirements) = fields.get("requirements").and_then(Value::as_array) {
                for (r, requirement) in requirements.iter().enumerate() {
                    let ok = requirement.as_object().is_some_and(|o| {
                        o.get("type").is_none_or(Value::is_number)
                            && o.get("targetValue").is_none_or(Value::is_number)
                    });
                    if !ok {
                        problem(
                            format!("periods[{i}].requirements[{r}]"),
                            "expected an object whose type and targetValue are numbers",
                        );
                    }
                }
            }
            let cycle = fields
                .get("cycleId")
                .and_then(Value::as_str)
                .or_else(|| {
                    next.periods
                        .get(&id)
                        .and_then(|p| p.get("cycleId"))
                        .and_then(Value::as_str)
                })
                .map(normalize_id);
            match cycle {
                None => problem(path("cycleId"), "required for a new period"),
                Some(cycle) if !next.cycles.contains_key(&cycle) => problem(
                    path("cycleId"),
                    "no cycle has this id (in the store or this import)",
                ),
                Some(_) => {}
            }
            upsert(&mut next.periods, id, fields);
            summary.periods += 1;
        }

        for (i, item) in members.iter().enumerate() {
            let path = |field: &str| format!("members[{i}].{field}");
            let Some(id) = item
                .get("userId")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
            else {
                problem(path("userId"), "required: a non-empty string");
                continue;
            };
            let mut custom = BTreeMap::new();
            match item.get("customFields") {
                None | Some(Value::Null) => {}
                Some(Value::Object(fields)) => {
                    for (name, value) in fields {
                        match value {
                            Value::String(s) => {
                                custom.insert(name.clone(), s.clone());
                            }
                            Value::Number(n) => {
                                custom.insert(name.clone(), n.to_string());
                            }
                            _ => problem(
                                format!("members[{i}].customFields.{name}"),
                                "expected a string or a number",
                            ),
                        }
                    }
                }
                Some(_) => problem(path("customFields"), "expected an object of name: value"),
            }
            let member = next.members.entry(normalize_id(id)).or_insert(Member {
                user_id: id.trim().to_owned(),
                custom_fields: BTreeMap::new(),
            });
            member.custom_fields.extend(custom);
            summary.members += 1;
        }

        let mut replaced: BTreeMap<(String, String), Vec<Credit>> = BTreeMap::new();
        for (i, item) in credits.iter().enumerate() {
            let path = |field: &str| format!("credits[{i}].{field}");
            let member = item
                .get("memberId")
                .and_then(Value::as_str)
                .map(normalize_id);
            let period = item
                .get("cyclePeriodId")
                .and_then(Value::as_str)
                .map(normalize_id);
            match &member {
                Some(m) if next.members.contains_key(m) => {}
                Some(_) => problem(path("memberId"), "no member has this id"),
                None => problem(path("memberId"), "required: a string"),
            }
            match &period {
                Some(p) if next.periods.contains_key(p) => {}
                Some(_) => problem(path("cyclePeriodId"), "no period has this id"),
                None => problem(path("cyclePeriodId"), "required: a string"),
            }
            let kind = item
                .get("kind")
                .cloned()
                .and_then(|k| serde_json::from_value::<CreditKind>(k).ok());
            if kind.is_none() {
                problem(path("kind"), "expected completed, exempted or provider");
            }
            let amount = item
                .get("credits")
                .and_then(Value::as_f64)
                .filter(|c| c.is_finite());
            if amount.is_none() {
                problem(path("credits"), "expected a number");
            }
            if let (Some(m), Some(p), Some(kind), Some(credits)) = (member, period, kind, amount) {
                replaced
                    .entry((m, p))
                    .or_default()
                    .push(Credit { kind, credits });
                summary.credits += 1;
            }
        }
        for ((member, period), list) in replaced {
            next.credits.entry(member).or_default().insert(period, list);
        }

        if problems.is_empty() {
            *self = next;
            Ok(summary)
        } else {
            Err(problems)
        }
    }
}

/// Merges `fields` into the object stored under `id`, creating it if needed.
fn upsert(
    store: &mut BTreeMap<String, Map<String, Value>>,
    id: String,
    fields: &Map<String, Value>,
) {
    let object = store.entry(id).or_default();
    for (key, value) in fields {
        object.insert(key.clone(), value.clone());
    }
}

/// The JSON type a field of an import must have.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Bool,
    Number,
    Object,
    Array,
}

impl Kind {
    fn problem(self, value: Option<&Value>) -> Option<String> {
        let value = value?;
        let ok = match self {
            Kind::Text => value.is_string(),
            Kind::Bool => value.is_boolean(),
            Kind::Number => value.is_number(),
            Kind::Object => value.is_object(),
            Kind::Array => value.is_array(),
        } || value.is_null();
        let expected = match self {
            Kind::Text => "a string",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::Object => "an object",
            Kind::Array => "an array",
        };
        (!ok).then(|| format!("expected {expected}, found {value}"))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;

    /// A portal with the document's ids: one cycle, two periods, two members and credits
    /// that make the document's `getuserprogress` example answer what it shows.
    fn portal() -> CycleData {
        let mut data = CycleData::default();
        data.import(&json!({
            "cycles": [{"cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "adminName": "Nom administratif du cycle",
                        "name": {"texts": [{"text": "Mon règlement", "languageId": 1}]},
                        "ruleId": "vBW5xMw1VQ2A8DFaNy22zA", "isActive": true, "isDeleted": false}],
            "periods": [
                {"cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "cycleId": "vBW5xMw1VQ2A8DFaNy22zA",
                 "adminName": "2018", "startDate": "2018-02-08T15:02:45.73", "duration": 2, "durationUnit": 4,
                 "requirements": [{"id": "r1", "type": 2, "targetValue": 5.0}, {"id": "r2", "type": 1, "targetValue": 40.0}]},
                {"cyclePeriodId": "p2021", "cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "startDate": "2021-01-01T00:00:00Z"}
            ],
            "members": [
                {"userId": "nWJ7HZLyI8l2otoNsxuXgA==", "customFields": {"member_status": "67890", "custom_field": "a"}},
                {"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "customFields": {"member_status": "12345"}},
                {"userId": "homonyme", "customFields": {"matricule": "7"}},
                {"userId": "homonyme2", "customFields": {"matricule": "7"}}
            ],
            "credits": [
                {"memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "completed", "credits": 12},
                {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "completed", "credits": 10},
                {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "exempted", "credits": 8},
                {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "provider", "credits": 30}
            ]
        }))
        .expect("valid import");
        data
    }

    /// Runs `route` on `request`: the answer, or the error code.
    fn run(data: &mut CycleData, route: &str, request: Value) -> Result<Value, u16> {
        match route {
            "getlist" => Ok(data.get_list()),
            "getperiodlist" => data.get_period_list(&request),
            "getuserprogress" => data.get_user_progress(&request),
            "getmemberstatuses" => data.get_member_statuses(&request),
            "updatememberstatuses" => data.update_member_statuses(&request),
            "updatememberstatus" => data.update_member_status(&request),
            "changecurrentmemberstatus" => data.change_current_member_status(&request),
            _ => unreachable!("{route}"),
        }
        .map_err(|e| e.code())
    }

    fn check_error(route: &str, request: Value, code: u16) {
        let mut data = portal();
        let before = data.clone();
        assert_eq!(
            run(&mut data, route, request.clone()).map(|_| ()),
            Err(code),
            "{route} {request}"
        );
        assert_eq!(data, before, "a refused request changes nothing");
    }

    #[test]
    fn every_error_code_of_the_document() {
        let user = "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d";
        let status = |start: &str, end: Value| json!({"status": "Membre", "startDate": start, "endDate": end});
        check_error("getperiodlist", json!({}), 1000);
        check_error("getperiodlist", json!({"id": "  "}), 1000);
        check_error("getperiodlist", json!({"id": "inconnu"}), 1001);
        check_error("getuserprogress", json!({"memberId": "x"}), 1000);
        check_error("getuserprogress", json!({"id": "p2021"}), 1002);
        check_error(
            "getuserprogress",
            json!({"id": "inconnu", "memberId": "x"}),
            1001,
        );
        check_error(
            "getuserprogress",
            json!({"id": "p2021", "memberId": "inconnu"}),
            1003,
        );
        check_error("getmemberstatuses", json!({}), 1004);
        check_error(
            "getmemberstatuses",
            json!({"customFieldValue": "12345"}),
            1004,
        );
        check_error(
            "getmemberstatuses",
            json!({"customFieldAPIName": "inconnu", "customFieldValue": "1"}),
            1005,
        );
        check_error("updatememberstatuses", json!({"userId": user}), 1006);
        check_error(
            "updatememberstatuses",
            json!({"userId": user, "statuses": [{"status": " ", "startDate": "2020-01-01T00:00:00"}]}),
            1007,
        );
        check_error("changecurrentmemberstatus", json!({"userId": user}), 1007);
        check_error(
            "updatememberstatus",
            json!({"userId": user, "entryId": "inconnu", "status": {"status": "Membre"}}),
            1008,
        );
        check_error(
            "updatememberstatus",
            json!({"userId": user, "status": {"status": "Membre"}}),
            1008,
        );
        check_error("getmemberstatuses", json!({"userId": "inconnu"}), 1009);
        check_error(
            "getmemberstatuses",
            json!({"customFieldAPIName": "member_status", "customFieldValue": "0"}),
            1009,
        );
        check_error(
            "getmemberstatuses",
            json!({"customFieldAPIName": "matricule", "customFieldValue": "7"}),
            1009,
        );
        check_error(
            "getperiodlist",
            json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "01/01/2020"}),
            1010,
        );
        check_error(
            "updatememberstatuses",
            json!({"userId": user, "statuses": [status("2020-02-01T00:00:00", json!("2020-01-01T00:00:00"))]}),
            1010,
        );
        check_error(
            "updatememberstatuses",
            json!({"userId": user, "statuses": [status("hier", Value::Null)]}),
            1010,
        );
        let message = portal()
            .get_period_list(&json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "x"}))
            .unwrap_err();
        assert_eq!(
            message.to_json()["message"]
                .as_str()
                .unwrap()
                .split(':')
                .next(),
            Some("Invalid date")
        );
        assert!(
            message.to_string().contains("2020-01-01T00:00:00Z"),
            "{message}"
        );
        assert!(CycleError::InvalidUser.is_not_found() && !CycleError::RequiredId.is_not_found());
    }

    #[test]
    fn the_documents_example_requests() {
        let mut data = portal();
        let list = run(&mut data, "getlist", json!({})).unwrap();
        assert_eq!(list[0]["name"]["texts"][0]["text"], "Mon règlement");
        let periods = run(
            &mut data,
            "getperiodlist",
            json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "2020-01-01T00:00:00Z"}),
        )
        .unwrap();
        let ids: Vec<&str> = periods
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["cyclePeriodId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["p2021"]);
        let all = run(
            &mut data,
            "getperiodlist",
            json!({"id": "vBW5xMw1VQ2A8DFaNy22zA"}),
        )
        .unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        let progress = run(&mut data, "getuserprogress", json!({"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d", "customFieldAPIName": "custom_field"})).unwrap();
        assert_eq!(
            progress,
            json!({"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d",
            "requiredCredits": 40.0, "completedCredits": 22.0, "exemptedCredits": 8.0, "providerCredits": 30.0, "customFieldAPIName": "custom_field"})
        );
        let request = json!({"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "customFieldAPIName": "member_status", "customFieldValue": "12345",
            "statuses": [{"status": "Membre", "isActiveMember": true, "startDate": "2018-02-08T15:02:45.73", "endDate": "2018-02-08T15:02:45.73"}]});
        assert_eq!(
            run(&mut data, "updatememberstatuses", request).unwrap(),
            json!({"isSuccess": true})
        );
        let by_field = json!({"customFieldAPIName": "member_status", "customFieldValue": "12345"});
        let statuses = run(&mut data, "getmemberstatuses", by_field).unwrap();
        assert_eq!(statuses["statuses"][0]["status"], "Membre");
        assert_eq!(
            statuses["statuses"][0]["userId"],
            "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d"
        );
        let entry = statuses["statuses"][0]["entryId"]
            .as_str()
            .unwrap()
            .to_owned();
        let update = json!({"userId": "DTUvbcrKNN3szXg6aQY/Sg==", "entryId": entry, "status": {"status": "Ancien"}});
        run(&mut data, "updatememberstatus", update).unwrap();
        let after = run(
            &mut data,
            "getmemberstatuses",
            json!({"userId": "DTUvbcrKNN3szXg6aQY/Sg=="}),
        )
        .unwrap();
        assert_eq!(after["statuses"][0]["status"], "Ancien");
        assert_eq!(after["statuses"][0]["isActiveMember"], false);
        assert_eq!(
            after["statuses"][0]["startDate"], "2018-02-08T15:02:45.73",
            "fields not passed stay"
        );
        let change = json!({"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "status": {"status": "Membre", "startDate": "2019-01-01T00:00:00"}});
        let answer = run(&mut data, "changecurrentmemberstatus", change).unwrap();
        assert_eq!(answer["isSuccess"], true);
        assert!(answer["entryId"].is_string());
    }

    #[test]
    fn is_active_member_left_null_follows_the_status() {
        for (status, active) in [
            ("Membre", true),
            (" membre ", true),
            ("MEMBRE", true),
            ("Ancien membre", false),
            ("Suspendu", false),
        ] {
            assert_eq!(is_active_status(status), active, "{status}");
        }
        let mut data = portal();
        let request = json!({"userId": "homonyme", "statuses": [
            {"status": " membre ", "startDate": "2020-01-01T00:00:00"},
            {"status": "Membre", "isActiveMember": false, "startDate": "2020-01-01T00:00:00"},
            {"status": "Suspendu", "startDate": "2020-01-01T00:00:00"}]});
        run(&mut data, "updatememberstatuses", request).unwrap();
        let actives: Vec<bool> = data.statuses["homonyme"]
            .iter()
            .map(|e| e.is_active_member)
            .collect();
        assert_eq!(actives, [true, false, false]);
    }

    #[test]
    fn replacing_a_timeline_keeps_the_ids_of_unchanged_entries() {
        let mut data = portal();
        let entries = |d: &CycleData| -> Vec<(String, String)> {
            d.statuses["homonyme"]
                .iter()
                .map(|e| (e.entry_id.clone(), e.status.clone()))
                .collect()
        };
        let a = json!({"status": "Membre", "startDate": "2020-01-01T00:00:00", "endDate": "2020-06-30T00:00:00"});
        let b = json!({"status": "Suspendu", "startDate": "2020-07-01T00:00:00"});
        let c = json!({"status": "Membre", "startDate": "2021-01-01T00:00:00"});
        run(
            &mut data,
            "updatememberstatuses",
            json!({"userId": "homonyme", "statuses": [a, b]}),
        )
        .unwrap();
        let first = entries(&data);
        run(
            &mut data,
            "updatememberstatuses",
            json!({"userId": "homonyme", "statuses": [c, a]}),
        )
        .unwrap();
        let second = entries(&data);
        assert_eq!(second[1], first[0], "the unchanged entry keeps its id");
        assert!(
            !first.iter().any(|(id, _)| *id == second[0].0),
            "a new entry gets a new id"
        );
        run(
            &mut data,
            "updatememberstatuses",
            json!({"userId": "homonyme", "statuses": []}),
        )
        .unwrap();
        assert!(data.statuses["homonyme"].is_empty());
    }

    #[test]
    fn changing_the_current_status_closes_the_open_range() {
        let mut data = portal();
        let change = |start: &str| json!({"userId": "homonyme", "status": {"status": "Membre", "startDate": start}});
        run(
            &mut data,
            "changecurrentmemberstatus",
            change("2020-01-01T00:00:00"),
        )
        .unwrap();
        run(
            &mut data,
            "changecurrentmemberstatus",
            change("2021-01-01T00:00:00Z"),
        )
        .unwrap();
        let list = &data.statuses["homonyme"];
        assert_eq!(list[0].end_date.as_deref(), Some("2021-01-01T00:00:00Z"));
        assert_eq!(list[1].end_date, None);
        assert_eq!(
            run(
                &mut data,
                "changecurrentmemberstatus",
                change("2020-06-01T00:00:00")
            ),
            Err(1010)
        );
    }

    #[test]
    fn ids_match_in_either_form_and_a_bad_import_changes_nothing() {
        assert_eq!(normalize_id("abc%3d%3d"), "abc==");
        assert_eq!(normalize_id("abc%3D%3D"), "abc==");
        assert_eq!(normalize_id("a%2fb"), "a/b");
        assert_eq!(normalize_id("100%"), "100%");
        assert_eq!(normalize_id("%zz"), "%zz");
        let mut data = portal();
        let before = data.clone();
        let problems = data
            .import(&json!({"cycles": [{"adminName": "sans id"}], "periods": [{"cyclePeriodId": "p9", "cycleId": "inconnu", "startDate": "demain"}],
                            "credits": [{"memberId": "x", "kind": "bonus", "credits": "dix"}], "autre": []}))
            .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "autre",
                "cycles[0].cycleId",
                "periods[0].startDate",
                "periods[0].cycleId",
                "credits[0].memberId",
                "credits[0].cyclePeriodId",
                "credits[0].kind",
                "credits[0].credits"
            ]
        );
        assert_eq!(data, before);
        // Only the id is required to change an object; other fields stay.
        data.import(&json!({"cycles": [{"cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "isActive": false}]}))
            .unwrap();
        let cycle = &data.cycles["vBW5xMw1VQ2A8DFaNy22zA"];
        assert_eq!(cycle["isActive"], false);
        assert_eq!(cycle["adminName"], "Nom administratif du cycle");
        // What the store keeps: the data as JSON, read back the same.
        let text = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<CycleData>(&text).unwrap(), data);
    }

    #[test]
    fn empty_end_means_open_and_sums_are_plain_numbers() {
        let mut data = portal();
        // A member without credits: zeros, not `-0.0` in the answer.
        let progress = run(
            &mut data,
            "getuserprogress",
            json!({"id": "p2021", "memberId": "homonyme"}),
        )
        .unwrap();
        assert_eq!(progress.to_string().matches("-0").count(), 0, "{progress}");
        assert_eq!(progress["completedCredits"], 0.0);
        // A requirement of type 1.0 is the type 1 requirement.
        data.import(&json!({"periods": [{"cyclePeriodId": "p2021", "requirements": [{"type": 1.0, "targetValue": 12}]}]}))
            .unwrap();
        let progress = run(
            &mut data,
            "getuserprogress",
            json!({"id": "p2021", "memberId": "homonyme"}),
        )
        .unwrap();
        assert_eq!(progress["requiredCredits"], 12.0);
        // The document: the end is empty while the range is ongoing.
        let request = json!({"userId": "homonyme", "statuses": [{"status": "Membre", "startDate": "2020-01-01T00:00:00", "endDate": ""}]});
        run(&mut data, "updatememberstatuses", request).unwrap();
        assert_eq!(data.statuses["homonyme"][0].end_date, None);
        let entry = data.statuses["homonyme"][0].entry_id.clone();
        let close = json!({"userId": "homonyme", "entryId": entry, "status": {"endDate": "2020-06-01T00:00:00"}});
        run(&mut data, "updatememberstatus", close).unwrap();
        assert_eq!(
            data.statuses["homonyme"][0].end_date.as_deref(),
            Some("2020-06-01T00:00:00")
        );
        let reopen = json!({"userId": "homonyme", "entryId": entry, "status": {"endDate": " "}});
        run(&mut data, "updatememberstatus", reopen).unwrap();
        assert_eq!(data.statuses["homonyme"][0].end_date, None);
        let change = json!({"userId": "homonyme", "status": {"status": "Suspendu", "startDate": "2021-01-01T00:00:00", "endDate": ""}});
        run(&mut data, "changecurrentmemberstatus", change).unwrap();
        let ends: Vec<Option<&str>> = data.statuses["homonyme"]
            .iter()
            .map(|e| e.end_date.as_deref())
            .collect();
        assert_eq!(ends, [Some("2021-01-01T00:00:00"), None]);
    }

    proptest! {
        /// After any sequence of `changecurrentmemberstatus` calls, a member has at most one
        /// open entry, and no entry ends before it starts.
        #[test]
        fn at_most_one_open_entry_and_no_range_backwards(starts in proptest::collection::vec((0i64..400, proptest::option::of(0i64..60)), 1..12)) {
            let mut data = portal();
            let day = |d: i64| (chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(d)).format("%Y-%m-%dT00:00:00").to_string();
            for (start, length) in starts {
                let mut status = json!({"status": "Membre", "startDate": day(start)});
                if let Some(length) = length {
                    status["endDate"] = json!(day(start + length));
                }
                let _ = data.change_current_member_status(&json!({"userId": "homonyme", "status": status}));
                let list = data.statuses.get("homonyme").cloned().unwrap_or_default();
                prop_assert!(list.iter().filter(|e| e.end_date.is_none()).count() <= 1);
                for entry in &list {
                    if let Some(end) = &entry.end_date {
                        prop_assert!(parse_date(end).unwrap() >= parse_date(&entry.start_date).unwrap());
                    }
                }
            }
        }
    }
}
