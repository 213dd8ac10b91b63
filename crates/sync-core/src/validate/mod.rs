//! Validation of a payload: every problem at once, in payload order (DESIGN 3.2).
//!
//! The contracts are read once, in parallel chunks: each contract's values are trimmed once,
//! checked alone ([`contract`]: required fields, dates, emails, brand), and turned into the
//! events of the checks across contracts (duplicates, user codes and emails, reference names,
//! group placement), which [`cross`] then joins, partitioned by entity and parallel too.
//! [`known`] checks a payload against accounts the host already holds. The modules below this
//! one never call it back.

mod contract;
mod cross;
mod date;
mod email;
mod known;

use rayon::prelude::*;

use crate::contract::Contract;
use crate::diff::Diff;
use crate::parse::Payload;
use crate::problem::{Code, Problem, Report};

use contract::{contract_problems, repeated_fields};
use cross::{bucket_bits, cross_problems, Events, Gathered, Touched, CHUNK};
use known::check_known;

pub(crate) use cross::FirstOccurrences;
pub use date::{parse_dd_mm_yyyy, parse_dd_mm_yyyy_hh_mm};
pub use email::is_plausible_email;
pub use known::{accounts, KnownAccount};

/// Validates a payload on its own.
///
/// ```
/// let payload = sync_core::parse(br#"[{"codeContrat": "C1", "dateDebut": "31/02/2025"}]"#)?;
/// let report = sync_core::validate(&payload);
/// assert!(!report.is_valid());
/// assert!(report.errors().any(|p| p.code == sync_core::Code::InvalidDate));
/// # Ok::<(), sync_core::ParseError>(())
/// ```
pub fn validate(payload: &Payload<'_>) -> Report {
    validate_with(payload, &[])
}

/// Validates a payload, and checks its user codes and emails against accounts the host
/// already holds: a code stored in another role is a `code_role_conflict`, an email stored
/// for another code an `email_conflict`, each naming the stored owner. [`accounts`] gives the
/// accounts of a set of contracts.
pub fn validate_with(payload: &Payload<'_>, known: &[KnownAccount]) -> Report {
    checked(payload, known, None, false).0
}

/// Validates a payload as [`validate`] does and, when it has no problem (unknown fields
/// aside), keeps where its values first show up, for [`validate_since`]: `None` otherwise.
pub(crate) fn validate_indexed(payload: &Payload<'_>) -> (Report, Option<FirstOccurrences>) {
    // Where values first show up is kept as 32-bit contract numbers.
    let keep = u32::try_from(payload.contracts.len()).is_ok_and(|n| n < u32::MAX);
    let (report, firsts) = checked(payload, &[], None, keep);
    let firsts = firsts.filter(|_| clean(&report));
    (report, firsts)
}

/// Whether a report has no problem but unknown fields.
fn clean(report: &Report) -> bool {
    report.problems.iter().all(|p| p.code == Code::UnknownField)
}

