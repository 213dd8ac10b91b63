//! Building one contract from its keys and values, shared by both parse paths.

use std::borrow::Cow;

use crate::contract::Contract;
use crate::field::{Field, FIELD_COUNT};
use crate::problem::{Code, Problem, ProblemField};

use super::payload::Payload;

/// The key's spelling in document 000's table, accepted as input.
pub(super) const KEY_ALIAS: &str = "ccodeContrat";
/// The key of the newer object form of the payload.
pub(crate) const WRAPPER_KEY: &str = "contrats";

/// Builds one contract from its keys and values, collecting its shape problems; shared by the
/// general parser and the fast scanner so that both report the same.
pub(crate) struct ContractBuilder<'a> {
    index: usize,
    values: [Option<Cow<'a, str>>; FIELD_COUNT],
    alias: Option<Cow<'a, str>>,
    /// (field, code, message), turned into problems once the key is known.
    pending: Vec<(ProblemField, Code, String)>,
}

impl<'a> ContractBuilder<'a> {
    pub(crate) fn new(index: usize) -> Self {
        ContractBuilder {
            index,
            values: Default::default(),
            alias: None,
            pending: Vec::new(),
        }
    }

    /// A value of a known field (`None`: null).
    #[inline]
    pub(crate) fn field(&mut self, field: Field, value: Option<Cow<'a, str>>) {
        self.values[field.index()] = value;
    }

    /// A key that is not a field: the key's alias, or an unknown field (ignored, warned).
    pub(crate) fn other(&mut self, key: Cow<'a, str>, value: Option<Cow<'a, str>>) {
        if key == KEY_ALIAS {
            self.alias = value;
        } else {
            let message = "field not listed by the contract document; ignored".to_owned();
            self.pending.push((
                ProblemField::Other(key.into_owned()),
                Code::UnknownField,
                message,
            ));
        }
    }

    /// A value of `field` (`None`: the key alias) that is not a string.
    pub(super) fn type_error(
        &mut self,
        payload: &mut Payload<'_>,
        field: Option<Field>,
        kind: &str,
    ) {
        let name = field.map_or_else(
            || ProblemField::Other(KEY_ALIAS.to_owned()),
            ProblemField::Known,
        );
        let message = format!("expected a string, found {kind}");
        self.pending.push((name, Code::InvalidType, message));
        if let Some(field) = field {
            payload.type_errors.insert((self.index, field));
        }
    }

    /// The contract, with its key alias resolved and its problems added to the payload.
    /// `src`, when given, is the object's text in the input: the contract borrows it when
    /// every value is a slice of it.
    pub(crate) fn finish(
        mut self,
        payload: &mut Payload<'_>,
        src: Option<&'a str>,
    ) -> Contract<'a> {
        let key = Field::CodeContrat.index();
        // A blank value counts as absent (as for `missing_field`): a blank spelling gives way
        // to the other one, and is no conflict.
        if let Some(alias) = self.alias.filter(|a| !a.trim().is_empty()) {
            match &self.values[key] {
                None => self.values[key] = Some(alias),
                Some(code) if code.trim().is_empty() => self.values[key] = Some(alias),
                Some(code) if code.trim() == alias.trim() => {}
                Some(code) => {
                    let message = format!(
                        "codeContrat \"{code}\" and ccodeContrat \"{alias}\" differ; send only one of them"
                    );
                    self.pending.push((
                        ProblemField::Other(KEY_ALIAS.to_owned()),
                        Code::KeyConflict,
                        message,
                    ));
                }
            }
        }
        let contract = src
            .and_then(|src| Contract::borrowing(src, &self.values))
            .unwrap_or_else(|| Contract::from_values(&self.values));
        if !self.pending.is_empty() {
            let key = contract.key();
            let contract_code = (!key.is_empty()).then(|| key.to_owned());
            let index = self.index;
            payload
                .problems
                .extend(
                    self.pending
                        .into_iter()
                        .map(|(field, code, message)| Problem {
                            index: Some(index),
                            contract_code: contract_code.clone(),
                            field: Some(field),
                            code,
                            message,
                        }),
                );
        }
        contract
    }
}
