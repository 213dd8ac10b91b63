//! The general path of [`parse`](crate::parse): any JSON through serde_json, with its errors
//! and positions, for what the fast [scanner](super::scan) gives up on.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::contract::Contract;
use crate::field::Field;
use crate::problem::{Code, Problem, ProblemField};

use super::builder::{ContractBuilder, KEY_ALIAS, WRAPPER_KEY};
use super::payload::{ParseError, Payload};

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
                    field: Some(ProblemField::Other(key.into_owned())),
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
