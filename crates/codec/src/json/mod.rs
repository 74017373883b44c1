//! `application/json` and `text/json`, and the depth-limited JSON reading the patch types share.
//!
//! The request is read by a serde `Visitor` straight from the text: no `serde_json::Value`,
//! property names compared without allocating, unknown values skipped while counting depth.
//! Errors found by the visitors are kept aside in a [`Ctx`](ctx::Ctx) rather than in
//! `serde_json::Error`, whose data errors quote the offending value (which may be a password).
//!
//! - this module: the request object, and a request read from a patched `Value`;
//! - [`ctx`]: the state the visitors share, and serde_json's errors in the crate's terms;
//! - [`value`]: any value, skipped or built, with its nesting counted;
//! - [`operations`]: an RFC 6902 document read into its operations.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::{ChangeOwnPasswordRequest, Error, Limits};
use ctx::Ctx;
use value::SkipSeed;

pub(crate) use operations::{RawOperation, parse_patch};
pub(crate) use value::parse_value;

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

mod ctx;
mod operations;
mod value;

pub(crate) const OLD_PASSWORD: &str = "OldPassword";
pub(crate) const NEW_PASSWORD: &str = "NewPassword";

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