/// Validates `current` as [`validate`] does, faster when most of it is unchanged since the
/// export before: `firsts` is what [`validate_indexed`] kept of that export, `previous`, and
/// `diff` the diff of `previous` with `current` (computed before `current` is validated).
/// [`Baseline`](crate::Baseline) is the one caller, so the three always belong together.
///
/// A contract whose text is its previous version's, byte for byte (as far as their
/// fingerprints tell, as for the diff's `same`), is not checked alone again: it passed those
/// checks as it is. Only the other contracts are read, and the users, emails, references and
/// groups they carry are checked against each other and against where they first show up in
/// the previous export: in an export without conflicts, every contract that carries a value
/// agrees with that first one, so the unchanged contracts need not be read at all. When a
/// changed contract disagrees with the previous export (a tutor's new email, say), or a key
/// comes twice, the unchanged contracts that carry what the changed ones touch are read too,
/// so that each problem is reported where [`validate`] reports it. The report is the one
/// [`validate`] gives. With most contracts changed, this is [`validate`].
pub(crate) fn validate_since(
    firsts: &FirstOccurrences,
    previous: &[Contract<'_>],
    diff: &Diff<'_, '_>,
    current: &Payload<'_>,
) -> Report {
    let contracts = &current.contracts;
    // With most contracts changed, finding the values they touch costs more than it saves.
    if diff.verbatim.len() < contracts.len() / 2 {
        return validate(current);
    }
    let mut verbatim = vec![false; contracts.len()];
    for &i in &diff.verbatim {
        verbatim[i] = true;
    }
    let changed: Vec<usize> = (0..contracts.len()).filter(|&i| !verbatim[i]).collect();
    let events = match agreeing(firsts, previous, current, &changed, !diff.key_twice) {
        Ok(report) => return report,
        Err(events) => events,
    };
    // The unchanged contracts are read for the values the changed ones carry.
    let touched = Touched::with_capacity(changed.len() * VALUES_PER_CONTRACT);
    events.par_iter().for_each(|chunk| chunk.mark(&touched));
    checked(current, &[], Some(Since { verbatim, touched }), false).0
}

/// The report of `payload`, whose contracts other than `changed` are unchanged since the
/// export of `previous`, when the changed contracts conflict neither with each other nor
/// with `previous` (see [`FirstOccurrences::agree`]) and, as the caller knows from the diff, no key of
/// `previous` is taken twice (`keys_once`). Otherwise the events of the changed contracts,
/// for the caller to find the unchanged contracts that carry the same values.
///
/// Then no contract conflicts with another: the unchanged ones did not in `previous`, and
/// each value a changed one carries agrees with every contract of `previous` that carries it.
/// Keys cannot repeat either: `previous` had each once, an unchanged or updated contract
/// takes the key of a distinct previous one, and added keys are checked among the changed
/// contracts. The problems are those of the changed contracts alone.
fn agreeing<'c>(
    firsts: &FirstOccurrences,
    previous: &[Contract<'_>],
    payload: &'c Payload<'_>,
    changed: &[usize],
    keys_once: bool,
) -> Result<Report, Vec<Events<'c>>> {
    let contracts = &payload.contracts;
    let bits = bucket_bits(changed.len());
    let (per_contract, events): (Vec<Vec<Problem>>, Vec<Events<'_>>) = changed
        .par_chunks(CHUNK)
        .map_init(Gathered::default, |gathered, chunk| {
            let mut problems = Vec::new();
            for &index in chunk {
                let contract = &contracts[index];
                let values = contract.trimmed_values();
                contract_problems(payload, index, contract, &values, 0, &mut problems);
                gathered.add(index, contract, &values, 0, None);
            }
            (problems, gathered.take_events(bits))
        })
        .unzip();
    if !keys_once
        || !cross_problems(contracts, &events, false).0.is_empty()
        || !firsts.agree(previous, contracts, &events)
    {
        return Err(events);
    }
    let mut problems: Vec<Problem> = payload.problems.clone();
    problems.extend(per_contract.into_iter().flatten());
    let mut report = Report { problems };
    report.sort();
    Ok(report)
}

/// The most users, emails, references and groups one contract carries: three users and their
/// emails, six references, a group.
const VALUES_PER_CONTRACT: usize = 13;

/// What [`validate_since`] knows of the export before: which contracts are unchanged since,
/// and the values the others carry.
struct Since {
    verbatim: Vec<bool>,
    touched: Touched,
}

/// The validation of [`validate_with`], [`validate_indexed`] and [`validate_since`]; with
/// `keep`, also where each value first shows up.
fn checked(
    payload: &Payload<'_>,
    known: &[KnownAccount],
    since: Option<Since>,
    keep: bool,
) -> (Report, Option<FirstOccurrences>) {
    let contracts = &payload.contracts;
    let bits = bucket_bits(contracts.len());
    let verbatim = |index: usize| since.as_ref().is_some_and(|s| s.verbatim[index]);
    let (per_contract, events): (Vec<Vec<Problem>>, Vec<Events<'_>>) = contracts
        .par_chunks(CHUNK)
        .enumerate()
        .map_init(Gathered::default, |gathered, (c, chunk)| {
            let mut problems = Vec::new();
            // The contract before, and the emails found invalid in it.
            let mut previous: Option<(&Contract<'_>, u32)> = None;
            for (i, contract) in chunk.iter().enumerate() {
                let index = c * CHUNK + i;
                let values = contract.trimmed_values();
                let (repeated, invalid_before) = previous.map_or((0, 0), |(p, invalid)| {
                    (repeated_fields(p, contract), invalid)
                });
                let (invalid, only) = if verbatim(index) {
                    (0, since.as_ref().map(|s| &s.touched))
                } else {
                    let invalid = contract_problems(
                        payload,
                        index,
                        contract,
                        &values,
                        repeated & !invalid_before,
                        &mut problems,
                    );
                    (invalid, None)
                };
                gathered.add(index, contract, &values, repeated, only);
                previous = Some((contract, invalid));
            }
            (problems, gathered.take_events(bits))
        })
        .unzip();
    let mut problems: Vec<Problem> = payload.problems.clone();
    problems.extend(per_contract.into_iter().flatten());
    let (across, firsts) = cross_problems(contracts, &events, keep);
    problems.extend(across);
    if !known.is_empty() {
        check_known(contracts, known, &mut problems);
    }
    let mut report = Report { problems };
    report.sort();
    (report, firsts)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{agreeing, validate_indexed, validate_since};
    use crate::field::Field;
    use crate::gen::{generate, Options};
    use crate::problem::{Code, Report};
    use crate::{diff, parse, validate, Contract, Payload};

    /// Validating an export since the one before reads only its changed contracts when they
    /// agree with where their values first show up in the export before, and reports their
    /// own problems; each kind of disagreement with an unchanged contract sends it back to the
    /// unchanged contracts, and the conflict is reported where validating alone reports it.
    #[test]
    fn changed_contracts_are_checked_against_where_their_values_first_show_up() {
        let generated = generate(&Options {
            contracts: 2 * super::CHUNK + 300,
            seed: 21,
            change_rate: 0.1,
        });
        let previous = Payload::from_contracts(generated.previous.clone());
        let (report, firsts) = validate_indexed(&previous);
        assert!(report.problems.is_empty(), "{report:?}");
        let firsts = firsts.expect("kept for a valid export");
        // Validates `current` since `previous`: the report of the changed contracts alone
        // (`None` when they may conflict), and the report, the same as validating alone.
        let since = |current: Vec<Contract<'static>>| -> (Option<Report>, Report) {
            let current = Payload::from_contracts(current);
            let d = diff(&previous.contracts, &current.contracts);
            let mut changed: Vec<usize> = (0..current.contracts.len()).collect();
            changed.retain(|i| d.verbatim.binary_search(i).is_err());
            // A key sent twice: the diff tells.
            let fast = agreeing(
                &firsts,
                &previous.contracts,
                &current,
                &changed,
                !d.key_twice,
            )
            .ok();
            let report = validate_since(&firsts, &previous.contracts, &d, &current);
            assert_eq!(report, validate(&current));
            (fast, report)
        };
        let codes =
            |report: &Report| -> Vec<Code> { report.problems.iter().map(|p| p.code).collect() };
        let set = |c: &mut Contract<'static>, field: Field, value: &str| {
            c.set(field, Some(Cow::Owned(value.to_owned())));
        };
        // The export before and one contract more: any conflict is between that one and
        // unchanged contracts.
        let d = diff(&previous.contracts, &generated.current);
        let mut current = generated.previous;
        current.push(generated.current[d.added[0]].clone());
        drop(d);
        let (added, unchanged) = (current.len() - 1, current.len() / 2);
        let get = |index: usize, field: Field| current[index].get(field).unwrap().to_owned();

        // A changed contract with a problem of its own, nothing across contracts.
        let mut dated = current.clone();
        set(&mut dated[added], Field::DateFin, "31/02/2027");
        let (fast, report) = since(dated);
        assert_eq!(fast.as_ref(), Some(&report));
        assert_eq!(codes(&report), [Code::InvalidDate]);

        // A company tutor has few contracts: the others of this one are unchanged.
        let tutor = get(unchanged, Field::CodeMaitreApprentissage);
        let other_site = (0..current.len())
            .find(|&i| current[i].get(Field::CodeSite) != current[added].get(Field::CodeSite))
            .unwrap();
        let disagreements: [(&str, Vec<_>, Code); 6] = [
            (
                "a company tutor with another email",
                vec![
                    (Field::CodeMaitreApprentissage, tutor.clone()),
                    (
                        Field::EmailMaitreApprentissage,
                        "autre.adresse@entreprise.example".into(),
                    ),
                ],
                Code::UserConflict,
            ),
            (
                "a company tutor with another first name",
                vec![
                    (Field::CodeMaitreApprentissage, tutor.clone()),
                    (
                        Field::PrenomMaitreApprentissage,
                        get(unchanged, Field::PrenomMaitreApprentissage) + "e",
                    ),
                    (
                        Field::NomMaitreApprentissage,
                        get(unchanged, Field::NomMaitreApprentissage),
                    ),
                    (
                        Field::EmailMaitreApprentissage,
                        get(unchanged, Field::EmailMaitreApprentissage),
                    ),
                ],
                Code::UserNameMismatch,
            ),
            (
                "an apprentice's code as a company tutor's",
                vec![(
                    Field::CodeMaitreApprentissage,
                    get(unchanged, Field::CodeApprenant),
                )],
                Code::CodeRoleConflict,
            ),
            (
                "an apprentice's email for a new apprentice",
                vec![(Field::EmailApprenant, get(unchanged, Field::EmailApprenant))],
                Code::EmailConflict,
            ),
            (
                "a site renamed",
                vec![(Field::NomSite, "Ailleurs".into())],
                Code::ReferenceConflict,
            ),
            (
                "a group placed in another site",
                vec![
                    (Field::CodeSite, get(other_site, Field::CodeSite)),
                    (Field::NomSite, get(other_site, Field::NomSite)),
                ],
                Code::GroupConflict,
            ),
        ];
        for (what, values, code) in disagreements {
            let mut changed = current.clone();
            for (field, value) in &values {
                set(&mut changed[added], *field, value);
            }
            let (fast, report) = since(changed);
            assert_eq!(fast, None, "{what}");
            assert!(codes(&report).contains(&code), "{what}: {report:?}");
        }

        // A company tutor who changes email on every contract disagrees with the export
        // before, yet nothing conflicts: the unchanged contracts are read, to find nothing.
        let mut renamed = current.clone();
        for contract in &mut renamed {
            if contract.get(Field::CodeMaitreApprentissage) == Some(&tutor) {
                set(
                    contract,
                    Field::EmailMaitreApprentissage,
                    "nouvelle.adresse@entreprise.example",
                );
            }
        }
        let (fast, report) = since(renamed);
        assert_eq!(fast, None);
        assert!(report.problems.is_empty(), "{report:?}");

        // An unchanged contract sent twice: the diff tells, and the copy is reported.
        let mut twice = current.clone();
        twice.push(current[unchanged].clone());
        let (fast, report) = since(twice);
        assert_eq!(fast, None);
        assert_eq!(codes(&report), [Code::DuplicateContract]);
    }

    /// Contracts that repeat the one before (same tutor, same group) are not checked again
    /// field by field, yet every problem of each is reported, as for contracts held otherwise.
    #[test]
    fn a_tutor_repeated_on_following_contracts_is_checked_on_each() {
        let mut contracts = generate(&Options {
            contracts: 12,
            seed: 3,
            change_rate: 0.0,
        })
        .previous;
        let tutor = [
            (Field::CodePersonnel, "PERX"),
            (Field::PrenomPersonnel, "Ana"),
            (Field::NomPersonnel, "Roy"),
            (Field::EmailPersonnel, "ana..roy@ecole.example"),
        ];
        for contract in &mut contracts[2..6] {
            for (field, value) in tutor {
                contract.set(field, Some(value.into()));
            }
        }
        // The same tutor once more, after another one, with another name.
        for (field, value) in tutor {
            contracts[7].set(field, Some(value.into()));
        }
        contracts[7].set(Field::NomPersonnel, Some("Roi".into()));
        let json = serde_json::to_vec(&contracts).unwrap();
        let parsed = parse(&json).unwrap();
        let report = validate(&parsed);
        let found = |code: Code| -> Vec<usize> {
            report
                .problems
                .iter()
                .filter(|p| p.code == code)
                .filter_map(|p| p.index)
                .collect()
        };
        assert_eq!(found(Code::InvalidEmail), [2, 3, 4, 5, 7]);
        assert_eq!(found(Code::UserNameMismatch), [7]);
        let rebuilt: Vec<Contract<'_>> = parsed
            .contracts
            .iter()
            .map(|c| Contract::from_pairs(c.fields()))
            .collect();
        assert_eq!(validate(&Payload::from_contracts(rebuilt)), report);
    }
}
