//! Parsing a payload of document 000: a bare JSON array of contracts, or `{"contrats": [...]}`.
//!
//! Strings are borrowed from the input where JSON escapes allow it. Problems of shape that do
//! not stop the parse (a field that is not a string, an unknown field, `codeContrat` and
//! `ccodeContrat` disagreeing) are collected in the [`Payload`]; only input that is not JSON,
//! or not an array of objects, fails with a [`ParseError`].

use std::borrow::Cow;
use std::fmt;

use foldhash::HashSet;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::contract::Contract;
use crate::field::{Field, FIELD_COUNT};
use crate::problem::{Code, Problem};

/// The key's spelling in document 000's table, accepted as input.
const KEY_ALIAS: &str = "ccodeContrat";
/// The key of the newer object form of the payload.
pub(crate) const WRAPPER_KEY: &str = "contrats";

/// A payload that is not JSON, or not an array of contract objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem (0 when the input is empty).
    pub column: usize,
    /// What was wrong, without the position.
    pub message: String,
}

impl ParseError {
    fn from_json(err: serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        ParseError {
            line,
            column,
            message,
        }
    }

    /// The same error as an `invalid_json` problem of the whole file.
    pub fn to_problem(&self) -> Problem {
        Problem {
            index: None,
            contract_code: None,
            field: None,
            code: Code::InvalidJson,
            message: self.to_string(),
        }
    }
}

/// A parsed payload: the contracts in payload order, and the shape problems met on the way.
#[derive(Debug, Clone, Default)]
pub struct Payload<'a> {
    /// The contracts, in payload order: `contracts[i]` is item `i` of the payload.
    pub contracts: Vec<Contract<'a>>,
    /// Shape problems (`invalid_type`, `unknown_field`, `key_conflict`), in payload order.
    pub problems: Vec<Problem>,
    /// `(index, field)` of every value that was not a string, so that validation does not
    /// also report it missing.
    pub(crate) type_errors: HashSet<(usize, Field)>,
}

impl<'a> Payload<'a> {
    /// A payload made of contracts that were not parsed (built in code or loaded from a store).
    pub fn from_contracts(contracts: Vec<Contract<'a>>) -> Self {
        Payload {
            contracts,
            ..Payload::default()
        }
    }

    /// Whether item `index` carried `field` with a value that was not a string.
    pub(crate) fn has_type_error(&self, index: usize, field: Field) -> bool {
        !self.type_errors.is_empty() && self.type_errors.contains(&(index, field))
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> Payload<'static> {
        Payload {
            contracts: self
                .contracts
                .into_iter()
                .map(Contract::into_owned)
                .collect(),
            problems: self.problems,
            type_errors: self.type_errors,
        }
    }
}

/// The UTF-8 byte order mark. RFC 8259 lets a parser ignore it, and exports written by Windows
/// tools often start with it.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Parses a payload from bytes (strict JSON, UTF-8; a leading UTF-8 byte order mark is
/// ignored, and positions count from after it).
///
/// Input that is not UTF-8 fails with an error that says so, where, and what the file
/// probably is (UTF-16, Latin-1), instead of the JSON error it leads to.
///
/// ```
/// let payload = sync_core::parse(br#"{"contrats": [{"codeContrat": "C1"}]}"#).unwrap();
/// assert_eq!(payload.contracts[0].key(), "C1");
/// let err = sync_core::parse(b"[{\"codeContrat\": }]").unwrap_err();
/// assert_eq!((err.line, err.column), (1, 18)); // the `}` where a value was expected
/// ```
pub fn parse(input: &[u8]) -> Result<Payload<'_>, ParseError> {
    let input = without_bom(input);
    match crate::scan::scan(input) {
        Ok(payload) => Ok(payload),
        Err(crate::scan::GiveUp) => {
            parse_general(input).map_err(|err| encoding_error(input).unwrap_or(err))
        }
    }
}

/// `input` without its leading UTF-8 byte order mark, if it has one: what [`parse`] reads, and
/// what a client sends on (RFC 8259: a sender must not add one).
pub fn without_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(UTF8_BOM).unwrap_or(input)
}

/// When `input` is not UTF-8, the error that says so.
fn encoding_error(input: &[u8]) -> Option<ParseError> {
    let at_start = |message: &str| ParseError {
        line: 1,
        column: 1,
        message: format!("{message}; the file must be UTF-8"),
    };
    if input.starts_with(b"\xff\xfe") || input.starts_with(b"\xfe\xff") {
        return Some(at_start(
            "the file is UTF-16 (it starts with a UTF-16 byte order mark)",
        ));
    }
    if input.iter().take(4).any(|&b| b == 0) {
        return Some(at_start(
            "the file looks like UTF-16 or UTF-32 (it has NUL bytes at its start)",
        ));
    }
    let bad = simdutf8::compat::from_utf8(input).err()?.valid_up_to();
    let before = &input[..bad];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    Some(ParseError {
        line: before.iter().filter(|&&b| b == b'\n').count() + 1,
        column: bad - line_start + 1,
        message: format!(
            "byte 0x{:02X} is not UTF-8; the file must be UTF-8 (a file saved as Latin-1 or \
             Windows-1252 must be converted)",
            input[bad]
        ),
    })
}

