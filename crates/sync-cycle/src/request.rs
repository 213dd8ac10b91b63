//! The typed request bodies of the cycle routes, and what each route does with a tenant's
//! [`CycleData`]: read it, or change it and say so.
//!
//! A body is decoded from any JSON value without failing (`From<Value>`, which serde uses
//! too): a part that is missing or malformed is kept as the error it is refused with, and
//! the route reports it when it gets there, after the checks the document puts first (the
//! member, then the status). A request refused with an error changes nothing.

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::dates::{check_range, parse_date};
use crate::error::CycleError;
use crate::ids::normalize_id;
use crate::model::{is_active_status, CreditKind, CycleData, StatusEntry};

/// The member a request names: by `userId`, else by `customFieldAPIName` and
/// `customFieldValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberSelector {
    /// `userId`, trimmed.
    UserId(String),
    /// `customFieldAPIName`, trimmed, and `customFieldValue`: a string trimmed or a number
    /// written out, `None` when missing or of another type (error 1009).
    CustomField {
        /// The custom field's API name.
        api_name: String,
        /// The value the member must have in that field.
        value: Option<String>,
    },
    /// Neither `userId` nor `customFieldAPIName` was given (error 1004).
    Missing,
}

impl MemberSelector {
    fn from_json(request: &Value) -> Self {
        if let Some(user) = str_field(request, "userId") {
            return MemberSelector::UserId(user.to_owned());
        }
        let Some(api_name) = str_field(request, "customFieldAPIName") else {
            return MemberSelector::Missing;
        };
        let value = request.get("customFieldValue").and_then(|v| match v {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        MemberSelector::CustomField {
            api_name: api_name.to_owned(),
            value,
        }
    }
}

/// A status as a request gives it (`status`, `isActiveMember`, `startDate`, `endDate`),
/// strings trimmed; `None` for a field missing or null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInput {
    /// `status`: the status's name.
    pub status: Option<String>,
    /// `isActiveMember`; left null, it follows the status ([`is_active_status`]).
    pub is_active_member: Option<bool>,
    /// `startDate`, as sent.
    pub start_date: Option<String>,
    /// `endDate`, as sent; empty while the range is open.
    pub end_date: Option<String>,
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

/// The body of `cycle/getperiodlist`: `{"id", "filterDate"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct PeriodListRequest {
    /// `id`: the cycle's id, trimmed; `None` when missing or blank (error 1000).
    pub id: Option<String>,
    /// `filterDate`: only periods starting on or after it; `None` when missing, null or
    /// blank; error 1010 when it is not an ISO 8601 date.
    pub filter_date: Result<Option<NaiveDateTime>, CycleError>,
}

impl From<Value> for PeriodListRequest {
    fn from(request: Value) -> Self {
        let filter_date = match request.get("filterDate") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_date(s).map(Some),
            Some(other) => Err(CycleError::InvalidDate(format!(
                "filterDate must be a string such as 2020-01-01T00:00:00Z, found {other}"
            ))),
        };
        PeriodListRequest {
            id: str_field(&request, "id").map(str::to_owned),
            filter_date,
        }
    }
}

/// The body of `cycle/getuserprogress`: `{"id", "memberId", "customFieldAPIName"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct UserProgressRequest {
    /// `id`: the period's id, trimmed, as the answer repeats it; `None` when missing or blank
    /// (error 1000).
    pub id: Option<String>,
    /// `memberId`, trimmed, as the answer repeats it; `None` when missing or blank (error
    /// 1002).
    pub member_id: Option<String>,
    /// `customFieldAPIName`, repeated in the answer as sent (null when missing).
    pub custom_field_api_name: Value,
}

impl From<Value> for UserProgressRequest {
    fn from(request: Value) -> Self {
        UserProgressRequest {
            id: str_field(&request, "id").map(str::to_owned),
            member_id: str_field(&request, "memberId").map(str::to_owned),
            custom_field_api_name: request
                .get("customFieldAPIName")
                .cloned()
                .unwrap_or(Value::Null),
        }
    }
}

/// The body of `cycle/getmemberstatuses`: the member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct MemberStatusesRequest {
    /// Whose timeline.
    pub member: MemberSelector,
}

impl From<Value> for MemberStatusesRequest {
    fn from(request: Value) -> Self {
        MemberStatusesRequest {
            member: MemberSelector::from_json(&request),
        }
    }
}

/// The body of `cycle/updatememberstatuses`: the member and `"statuses": [...]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct UpdateMemberStatusesRequest {
    /// Whose timeline.
    pub member: MemberSelector,
    /// `statuses`: the new timeline, each item a status or the error it is refused with
    /// (1007 or 1010); `None` when not an array (error 1006).
    pub statuses: Option<Vec<Result<StatusInput, CycleError>>>,
}

