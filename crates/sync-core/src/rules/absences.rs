//! The items of `absences-for-student`: dates, kind, justification, every bad item at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::parse_dd_mm_yyyy_hh_mm;

/// `absence` or `retard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AbsenceKind {
    /// A missed span.
    Absence,
    /// A late arrival.
    Retard,
}

/// One valid absence item, in wire form (the boolean written as the document spells it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    /// Start, `DD/MM/YYYY-HH:mm`, as sent (trimmed).
    #[serde(rename = "dateDebut")]
    pub start: String,
    /// End, `DD/MM/YYYY-HH:mm`, as sent (trimmed).
    #[serde(rename = "dateFin")]
    pub end: String,
    /// `absence` or `retard`.
    #[serde(rename = "type")]
    pub kind: AbsenceKind,
    /// Whether it is justified (`isJusitifie` in document 000, `isJustifie` accepted).
    #[serde(rename = "isJusitifie")]
    pub justified: bool,
    /// The reason, if given.
    #[serde(rename = "motif", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A problem of one absence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbsenceProblem {
    /// 0-based position in `data`.
    pub index: usize,
    /// The wire name of the field concerned, if one is.
    pub field: Option<&'static str>,
    /// `missing_field`, `invalid_type`, `invalid_date`, `date_order`, `invalid_value` or
    /// `unknown_field` (an error here: absence items have a closed set of fields).
    pub code: &'static str,
    /// A sentence a person can act on.
    pub message: String,
}

/// Checks the items of `absences-for-student`, reporting every bad item at once.
///
/// ```
/// use serde_json::json;
/// let items = [json!({"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-12:00",
///                     "type": "absence", "isJustifie": true})];
/// assert_eq!(sync_core::rules::check_absences(&items).unwrap()[0].justified, true);
/// let bad = [json!({"dateDebut": "31/02/2025-08:00", "type": "sick"})];
/// assert_eq!(sync_core::rules::check_absences(&bad).unwrap_err().len(), 4);
/// ```
pub fn check_absences(items: &[Value]) -> Result<Vec<Absence>, Vec<AbsenceProblem>> {
    let mut problems = Vec::new();
    let mut absences = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let before = problems.len();
        if let Some(absence) = check_absence(index, item, &mut problems) {
            if problems.len() == before {
                absences.push(absence);
            }
        }
    }
    if problems.is_empty() {
        Ok(absences)
    } else {
        Err(problems)
    }
}

fn check_absence(index: usize, item: &Value, out: &mut Vec<AbsenceProblem>) -> Option<Absence> {
    let mut report = |field, code, message: String| {
        out.push(AbsenceProblem {
            index,
            field,
            code,
            message,
        })
    };
    let Some(object) = item.as_object() else {
        report(
            None,
            "invalid_type",
            "an absence item must be a JSON object".to_owned(),
        );
        return None;
    };
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "dateDebut" | "dateFin" | "type" | "isJusitifie" | "isJustifie" | "motif"
        ) {
            report(None, "unknown_field", format!("unknown field {key}"));
        }
    }
    let mut text = |name: &'static str, required: bool| -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) if required => {
                report(Some(name), "missing_field", format!("{name} is required"));
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                report(Some(name), "missing_field", format!("{name} is blank"));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => {
                report(
                    Some(name),
                    "invalid_type",
                    format!("{name} must be a string"),
                );
                None
            }
        }
    };
    let start = text("dateDebut", true);
    let end = text("dateFin", true);
    let kind = text("type", true);
    let reason = text("motif", false);
    let mut at = |name: &'static str, value: &Option<String>| {
        let value = value.as_deref()?;
        let parsed = parse_dd_mm_yyyy_hh_mm(value);
        if parsed.is_none() {
            let message =
                format!("\"{value}\" is not a real date and time in the DD/MM/YYYY-HH:mm format");
            report(Some(name), "invalid_date", message);
        }
        parsed
    };
    let (from, to) = (at("dateDebut", &start), at("dateFin", &end));
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            let message = format!(
                "dateFin {} is before dateDebut {}",
                end.as_deref().unwrap_or_default(),
                start.as_deref().unwrap_or_default()
            );
            report(Some("dateFin"), "date_order", message);
        }
    }
    let kind = match kind.as_deref() {
        Some("absence") => Some(AbsenceKind::Absence),
        Some("retard") => Some(AbsenceKind::Retard),
        Some(other) => {
            let message = format!("type \"{other}\" is neither absence nor retard");
            report(Some("type"), "invalid_value", message);
            None
        }
        None => None,
    };
    let justified = match (object.get("isJusitifie"), object.get("isJustifie")) {
        (Some(Value::Bool(a)), Some(Value::Bool(b))) if a != b => {
            let message = "isJusitifie and isJustifie disagree".to_owned();
            report(Some("isJusitifie"), "invalid_value", message);
            None
        }
        (Some(Value::Bool(b)), _) | (None, Some(Value::Bool(b))) => Some(*b),
        (None, None) | (Some(Value::Null), None) | (None, Some(Value::Null)) => {
            let message = "isJusitifie (or isJustifie) is required".to_owned();
            report(Some("isJusitifie"), "missing_field", message);
            None
        }
        _ => {
            let message = "isJusitifie must be true or false".to_owned();
            report(Some("isJusitifie"), "invalid_type", message);
            None
        }
    };
    Some(Absence {
        start: start?,
        end: end?,
        kind: kind?,
        justified: justified?,
        reason: reason.filter(|r| !r.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_absence_item(item: Value, expected: &str) {
        let got = match check_absences(&[item]) {
            Ok(a) => format!("ok {:?} {}", a[0].kind, a[0].justified),
            Err(problems) => problems
                .iter()
                .map(|p| format!("{}:{}", p.field.unwrap_or("-"), p.code))
                .collect::<Vec<_>>()
                .join(" "),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn absences() {
        let ok = json!({"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-08:00", "type": "retard", "isJusitifie": false});
        check_absence_item(ok, "ok Retard false");
        check_absence_item(
            json!({"dateDebut": "01/09/2025-08:00", "dateFin": "02/09/2025-08:00", "type": "absence", "isJustifie": true, "motif": "x"}),
            "ok Absence true",
        );
        check_absence_item(
            json!({"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-07:59", "type": "absence", "isJustifie": true}),
            "dateFin:date_order",
        );
        check_absence_item(json!({"dateDebut": "01/09/2025 08:00", "dateFin": "01/09/2025-24:00", "type": "x", "isJustifie": "yes"}), "dateDebut:invalid_date dateFin:invalid_date type:invalid_value isJusitifie:invalid_type");
        check_absence_item(json!({"extra": 1}), "-:unknown_field dateDebut:missing_field dateFin:missing_field type:missing_field isJusitifie:missing_field");
        check_absence_item(json!([1]), "-:invalid_type");
        let two = check_absences(&[json!(1), json!(2)]).unwrap_err();
        assert_eq!(two.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 1]);
    }
}
