//! What both backends' cycle tables share: how a credit kind and an object are stored, and
//! which objects changed between two values; and the error of a stored value that does not
//! read back, which their run tables use too. No SQL here.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sync_cycle::CreditKind;

use crate::{Result, StoreError};

/// A stored value that does not read back (a corrupt store).
pub(crate) fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt {
        source: message.into(),
    }
}

/// A credit kind as stored.
pub(crate) fn kind_name(kind: CreditKind) -> &'static str {
    match kind {
        CreditKind::Completed => "completed",
        CreditKind::Exempted => "exempted",
        CreditKind::Provider => "provider",
    }
}

/// A credit kind read back.
pub(crate) fn kind_from(name: &str) -> Result<CreditKind> {
    match name {
        "completed" => Ok(CreditKind::Completed),
        "exempted" => Ok(CreditKind::Exempted),
        "provider" => Ok(CreditKind::Provider),
        other => Err(corrupt(format!("unknown credit kind {other:?}"))),
    }
}

/// A stored object (the JSON text of a cycle, period, member...).
pub(crate) fn object(json: &str) -> Result<Map<String, Value>> {
    Ok(serde_json::from_str(json)?)
}

/// The keys whose value differs between `before` and `after`, with the value in `after`
/// (`None`: deleted).
pub(crate) fn changed<'a, V: PartialEq>(
    before: &'a BTreeMap<String, V>,
    after: &'a BTreeMap<String, V>,
) -> impl Iterator<Item = (&'a String, Option<&'a V>)> {
    let written = after
        .iter()
        .filter(|(id, value)| before.get(*id) != Some(*value))
        .map(|(id, value)| (id, Some(value)));
    let deleted = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .map(|id| (id, None));
    written.chain(deleted)
}
