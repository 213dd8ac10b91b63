//! The `/contrats/changes` merge: a delta (added, updated, removed) applied to the active set,
//! every bad item reported at once.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use serde::Serialize;

use crate::contract::Contract;
use crate::field::Field;
use crate::parse::Payload;
use crate::problem::{Code, Problem, Severity};

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
    Code::ALL
        .iter()
        .any(|c| c.as_str() == code && !matches!(c.severity(), Severity::Error))
}

/// Merges a delta into the active set, reporting every bad item at once: adding a code that
/// is active, updating or removing one that is not, or naming one code twice.
///
/// ```
/// use sync_core::{Contract, Field, Payload, rules::{merge_changes, Changes}};
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
        field: p.field.as_ref().map(|f| f.name().to_owned()),
        code: p.code.as_str().to_owned(),
        message: p.message.clone(),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A contract of formation `formation`, year `Y1` and site `S1`.
    pub(in crate::rules) fn contract(code: &str, formation: &str) -> Contract<'static> {
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
}
