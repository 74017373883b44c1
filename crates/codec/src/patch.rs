//! `application/json-patch+json` (RFC 6902) and `application/merge-patch+json` (RFC 7396),
//! applied to the default document `{"OldPassword": null, "NewPassword": null}`.

use json_patch::jsonptr::PointerBuf;
use json_patch::{
    AddOperation, CopyOperation, MoveOperation, PatchErrorKind, PatchOperation, RemoveOperation,
    ReplaceOperation, TestOperation,
};
use serde_json::{Map, Value};

use crate::json::{self, NEW_PASSWORD, OLD_PASSWORD};
use crate::{ChangeOwnPasswordRequest, Error, Limits};

fn default_document() -> Value {
    let mut object = Map::with_capacity(2);
    object.insert(OLD_PASSWORD.into(), Value::Null);
    object.insert(NEW_PASSWORD.into(), Value::Null);
    Value::Object(object)
}

/// Decodes an RFC 7396 merge patch: root names are matched ignoring case, like JSON's.
///
/// # Errors
///
/// The errors of JSON reading, [`Error::Shape`] when the patch is not an object, and those of
/// a request read from the result.
pub(crate) fn decode_merge_patch(
    text: &str,
    limits: &Limits,
) -> Result<ChangeOwnPasswordRequest, Error> {
    let patch = json::parse_value(text, limits, true)?;
    // RFC 7396 §2 would let a non-object replace the whole document; SPEC §2 refuses it.
    if !patch.is_object() {
        return Err(Error::Shape {
            detail: "a JSON Merge Patch must be an object",
        });
    }
    let mut document = default_document();
    json_patch::merge(&mut document, &patch);
    json::request_from_value(&document)
}

/// Decodes an RFC 6902 patch.
///
/// Paths (and `from`) are matched ignoring case and may leave out the leading `/`, as
/// SuperOffice's REST PATCH allows: `oldpassword` is `/OldPassword`.
///
/// # Errors
///
/// The errors of JSON reading; [`Error::Shape`] when the patch is not an array;
/// [`Error::Patch`] for a malformed operation or one that cannot be applied;
/// [`Error::PatchTestFailed`]; and those of a request read from the result.
pub(crate) fn decode_json_patch(
    text: &str,
    limits: &Limits,
) -> Result<ChangeOwnPasswordRequest, Error> {
    let operations = json::parse_patch(text, limits)?
        .into_iter()
        .enumerate()
        .map(|(index, raw)| operation(index, raw))
        .collect::<Result<Vec<_>, Error>>()?;
    let mut document = default_document();
    // json_patch's own error quotes the path, which is the request's text: only its kind is
    // read, and the path named only when it is one of the two properties.
    let to_error = |index: usize, error: json_patch::PatchError| match error.kind {
        PatchErrorKind::TestFailed => Error::PatchTestFailed {
            index,
            property: match error.path.as_str() {
                "/OldPassword" => Some(OLD_PASSWORD),
                "/NewPassword" => Some(NEW_PASSWORD),
                _ => None,
            },
        },
        PatchErrorKind::InvalidFromPointer => Error::Patch {
            index,
            detail: "\"from\" names a location that does not exist",
        },
        PatchErrorKind::InvalidPointer => Error::Patch {
            index,
            detail: "\"path\" names a location that does not exist",
        },
        PatchErrorKind::CannotMoveInsideItself => Error::Patch {
            index,
            detail: "a value cannot be moved inside itself",
        },
        // The enum is `#[non_exhaustive]`: a kind added by a later json_patch.
        _ => Error::Patch {
            index,
            detail: "the operation cannot be applied",
        },
    };
    // The document is thrown away on error, so the undo log of `json_patch::patch` is not
    // needed. Only `copy` can make the document grow beyond what the body holds: with copies,
    // operations are applied one at a time and the copied size is bounded by the body limit,
    // so a patch of doubling copies cannot exhaust memory.
    if !operations
        .iter()
        .any(|op| matches!(op, PatchOperation::Copy(_)))
    {
        json_patch::patch_unsafe(&mut document, &operations)
            .map_err(|error| to_error(error.operation, error))?;
        return json::request_from_value(&document);
    }
    let mut budget = limits.max_bytes;
    for (index, operation) in operations.iter().enumerate() {
        if let PatchOperation::Copy(copy) = operation {
            let size = document
                .pointer(copy.from.as_str())
                .map_or(0, approximate_size);
            budget = budget.checked_sub(size).ok_or(Error::Patch {
                index,
                detail: "the copies make the document too large",
            })?;
        }
        json_patch::patch_unsafe(&mut document, std::slice::from_ref(operation)).map_err(
            |mut error| {
                error.operation = index;
                to_error(index, error)
            },
        )?;
    }
    json::request_from_value(&document)
}

