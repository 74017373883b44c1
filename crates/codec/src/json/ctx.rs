//! The state the visitors of one document share, and serde_json's errors in the crate's
//! terms: positions in characters, fixed descriptions, no text of the body.

use serde::de;

use crate::error::line_column;
use crate::{Error, Limits};

/// The state shared by the visitors of one document.
pub(super) struct Ctx {
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
    pub(super) fn new(limits: &Limits) -> Self {
        Ctx {
            max_depth: limits.max_depth,
            failure: None,
        }
    }

    pub(super) fn fail<E: de::Error>(&mut self, error: Error) -> E {
        self.failure = Some(Failure::Error(error));
        E::custom("refused by agentgate-codec")
    }

    /// A name other than the two properties seen twice: placed, not repeated.
    pub(super) fn duplicate_name<E: de::Error>(&mut self) -> E {
        self.failure = Some(Failure::DuplicateName);
        E::custom("refused by agentgate-codec")
    }

    pub(super) fn enter<E: de::Error>(&mut self, depth: usize) -> Result<(), E> {
        if depth > self.max_depth {
            self.failure = Some(Failure::TooDeep);
            return Err(E::custom("too deep"));
        }
        Ok(())
    }

    /// Turns a failed parse into the crate's error, preferring what a visitor recorded.
    pub(super) fn error(&mut self, text: &str, error: serde_json::Error) -> Error {
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

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn limits() -> Limits {
        Limits::default()
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
}
