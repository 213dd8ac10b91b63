//! Validation of a payload: every problem at once, in payload order (DESIGN 3.2).
//!
//! The contracts are read once, in parallel chunks: each contract's values are trimmed once,
//! checked alone (required fields, dates, emails, brand), and turned into the events of the
//! checks across contracts (duplicates, user codes and emails, reference names, group
//! placement), which [`cross`](crate::cross) then joins, partitioned by entity and parallel
//! too.

use std::borrow::Cow;

use chrono::NaiveDate;
use foldhash::{HashMap, HashSet, HashSetExt};
use rayon::prelude::*;

use crate::contract::{normalize_email, Contract};
use crate::cross::{bucket_bits, cross_problems, Events, Firsts, Gathered, Touched, CHUNK};
use crate::diff::Diff;
use crate::field::{Field, Role, FIELD_COUNT};
use crate::parse::Payload;
use crate::problem::{Code, Problem, Report};

/// A user account already known to the host (a server's stored contracts, archived ones
/// included). Validation refuses a payload that binds its code or email differently.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KnownAccount {
    /// The user code.
    pub code: String,
    /// The role the code holds.
    pub role: Role,
    /// The account's email.
    pub email: String,
}

/// Validates a payload on its own.
pub fn validate(payload: &Payload<'_>) -> Report {
    validate_with(payload, &[])
}

/// Validates a payload, and checks its user codes and emails against accounts the host
/// already holds: a code stored in another role is a `code_role_conflict`, an email stored
/// for another code an `email_conflict`, each naming the stored owner.
pub fn validate_with(payload: &Payload<'_>, known: &[KnownAccount]) -> Report {
    checked(payload, known, None, false).0
}

/// What validating an export keeps for validating the export after it (see
/// [`validate_since`]): where each user, email, reference and group first shows up in it.
/// [`validate_indexed`] makes it for an export without problems, unknown fields aside.
pub struct Carried<'v> {
    /// The export's contracts.
    contracts: &'v [Contract<'v>],
    firsts: Firsts,
}

impl std::fmt::Debug for Carried<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carried")
            .field("contracts", &self.contracts.len())
            .finish_non_exhaustive()
    }
}

/// Validates a payload as [`validate`] does and, when it has no problem (unknown fields
/// aside), keeps what [`validate_since`] needs to validate the export after it: the second
/// value is `None` otherwise.
pub fn validate_indexed<'v>(payload: &'v Payload<'_>) -> (Report, Option<Carried<'v>>) {
    // Where values first show up is kept as 32-bit contract numbers.
    let keep = u32::try_from(payload.contracts.len()).is_ok_and(|n| n < u32::MAX);
    let (report, firsts) = checked(payload, &[], None, keep);
    let carried = firsts.filter(|_| clean(&report)).map(|firsts| Carried {
        contracts: &payload.contracts,
        firsts,
    });
    (report, carried)
}

/// Whether a report has no problem but unknown fields.
fn clean(report: &Report) -> bool {
    report.problems.iter().all(|p| p.code == Code::UnknownField)
}

