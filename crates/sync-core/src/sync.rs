//! Rules of a server's sync routes beyond validate and diff: the `/contrats/changes` merge, the
//! mass-removal guard, session-model matching (integrated contracts) and absence items.
//!
//! Values in, values out, like the rest of the core: the caller loads the active set and the
//! models, and decides what to do with a refusal.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::{normalize_email, Contract};
use crate::field::{Field, Role};
use crate::parse::Payload;
use crate::problem::Problem;
use crate::validate::KnownAccount;

// ---------------------------------------------------------------------------------------------
// The changes merge
// ---------------------------------------------------------------------------------------------

/// A delta sent to `POST /api/sync/v2/contrats/changes`, its lists already parsed.
#[derive(Debug, Clone, Default)]
pub struct Changes<'a> {
    /// New contracts.
    pub added: Payload<'a>,
    /// Full new versions of active contracts, matched on `codeContrat`.
    pub updated: Payload<'a>,
    /// `codeContrat` of active contracts to archive.
    pub removed: Vec<String>,
}

/// Which list of a delta a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeList {
    /// `changes.added`.
    Added,
    /// `changes.updated`.
    Updated,
    /// `changes.removed`.
    Removed,
}

/// The machine code of a delta problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeCode {
    /// An added contract's code is already active.
    AlreadyActive,
    /// An updated or removed code is not an active contract.
    UnknownContract,
    /// One code appears twice across the delta's lists.
    DuplicateChange,
}

/// A problem of a delta, located in its list. Serializes like [`Problem`] plus `list`; a
/// shape problem of a contract in a list keeps its own code in `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeProblem {
    /// The list the item is in.
    pub list: ChangeList,
    /// 0-based position in that list.
    pub index: usize,
    /// The contract code concerned, when known.
    #[serde(rename = "codeContrat")]
    pub contract_code: Option<String>,
    /// The wire name of the field concerned, if one is.
    pub field: Option<String>,
    /// The machine code: a [`ChangeCode`] or a [`crate::Code`], as a string.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

/// The result of merging a delta into the active set.
#[derive(Debug, Clone)]
pub struct Merged<'a> {
    /// The merged set: active contracts in their order (updated ones replaced, removed ones
    /// left out), then the added ones in delta order.
    pub contracts: Vec<Contract<'a>>,
    /// Every problem of the delta itself; the merged set still has to be validated as a whole.
    pub problems: Vec<ChangeProblem>,
}

impl Merged<'_> {
    /// Whether the delta itself has errors (shape warnings such as `unknown_field` do not count).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(ChangeProblem::is_error)
    }
}

impl ChangeProblem {
    /// Whether the problem refuses the delta (every delta code does; a shape problem of a
    /// contract keeps its severity).
    pub fn is_error(&self) -> bool {
        !is_warning_code(&self.code)
    }
}

fn is_warning_code(code: &str) -> bool {
    crate::problem::Code::ALL
        .iter()
        .any(|c| c.as_str() == code && !matches!(c.severity(), crate::Severity::Error))
}

