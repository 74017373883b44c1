//! Any JSON value, skipped or built, with its nesting counted against the limit.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::{NEW_PASSWORD, OLD_PASSWORD, Property};
use crate::{Error, Limits};

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

/// Skips any value, like `IgnoredAny`, but counts nesting.
pub(super) struct SkipSeed<'c> {
    pub(super) ctx: &'c mut Ctx,
    pub(super) depth: usize,
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
pub(super) struct ValueSeed<'c> {
    pub(super) ctx: &'c mut Ctx,
    pub(super) depth: usize,
    pub(super) canonical: bool,
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
}