/// Validates `current` as [`validate`] does, faster when most of it is unchanged since the
/// export before: `previous` is what [`validate_indexed`] kept of that export (`None` when it
/// had problems), and `diff` the diff of that export with `current` (computed before
/// `current` is validated; see [`diff`](crate::diff::diff) on sets that may not be valid).
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
/// [`validate`] gives. Without `previous`, with most contracts changed, or with a `diff` of
/// other sets, this is [`validate`].
///
/// ```
/// use sync_core::gen::{generate, Options};
/// use sync_core::{diff, validate, validate_indexed, validate_since, Payload};
///
/// let school = generate(&Options { contracts: 1000, seed: 7, change_rate: 0.1 });
/// let previous = Payload::from_contracts(school.previous);
/// let current = Payload::from_contracts(school.current);
/// let (report, carried) = validate_indexed(&previous);
/// assert!(report.is_valid() && carried.is_some());
/// let changes = diff(&previous.contracts, &current.contracts);
/// assert_eq!(validate_since(carried.as_ref(), &changes, &current), validate(&current));
/// ```
pub fn validate_since(
    previous: Option<&Carried<'_>>,
    diff: &Diff<'_, '_>,
    current: &Payload<'_>,
) -> Report {
    let contracts = &current.contracts;
    let same_set = std::ptr::eq(diff.current.as_ptr(), contracts.as_ptr())
        && diff.current.len() == contracts.len();
    let previous = previous.filter(|p| {
        std::ptr::eq(
            p.contracts.as_ptr().cast::<()>(),
            diff.previous.as_ptr().cast(),
        ) && p.contracts.len() == diff.previous.len()
    });
    // With most contracts changed, finding the values they touch costs more than it saves.
    let Some(previous) =
        previous.filter(|_| same_set && diff.verbatim.len() >= contracts.len() / 2)
    else {
        return validate(current);
    };
    let mut verbatim = vec![false; contracts.len()];
    for &i in &diff.verbatim {
        verbatim[i] = true;
    }
    let changed: Vec<usize> = (0..contracts.len()).filter(|&i| !verbatim[i]).collect();
    let events = match agreeing(previous, current, &changed, !diff.key_twice) {
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
/// with `previous` (see [`Firsts::agree`]) and, as the caller knows from the diff, no key of
/// `previous` is taken twice (`keys_once`). Otherwise the events of the changed contracts,
/// for the caller to find the unchanged contracts that carry the same values.
///
/// Then no contract conflicts with another: the unchanged ones did not in `previous`, and
/// each value a changed one carries agrees with every contract of `previous` that carries it.
/// Keys cannot repeat either: `previous` had each once, an unchanged or updated contract
/// takes the key of a distinct previous one, and added keys are checked among the changed
/// contracts. The problems are those of the changed contracts alone.
fn agreeing<'c>(
    previous: &Carried<'_>,
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
        || !previous
            .firsts
            .agree(previous.contracts, contracts, &events)
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
) -> (Report, Option<Firsts>) {
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

/// Builds a problem about contract `index`.
pub(crate) fn problem(
    index: usize,
    contract: &Contract<'_>,
    field: Field,
    code: Code,
    message: String,
) -> Problem {
    let key = contract.key();
    Problem {
        index: Some(index),
        contract_code: (!key.is_empty()).then(|| key.to_owned()),
        field: Some(field.name().to_owned()),
        code,
        message,
    }
}

/// Runs of fields that contracts following each other often share (a group and its
/// placement, each tutor), compared a run at a time.
const SHARED_RUNS: [std::ops::Range<usize>; 3] = [
    Field::CodeGroupe.index()..Field::CodeMarque.index(),
    Field::CodePersonnel.index()..Field::CodeMaitreApprentissage.index(),
    Field::CodeMaitreApprentissage.index()..Field::MissionTitle.index(),
];

/// The fields (one bit each, by [`Field::index`]) that `contract` has with the same value as
/// `previous`, as far as one comparison per run of [`SHARED_RUNS`] tells.
fn repeated_fields(previous: &Contract<'_>, contract: &Contract<'_>) -> u32 {
    SHARED_RUNS
        .iter()
        .filter(|run| contract.same_block(previous, (*run).clone()))
        .fold(0, |mask, run| {
            mask | ((1u32 << run.end) - (1u32 << run.start))
        })
}

/// The checks that look at one contract alone, whose trimmed values are `values`. The emails
/// of `known_valid` (one bit a field) are those of the contract before, found valid there:
/// they are not checked again. Returns the emails found invalid.
fn contract_problems(
    payload: &Payload<'_>,
    index: usize,
    contract: &Contract<'_>,
    values: &[&str; FIELD_COUNT],
    known_valid: u32,
    out: &mut Vec<Problem>,
) -> u32 {
    let value = |field: Field| values[field.index()];
    let empty = values
        .iter()
        .enumerate()
        .fold(0u32, |mask, (i, v)| mask | u32::from(v.is_empty()) << i);
    // The fields to look at, in field order: required ones left empty, dates and emails given.
    let mut attention = (empty & REQUIRED) | (!empty & (DATES | (EMAILS & !known_valid)));
    let (mut start, mut end) = (None, None);
    let mut invalid_emails = 0;
    while attention != 0 {
        let field = Field::ALL[attention.trailing_zeros() as usize];
        attention &= attention - 1;
        let value = value(field);
        if value.is_empty() {
            if !payload.has_type_error(index, field) {
                let message = format!("required field {field} is absent, null or blank");
                out.push(problem(index, contract, field, Code::MissingField, message));
            }
        } else if field.is_date() {
            let date = parse_date(value);
            if date.is_none() {
                let message = format!("\"{value}\" is not a real date in the DD/MM/YYYY format");
                out.push(problem(index, contract, field, Code::InvalidDate, message));
            }
            *(if field == Field::DateDebut {
                &mut start
            } else {
                &mut end
            }) = date;
        } else if !is_plausible_email(value) {
            let message = format!("\"{value}\" is not a plausible email address");
            out.push(problem(index, contract, field, Code::InvalidEmail, message));
            invalid_emails |= 1 << field.index();
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            let message = format!(
                "dateDebut {} is after dateFin {}",
                value(Field::DateDebut),
                value(Field::DateFin)
            );
            out.push(problem(
                index,
                contract,
                Field::DateDebut,
                Code::DateOrder,
                message,
            ));
        }
    }
    let brand_code = value(Field::CodeMarque);
    let brand_name = value(Field::NomMarque);
    if brand_code.is_empty() != brand_name.is_empty() {
        let (field, message) = if brand_name.is_empty() {
            (
                Field::NomMarque,
                "codeMarque is set but nomMarque is not; send both or neither",
            )
        } else {
            (
                Field::CodeMarque,
                "nomMarque is set but codeMarque is not; send both or neither",
            )
        };
        // A brand part that is there but not a string is already an `invalid_type`.
        if !payload.has_type_error(index, field) {
            out.push(problem(
                index,
                contract,
                field,
                Code::BrandIncomplete,
                message.to_owned(),
            ));
        }
    }
    invalid_emails
}

/// Required fields, dates and emails, as masks (one bit per field, in `Field::index` order).
const REQUIRED: u32 = FIELD_MASKS[0];
const DATES: u32 = FIELD_MASKS[1];
const EMAILS: u32 = FIELD_MASKS[2];
const FIELD_MASKS: [u32; 3] = {
    let mut masks = [0; 3];
    let mut i = 0;
    while i < FIELD_COUNT {
        let field = Field::ALL[i];
        let properties = [field.is_required(), field.is_date(), field.is_email()];
        let mut p = 0;
        while p < 3 {
            if properties[p] {
                masks[p] |= 1 << i;
            }
            p += 1;
        }
        i += 1;
    }
    masks
};

/// Parses a real `DD/MM/YYYY` date (two-digit day and month, four-digit year).
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (day, month, year) = (num(0..2)?, num(3..5)?, num(6..10)?);
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Whether a trimmed string looks like an email address: one `@`, a non-empty local part, a
/// dotted domain, no spaces or characters that cannot appear unquoted.
pub fn is_plausible_email(value: &str) -> bool {
    value.len() <= 254
        && plausible_ascii_email(value.as_bytes()).unwrap_or_else(|| plausible_email(value))
}

/// The classes of bytes the email automaton tells apart.
const OTHER: u8 = 0;
const DOT: u8 = 1;
const DASH: u8 = 2;
const AT: u8 = 3;
/// White space, controls and the specials that cannot appear unquoted (non-ASCII bytes too,
/// which the automaton is never given).
const BAD: u8 = 4;

static EMAIL_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        if c <= b' ' as usize || c >= 0x7f {
            table[c] = BAD;
        }
        c += 1;
    }
    let specials = b",;:<>()[]\\\"";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = BAD;
        i += 1;
    }
    table[b'.' as usize] = DOT;
    table[b'-' as usize] = DASH;
    table[b'@' as usize] = AT;
    table
};

