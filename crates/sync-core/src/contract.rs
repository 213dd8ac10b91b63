//! The contract: one value per field, borrowed from the payload where it can be, and its
//! canonical comparison (DESIGN 3.3).

use std::borrow::Cow;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::field::{Field, FIELD_COUNT};

/// One apprenticeship contract as it came on the wire.
///
/// Values are kept as sent (not trimmed): the canonical form is only used to compare. A field
/// the payload did not carry, or carried as `null`, is `None`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Contract<'a> {
    values: [Option<Cow<'a, str>>; FIELD_COUNT],
}

impl<'a> Contract<'a> {
    /// An empty contract: every field absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a contract from `(field, value)` pairs; later pairs win.
    pub fn from_pairs<I, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (Field, V)>,
        V: Into<Cow<'a, str>>,
    {
        let mut contract = Self::new();
        for (field, value) in pairs {
            contract.set(field, Some(value.into()));
        }
        contract
    }

    /// The value of a field as sent, if present.
    #[inline]
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field.index()].as_deref()
    }

    /// The value of a field, trimmed; absent fields read as `""`.
    #[inline]
    pub fn trimmed(&self, field: Field) -> &str {
        self.get(field).map_or("", str::trim)
    }

    /// Sets (or, with `None`, removes) a field.
    pub fn set(&mut self, field: Field, value: Option<Cow<'a, str>>) {
        self.values[field.index()] = value;
    }

    /// The contract key: `codeContrat`, trimmed (`""` when absent).
    #[inline]
    pub fn key(&self) -> &str {
        self.trimmed(Field::CodeContrat)
    }

    /// The present fields and their values, in wire order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &str)> + '_ {
        Field::ALL
            .iter()
            .zip(&self.values)
            .filter_map(|(f, v)| v.as_deref().map(|v| (*f, v)))
    }

    /// A copy that owns its strings, so it can outlive the payload it was parsed from.
    pub fn into_owned(self) -> Contract<'static> {
        Contract {
            values: self.values.map(|v| v.map(|s| Cow::Owned(s.into_owned()))),
        }
    }

    /// Whether the two contracts are canonically equal (DESIGN 3.3): strings trimmed, emails
    /// compared case-insensitively, absent and empty fields equal.
    pub fn canonical_eq(&self, other: &Contract<'_>) -> bool {
        Field::ALL
            .iter()
            .all(|&f| field_eq(f, self.get(f), other.get(f)))
    }

    /// The fields whose canonical values differ, in wire order.
    pub fn changed_fields<'s>(
        &'s self,
        other: &'s Contract<'_>,
    ) -> impl Iterator<Item = Field> + 's {
        Field::ALL
            .iter()
            .copied()
            .filter(move |&f| !field_eq(f, self.get(f), other.get(f)))
    }
}

/// Compares two values of `field` canonically.
#[inline]
pub fn field_eq(field: Field, a: Option<&str>, b: Option<&str>) -> bool {
    let a = a.map_or("", str::trim);
    let b = b.map_or("", str::trim);
    if a == b {
        return true;
    }
    field.is_email() && email_eq(a, b)
}

/// Case-insensitive comparison of two trimmed emails.
pub fn email_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// The canonical form of an email: trimmed and lowercased, borrowed when already canonical.
pub fn normalize_email(email: &str) -> Cow<'_, str> {
    let email = email.trim();
    if email
        .bytes()
        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
    {
        Cow::Owned(email.to_lowercase())
    } else {
        Cow::Borrowed(email)
    }
}

impl fmt::Debug for Contract<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.fields()).finish()
    }
}

/// Writes the wire format: present fields only, in table order, values as sent.
impl Serialize for Contract<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = self.values.iter().filter(|v| v.is_some()).count();
        let mut map = serializer.serialize_map(Some(len))?;
        for (field, value) in self.fields() {
            map.serialize_entry(field.name(), value)?;
        }
        map.end()
    }
}
