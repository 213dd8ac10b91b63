//! Validation of a payload: every problem at once, in payload order (DESIGN 3.2).
//!
//! Checks on one contract (required fields, dates, emails, brand) run in parallel; checks
//! across contracts (duplicates, user codes and emails, reference names, group placement) are
//! in [`cross`](crate::cross), partitioned by entity and parallel too.

use std::borrow::Cow;

use chrono::NaiveDate;
use foldhash::{HashMap, HashSet, HashSetExt};
use rayon::prelude::*;

use crate::contract::{normalize_email, Contract};
use crate::field::{Field, Role};
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
    let contracts = &payload.contracts;
    let mut problems: Vec<Problem> = payload.problems.clone();
    problems.par_extend(
        contracts
            .par_iter()
            .enumerate()
            .flat_map_iter(|(index, contract)| contract_problems(payload, index, contract)),
    );
    problems.extend(crate::cross::cross_problems(contracts));
    if !known.is_empty() {
        check_known(contracts, known, &mut problems);
    }
    let mut report = Report { problems };
    report.sort();
    report
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

/// The checks that look at one contract alone.
fn contract_problems(payload: &Payload<'_>, index: usize, contract: &Contract<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    for field in Field::ALL {
        let value = contract.trimmed(field);
        if value.is_empty() {
            if field.is_required() && !payload.has_type_error(index, field) {
                let message = format!("required field {field} is absent, null or blank");
                out.push(problem(index, contract, field, Code::MissingField, message));
            }
            continue;
        }
        if field.is_date() && parse_date(value).is_none() {
            let message = format!("\"{value}\" is not a real date in the DD/MM/YYYY format");
            out.push(problem(index, contract, field, Code::InvalidDate, message));
        }
        if field.is_email() && !is_plausible_email(value) {
            let message = format!("\"{value}\" is not a plausible email address");
            out.push(problem(index, contract, field, Code::InvalidEmail, message));
        }
    }
    let start = parse_date(contract.trimmed(Field::DateDebut));
    let end = parse_date(contract.trimmed(Field::DateFin));
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            let message = format!(
                "dateDebut {} is after dateFin {}",
                contract.trimmed(Field::DateDebut),
                contract.trimmed(Field::DateFin)
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
    let brand_code = contract.trimmed(Field::CodeMarque);
    let brand_name = contract.trimmed(Field::NomMarque);
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
    out
}

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
    if value.len() > 254 {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let forbidden = |part: &str| {
        let special = |c: char| "@,;:<>()[]\\\"".contains(c);
        if part.is_ascii() {
            // The same test on bytes: ASCII white space and controls are all <= ' ' or DEL.
            part.bytes().any(|b| {
                b <= b' '
                    || b == 0x7f
                    || matches!(
                        b,
                        b'@' | b','
                            | b';'
                            | b':'
                            | b'<'
                            | b'>'
                            | b'('
                            | b')'
                            | b'['
                            | b']'
                            | b'\\'
                            | b'"'
                    )
            })
        } else {
            part.chars()
                .any(|c| c.is_whitespace() || c.is_control() || special(c))
        }
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
