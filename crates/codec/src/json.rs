//! `application/json` and `text/json`, and the depth-limited JSON reading the patch types share.
//!
//! The request is read by a serde `Visitor` straight from the text: no `serde_json::Value`,
//! property names compared without allocating, unknown values skipped while counting depth.
//! Errors found by the visitors are kept aside in [`Ctx`] rather than in `serde_json::Error`,
//! whose data errors quote the offending value (which may be a password).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::line_column;
use crate::{ChangeOwnPasswordRequest, Error, Limits};

/// Refuses every JSON value but the expected one, with the crate's own message.
macro_rules! refuse_other_values {
    ($refuse:ident) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            self.$refuse()
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            self.$refuse()
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            self.$refuse()
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            self.$refuse()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            self.$refuse()
        }
    };
}

pub(crate) const OLD_PASSWORD: &str = "OldPassword";
pub(crate) const NEW_PASSWORD: &str = "NewPassword";

/// The state shared by the visitors of one document.
pub(crate) struct Ctx {
    max_depth: usize,
    failure: Option<Failure>,
}

/// An error found by a visitor; positions are added from serde_json's error afterwards.
enum Failure {
    Error(Error),
    TooDeep,
    DuplicateName,
}

impl Ctx {
    fn new(limits: &Limits) -> Self {
        Ctx {
            max_depth: limits.max_depth,
            failure: None,
        }
    }

    fn fail<E: de::Error>(&mut self, error: Error) -> E {
        self.failure = Some(Failure::Error(error));
        E::custom("refused by agentgate-codec")
    }

    /// A name other than the two properties seen twice: placed, not repeated.
    fn duplicate_name<E: de::Error>(&mut self) -> E {
        self.failure = Some(Failure::DuplicateName);
        E::custom("refused by agentgate-codec")
    }

    fn enter<E: de::Error>(&mut self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            self.failure = Some(Failure::TooDeep);
            return Err(E::custom("too deep"));
        }
        Ok(())
    }

    /// Turns a failed parse into the crate's error, preferring what a visitor recorded.
    fn error(&mut self, text: &str, error: serde_json::Error) -> Error {
        let (line, column) = char_position(text, &error);
        match self.failure.take() {
            Some(Failure::Error(error)) => error,
            Some(Failure::TooDeep) => Error::TooDeep {
                limit: self.max_depth,
                line,
                column,
            },
            Some(Failure::DuplicateName) => Error::DuplicateName { line, column },
            None => syntax_error(text, &error, self.max_depth),
        }
    }
}

/// serde_json counts columns in bytes; SPEC §2 wants characters of the decoded text.
fn char_position(text: &str, error: &serde_json::Error) -> (usize, usize) {
    let bytes = text.as_bytes();
    let line_start = if error.line() <= 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(error.line() - 2)
            .map_or(bytes.len(), |(i, _)| i + 1)
    };
    let offset = line_start + error.column().saturating_sub(1);
    line_column(bytes, offset)
}

fn syntax_error(text: &str, error: &serde_json::Error, max_depth: usize) -> Error {
    let (line, column) = char_position(text, error);
    let detail = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            syntax_detail(error)
        }
        // A data error's message can quote a value from the body: it is neither shown nor kept.
        serde_json::error::Category::Data | serde_json::error::Category::Io => {
            "an unexpected value"
        }
    };
    if detail == RECURSION_LIMIT {
        return Error::TooDeep {
            limit: max_depth,
            line,
            column,
        };
    }
    Error::Syntax {
        format: "JSON",
        line,
        column,
        detail,
    }
}

const RECURSION_LIMIT: &str = "recursion limit exceeded";

/// serde_json's syntax errors, as its `ErrorCode` writes them: the closed set of details a
/// JSON syntax error may carry. serde_json does not expose the code, so its message (before
/// " at line") is looked up here; anything else (a newer serde_json's new text, or a message
/// that could hold body text) becomes the generic "not valid JSON".
const SYNTAX_DETAILS: [&str; 23] = [
    "EOF while parsing a list",
    "EOF while parsing an object",
    "EOF while parsing a string",
    "EOF while parsing a value",
    "expected `:`",
    "expected `,` or `]`",
    "expected `,` or `}`",
    "expected ident",
    "expected value",
    "expected `\"`",
    "invalid escape",
    "invalid number",
    "number out of range",
    "invalid unicode code point",
    "control character (\\u0000-\\u001F) found while parsing a string",
    "key must be a string",
    "invalid value: expected key to be a number in quotes",
    "float key must be finite (got NaN or +/-inf)",
    "lone leading surrogate in hex escape",
    "trailing comma",
    "trailing characters",
    "unexpected end of hex escape",
    RECURSION_LIMIT,
];