/// The states of the automaton: where the address read so far stands. `FAIL` keeps it.
const FAIL: u8 = 0;
/// Nothing read yet.
const LOCAL_START: u8 = 1;
/// In the local part, after a character other than a dot.
const LOCAL: u8 = 2;
/// In the local part, after a dot.
const LOCAL_DOT: u8 = 3;
/// Just after the `@`.
const DOMAIN_START: u8 = 4;
/// In the domain's first label (no dot yet), after a character other than `-`.
const LABEL: u8 = 5;
/// In the domain's first label, after a `-`.
const LABEL_DASH: u8 = 6;
/// Just after a dot of the domain.
const DOTTED_START: u8 = 7;
/// In a later label, after a character other than `-`: the one state that accepts.
const DOTTED: u8 = 8;
/// In a later label, after a `-`.
const DOTTED_DASH: u8 = 9;

/// The next state, by state and class (`OTHER`, `DOT`, `DASH`, `AT`, `BAD`).
static EMAIL_NEXT: [[u8; 8]; 16] = {
    // The states after an ordinary character, a dot, a dash and an `@`; `BAD` always fails.
    const fn after(other: u8, dot: u8, dash: u8, at: u8) -> [u8; 8] {
        [other, dot, dash, at, FAIL, FAIL, FAIL, FAIL]
    }
    let mut next = [[FAIL; 8]; 16];
    next[LOCAL_START as usize] = after(LOCAL, FAIL, LOCAL, FAIL);
    next[LOCAL as usize] = after(LOCAL, LOCAL_DOT, LOCAL, DOMAIN_START);
    next[LOCAL_DOT as usize] = after(LOCAL, FAIL, LOCAL, FAIL);
    next[DOMAIN_START as usize] = after(LABEL, FAIL, FAIL, FAIL);
    next[LABEL as usize] = after(LABEL, DOTTED_START, LABEL_DASH, FAIL);
    next[LABEL_DASH as usize] = after(LABEL, FAIL, LABEL_DASH, FAIL);
    next[DOTTED_START as usize] = after(DOTTED, FAIL, FAIL, FAIL);
    next[DOTTED as usize] = after(DOTTED, DOTTED_START, DOTTED_DASH, FAIL);
    next[DOTTED_DASH as usize] = after(DOTTED, FAIL, DOTTED_DASH, FAIL);
    next
};

