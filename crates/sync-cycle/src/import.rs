//! The import that loads cycles, periods, members and credits: its format and its checks.
//!
//! One JSON object `{"cycles", "periods", "members", "credits"}`, each an array of objects
//! upserted by id. The format is checked field by field on the JSON value rather than
//! deserialized into structs, so that a refused import names every problem with its path
//! (`periods[2].startDate`), not only the first.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::dates::parse_date;
use crate::ids::normalize_id;
use crate::model::{Credit, CreditKind, CycleData, Member};

/// A problem of an import: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// Where in the import: `periods[2].startDate`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Whether it is the body's shape that is wrong (a member missing or of the wrong JSON
    /// type, an unknown key), rather than a value (a blank id, a date, an unknown reference).
    /// Not serialized.
    #[serde(skip)]
    pub shape: bool,
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

impl CycleData {
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
                shape: true,
            }]);
        };
        for key in object.keys() {
            if !["cycles", "periods", "members", "credits"].contains(&key.as_str()) {
                problems.push(ImportProblem {
                    path: key.clone(),
                    message: "unknown key: expected cycles, periods, members or credits".into(),
                    shape: true,
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
        // A problem of the body's shape, and one of a value.
        let problems = std::cell::RefCell::new(problems);
        let shape = |path: String, message: &str| {
            problems.borrow_mut().push(ImportProblem {
                path,
                message: message.to_owned(),
                shape: true,
            })
        };
        let problem = |path: String, message: &str| {
            problems.borrow_mut().push(ImportProblem {
                path,
                message: message.to_owned(),
                shape: false,
            })
        };
        let (cycles, periods) = (list("cycles"), list("periods"));
        let (members, credits) = (list("members"), list("credits"));
        for name in ["cycles", "periods", "members", "credits"] {
            if object
                .get(name)
                .is_some_and(|v| !v.is_array() && !v.is_null())
            {
                shape(name.into(), "expected an array");
            }
        }

        for (i, item) in cycles.iter().enumerate() {
            let path = |field: &str| format!("cycles[{i}].{field}");
            let Some(fields) = item.as_object() else {
                shape(format!("cycles[{i}]"), "expected an object");
                continue;
            };
            let Some(id) = required_text(fields.get("cycleId"), path("cycleId"), &shape, &problem)
            else {
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
                    shape(path(field), &message);
                }
            }
            upsert(&mut next.cycles, normalize_id(id), fields);
            summary.cycles += 1;
        }

        for (i, item) in periods.iter().enumerate() {
            let path = |field: &str| format!("periods[{i}].{field}");
            let Some(fields) = item.as_object() else {
                shape(format!("periods[{i}]"), "expected an object");
                continue;
            };
            let Some(id) = required_text(
                fields.get("cyclePeriodId"),
                path("cyclePeriodId"),
                &shape,
                &problem,
            ) else {
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
                    shape(path(field), &message);
                }
            }
            if let Some(start) = fields.get("startDate") {
                match start.as_str().map(parse_date) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => problem(path("startDate"), &e.to_string()),
                    None => shape(path("startDate"), "expected an ISO 8601 string"),
                }
            }
            if let Some(requirements) = fields.get("requirements").and_then(Value::as_array) {
                for (r, requirement) in requirements.iter().enumerate() {
                    let ok = requirement.as_object().is_some_and(|o| {
                        o.get("type").is_none_or(Value::is_number)
                            && o.get("targetValue").is_none_or(Value::is_number)
                    });
                    if !ok {
                        shape(
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
            let Some(id) = required_text(item.get("userId"), path("userId"), &shape, &problem)
            else {
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
                            _ => shape(
                                format!("members[{i}].customFields.{name}"),
                                "expected a string or a number",
                            ),
                        }
                    }
                }
                Some(_) => shape(path("customFields"), "expected an object of name: value"),
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
                None => shape(path("memberId"), "required: a string"),
            }
            match &period {
                Some(p) if next.periods.contains_key(p) => {}
                Some(_) => problem(path("cyclePeriodId"), "no period has this id"),
                None => shape(path("cyclePeriodId"), "required: a string"),
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
                shape(path("credits"), "expected a number");
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

        let problems = problems.into_inner();
        if problems.is_empty() {
            *self = next;
            Ok(summary)
        } else {
            Err(problems)
        }
    }
}

/// A required id: a shape problem when missing or not a string, a value problem when blank.
fn required_text<'v>(
    value: Option<&'v Value>,
    path: String,
    shape: &impl Fn(String, &str),
    problem: &impl Fn(String, &str),
) -> Option<&'v str> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::String(_)) => {
            problem(path, "required: a non-empty string");
            None
        }
        _ => {
            shape(path, "required: a non-empty string");
            None
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
pub(crate) mod tests {
    use serde_json::json;

    use crate::model::CycleData;

    /// A portal with the document's ids: one cycle, two periods, two members and credits
    /// that make the document's `getuserprogress` example answer what it shows.
    pub(crate) fn portal() -> CycleData {
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

    #[test]
    fn a_bad_import_changes_nothing() {
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
}
