//! The one error type of the crate.

use crate::Charset;

/// Why a request body could not be decoded.
///
/// Every message says what is wrong and where (the property, `line L, column C`, a byte
/// offset, or the index of a JSON Patch operation) and never quotes the request's own text:
/// no value, no name the client chose, no parser token, no encoding label. The only names it
/// contains are those the contract fixes (`OldPassword`, `NewPassword`, `XSRF_TOKEN`,
/// `JSON`, `XML`, the charsets). The texts are `&'static str`, so no variant can carry text
/// from the body, and the parsers' own errors (which quote tokens, tag names and values) are
/// neither shown nor kept as sources. A `Display` can be sent as `MessageDetail` and logged as
/// it is.
///
/// Not `#[non_exhaustive]`, unlike STYLE.md's library errors, on purpose: the server turns it
/// into its API error with one exhaustive `match` (no `_` arm), so a new variant here must be
/// a compile error there rather than silently become a 400.
///
/// Statuses, for the server: [`Error::PatchTestFailed`] is 409, [`Error::TooLarge`] 413,
/// [`Error::UnsupportedCharset`] 415, every other variant 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Occurs when the body is empty, or holds nothing but a byte order mark.
    #[error("the request body is empty")]
    Empty,

    /// Occurs when the body is longer than [`Limits::max_bytes`](crate::Limits::max_bytes).
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// Occurs when an XML declaration names an encoding other than UTF-8 or UTF-16. The label
    /// is not repeated: it is the request's text.
    #[error(
        "the XML declaration names an encoding that is not supported; use utf-8, utf-16, utf-16le or utf-16be"
    )]
    UnsupportedCharset,

    /// Occurs when the bytes are not valid in their charset: invalid UTF-8, a lone UTF-16
    /// surrogate or an odd number of bytes in UTF-16.
    #[error("the body is not valid {charset}: invalid byte sequence at byte {offset}", charset = .charset.as_str())]
    Encoding {
        /// The charset the body was read in.
        charset: Charset,
        /// Offset in the body, in bytes from its start, of the first invalid sequence.
        offset: usize,
    },

    /// Occurs when the body is not well-formed JSON or XML.
    #[error("{format} syntax error at line {line}, column {column}: {detail}")]
    Syntax {
        /// `"JSON"` or `"XML"`.
        format: &'static str,
        /// 1-based line in the decoded text.
        line: usize,
        /// 1-based column in characters in the decoded text.
        column: usize,
        /// What is wrong, one of a fixed set of descriptions.
        detail: &'static str,
    },

    /// Occurs when objects, arrays or elements nest deeper than
    /// [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("the body nests deeper than {limit} levels at line {line}, column {column}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// 1-based line where the limit was passed.
        line: usize,
        /// 1-based column where the limit was passed.
        column: usize,
    },

    /// Occurs when an XML body holds a DOCTYPE (and so possibly entity declarations); it is
    /// refused and never expanded.
    #[error("a DOCTYPE or entity declaration is not allowed, at line {line}, column {column}")]
    Doctype {
        /// 1-based line of the declaration.
        line: usize,
        /// 1-based column of the declaration.
        column: usize,
    },

    /// Occurs when an XML element has more than
    /// [`Limits::max_attributes`](crate::Limits::max_attributes) attributes (namespace
    /// declarations count).
    #[error("an element has more than {limit} attributes, at line {line}, column {column}")]
    TooManyAttributes {
        /// The limit.
        limit: usize,
        /// 1-based line of the element.
        line: usize,
        /// 1-based column of the element.
        column: usize,
    },

    /// Occurs when an XML element has two attributes of the same name, at any depth.
    #[error("an element has an attribute twice, at line {line}, column {column}")]
    DuplicateAttribute {
        /// 1-based line of the element.
        line: usize,
        /// 1-based column of the element.
        column: usize,
    },

    /// Occurs when the document is well-formed but has the wrong shape: a JSON body that is
    /// not an object, a JSON Patch that is not an array, an element inside `OldPassword`.
    #[error("{detail}")]
    Shape {
        /// What is wrong, one of a fixed set of descriptions.
        detail: &'static str,
    },

    /// Occurs when `OldPassword` or `NewPassword` is absent, `null` or `i:nil`.
    #[error("the property {property} is missing")]
    Missing {
        /// `OldPassword` or `NewPassword`.
        property: &'static str,
    },

    /// Occurs when `OldPassword` or `NewPassword` is a number, a boolean, an array or an object.
    #[error("the property {property} must be a string")]
    NotAString {
        /// `OldPassword` or `NewPassword`.
        property: &'static str,
    },

    /// Occurs when `OldPassword`, `NewPassword` or the form's `XSRF_TOKEN` appears twice, also
    /// when the two names differ only in case.
    #[error("the property {property} appears more than once")]
    Duplicate {
        /// The canonical spelling: `OldPassword`, `NewPassword` or `XSRF_TOKEN`.
        property: &'static str,
    },

    /// Occurs when a property or form field of another name appears twice, also when the two
    /// names differ only in case. The name is not repeated: the client chose it.
    #[error(
        "a property appears more than once (names compared ignoring case), at line {line}, column {column}"
    )]
    DuplicateName {
        /// 1-based line of the second occurrence.
        line: usize,
        /// 1-based column of the second occurrence.
        column: usize,
    },

    /// Occurs when a form field holds a malformed percent-escape (`%zz`, `%4`) or escapes that
    /// decode to bytes that are not UTF-8. They are refused, never replaced by U+FFFD.
    #[error("{}", percent_message(*.offset, *.property))]
    PercentEncoding {
        /// Byte offset in the form text of the escape (or of the field, when it cannot be told).
        offset: usize,
        /// The field the escape is in, when it is one of the known fields.
        property: Option<&'static str>,
    },

    /// Occurs when a JSON Patch operation is malformed (not an object, unknown `op`, a member
    /// missing or of the wrong type, a path that is not a JSON Pointer) or cannot be applied
    /// (RFC 6902 §5: the path does not exist).
    #[error("JSON Patch operation {index} is invalid: {detail}")]
    Patch {
        /// 0-based index of the operation in the patch array.
        index: usize,
        /// What is wrong, one of a fixed set of descriptions.
        detail: &'static str,
    },

    /// Occurs when a JSON Patch `test` operation (RFC 6902 §4.6) finds another value.
    #[error("{}", test_failed_message(*.index, *.property))]
    PatchTestFailed {
        /// 0-based index of the operation in the patch array.
        index: usize,
        /// The property tested, when the path is `/OldPassword` or `/NewPassword` (in any
        /// case, with or without the leading `/`); another path is not repeated.
        property: Option<&'static str>,
    },
}