/// Merges a delta into the active set, reporting every bad item at once: adding a code that
/// is active, updating or removing one that is not, or naming one code twice.
///
/// ```
/// use sync_core::{Contract, Field, Payload, sync::{merge_changes, Changes}};
/// let active = vec![Contract::from_pairs([(Field::CodeContrat, "A")])];
/// let changes = Changes {
///     added: Payload::from_contracts(vec![Contract::from_pairs([(Field::CodeContrat, "B")])]),
///     removed: vec!["A".into(), "Z".into()],
///     ..Changes::default()
/// };
/// let merged = merge_changes(&active, changes);
/// assert_eq!(merged.contracts.len(), 1);
/// assert_eq!(merged.problems[0].code, "unknown_contract");
/// ```
pub fn merge_changes<'a>(active: &[Contract<'a>], changes: Changes<'a>) -> Merged<'a> {
    let index: HashMap<&str, usize> = active
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key(), i))
        .collect();
    let mut problems = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut replaced: HashMap<usize, Contract<'a>> = HashMap::new();
    let mut dropped: HashSet<usize> = HashSet::new();

    for (list, payload) in [
        (ChangeList::Added, &changes.added),
        (ChangeList::Updated, &changes.updated),
    ] {
        for p in &payload.problems {
            problems.push(relocate(list, p));
        }
    }

    let mut report = |list, index: usize, code: &str, change: ChangeCode, message: String| {
        problems.push(ChangeProblem {
            list,
            index,
            contract_code: (!code.is_empty()).then(|| code.to_owned()),
            field: Some(Field::CodeContrat.name().to_owned()),
            code: change_code_str(change).to_owned(),
            message,
        });
    };
    // `None`: the key is blank; `Some(false)`: the key was already named in the delta.
    let mut claim = |key: &str| (!key.is_empty()).then(|| seen.insert(key.to_owned()));
    let duplicate = |key: &str| format!("codeContrat {key} appears more than once in the changes");

    let mut added = Vec::new();
    for (i, contract) in changes.added.contracts.into_iter().enumerate() {
        let key = contract.key().to_owned();
        match claim(&key) {
            Some(false) => report(
                ChangeList::Added,
                i,
                &key,
                ChangeCode::DuplicateChange,
                duplicate(&key),
            ),
            _ if index.contains_key(key.as_str()) => {
                let message = format!("codeContrat {key} is already active; send it in updated");
                report(
                    ChangeList::Added,
                    i,
                    &key,
                    ChangeCode::AlreadyActive,
                    message,
                );
            }
            // A blank key is added and reported by validation (`missing_field`).
            _ => added.push(contract),
        }
    }
    for (i, contract) in changes.updated.contracts.into_iter().enumerate() {
        let key = contract.key().to_owned();
        match (claim(&key), index.get(key.as_str())) {
            (Some(false), _) => report(
                ChangeList::Updated,
                i,
                &key,
                ChangeCode::DuplicateChange,
                duplicate(&key),
            ),
            (Some(true), Some(&at)) => {
                replaced.insert(at, contract);
            }
            _ => {
                let message = format!("codeContrat \"{key}\" is not an active contract");
                report(
                    ChangeList::Updated,
                    i,
                    &key,
                    ChangeCode::UnknownContract,
                    message,
                );
            }
        }
    }
    for (i, code) in changes.removed.iter().enumerate() {
        let key = code.trim();
        match (claim(key), index.get(key)) {
            (Some(false), _) => report(
                ChangeList::Removed,
                i,
                key,
                ChangeCode::DuplicateChange,
                duplicate(key),
            ),
            (Some(true), Some(&at)) => {
                dropped.insert(at);
            }
            _ => {
                let message = format!("codeContrat \"{key}\" is not an active contract");
                report(
                    ChangeList::Removed,
                    i,
                    key,
                    ChangeCode::UnknownContract,
                    message,
                );
            }
        }
    }

    let mut contracts: Vec<Contract<'a>> = Vec::with_capacity(active.len() + added.len());
    for (i, contract) in active.iter().enumerate() {
        if dropped.contains(&i) {
            continue;
        }
        contracts.push(replaced.remove(&i).unwrap_or_else(|| contract.clone()));
    }
    contracts.extend(added);
    problems.sort_by_key(|p| (p.list as u8, p.index));
    Merged {
        contracts,
        problems,
    }
}

fn change_code_str(code: ChangeCode) -> &'static str {
    match code {
        ChangeCode::AlreadyActive => "already_active",
        ChangeCode::UnknownContract => "unknown_contract",
        ChangeCode::DuplicateChange => "duplicate_change",
    }
}

fn relocate(list: ChangeList, p: &Problem) -> ChangeProblem {
    ChangeProblem {
        list,
        index: p.index.unwrap_or(0),
        contract_code: p.contract_code.clone(),
        field: p.field.clone(),
        code: p.code.as_str().to_owned(),
        message: p.message.clone(),
    }
}