fn syntax_detail(error: &serde_json::Error) -> &'static str {
    let message = error.to_string();
    let text = message
        .rfind(" at line ")
        .map_or(message.as_str(), |end| &message[..end]);
    SYNTAX_DETAILS
        .into_iter()
        .find(|&known| known == text)
        .unwrap_or("not valid JSON")
}

/// Decodes an `application/json` request (SPEC §2).
///
/// # Errors
///
/// [`Error::Syntax`], [`Error::TooDeep`], [`Error::Shape`] (not an object),
/// [`Error::Duplicate`], [`Error::NotAString`], [`Error::Missing`].
pub(crate) fn decode(text: &str, limits: &Limits) -> Result<ChangeOwnPasswordRequest, Error> {
    let mut ctx = Ctx::new(limits);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = RequestSeed { ctx: &mut ctx }
        .deserialize(&mut de)
        .and_then(|fields| de.end().map(|()| fields));
    let fields = parsed.map_err(|error| ctx.error(text, error))?;
    Ok(ChangeOwnPasswordRequest {
        old_password: fields.old.ok_or(Error::Missing {
            property: OLD_PASSWORD,
        })?,
        new_password: fields.new.ok_or(Error::Missing {
            property: NEW_PASSWORD,
        })?,
        xsrf_token: None,
    })
}

/// Reads any JSON document into a `Value`, nesting at most `limits.max_depth` levels.
///
/// With `canonical_top_level`, the names of the root object's properties that match
/// `OldPassword` or `NewPassword` case-insensitively are written in that spelling, and a
/// duplicate root property (also differing only in case) is refused.
///
/// # Errors
///
/// [`Error::Syntax`], [`Error::TooDeep`], [`Error::Duplicate`].
pub(crate) fn parse_value(
    text: &str,
    limits: &Limits,
    canonical_top_level: bool,
) -> Result<Value, Error> {
    let mut ctx = Ctx::new(limits);
    let mut de = serde_json::Deserializer::from_str(text);
    ValueSeed {
        ctx: &mut ctx,
        depth: 1,
        canonical: canonical_top_level,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value))
    .map_err(|error| ctx.error(text, error))
}

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

/// Takes `OldPassword` and `NewPassword` from an object, names compared case-insensitively.
///
/// # Errors
///
/// [`Error::Shape`] when `value` is not an object, [`Error::Duplicate`],
/// [`Error::NotAString`], [`Error::Missing`] (absent or `null`).
pub(crate) fn request_from_value(value: &Value) -> Result<ChangeOwnPasswordRequest, Error> {
    let Value::Object(object) = value else {
        return Err(Error::Shape {
            detail: "the resulting document is not an object",
        });
    };
    let mut old = None;
    let mut new = None;
    for (name, value) in object {
        let (slot, property) = match Property::of(name) {
            Property::Old => (&mut old, OLD_PASSWORD),
            Property::New => (&mut new, NEW_PASSWORD),
            Property::Other => continue,
        };
        if slot.is_some() {
            return Err(Error::Duplicate { property });
        }
        *slot = Some(match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            _ => return Err(Error::NotAString { property }),
        });
    }
    let take = |slot: Option<Option<&String>>, property| {
        slot.flatten().cloned().ok_or(Error::Missing { property })
    };
    Ok(ChangeOwnPasswordRequest {
        old_password: take(old, OLD_PASSWORD)?,
        new_password: take(new, NEW_PASSWORD)?,
        xsrf_token: None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Property {
    Old,
    New,
    Other,
}

impl Property {
    /// Json.NET matches property names ignoring case; ASCII folding is exact for these two names.
    pub(crate) fn of(name: &str) -> Property {
        if name.eq_ignore_ascii_case(OLD_PASSWORD) {
            Property::Old
        } else if name.eq_ignore_ascii_case(NEW_PASSWORD) {
            Property::New
        } else {
            Property::Other
        }
    }
}

struct Fields {
    old: Option<String>,
    new: Option<String>,
}

struct RequestSeed<'c> {
    ctx: &'c mut Ctx,
}

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = Fields;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Fields, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl RequestSeed<'_> {
    fn not_an_object<E: de::Error>(self) -> Result<Fields, E> {
        Err(self.ctx.fail(Error::Shape {
            detail: "the JSON body must be an object",
        }))
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with OldPassword and NewPassword")
    }

    refuse_other_values!(not_an_object);

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Fields, E> {
        self.not_an_object()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Fields, E> {
        self.not_an_object()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let ctx = self.ctx;
        ctx.enter(1)?;
        let mut old: Option<Option<String>> = None;
        let mut new: Option<Option<String>> = None;
        let mut others: Option<HashSet<String>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let (slot, property) = match key {
                Key::Old => (&mut old, OLD_PASSWORD),
                Key::New => (&mut new, NEW_PASSWORD),
                Key::Other(folded) => {
                    if !others.get_or_insert_with(HashSet::new).insert(folded) {
                        return Err(ctx.duplicate_name());
                    }
                    map.next_value_seed(SkipSeed {
                        ctx: &mut *ctx,
                        depth: 2,
                    })?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(ctx.fail(Error::Duplicate { property }));
            }
            *slot = Some(map.next_value_seed(StringSeed {
                ctx: &mut *ctx,
                property,
            })?);
        }
        Ok(Fields {
            old: old.flatten(),
            new: new.flatten(),
        })
    }
}

enum Key {
    Old,
    New,
    /// Another name, folded to lower case for the duplicate check.
    Other(String),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(match Property::of(name) {
            Property::Old => Key::Old,
            Property::New => Key::New,
            Property::Other => Key::Other(name.to_ascii_lowercase()),
        })
    }
}

