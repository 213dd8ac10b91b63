//! Which part of a tenant's [`CycleData`](crate::CycleData) a request reads or changes, so
//! that a store loads that part (a slice) instead of the whole tenant.

use crate::ids::normalize_id;
use crate::request::{
    ChangeCurrentMemberStatusRequest, MemberSelector, MemberStatusesRequest, PeriodListRequest,
    UpdateMemberStatusRequest, UpdateMemberStatusesRequest, UserProgressRequest,
};

/// The part of a tenant's cycle data a request needs. A slice loaded for a scope holds, for
/// each thing named, everything the whole data holds about it (a member with every custom
/// field, its whole timeline, its credits in the periods named), so that a rule run on the
/// slice answers and changes exactly what it would on the whole data. The entry counter
/// (`next_entry`) is always loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleScope {
    /// Every cycle (`getlist`).
    pub all_cycles: bool,
    /// Cycles by normalized id.
    pub cycles: Vec<String>,
    /// Periods by normalized id.
    pub periods: Vec<String>,
    /// Every period of these cycles (normalized ids, compared with the period's `cycleId`
    /// normalized).
    pub periods_of_cycles: Vec<String>,
    /// The member concerned, with its custom fields, its timeline and its credits in
    /// [`periods`](Self::periods).
    pub member: Option<MemberScope>,
}

/// How a scope names its member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberScope {
    /// By normalized `userId`.
    UserId(String),
    /// Every member whose custom field `api_name` has, trimmed, this `value`; and, when none
    /// has, one member having the field at all (so that an unknown field name, error 1005,
    /// is told from a value no one has, error 1009).
    CustomField {
        /// The custom field's API name.
        api_name: String,
        /// The value sought, trimmed; `None` loads only the member proving the field exists.
        value: Option<String>,
    },
}

impl CycleScope {
    /// Every cycle, as `getlist` needs.
    pub fn all_cycles() -> Self {
        CycleScope {
            all_cycles: true,
            ..CycleScope::default()
        }
    }

    fn member(selector: &MemberSelector) -> Self {
        let member = match selector {
            MemberSelector::UserId(user) => Some(MemberScope::UserId(normalize_id(user))),
            MemberSelector::CustomField { api_name, value } => Some(MemberScope::CustomField {
                api_name: api_name.clone(),
                value: value.clone(),
            }),
            MemberSelector::Missing => None,
        };
        CycleScope {
            member,
            ..CycleScope::default()
        }
    }
}

/// A request that says which part of the data it needs.
pub trait ScopedRequest {
    /// The part of the tenant's data the route reads or changes for this request.
    fn scope(&self) -> CycleScope;
}

impl ScopedRequest for PeriodListRequest {
    fn scope(&self) -> CycleScope {
        let cycles: Vec<String> = self.id.iter().map(|id| normalize_id(id)).collect();
        CycleScope {
            periods_of_cycles: cycles.clone(),
            cycles,
            ..CycleScope::default()
        }
    }
}

impl ScopedRequest for UserProgressRequest {
    fn scope(&self) -> CycleScope {
        CycleScope {
            periods: self.id.iter().map(|id| normalize_id(id)).collect(),
            member: self
                .member_id
                .as_ref()
                .map(|id| MemberScope::UserId(normalize_id(id))),
            ..CycleScope::default()
        }
    }
}

impl ScopedRequest for MemberStatusesRequest {
    fn scope(&self) -> CycleScope {
        CycleScope::member(&self.member)
    }
}

impl ScopedRequest for UpdateMemberStatusesRequest {
    fn scope(&self) -> CycleScope {
        CycleScope::member(&self.member)
    }
}

impl ScopedRequest for UpdateMemberStatusRequest {
    fn scope(&self) -> CycleScope {
        CycleScope::member(&self.member)
    }
}

impl ScopedRequest for ChangeCurrentMemberStatusRequest {
    fn scope(&self) -> CycleScope {
        CycleScope::member(&self.member)
    }
}

