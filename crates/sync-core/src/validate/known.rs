//! Checks against the accounts a host already holds (a server's stored contracts).

use std::borrow::Cow;

use foldhash::{HashMap, HashSet, HashSetExt};

use crate::contract::{normalize_email, Contract};
use crate::field::Role;
use crate::problem::{Code, Problem};

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

/// Checks the payload's users against accounts the host already holds.
pub(super) fn check_known(
    contracts: &[Contract<'_>],
    known: &[KnownAccount],
    out: &mut Vec<Problem>,
) {
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
                    out.push(Problem::about(
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
                    out.push(Problem::about(
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

/// The distinct accounts (user code, role, email) of a set of contracts, for
/// [`validate_with`](crate::validate_with): a host passes those of its stored contracts, archived included.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Field;

    fn contract(code: &str) -> Contract<'static> {
        Contract::from_pairs([(Field::CodeContrat, code.to_owned())])
    }

    #[test]
    fn accounts_are_distinct() {
        let mut a = contract("A");
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
}