/// A string, or `None` for `null`.
struct StringSeed<'c> {
    ctx: &'c mut Ctx,
    property: &'static str,
}

impl StringSeed<'_> {
    fn not_a_string<E: de::Error>(self) -> Result<Option<String>, E> {
        Err(self.ctx.fail(Error::NotAString {
            property: self.property,
        }))
    }
}

impl<'de> DeserializeSeed<'de> for StringSeed<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSeed<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }

    refuse_other_values!(not_a_string);

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Option<String>, A::Error> {
        self.not_a_string()
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<String>, E> {
        Ok(Some(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Option<String>, E> {
        Ok(Some(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
}

/// Skips any value, like `IgnoredAny`, but counts nesting.
struct SkipSeed<'c> {
    ctx: &'c mut Ctx,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for SkipSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SkipSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth)?;
        while seq
            .next_element_seed(SkipSeed {
                ctx: &mut *self.ctx,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth)?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(SkipSeed {
                ctx: &mut *self.ctx,
                depth: self.depth + 1,
            })?;
        }
        Ok(())
    }
}

/// Builds a `Value`, counting nesting.
struct ValueSeed<'c> {
    ctx: &'c mut Ctx,
    depth: usize,
    canonical: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite number, so `from_f64` does not fail.
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed {
            ctx: &mut *self.ctx,
            depth: self.depth + 1,
            canonical: false,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let mut object = Map::new();
        let mut folded_names: HashSet<String> = HashSet::new();
        while let Some(mut name) = map.next_key::<String>()? {
            if self.canonical {
                let known = match Property::of(&name) {
                    Property::Old => Some(OLD_PASSWORD),
                    Property::New => Some(NEW_PASSWORD),
                    Property::Other => None,
                };
                if let Some(property) = known {
                    name = property.to_owned();
                }
                if !folded_names.insert(name.to_ascii_lowercase()) {
                    return Err(match known {
                        Some(property) => self.ctx.fail(Error::Duplicate { property }),
                        None => self.ctx.duplicate_name(),
                    });
                }
            }
            let value = map.next_value_seed(ValueSeed {
                ctx: &mut *self.ctx,
                depth: self.depth + 1,
                canonical: false,
            })?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn request(old: &str, new: &str) -> ChangeOwnPasswordRequest {
        ChangeOwnPasswordRequest {
            old_password: old.into(),
            new_password: new.into(),
            xsrf_token: None,
        }
    }

    fn nested(depth: usize) -> String {
        format!(
            r#"{{"OldPassword":"a","NewPassword":"b","x":{}1{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    }

    #[test]
    fn decodes_objects_with_names_in_any_case_and_order() {
        let cases = [
            (
                r#"{"OldPassword":"sint","NewPassword":"Tr0ub4dour&3-horse"}"#,
                ("sint", "Tr0ub4dour&3-horse"),
            ),
            (r#"{"newpassword":"n","OLDPASSWORD":"o"}"#, ("o", "n")),
            (
                r#"  {"oldPassword" : "" , "NewPassword":"  spaced  "}  "#,
                ("", "  spaced  "),
            ),
            (
                r#"{"OldPassword":"\u00e9\ud83d\ude00\"\\\n","NewPassword":"<&>"}"#,
                ("é😀\"\\\n", "<&>"),
            ),
            (
                r#"{"Extra":{"a":[1,2,{"b":null}]},"OldPassword":"o","NewPassword":"n","More":true}"#,
                ("o", "n"),
            ),
            (
                r#"{"OldPassword":"o","NewPassword":"n","XSRF_TOKEN":"t"}"#,
                ("o", "n"),
            ),
        ];
        for (body, (old, new)) in cases {
            assert_eq!(
                decode(body, &limits()).unwrap(),
                request(old, new),
                "{body}"
            );
        }
    }

    #[test]
    fn null_or_absent_properties_are_missing() {
        let cases = [
            (r#"{"NewPassword":"n"}"#, OLD_PASSWORD),
            (r#"{"OldPassword":null,"NewPassword":"n"}"#, OLD_PASSWORD),
            (r#"{"OldPassword":"o"}"#, NEW_PASSWORD),
            (r#"{"OldPassword":"o","NewPassword":null}"#, NEW_PASSWORD),
            ("{}", OLD_PASSWORD),
        ];
        for (body, property) in cases {
            match decode(body, &limits()) {
                Err(Error::Missing { property: p }) => assert_eq!(p, property, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn non_string_passwords_are_refused_without_echo() {
        let cases = [
            (r#"{"OldPassword":1234,"NewPassword":"n"}"#, OLD_PASSWORD),
            (r#"{"OldPassword":"o","NewPassword":true}"#, NEW_PASSWORD),
            (
                r#"{"OldPassword":["secret"],"NewPassword":"n"}"#,
                OLD_PASSWORD,
            ),
            (
                r#"{"OldPassword":"o","NewPassword":{"v":"secret"}}"#,
                NEW_PASSWORD,
            ),
            (r#"{"OldPassword":1.5e3,"NewPassword":"n"}"#, OLD_PASSWORD),
        ];
        for (body, property) in cases {
            let error = decode(body, &limits()).unwrap_err();
            assert!(
                matches!(error, Error::NotAString { property: p } if p == property),
                "{body}: {error:?}"
            );
            assert!(!error.to_string().contains("secret"));
            assert!(!error.to_string().contains("1234"));
        }
    }

    #[test]
    fn duplicate_properties_are_refused_also_differing_in_case() {
        let cases = [
            (
                r#"{"OldPassword":"a","OldPassword":"b","NewPassword":"n"}"#,
                "OldPassword",
            ),
            (
                r#"{"OldPassword":"a","oldpassword":"b","NewPassword":"n"}"#,
                "OldPassword",
            ),
            (
                r#"{"OldPassword":null,"OLDPASSWORD":"b","NewPassword":"n"}"#,
                "OldPassword",
            ),
            (
                r#"{"NewPassword":"a","OldPassword":"o","newPassword":"b"}"#,
                "NewPassword",
            ),
        ];
        for (body, property) in cases {
            match decode(body, &limits()) {
                Err(Error::Duplicate { property: p }) => assert_eq!(p, property, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        // Another name is placed, not repeated: the client chose it.
        let body = r#"{"secret":1,"OldPassword":"o","NewPassword":"n",
 "SECRET":2}"#;
        let error = decode(body, &limits()).unwrap_err();
        assert_eq!(error, Error::DuplicateName { line: 2, column: 9 });
        assert!(
            !error.to_string().to_lowercase().contains("secret"),
            "{error}"
        );
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_without_echo() {
        let cases = [r#""secret""#, "[]", "42", "true", "null", r#"["secret"]"#];
        for body in cases {
            let error = decode(body, &limits()).unwrap_err();
            assert!(matches!(error, Error::Shape { .. }), "{body}: {error:?}");
            assert_eq!(error.to_string(), "the JSON body must be an object");
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column_in_characters() {
        let cases = [
            (
                "{\"OldPassword\":\"o\",\n \"NewPassword\" \"n\"}",
                2,
                16,
                "expected `:`",
            ),
            (
                r#"{"OldPassword":"o","NewPassword":"n"} x"#,
                1,
                39,
                "trailing characters",
            ),
            (
                r#"{"OldPassword":"o","NewPassword":"n"}{}"#,
                1,
                38,
                "trailing characters",
            ),
            (
                r#"{"OldPassword":"sécret","NewPassword":"n",}"#,
                1,
                43,
                "trailing comma",
            ),
            (
                r#"{"OldPassword":"o""#,
                1,
                18,
                "EOF while parsing an object",
            ),
            (
                "{\"OldPassword\":\"a\tb\"}",
                1,
                18,
                "control character (\\u0000-\\u001F) found while parsing a string",
            ),
            (r#"{'OldPassword':'o'}"#, 1, 2, "key must be a string"),
            (
                r#"{"OldPassword":"\ud800","NewPassword":"n"}"#,
                1,
                23,
                "unexpected end of hex escape",
            ),
            ("", 1, 1, "EOF while parsing a value"),
        ];
        for (body, line, column, detail) in cases {
            match decode(body, &limits()) {
                Err(Error::Syntax {
                    format,
                    line: l,
                    column: c,
                    detail: d,
                }) => {
                    assert_eq!((format, l, c, d), ("JSON", line, column, detail), "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn nesting_is_limited_by_max_depth() {
        // The root object is level 1, so 31 arrays inside it make 32 levels.
        assert!(decode(&nested(31), &limits()).is_ok());
        match decode(&nested(32), &limits()) {
            Err(Error::TooDeep {
                limit,
                line,
                column,
            }) => {
                assert_eq!((limit, line, column), (32, 1, 73), "at the 32nd `[`");
            }
            other => panic!("{other:?}"),
        }
        let shallow = Limits {
            max_depth: 1,
            ..limits()
        };
        assert!(decode(r#"{"OldPassword":"o","NewPassword":"n","x":1}"#, &shallow).is_ok());
        assert!(matches!(
            decode(&nested(1), &shallow),
            Err(Error::TooDeep { limit: 1, .. })
        ));
        let deep = Limits {
            max_depth: 10_000,
            ..limits()
        };
        assert!(matches!(
            decode(&nested(200), &deep),
            Err(Error::TooDeep { limit: 10_000, .. })
        ));
    }

    #[test]
    fn parse_value_limits_depth_and_canonicalizes_top_level_names() {
        let value = parse_value(
            r#"{"oldpassword":"o","NEWPASSWORD":null,"x":{"y":[1]}}"#,
            &limits(),
            true,
        )
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({"OldPassword":"o","NewPassword":null,"x":{"y":[1]}})
        );
        // Below the root, names are kept as they are.
        let value = parse_value(r#"[{"oldpassword":1,"oldPassword":2}]"#, &limits(), true).unwrap();
        assert_eq!(
            value,
            serde_json::json!([{"oldpassword":1,"oldPassword":2}])
        );
        assert_eq!(
            parse_value(r#"{"a":1,"A":2}"#, &limits(), true),
            Err(Error::DuplicateName {
                line: 1,
                column: 10
            })
        );
        assert_eq!(
            parse_value(r#"{"OldPassword":1,"oldPASSWORD":2}"#, &limits(), true),
            Err(Error::Duplicate {
                property: OLD_PASSWORD
            })
        );
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(matches!(
            parse_value(&deep, &limits(), false),
            Err(Error::TooDeep { limit: 32, .. })
        ));
        assert!(matches!(
            parse_value("[1] 2", &limits(), false),
            Err(Error::Syntax { .. })
        ));
    }

    #[test]
    fn request_from_value_matches_names_case_insensitively() {
        let ok = serde_json::json!({"oldPASSWORD":"o","NewPassword":"n","other":1});
        assert_eq!(request_from_value(&ok).unwrap(), request("o", "n"));
        let cases = [
            (serde_json::json!("s"), "shape"),
            (
                serde_json::json!({"OldPassword":"o","oldpassword":"p","NewPassword":"n"}),
                "duplicate",
            ),
            (
                serde_json::json!({"OldPassword":5,"NewPassword":"n"}),
                "not a string",
            ),
            (
                serde_json::json!({"OldPassword":"o","NewPassword":null}),
                "missing",
            ),
        ];
        for (value, kind) in cases {
            let error = request_from_value(&value).unwrap_err();
            let matched = match kind {
                "shape" => matches!(error, Error::Shape { .. }),
                "duplicate" => matches!(error, Error::Duplicate { .. }),
                "not a string" => matches!(
                    error,
                    Error::NotAString {
                        property: OLD_PASSWORD
                    }
                ),
                _ => matches!(
                    error,
                    Error::Missing {
                        property: NEW_PASSWORD
                    }
                ),
            };
            assert!(matched, "{value}: {error:?}");
        }
    }
}
