//! Session models: which active contracts are integrated.

use foldhash::{HashSet, HashSetExt};
use serde::{Deserialize, Serialize};

use crate::contract::Contract;
use crate::field::Field;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::changes::tests::contract;

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
}