/// Checks one operation (RFC 6902 §4) with messages of our own: serde's would quote values.
fn operation(index: usize, raw: json::RawOperation) -> Result<PatchOperation, Error> {
    let malformed = |detail: &'static str| Error::Patch { index, detail };
    let Some(op) = raw.op else {
        return Err(malformed("the member \"op\" is missing"));
    };
    if !matches!(
        op.as_str(),
        "add" | "remove" | "replace" | "move" | "copy" | "test"
    ) {
        return Err(malformed(
            "\"op\" must be add, remove, replace, move, copy or test",
        ));
    }
    let path = match raw.path {
        Some(path) => PointerBuf::parse(normalize_path(&path))
            .map_err(|_| malformed("\"path\" is not a valid JSON Pointer"))?,
        None => return Err(malformed("the member \"path\" is missing")),
    };
    let from = || match &raw.from {
        Some(from) => PointerBuf::parse(normalize_path(from))
            .map_err(|_| malformed("\"from\" is not a valid JSON Pointer")),
        None => Err(malformed("the member \"from\" is missing")),
    };
    let value = raw.value;
    let value = || value.ok_or_else(|| malformed("the member \"value\" is missing"));
    Ok(match op.as_str() {
        "add" => PatchOperation::Add(AddOperation {
            path,
            value: value()?,
        }),
        "remove" => PatchOperation::Remove(RemoveOperation { path }),
        "replace" => PatchOperation::Replace(ReplaceOperation {
            path,
            value: value()?,
        }),
        "test" => PatchOperation::Test(TestOperation {
            path,
            value: value()?,
        }),
        "move" => PatchOperation::Move(MoveOperation {
            from: from()?,
            path,
        }),
        _ => PatchOperation::Copy(CopyOperation {
            from: from()?,
            path,
        }),
    })
}

/// `oldpassword` → `/OldPassword`, `/newPASSWORD/x` → `/NewPassword/x`; the empty path (the
/// whole document) stays empty.
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (first, tail) = path.split_at(path.find('/').unwrap_or(path.len()));
    let first = match json::Property::of(first) {
        json::Property::Old => OLD_PASSWORD,
        json::Property::New => NEW_PASSWORD,
        json::Property::Other => first,
    };
    let mut normalized = String::with_capacity(1 + first.len() + tail.len());
    normalized.push('/');
    normalized.push_str(first);
    normalized.push_str(tail);
    normalized
}