/// [`plausible_email`] for an ASCII value, read once by a small automaton (one table step a
/// byte, no branch on the bytes); `None` (the rules on characters then decide) when the value
/// is not ASCII.
fn plausible_ascii_email(value: &[u8]) -> Option<bool> {
    if !value.is_ascii() {
        return None;
    }
    let state = value.iter().fold(LOCAL_START, |state, &b| {
        EMAIL_NEXT[usize::from(state) & 15][usize::from(EMAIL_CLASS[usize::from(b)]) & 7]
    });
    // A local part of 64 bytes at most: the `@` is looked for only in longer values.
    let short_local = value.len() <= 65 || value.iter().position(|&b| b == b'@') <= Some(64);
    Some(state == DOTTED && short_local)
}

/// The rules of [`is_plausible_email`], on characters.
fn plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let forbidden = |part: &str| {
        part.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@,;:<>()[]\\\"".contains(c))
    };
    !local.is_empty()
        && local.len() <= 64
        && !forbidden(local)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && !forbidden(domain)
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// Checks the payload's users against accounts the host already holds.
fn check_known(contracts: &[Contract<'_>], known: &[KnownAccount], out: &mut Vec<Problem>) {
    let by_code: HashMap<&str, &KnownAccount> = known.iter().map(|a| (a.code.trim(), a)).collect();
    let by_email: HashMap<Cow<'_, str>, &KnownAccount> = known
        .iter()
        .filter(|a| !a.email.trim().is_empty())
        .map(|a| (normalize_email(&a.email), a))
        .collect();
    let mut reported: HashSet<(Code, String)> = HashSet::new();
    for (index, contract) in contracts.iter().enumerate() {
        for role in Role::ALL {
            let [code_field, _, _, email_field] = role.fields();
            let code = contract.trimmed(code_field);
            if code.is_empty() {
                continue;
            }
            if let Some(account) = by_code.get(code) {
                if account.role != role
                    && reported.insert((Code::CodeRoleConflict, code.to_owned()))
                {
                    let message = format!(
                        "user code {code} is used here as {role} but is already a stored {} account",
                        account.role
                    );
                    out.push(problem(
                        index,
                        contract,
                        code_field,
                        Code::CodeRoleConflict,
                        message,
                    ));
                }
            }
            let email = normalize_email(contract.trimmed(email_field));
            if email.is_empty() {
                continue;
            }
            if let Some(account) = by_email.get(&email) {
                if account.code.trim() != code
                    && reported.insert((Code::EmailConflict, email.clone().into_owned()))
                {
                    let message = format!(
                        "email {email} is carried by user code {code} here but already belongs to the stored account {} ({})",
                        account.code.trim(),
                        account.role
                    );
                    out.push(problem(
                        index,
                        contract,
                        email_field,
                        Code::EmailConflict,
                        message,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use std::borrow::Cow;

    use super::{agreeing, is_plausible_email, plausible_ascii_email, plausible_email};
    use crate::field::Field;
    use crate::gen::{generate, Options};
    use crate::problem::{Code, Report};
    use crate::{diff, parse, validate, validate_indexed, validate_since, Contract, Payload};

    /// Validating an export since the one before reads only its changed contracts when they
    /// agree with where their values first show up in the export before, and reports their
    /// own problems; each kind of disagreement with an unchanged contract sends it back to the
    /// unchanged contracts, and the conflict is reported where validating alone reports it.
    #[test]
    fn changed_contracts_are_checked_against_where_their_values_first_show_up() {
        let generated = generate(&Options {
            contracts: 2 * crate::cross::CHUNK + 300,
            seed: 21,
            change_rate: 0.1,
        });
        let previous = Payload::from_contracts(generated.previous.clone());
        let (report, carried) = validate_indexed(&previous);
        assert!(report.problems.is_empty(), "{report:?}");
        let carried = carried.expect("kept for a valid export");
        // Validates `current` since `previous`: the report of the changed contracts alone
        // (`None` when they may conflict), and the report, the same as validating alone.
        let since = |current: Vec<Contract<'static>>| -> (Option<Report>, Report) {
            let current = Payload::from_contracts(current);
            let d = diff(&previous.contracts, &current.contracts);
            let mut changed: Vec<usize> = (0..current.contracts.len()).collect();
            changed.retain(|i| d.verbatim.binary_search(i).is_err());
            // A key sent twice: the diff tells.
            let fast = agreeing(&carried, &current, &changed, !d.key_twice).ok();
            let report = validate_since(Some(&carried), &d, &current);
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

    proptest! {
        /// The one-pass ASCII check and the rules on characters agree on every ASCII value.
        #[test]
        fn the_ascii_email_check_follows_the_rules(
            near in "[ab.\\-]{0,4}@[ab.\\-]{0,7}",
            shaped in "[ab]{0,2}([.\\-]{1,2}[ab]{0,2}){0,2}@[ab]{0,2}([.\\-]{1,2}[ab]{0,2}){0,3}",
            odd in "[ab.@ ,\\x7f]{0,10}",
            any in "[\\x00-\\x7f]{0,16}",
        ) {
            for value in [near, shaped, odd, any] {
                prop_assert_eq!(plausible_ascii_email(value.as_bytes()), Some(plausible_email(&value)), "{:?}", value);
            }
        }

        /// Whatever the characters, the check answers as the rules on characters.
        #[test]
        fn the_email_check_follows_the_rules(value in "[ab.@\\- é\\u{a0}\\u{2028}]{0,12}") {
            prop_assert_eq!(is_plausible_email(&value), plausible_email(&value), "{:?}", value);
        }
    }

    #[test]
    fn the_ascii_email_check_on_examples() {
        for (value, plausible) in [
            ("a@b.fr", true),
            ("a.b@c-d.e.fr", true),
            ("-a-@b.c-d", true),
            ("a@b.c--d.e", true),
            ("a@b.c-.d", false),
            ("@b.fr", false),
            (".a@b.fr", false),
            ("a.@b.fr", false),
            ("a..b@c.fr", false),
            ("a@b", false),
            ("a@.b.fr", false),
            ("a@b..fr", false),
            ("a@b.fr.", false),
            ("a@-b.fr", false),
            ("a@b-.fr", false),
            ("a@b.fr-", false),
            ("a@b@c.fr", false),
            ("a b@c.fr", false),
            ("a@c.fr\u{7f}", false),
        ] {
            assert_eq!(
                plausible_ascii_email(value.as_bytes()),
                Some(plausible),
                "{value}"
            );
            assert_eq!(plausible_email(value), plausible, "{value}");
        }
        for (local, plausible) in [(64, true), (65, false)] {
            let value = format!("{}@b.fr", "a".repeat(local));
            assert_eq!(plausible_ascii_email(value.as_bytes()), Some(plausible));
            assert_eq!(plausible_email(&value), plausible);
        }
    }
}