impl crate::CycleData {
    /// The slice of this data that `scope` names: what a store's slice loading returns,
    /// written once here as the reference its tests compare with.
    pub fn slice(&self, scope: &CycleScope) -> crate::CycleData {
        let mut out = crate::CycleData {
            next_entry: self.next_entry,
            ..crate::CycleData::default()
        };
        for (id, cycle) in &self.cycles {
            if scope.all_cycles || scope.cycles.contains(id) {
                out.cycles.insert(id.clone(), cycle.clone());
            }
        }
        for (id, period) in &self.periods {
            let of_cycle = period
                .get("cycleId")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|c| scope.periods_of_cycles.contains(&normalize_id(c)));
            if of_cycle || scope.periods.contains(id) {
                out.periods.insert(id.clone(), period.clone());
            }
        }
        let members: Vec<&String> = match &scope.member {
            None => Vec::new(),
            Some(MemberScope::UserId(id)) => self
                .members
                .get_key_value(id)
                .map(|(k, _)| k)
                .into_iter()
                .collect(),
            Some(MemberScope::CustomField { api_name, value }) => {
                let found: Vec<&String> = self
                    .members
                    .iter()
                    .filter(|(_, m)| {
                        value.is_some()
                            && m.custom_fields.get(api_name).map(|v| v.trim()) == value.as_deref()
                    })
                    .map(|(k, _)| k)
                    .collect();
                if found.is_empty() {
                    self.members
                        .iter()
                        .find(|(_, m)| m.custom_fields.contains_key(api_name))
                        .map(|(k, _)| k)
                        .into_iter()
                        .collect()
                } else {
                    found
                }
            }
        };
        for id in members {
            out.members.insert(id.clone(), self.members[id].clone());
            if let Some(list) = self.statuses.get(id) {
                out.statuses.insert(id.clone(), list.clone());
            }
            if let Some(periods) = self.credits.get(id) {
                let kept: std::collections::BTreeMap<_, _> = periods
                    .iter()
                    .filter(|(period, _)| scope.periods.contains(period))
                    .map(|(p, c)| (p.clone(), c.clone()))
                    .collect();
                if !kept.is_empty() {
                    out.credits.insert(id.clone(), kept);
                }
            }
        }
        out
    }
}