fn percent_message(offset: usize, property: Option<&'static str>) -> String {
    match property {
        Some(property) => format!(
            "the form field {property} holds an invalid percent-escape or one that is not UTF-8, at byte {offset}"
        ),
        None => format!(
            "the form holds an invalid percent-escape or one that is not UTF-8, at byte {offset}"
        ),
    }
}

fn test_failed_message(index: usize, property: Option<&'static str>) -> String {
    match property {
        Some(property) => format!("JSON Patch test operation {index} failed at path /{property}"),
        None => format!("JSON Patch test operation {index} failed"),
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
///
/// Works on any bytes: a column counts the bytes that start a UTF-8 sequence.
pub(crate) fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_lines_and_characters_from_one() {
        let cases: &[(&str, usize, (usize, usize))] = &[
            ("", 0, (1, 1)),
            ("abc", 0, (1, 1)),
            ("abc", 2, (1, 3)),
            ("a\nbc", 3, (2, 2)),
            ("a\n\nb", 3, (3, 1)),
            ("é\nåx", 5, (2, 2)),
            ("ab", 99, (1, 3)),
        ];
        for &(text, offset, expected) in cases {
            assert_eq!(
                line_column(text.as_bytes(), offset),
                expected,
                "{text:?} @ {offset}"
            );
        }
    }

    #[test]
    fn messages_name_the_place_and_not_the_value() {
        let cases: Vec<(Error, &str)> = vec![
            (
                Error::Missing {
                    property: "OldPassword",
                },
                "the property OldPassword is missing",
            ),
            (
                Error::PercentEncoding {
                    offset: 12,
                    property: Some("NewPassword"),
                },
                "the form field NewPassword holds an invalid percent-escape or one that is not UTF-8, at byte 12",
            ),
            (
                Error::Syntax {
                    format: "JSON",
                    line: 2,
                    column: 7,
                    detail: "expected `:`",
                },
                "JSON syntax error at line 2, column 7: expected `:`",
            ),
            (
                Error::Encoding {
                    charset: Charset::Utf16Le,
                    offset: 3,
                },
                "the body is not valid utf-16le: invalid byte sequence at byte 3",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }
}