/// The general parser: any JSON, with serde_json's errors and positions.
pub(crate) fn parse_general(input: &[u8]) -> Result<Payload<'_>, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(input);
    let mut payload = Payload::default();
    PayloadSeed(&mut payload)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(ParseError::from_json)?;
    Ok(payload)
}

struct PayloadSeed<'p, 'a>(&'p mut Payload<'a>);

impl<'de> DeserializeSeed<'de> for PayloadSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PayloadSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of contracts or an object {\"contrats\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ContractsSeed(self.0).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key_seed(StrSeed)? {
            if key == WRAPPER_KEY && !seen {
                seen = true;
                map.next_value_seed(ContractsSeed(&mut *self.0))?;
            } else if key == WRAPPER_KEY {
                return Err(de::Error::custom("duplicate key \"contrats\""));
            } else {
                map.next_value::<IgnoredAny>()?;
                self.0.problems.push(Problem {
                    index: None,
                    contract_code: None,
                    field: Some(key.into_owned()),
                    code: Code::UnknownField,
                    message: "unknown top-level key, ignored (expected only \"contrats\")".into(),
                });
            }
        }
        if !seen {
            return Err(de::Error::custom(
                "expected an array of contracts or an object with a \"contrats\" array",
            ));
        }
        Ok(())
    }
}

struct ContractsSeed<'p, 'a>(&'p mut Payload<'a>);

impl<'de> DeserializeSeed<'de> for ContractsSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ContractsSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of contract objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(hint) = seq.size_hint() {
            self.0.contracts.reserve(hint);
        }
        loop {
            let index = self.0.contracts.len();
            let seed = ContractSeed {
                payload: &mut *self.0,
                index,
            };
            match seq.next_element_seed(seed)? {
                Some(contract) => self.0.contracts.push(contract),
                None => return Ok(()),
            }
        }
    }
}

struct ContractSeed<'p, 'a> {
    payload: &'p mut Payload<'a>,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for ContractSeed<'_, 'de> {
    type Value = Contract<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Contract<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ContractSeed<'_, 'de> {
    type Value = Contract<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a contract object (item {})", self.index)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Contract<'de>, A::Error> {
        let mut builder = ContractBuilder::new(self.index);
        while let Some(key) = map.next_key_seed(StrSeed)? {
            let field = Field::from_name(&key);
            if field.is_none() && key != KEY_ALIAS {
                map.next_value::<IgnoredAny>()?;
                builder.other(key, None);
                continue;
            }
            let value = match map.next_value_seed(ValueSeed)? {
                Value::Str(s) => Some(s),
                Value::Null => None,
                Value::Other(kind) => {
                    builder.type_error(self.payload, field, kind);
                    None
                }
            };
            match field {
                Some(field) => builder.field(field, value),
                None => builder.other(key, value),
            }
        }
        Ok(builder.finish(self.payload, None))
    }
}

/// Builds one contract from its keys and values, collecting its shape problems; shared by the
/// general parser and the fast scanner so that both report the same.
pub(crate) struct ContractBuilder<'a> {
    index: usize,
    values: [Option<Cow<'a, str>>; FIELD_COUNT],
    alias: Option<Cow<'a, str>>,
    /// (field, code, message), turned into problems once the key is known.
    pending: Vec<(String, Code, String)>,
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
            self.pending
                .push((key.into_owned(), Code::UnknownField, message));
        }
    }

    /// A value of `field` (`None`: the key alias) that is not a string.
    fn type_error(&mut self, payload: &mut Payload<'_>, field: Option<Field>, kind: &str) {
        let name = field.map_or(KEY_ALIAS, Field::name);
        let message = format!("expected a string, found {kind}");
        self.pending
            .push((name.to_owned(), Code::InvalidType, message));
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
                    self.pending
                        .push((KEY_ALIAS.to_owned(), Code::KeyConflict, message));
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

/// A string, borrowed from the input when it has no escapes.
struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StrSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A field value: a string, null, or something else (reported as `invalid_type`).
enum Value<'a> {
    Str(Cow<'a, str>),
    Null,
    Other(&'static str),
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Value::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Value::Other("a number"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Other("an object"))
    }
}