impl From<Value> for UpdateMemberStatusesRequest {
    fn from(request: Value) -> Self {
        UpdateMemberStatusesRequest {
            member: MemberSelector::from_json(&request),
            statuses: request
                .get("statuses")
                .and_then(Value::as_array)
                .map(|list| list.iter().map(StatusInput::from_json).collect()),
        }
    }
}

/// The body of `cycle/updatememberstatus`: the member, `"entryId"` and `"status": {...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct UpdateMemberStatusRequest {
    /// Whose timeline.
    pub member: MemberSelector,
    /// `entryId`, trimmed; `None` when missing or blank (error 1008).
    pub entry_id: Option<String>,
    /// `status`: the fields to change, or the error the request is refused with (1007 when
    /// missing or null).
    pub status: Result<StatusInput, CycleError>,
}

impl From<Value> for UpdateMemberStatusRequest {
    fn from(request: Value) -> Self {
        UpdateMemberStatusRequest {
            member: MemberSelector::from_json(&request),
            entry_id: str_field(&request, "entryId").map(str::to_owned),
            status: status_field(&request),
        }
    }
}

/// The body of `cycle/changecurrentmemberstatus`: the member and `"status": {...}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "Value")]
pub struct ChangeCurrentMemberStatusRequest {
    /// Whose timeline.
    pub member: MemberSelector,
    /// `status`: the new range, or the error the request is refused with (1007 when missing
    /// or null).
    pub status: Result<StatusInput, CycleError>,
}

impl From<Value> for ChangeCurrentMemberStatusRequest {
    fn from(request: Value) -> Self {
        ChangeCurrentMemberStatusRequest {
            member: MemberSelector::from_json(&request),
            status: status_field(&request),
        }
    }
}

/// A string member of a request, trimmed; `None` when missing, not a string or blank.
fn str_field<'v>(request: &'v Value, name: &str) -> Option<&'v str> {
    request
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The `status` member of a request: 1007 when missing or null.
fn status_field(request: &Value) -> Result<StatusInput, CycleError> {
    match request.get("status") {
        None | Some(Value::Null) => Err(CycleError::StatusRequired),
        Some(status) => StatusInput::from_json(status),
    }
}