/// Runs the route `route % 8` (as the `cycle` fuzz target numbers them; the import excepted)
/// on `data` whole and on the slice its request's scope names, and checks that both answer
/// the same and that the slice's changes, laid over the whole data as a store writes them,
/// give the same data.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn check_slice_equivalence(
    data: &crate::CycleData,
    route: u8,
    request: &serde_json::Value,
) {
    use crate::CycleData;
    type Answer = Result<serde_json::Value, crate::CycleError>;

    fn run<R: ScopedRequest + From<serde_json::Value>>(
        data: &CycleData,
        request: &serde_json::Value,
        rule: fn(&mut CycleData, &R) -> Answer,
    ) {
        let request = R::from(request.clone());
        let mut whole = data.clone();
        let whole_answer = rule(&mut whole, &request);
        let before = data.slice(&request.scope());
        let mut after = before.clone();
        let slice_answer = rule(&mut after, &request);
        assert_eq!(
            slice_answer.map_err(|e| e.code()),
            whole_answer.map_err(|e| e.code()),
            "the slice answers as the whole data"
        );
        let mut merged = data.clone();
        overlay(&mut merged, &before, &after);
        assert_eq!(merged, whole, "the slice's changes give the whole data's");
    }

    fn overlay(whole: &mut CycleData, before: &CycleData, after: &CycleData) {
        fn map<V: Clone>(
            whole: &mut std::collections::BTreeMap<String, V>,
            before: &std::collections::BTreeMap<String, V>,
            after: &std::collections::BTreeMap<String, V>,
        ) {
            for key in before.keys().filter(|k| !after.contains_key(*k)) {
                whole.remove(key);
            }
            whole.extend(after.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        whole.next_entry = after.next_entry;
        map(&mut whole.cycles, &before.cycles, &after.cycles);
        map(&mut whole.periods, &before.periods, &after.periods);
        map(&mut whole.members, &before.members, &after.members);
        map(&mut whole.statuses, &before.statuses, &after.statuses);
        let empty = std::collections::BTreeMap::new();
        let members: std::collections::BTreeSet<String> = before
            .credits
            .keys()
            .chain(after.credits.keys())
            .cloned()
            .collect();
        for member in members {
            let periods = whole.credits.entry(member.clone()).or_default();
            map(
                periods,
                before.credits.get(&member).unwrap_or(&empty),
                after.credits.get(&member).unwrap_or(&empty),
            );
            if periods.is_empty() {
                whole.credits.remove(&member);
            }
        }
    }

    match route % 8 {
        0 => run::<PeriodListRequest>(data, request, |d, r| d.get_period_list(r)),
        1 => run::<UserProgressRequest>(data, request, |d, r| d.get_user_progress(r)),
        2 => run::<MemberStatusesRequest>(data, request, |d, r| d.get_member_statuses(r)),
        3 => run::<UpdateMemberStatusesRequest>(data, request, CycleData::update_member_statuses),
        4 => run::<UpdateMemberStatusRequest>(data, request, CycleData::update_member_status),
        5 => run::<ChangeCurrentMemberStatusRequest>(
            data,
            request,
            CycleData::change_current_member_status,
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check_slice_equivalence;
    use crate::import::tests::portal;

    #[test]
    fn a_rule_on_a_slice_does_what_it_does_on_the_whole_data() {
        let mut data = portal();
        let request = json!({"userId": "homonyme", "statuses": [
            {"status": "Membre", "startDate": "2020-01-01T00:00:00"}]});
        data.update_member_statuses(&request.into()).unwrap();
        let cases = [
            (0, json!({"id": "vBW5xMw1VQ2A8DFaNy22zA"})),
            (0, json!({"id": "inconnu"})),
            (0, json!({})),
            (
                1,
                json!({"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d"}),
            ),
            (1, json!({"id": "p2021", "memberId": "homonyme"})),
            (1, json!({"id": "p2021", "memberId": "inconnu"})),
            (1, json!({"memberId": "homonyme"})),
            (
                2,
                json!({"customFieldAPIName": "matricule", "customFieldValue": 7}),
            ),
            (
                2,
                json!({"customFieldAPIName": "member_status", "customFieldValue": " 12345 "}),
            ),
            (
                2,
                json!({"customFieldAPIName": "member_status", "customFieldValue": "0"}),
            ),
            (2, json!({"customFieldAPIName": "member_status"})),
            (
                2,
                json!({"customFieldAPIName": "inconnu", "customFieldValue": "1"}),
            ),
            (2, json!({})),
            (3, json!({"userId": "homonyme", "statuses": []})),
            (
                3,
                json!({"userId": "nWJ7HZLyI8l2otoNsxuXgA==", "statuses": [{"status": "Membre", "startDate": "2020-01-01T00:00:00"}]}),
            ),
            (
                4,
                json!({"userId": "homonyme", "entryId": "entry-1", "status": {"status": "Ancien"}}),
            ),
            (
                4,
                json!({"userId": "homonyme", "entryId": "entry-9", "status": {"status": "Ancien"}}),
            ),
            (
                5,
                json!({"userId": "homonyme", "status": {"status": "Ancien", "startDate": "2021-01-01T00:00:00"}}),
            ),
            (
                5,
                json!({"userId": "homonyme", "status": {"status": "Ancien", "startDate": "2020-01-01T00:00:00Z"}}),
            ),
            (
                5,
                json!({"customFieldAPIName": "member_status", "customFieldValue": "67890", "status": {"status": "Membre", "startDate": "2021-01-01T00:00:00"}}),
            ),
            (7, json!({})),
        ];
        for (route, request) in cases {
            check_slice_equivalence(&data, route, &request);
        }
    }
}
