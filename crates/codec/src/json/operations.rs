//! An RFC 6902 document read straight into its operations, with the crate's own messages.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::ctx::Ctx;
use super::value::{SkipSeed, ValueSeed};
use crate::{Error, Limits};

/// The members of one RFC 6902 operation as read, before they are checked.
#[derive(Debug, Default)]
pub(crate) struct RawOperation {
    pub(crate) op: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) value: Option<Value>,
}

/// Reads a JSON Patch document straight into its operations (no intermediate `Value` but for
/// the operations' values), nesting at most `limits.max_depth` levels. Members other than
/// `op`, `path`, `from` and `value` are skipped; of a repeated member the last counts, as in
/// any JSON object read into a map.
///
/// # Errors
///
/// [`Error::Syntax`], [`Error::TooDeep`], [`Error::Shape`] when the document is not an array,
/// [`Error::Patch`] for an operation that is not an object or whose `op`, `path` or `from` is
/// not a string.
pub(crate) fn parse_patch(text: &str, limits: &Limits) -> Result<Vec<RawOperation>, Error> {
    let mut ctx = Ctx::new(limits);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = PatchSeed { ctx: &mut ctx }
        .deserialize(&mut de)
        .and_then(|operations| de.end().map(|()| operations));
    parsed.map_err(|error| ctx.error(text, error))
}

struct PatchSeed<'c> {
    ctx: &'c mut Ctx,
}

impl<'de> DeserializeSeed<'de> for PatchSeed<'_> {
    type Value = Vec<RawOperation>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl PatchSeed<'_> {
    fn not_an_array<E: de::Error>(self) -> Result<Vec<RawOperation>, E> {
        Err(self.ctx.fail(Error::Shape {
            detail: "a JSON Patch must be an array of operations",
        }))
    }
}

impl<'de> Visitor<'de> for PatchSeed<'_> {
    type Value = Vec<RawOperation>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of operations")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.not_an_array()
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.not_an_array()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.ctx.enter(1)?;
        let mut operations = Vec::new();
        while let Some(operation) = seq.next_element_seed(OperationSeed {
            ctx: &mut *self.ctx,
            index: operations.len(),
        })? {
            operations.push(operation);
        }
        Ok(operations)
    }
}

struct OperationSeed<'c> {
    ctx: &'c mut Ctx,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for OperationSeed<'_> {
    type Value = RawOperation;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawOperation, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl OperationSeed<'_> {
    fn not_an_object<E: de::Error>(self) -> Result<RawOperation, E> {
        Err(self.ctx.fail(Error::Patch {
            index: self.index,
            detail: "an operation must be an object",
        }))
    }
}

impl<'de> Visitor<'de> for OperationSeed<'_> {
    type Value = RawOperation;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an operation object")
    }

    refuse_other_values!(not_an_object);

    fn visit_str<E: de::Error>(self, _: &str) -> Result<RawOperation, E> {
        self.not_an_object()
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawOperation, E> {
        self.not_an_object()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawOperation, A::Error> {
        let ctx = self.ctx;
        ctx.enter(2)?;
        let mut operation = RawOperation::default();
        while let Some(member) = map.next_key_seed(MemberSeed)? {
            let slot = match member {
                Member::Op => &mut operation.op,
                Member::Path => &mut operation.path,
                Member::From => &mut operation.from,
                Member::Value => {
                    operation.value = Some(map.next_value_seed(ValueSeed {
                        ctx: &mut *ctx,
                        depth: 3,
                        canonical: false,
                    })?);
                    continue;
                }
                Member::Other => {
                    map.next_value_seed(SkipSeed {
                        ctx: &mut *ctx,
                        depth: 3,
                    })?;
                    continue;
                }
            };
            *slot = Some(map.next_value_seed(MemberStringSeed {
                ctx: &mut *ctx,
                index: self.index,
                name: member,
            })?);
        }
        Ok(operation)
    }
}

#[derive(Clone, Copy)]
enum Member {
    Op,
    Path,
    From,
    Value,
    Other,
}

struct MemberSeed;

impl<'de> DeserializeSeed<'de> for MemberSeed {
    type Value = Member;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberSeed {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        // RFC 6902 §4 member names are case-sensitive.
        Ok(match name {
            "op" => Member::Op,
            "path" => Member::Path,
            "from" => Member::From,
            "value" => Member::Value,
            _ => Member::Other,
        })
    }
}

/// `op`, `path` or `from`: a string, else the operation is malformed.
struct MemberStringSeed<'c> {
    ctx: &'c mut Ctx,
    index: usize,
    name: Member,
}

impl<'de> DeserializeSeed<'de> for MemberStringSeed<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl MemberStringSeed<'_> {
    fn not_a_string<E: de::Error>(self) -> Result<String, E> {
        let detail = match self.name {
            Member::Op => "\"op\" must be a string",
            Member::Path => "\"path\" must be a string",
            Member::From | Member::Value | Member::Other => "\"from\" must be a string",
        };
        Err(self.ctx.fail(Error::Patch {
            index: self.index,
            detail,
        }))
    }
}

impl<'de> Visitor<'de> for MemberStringSeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    refuse_other_values!(not_a_string);

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        self.not_a_string()
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        self.not_a_string()
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_owned())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }
}