/// Roughly the bytes a value would take as JSON; walks without recursion.
fn approximate_size(value: &Value) -> usize {
    let mut size = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        size = size.saturating_add(match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => 4,
            Value::String(text) => 2 + text.len(),
            Value::Array(items) => {
                stack.extend(items);
                2 + items.len()
            }
            Value::Object(object) => {
                stack.extend(object.values());
                object
                    .keys()
                    .fold(2usize, |n, key| n.saturating_add(4 + key.len()))
            }
        });
    }
    size
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

    #[test]
    fn normalize_path_fixes_case_and_leading_slash() {
        let cases = [
            ("", ""),
            ("/", "/"),
            ("oldpassword", "/OldPassword"),
            ("/newPASSWORD", "/NewPassword"),
            ("/NewPassword/x/y", "/NewPassword/x/y"),
            ("OLDPASSWORD/0", "/OldPassword/0"),
            ("/other", "/other"),
            ("a~1b", "/a~1b"),
            ("/OldPasswordX", "/OldPasswordX"),
        ];
        for (path, expected) in cases {
            assert_eq!(normalize_path(path), expected, "{path:?}");
        }
    }

    #[test]
    fn every_operation_applies_to_the_default_document() {
        let cases = [
            (
                r#"[{"op":"replace","path":"/OldPassword","value":"sint"},{"op":"replace","path":"/NewPassword","value":"Tr0ub4dour&3-horse"}]"#,
                ("sint", "Tr0ub4dour&3-horse"),
            ),
            (
                r#"[{"op":"add","path":"oldpassword","value":"o"},{"op":"add","path":"NEWPASSWORD","value":"n"}]"#,
                ("o", "n"),
            ),
            (
                r#"[{"op":"add","path":"/x","value":"n"},{"op":"move","from":"x","path":"/NewPassword"},{"op":"replace","path":"/OldPassword","value":"o"}]"#,
                ("o", "n"),
            ),
            (
                r#"[{"op":"replace","path":"/OldPassword","value":"same"},{"op":"copy","from":"/oldPassword","path":"/newpassword"}]"#,
                ("same", "same"),
            ),
            (
                r#"[{"op":"test","path":"/OldPassword","value":null},{"op":"replace","path":"/OldPassword","value":"o"},{"op":"test","path":"oldpassword","value":"o"},{"op":"add","path":"/NewPassword","value":"n"}]"#,
                ("o", "n"),
            ),
            (
                r#"[{"op":"add","path":"/extra","value":{}},{"op":"remove","path":"/extra"},{"op":"add","path":"/NewPassword","value":"n"},{"op":"add","path":"/OldPassword","value":"o"}]"#,
                ("o", "n"),
            ),
            (
                r#"[{"op":"replace","path":"","value":{"oldpassword":"o","NewPassword":"n"}}]"#,
                ("o", "n"),
            ),
            (
                r#"[{"value":"o","path":"/OldPassword","op":"add","ignored":1},{"op":"add","path":"/NewPassword","value":"n"}]"#,
                ("o", "n"),
            ),
        ];
        for (body, (old, new)) in cases {
            assert_eq!(
                decode_json_patch(body, &limits()).unwrap(),
                request(old, new),
                "{body}"
            );
        }
    }

    #[test]
    fn a_failed_test_is_told_apart_with_its_index() {
        let body = r#"[{"op":"replace","path":"/OldPassword","value":"o"},{"op":"test","path":"/oldpassword","value":"other"}]"#;
        let error = decode_json_patch(body, &limits()).unwrap_err();
        assert_eq!(
            error,
            Error::PatchTestFailed {
                index: 1,
                property: Some(OLD_PASSWORD)
            }
        );
        assert_eq!(
            error.to_string(),
            "JSON Patch test operation 1 failed at path /OldPassword"
        );
        assert!(!error.to_string().contains("other"));
        // Another path is the request's text: not repeated.
        let body =
            r#"[{"op":"add","path":"/secret","value":1},{"op":"test","path":"/secret","value":2}]"#;
        let error = decode_json_patch(body, &limits()).unwrap_err();
        assert_eq!(
            error,
            Error::PatchTestFailed {
                index: 1,
                property: None
            }
        );
        assert_eq!(error.to_string(), "JSON Patch test operation 1 failed");
    }

    #[test]
    fn operations_applied_one_by_one_for_copies_keep_their_index() {
        let failed_test = r#"[{"op":"add","path":"/OldPassword","value":"o"},{"op":"copy","from":"/OldPassword","path":"/NewPassword"},{"op":"test","path":"/NewPassword","value":"x"}]"#;
        assert!(matches!(
            decode_json_patch(failed_test, &limits()),
            Err(Error::PatchTestFailed { index: 2, .. })
        ));
        let bad_path = r#"[{"op":"copy","from":"/OldPassword","path":"/NewPassword"},{"op":"remove","path":"/missing"}]"#;
        assert!(matches!(
            decode_json_patch(bad_path, &limits()),
            Err(Error::Patch { index: 1, .. })
        ));
        let copied = r#"[{"op":"add","path":"/OldPassword","value":"same"},{"op":"copy","from":"/OldPassword","path":"/NewPassword"}]"#;
        assert_eq!(
            decode_json_patch(copied, &limits()).unwrap(),
            request("same", "same")
        );
    }

    #[test]
    fn malformed_or_inapplicable_operations_name_their_index() {
        let cases = [
            (
                r#"[{"op":"add","path":"/OldPassword","value":"o"},"secret"]"#,
                1,
                "an operation must be an object",
            ),
            (
                r#"[{"op":"frobnicate","path":"/OldPassword"}]"#,
                0,
                "\"op\" must be add, remove, replace, move, copy or test",
            ),
            (
                r#"[{"op":"ADD","path":"/OldPassword","value":"o"}]"#,
                0,
                "\"op\" must be add, remove, replace, move, copy or test",
            ),
            (
                r#"[{"path":"/OldPassword","value":"o"}]"#,
                0,
                "the member \"op\" is missing",
            ),
            (
                r#"[{"op":1,"path":"/OldPassword","value":"o"}]"#,
                0,
                "\"op\" must be a string",
            ),
            (
                r#"[{"op":"add","value":"o"}]"#,
                0,
                "the member \"path\" is missing",
            ),
            (
                r#"[{"op":"add","path":5,"value":"o"}]"#,
                0,
                "\"path\" must be a string",
            ),
            (
                r#"[{"op":"add","path":"/OldPassword"}]"#,
                0,
                "the member \"value\" is missing",
            ),
            (
                r#"[{"op":"replace","path":"/OldPassword","value":"o"},{"op":"move","path":"/NewPassword"}]"#,
                1,
                "the member \"from\" is missing",
            ),
            (
                r#"[{"op":"copy","from":[],"path":"/NewPassword"}]"#,
                0,
                "\"from\" must be a string",
            ),
            (
                r#"[{"op":"remove","path":"/missing"}]"#,
                0,
                "\"path\" names a location that does not exist",
            ),
            (
                r#"[{"op":"replace","path":"/a/b","value":1}]"#,
                0,
                "\"path\" names a location that does not exist",
            ),
            (
                r#"[{"op":"move","from":"/nothing","path":"/NewPassword"}]"#,
                0,
                "\"from\" names a location that does not exist",
            ),
            (
                r#"[{"op":"add","path":"/x","value":{}},{"op":"move","from":"/x","path":"/x/y"}]"#,
                1,
                "a value cannot be moved inside itself",
            ),
            (
                r#"[{"op":"test","path":"/nothing","value":1}]"#,
                0,
                "\"path\" names a location that does not exist",
            ),
        ];
        for (body, at, message) in cases {
            match decode_json_patch(body, &limits()) {
                Err(Error::Patch { index, detail, .. }) => {
                    assert_eq!((index, detail), (at, message), "{body}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn results_that_are_not_two_strings_are_refused() {
        let cases = [
            ("[]", "the property OldPassword is missing"),
            (
                r#"[{"op":"add","path":"/OldPassword","value":"o"}]"#,
                "the property NewPassword is missing",
            ),
            (
                r#"[{"op":"add","path":"/OldPassword","value":1},{"op":"add","path":"/NewPassword","value":"n"}]"#,
                "the property OldPassword must be a string",
            ),
            (
                r#"[{"op":"remove","path":"/OldPassword"},{"op":"add","path":"/NewPassword","value":"n"}]"#,
                "the property OldPassword is missing",
            ),
            (
                r#"[{"op":"replace","path":"","value":["secret"]}]"#,
                "the resulting document is not an object",
            ),
            (
                r#"{"op":"add"}"#,
                "a JSON Patch must be an array of operations",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(
                decode_json_patch(body, &limits()).unwrap_err().to_string(),
                message,
                "{body}"
            );
        }
    }

    #[test]
    fn doubling_copies_are_bounded_by_the_body_limit() {
        let mut ops =
            vec![r#"{"op":"replace","path":"/OldPassword","value":"0123456789abcdef"}"#.to_owned()];
        ops.extend((0..40).map(|i| format!(r#"{{"op":"copy","from":"","path":"/c{i}"}}"#)));
        let body = format!("[{}]", ops.join(","));
        match decode_json_patch(&body, &limits()) {
            Err(Error::Patch { index, detail, .. }) => {
                assert!(index > 5 && index < 20, "{index}");
                assert_eq!(detail, "the copies make the document too large");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn merge_patch_sets_deletes_and_matches_names_ignoring_case() {
        let cases = [
            (
                r#"{"OldPassword":"sint","NewPassword":"Tr0ub4dour&3-horse"}"#,
                Ok(request("sint", "Tr0ub4dour&3-horse")),
            ),
            (
                r#"{"oldpassword":"o","NEWPASSWORD":"n","other":{"a":null}}"#,
                Ok(request("o", "n")),
            ),
            (
                r#"{"OldPassword":null,"NewPassword":"n"}"#,
                Err("the property OldPassword is missing"),
            ),
            (
                r#"{"OldPassword":"o"}"#,
                Err("the property NewPassword is missing"),
            ),
            (
                r#"{"OldPassword":{"a":"b"},"NewPassword":"n"}"#,
                Err("the property OldPassword must be a string"),
            ),
            (
                r#"{"OldPassword":"o","NewPassword":[1]}"#,
                Err("the property NewPassword must be a string"),
            ),
            (
                r#"{"OldPassword":"o","oldPassword":"p","NewPassword":"n"}"#,
                Err("the property OldPassword appears more than once"),
            ),
            (r#"["secret"]"#, Err("a JSON Merge Patch must be an object")),
            (r#""secret""#, Err("a JSON Merge Patch must be an object")),
            ("null", Err("a JSON Merge Patch must be an object")),
        ];
        for (body, expected) in cases {
            let actual = decode_merge_patch(body, &limits()).map_err(|e| e.to_string());
            assert_eq!(actual, expected.map_err(str::to_owned), "{body}");
        }
    }

    #[test]
    fn nesting_in_patches_is_limited_by_max_depth() {
        // The array is level 1, an operation 2, its value 3.
        let value = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let patch =
            |depth: usize| format!(r#"[{{"op":"add","path":"/x","value":{}}}]"#, value(depth));
        assert!(matches!(
            decode_json_patch(&patch(30), &limits()),
            Err(Error::Missing { .. })
        ));
        assert!(matches!(
            decode_json_patch(&patch(31), &limits()),
            Err(Error::TooDeep { limit: 32, .. })
        ));
        let merge = |depth: usize| format!(r#"{{"x":{}}}"#, value(depth));
        assert!(matches!(
            decode_merge_patch(&merge(31), &limits()),
            Err(Error::Missing { .. })
        ));
        assert!(matches!(
            decode_merge_patch(&merge(32), &limits()),
            Err(Error::TooDeep { limit: 32, .. })
        ));
    }

    #[test]
    fn unknown_members_are_skipped_and_the_last_of_a_repeated_member_counts() {
        let body = r#"[{"op":"add","path":"/Nothing","path":"/OldPassword","value":"x","value":"o","extra":{"deep":[1]}},{"op":"add","path":"/NewPassword","value":"n"}]"#;
        assert_eq!(
            decode_json_patch(body, &limits()).unwrap(),
            request("o", "n")
        );
    }

    #[test]
    fn approximate_size_grows_with_content() {
        assert!(approximate_size(&serde_json::json!({"a":"bcd"})) >= 7);
        assert!(approximate_size(&serde_json::json!([[[]]])) >= 6);
    }
}