/// The distinct accounts (user code, role, email) of a set of contracts, for
/// [`crate::validate_with`]: a host passes those of its stored contracts, archived included.
pub fn accounts(contracts: &[Contract<'_>]) -> Vec<KnownAccount> {
    let mut seen: HashSet<(&str, Role, Cow<'_, str>)> = HashSet::with_capacity(contracts.len() * 2);
    for contract in contracts {
        for role in Role::ALL {
            let [code_field, _, _, email_field] = role.fields();
            let code = contract.trimmed(code_field);
            if !code.is_empty() {
                seen.insert((code, role, normalize_email(contract.trimmed(email_field))));
            }
        }
    }
    seen.into_iter()
        .map(|(code, role, email)| KnownAccount {
            code: code.to_owned(),
            role,
            email: email.into_owned(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The mass-removal guard
// ---------------------------------------------------------------------------------------------

/// Share of the active contracts a sync may archive without confirmation, in percent.
pub const MASS_REMOVAL_PERCENT: usize = 30;
/// Below this many active contracts, the share is not checked.
pub const MASS_REMOVAL_MIN_ACTIVE: usize = 20;

/// A sync refused because it would archive too much of the active set (DESIGN 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this sync would archive {removed} of {active} active contracts, leaving {remaining}; \
     confirm with ?allowMassRemoval=true"
)]
pub struct MassRemoval {
    /// Active contracts before the sync.
    pub active: usize,
    /// Contracts the sync would archive.
    pub removed: usize,
    /// Contracts the sync would leave active.
    pub remaining: usize,
}

/// Refuses a sync that would archive more than 30% of the active set when it holds at least
/// 20 contracts, or that would leave nothing of a non-empty set.
///
/// ```
/// use sync_core::sync::guard_mass_removal;
/// assert!(guard_mass_removal(100, 30, 70).is_ok());
/// assert_eq!(guard_mass_removal(100, 31, 69).unwrap_err().removed, 31);
/// assert!(guard_mass_removal(10, 9, 1).is_ok());
/// assert!(guard_mass_removal(3, 3, 0).is_err());
/// ```
pub fn guard_mass_removal(
    active: usize,
    removed: usize,
    remaining: usize,
) -> Result<(), MassRemoval> {
    let too_many =
        active >= MASS_REMOVAL_MIN_ACTIVE && removed * 100 > active * MASS_REMOVAL_PERCENT;
    let emptied = active > 0 && remaining == 0;
    if too_many || emptied {
        Err(MassRemoval {
            active,
            removed,
            remaining,
        })
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Session models
// ---------------------------------------------------------------------------------------------

/// A session model configured by the integration team: a contract is integrated when a model
/// matches it. Fields a model omits match anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionModel {
    /// `codeFormation`.
    #[serde(rename = "codeFormation")]
    pub formation: String,
    /// `codeAnnee`.
    #[serde(rename = "codeAnnee")]
    pub year: String,
    /// `codeSite`, if the model is tied to one site.
    #[serde(rename = "codeSite", default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// `codePeriode`, if the model is tied to one period.
    #[serde(
        rename = "codePeriode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub period: Option<String>,
}

impl SessionModel {
    /// Whether the model matches the contract (values compared trimmed).
    pub fn matches(&self, contract: &Contract<'_>) -> bool {
        let eq = |want: &str, field| want.trim() == contract.trimmed(field);
        eq(&self.formation, Field::CodeFormation)
            && eq(&self.year, Field::CodeAnnee)
            && self.site.as_deref().is_none_or(|s| eq(s, Field::CodeSite))
            && self
                .period
                .as_deref()
                .is_none_or(|p| eq(p, Field::CodePeriode))
    }
}

/// Whether a contract is integrated: some model matches it.
pub fn is_integrated(models: &[SessionModel], contract: &Contract<'_>) -> bool {
    models.iter().any(|m| m.matches(contract))
}

/// Every problem of a list of models: blank `codeFormation`/`codeAnnee`, a blank optional
/// code (leave it out instead), the same model twice. Messages name the model's index.
pub fn check_session_models(models: &[SessionModel]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, m) in models.iter().enumerate() {
        for (name, value) in [
            ("codeFormation", Some(&m.formation)),
            ("codeAnnee", Some(&m.year)),
        ]
        .into_iter()
        .chain([
            ("codeSite", m.site.as_ref()),
            ("codePeriode", m.period.as_ref()),
        ]) {
            if value.is_some_and(|v| v.trim().is_empty()) {
                out.push(format!("model #{i}: {name} is blank"));
            }
        }
        let key = (
            m.formation.trim(),
            m.year.trim(),
            m.site.as_deref().map(str::trim),
            m.period.as_deref().map(str::trim),
        );
        if !seen.insert(key) {
            out.push(format!("model #{i}: the same model appears twice"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Absences
// ---------------------------------------------------------------------------------------------

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

/// Parses a `DD/MM/YYYY-HH:mm` date and time.
pub fn parse_date_time(value: &str) -> Option<NaiveDateTime> {
    let (date, time) = value.split_once('-')?;
    let date = crate::validate::parse_date(date)?;
    let b = time.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| u32::from(s[0] - b'0') * 10 + u32::from(s[1] - b'0');
    date.and_hms_opt(num(&b[..2]), num(&b[3..]), 0)
}

/// Checks the items of `absences-for-student`, reporting every bad item at once.
///
/// ```
/// use serde_json::json;
/// let items = [json!({"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-12:00",
///                     "type": "absence", "isJustifie": true})];
/// assert_eq!(sync_core::sync::check_absences(&items).unwrap()[0].justified, true);
/// let bad = [json!({"dateDebut": "31/02/2025-08:00", "type": "sick"})];
/// assert_eq!(sync_core::sync::check_absences(&bad).unwrap_err().len(), 4);
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
        let parsed = parse_date_time(value);
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

    fn contract(code: &str, formation: &str) -> Contract<'static> {
        Contract::from_pairs([
            (Field::CodeContrat, code.to_owned()),
            (Field::CodeFormation, formation.to_owned()),
            (Field::CodeAnnee, "Y1".to_owned()),
            (Field::CodeSite, "S1".to_owned()),
        ])
    }

    fn check_merge(added: &[&str], updated: &[&str], removed: &[&str], keys: &str, codes: &str) {
        let active = vec![contract("A", "F"), contract("B", "F"), contract("C", "F")];
        let changes = Changes {
            added: Payload::from_contracts(added.iter().map(|k| contract(k, "G")).collect()),
            updated: Payload::from_contracts(updated.iter().map(|k| contract(k, "H")).collect()),
            removed: removed.iter().map(|s| s.to_string()).collect(),
        };
        let merged = merge_changes(&active, changes);
        let got: Vec<String> = merged
            .contracts
            .iter()
            .map(|c| format!("{}{}", c.key(), c.trimmed(Field::CodeFormation)))
            .collect();
        assert_eq!(got.join(" "), keys);
        let got: Vec<String> = merged
            .problems
            .iter()
            .map(|p| format!("{:?}{}:{}", p.list, p.index, p.code))
            .collect();
        assert_eq!(got.join(" "), codes);
    }

    #[test]
    fn merge() {
        check_merge(&[], &[], &[], "AF BF CF", "");
        check_merge(&["D"], &["B"], &["A"], "BH CF DG", "");
        check_merge(&["A"], &[], &[], "AF BF CF", "Added0:already_active");
        check_merge(
            &[],
            &["Z"],
            &["Y", " C "],
            "AF BF",
            "Updated0:unknown_contract Removed0:unknown_contract",
        );
        check_merge(
            &["D", "D"],
            &[],
            &["D"],
            "AF BF CF DG",
            "Added1:duplicate_change Removed0:duplicate_change",
        );
        check_merge(&[], &["A"], &["A"], "AH BF CF", "Removed0:duplicate_change");
    }

    #[test]
    fn accounts_are_distinct() {
        let mut a = contract("A", "F");
        a.set(Field::CodeApprenant, Some("U1".into()));
        a.set(Field::EmailApprenant, Some(" U1@x.fr".into()));
        let mut b = a.clone();
        b.set(Field::EmailApprenant, Some("u1@X.FR".into()));
        b.set(Field::CodePersonnel, Some("T1".into()));
        let mut got: Vec<String> = accounts(&[a, b])
            .into_iter()
            .map(|k| format!("{} {} {}", k.code, k.role, k.email))
            .collect();
        got.sort();
        assert_eq!(got, ["T1 personnel ", "U1 apprenant u1@x.fr"]);
    }

    #[test]
    fn mass_removal() {
        let check = |active, removed, remaining, refused| {
            assert_eq!(
                guard_mass_removal(active, removed, remaining).is_err(),
                refused,
                "{active} {removed} {remaining}"
            );
        };
        check(0, 0, 0, false);
        check(19, 19, 5, false);
        check(19, 19, 0, true);
        check(20, 6, 14, false);
        check(20, 7, 13, true);
        check(1000, 300, 700, false);
        check(1000, 301, 10_000, true);
        assert!(MassRemoval {
            active: 20,
            removed: 7,
            remaining: 13
        }
        .to_string()
        .contains("7 of 20"));
    }

    #[test]
    fn models() {
        let m = |f: &str, y: &str, s: Option<&str>, p: Option<&str>| SessionModel {
            formation: f.into(),
            year: y.into(),
            site: s.map(Into::into),
            period: p.map(Into::into),
        };
        let c = contract("A", "F");
        assert!(m("F", "Y1", None, None).matches(&c));
        assert!(m(" F ", "Y1", Some("S1"), None).matches(&c));
        assert!(!m("F", "Y1", Some("S2"), None).matches(&c));
        assert!(!m("F", "Y1", None, Some("P")).matches(&c));
        assert!(!m("G", "Y1", None, None).matches(&c));
        assert!(is_integrated(
            &[m("G", "Y1", None, None), m("F", "Y1", None, None)],
            &c
        ));
        let problems = check_session_models(&[
            m("", "Y", Some(" "), None),
            m("F", "Y", None, None),
            m("F", "Y", None, None),
        ]);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

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