impl CycleData {
    /// The normalized id of the member a request names.
    pub fn find_member(&self, member: &MemberSelector) -> Result<String, CycleError> {
        let (name, value) = match member {
            MemberSelector::UserId(user) => {
                let id = normalize_id(user);
                return if self.members.contains_key(&id) {
                    Ok(id)
                } else {
                    Err(CycleError::InvalidUser)
                };
            }
            MemberSelector::Missing => return Err(CycleError::RequiredCustomFieldApiName),
            MemberSelector::CustomField { api_name, value } => (api_name.as_str(), value),
        };
        if !self
            .members
            .values()
            .any(|m| m.custom_fields.contains_key(name))
        {
            return Err(CycleError::InvalidCustomFieldApiName);
        }
        let value = value.as_deref().ok_or(CycleError::InvalidUser)?;
        let mut found = self
            .members
            .iter()
            .filter(|(_, m)| m.custom_fields.get(name).map(|v| v.trim()) == Some(value));
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
    pub fn get_period_list(&self, request: &PeriodListRequest) -> Result<Value, CycleError> {
        let id = request.id.as_deref().ok_or(CycleError::RequiredId)?;
        let id = normalize_id(id);
        if !self.cycles.contains_key(&id) {
            return Err(CycleError::InvalidId);
        }
        let filter = request.filter_date.clone()?;
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
    pub fn get_user_progress(&self, request: &UserProgressRequest) -> Result<Value, CycleError> {
        let id_sent = request.id.as_deref().ok_or(CycleError::RequiredId)?;
        let member_sent = request
            .member_id
            .as_deref()
            .ok_or(CycleError::RequiredMemberId)?;
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
            "customFieldAPIName": request.custom_field_api_name.clone(),
        }))
    }

    /// `cycle/getmemberstatuses`: the member's timeline, in start order.
    pub fn get_member_statuses(
        &self,
        request: &MemberStatusesRequest,
    ) -> Result<Value, CycleError> {
        let member = self.find_member(&request.member)?;
        let mut statuses = self.statuses.get(&member).cloned().unwrap_or_default();
        // In start order whatever order they were stored in; a start that does not parse (a
        // timeline written before dates were checked) comes first, ties keep their order.
        statuses.sort_by_cached_key(|e| parse_date(&e.start_date).ok());
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
    pub fn update_member_statuses(
        &mut self,
        request: &UpdateMemberStatusesRequest,
    ) -> Result<Value, CycleError> {
        let member = self.find_member(&request.member)?;
        let list = request
            .statuses
            .as_deref()
            .ok_or(CycleError::StatusesRequired)?;
        let mut entries = Vec::with_capacity(list.len());
        for item in list {
            let input = item.as_ref().map_err(Clone::clone)?;
            entries.push(self.entry_from(&member, input)?);
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
    pub fn update_member_status(
        &mut self,
        request: &UpdateMemberStatusRequest,
    ) -> Result<Value, CycleError> {
        let member = self.find_member(&request.member)?;
        let entry_id = request
            .entry_id
            .as_deref()
            .ok_or(CycleError::InvalidStatusId)?;
        let entry_id = normalize_id(entry_id);
        let input = request.status.as_ref().map_err(Clone::clone)?;
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
    /// adds the new range. When the open range starts at the same instant as the new one, it
    /// is not closed (that would leave a range of no length): it takes the new range's
    /// status, `isActiveMember` and end, keeps its `entryId`, and that id is answered.
    pub fn change_current_member_status(
        &mut self,
        request: &ChangeCurrentMemberStatusRequest,
    ) -> Result<Value, CycleError> {
        let member = self.find_member(&request.member)?;
        let input = request.status.as_ref().map_err(Clone::clone)?;
        let mut entry = self.entry_from(&member, input)?;
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
        let same_start = entries
            .iter()
            .position(|e| e.end_date.is_none() && parse_date(&e.start_date).ok() == Some(start));
        if let (Some(at), Some(list)) = (same_start, self.statuses.get_mut(&member)) {
            let open = &mut list[at];
            open.status = entry.status;
            open.is_active_member = entry.is_active_member;
            open.end_date = entry.end_date;
            return Ok(json!({"isSuccess": true, "entryId": open.entry_id.clone()}));
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
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::dates::parse_date;
    use crate::error::CycleError;
    use crate::import::tests::portal;
    use crate::model::{is_active_status, CycleData};

    /// Runs `route` on `request`: the answer, or the error code.
    fn run(data: &mut CycleData, route: &str, request: Value) -> Result<Value, u16> {
        match route {
            "getlist" => Ok(data.get_list()),
            "getperiodlist" => data.get_period_list(&request.into()),
            "getuserprogress" => data.get_user_progress(&request.into()),
            "getmemberstatuses" => data.get_member_statuses(&request.into()),
            "updatememberstatuses" => data.update_member_statuses(&request.into()),
            "updatememberstatus" => data.update_member_status(&request.into()),
            "changecurrentmemberstatus" => data.change_current_member_status(&request.into()),
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
            .get_period_list(&json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "x"}).into())
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
    fn a_change_at_the_open_ranges_start_replaces_its_status() {
        let mut data = portal();
        let change = |status: &str, start: &str| json!({"userId": "homonyme", "status": {"status": status, "startDate": start}});
        let first = run(
            &mut data,
            "changecurrentmemberstatus",
            change("Membre", "2020-01-01T00:00:00"),
        )
        .unwrap();
        let again = run(
            &mut data,
            "changecurrentmemberstatus",
            change("Suspendu", "2020-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(again["entryId"], first["entryId"], "the open range is kept");
        let list = &data.statuses["homonyme"];
        assert_eq!(list.len(), 1, "no range of no length: {list:?}");
        assert_eq!(list[0].status, "Suspendu");
        assert!(!list[0].is_active_member);
        assert_eq!(list[0].end_date, None);
        assert_eq!(list[0].start_date, "2020-01-01T00:00:00");
    }

    #[test]
    fn member_statuses_are_listed_in_start_order() {
        let mut data = portal();
        let status = |start: &str| json!({"status": "Membre", "startDate": start, "endDate": "2030-01-01T00:00:00"});
        let request = json!({"userId": "homonyme", "statuses": [
            status("2022-01-01T00:00:00"), status("2020-01-01T00:00:00Z"), status("2021-01-01T00:00:00")]});
        run(&mut data, "updatememberstatuses", request).unwrap();
        let listed = run(
            &mut data,
            "getmemberstatuses",
            json!({"userId": "homonyme"}),
        )
        .unwrap();
        let starts: Vec<&str> = listed["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["startDate"].as_str().unwrap())
            .collect();
        assert_eq!(
            starts,
            [
                "2020-01-01T00:00:00Z",
                "2021-01-01T00:00:00",
                "2022-01-01T00:00:00"
            ]
        );
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
                let _ = data.change_current_member_status(&json!({"userId": "homonyme", "status": status}).into());
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
