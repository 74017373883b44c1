//! Response bodies (SPEC §3): the bool result, error documents and the GET description.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::charset::encode_text;
use crate::xml::is_xml_char;
use crate::{Charset, ResponseType, Syntax};

/// The namespace DataContractSerializer writes for a primitive `bool`.
const SERIALIZATION_NAMESPACE: &str = "http://schemas.microsoft.com/2003/10/Serialization/";

/// Writes the result of the call: `true`/`false` for the JSON family, and for the XML family
/// what DataContractSerializer writes, without an XML declaration:
/// `<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">true</boolean>`.
///
/// The problem types write what their syntax does: a `bool` has no problem form.
///
/// # Examples
///
/// ```
/// use agentgate_codec::{encode_bool, Charset, ResponseType};
///
/// assert_eq!(encode_bool(ResponseType::Json, Charset::Utf8, true), b"true");
/// assert_eq!(
///     encode_bool(ResponseType::TextXml, Charset::Utf8, false),
///     br#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">false</boolean>"#
/// );
/// assert_eq!(encode_bool(ResponseType::Json, Charset::Utf16, true), b"\xFF\xFEt\0r\0u\0e\0");
/// ```
pub fn encode_bool(media_type: ResponseType, charset: Charset, value: bool) -> Vec<u8> {
    let text = match media_type.syntax() {
        Syntax::Xml => format!(r#"<boolean xmlns="{SERIALIZATION_NAMESPACE}">{value}</boolean>"#),
        Syntax::Json => value.to_string(),
    };
    encode_text(text, charset)
}

/// An error document (SPEC §3 "Errors").
///
/// # Examples
///
/// ```
/// use agentgate_codec::ErrorDocument;
///
/// let error = ErrorDocument {
///     message: "Unsupported media type",
///     message_detail: "text/plain is not supported",
///     error_type: "UnsupportedMediaType",
///     status: 415,
/// };
/// assert_eq!(error.status, 415);
/// ```
#[derive(Debug, Clone)]
pub struct ErrorDocument<'a> {
    /// `Message`: what happened, for people.
    pub message: &'a str,
    /// `MessageDetail`: what is wrong and where.
    pub message_detail: &'a str,
    /// `ErrorType`: one of the values of SPEC §3 (`BadRequest`, `PatchTestFailed`, ...).
    pub error_type: &'a str,
    /// The HTTP status, written by the problem types only.
    pub status: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonError<'a> {
    message: &'a str,
    message_detail: &'a str,
    error_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonProblem<'a> {
    r#type: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    error_type: &'a str,
}

/// Writes an error document in a media type and charset.
///
/// - JSON family: `{"Message":"...","MessageDetail":"...","ErrorType":"..."}`.
/// - XML family, no namespace, no declaration:
///   `<Error><Message>...</Message><MessageDetail>...</MessageDetail><ErrorType>...</ErrorType></Error>`.
/// - `application/problem+json` (RFC 9457 §3):
///   `{"type":"about:blank","title":...,"status":...,"detail":...,"errorType":...}`.
/// - `application/problem+xml` (RFC 9457 Appendix B): the same members in
///   `<problem xmlns="urn:ietf:rfc:7807">`.
///
/// In the problem types `title` is the message, which the server localizes (RFC 9457
/// §3.1.3 lets a title change for localization), and `detail` the message detail, or the
/// message again when there is none. The two are kept apart rather than joined in one
/// sentence: a message detail (a parser's position) is not translated, and a Swedish
/// sentence must not end in English.
///
/// Text that XML 1.0 cannot hold (C0 controls other than tab and line feed, U+FFFE, U+FFFF)
/// is written as U+FFFD in XML; a carriage return as `&#xD;`.
///
/// # Examples
///
/// ```
/// use agentgate_codec::{encode_error, Charset, ErrorDocument, ResponseType};
///
/// let error = ErrorDocument {
///     message: "Bad request",
///     message_detail: "the property OldPassword is missing",
///     error_type: "BadRequest",
///     status: 400,
/// };
/// assert_eq!(
///     String::from_utf8(encode_error(ResponseType::Json, Charset::Utf8, &error)).unwrap(),
///     r#"{"Message":"Bad request","MessageDetail":"the property OldPassword is missing","ErrorType":"BadRequest"}"#
/// );
/// assert_eq!(
///     String::from_utf8(encode_error(ResponseType::Xml, Charset::Utf8, &error)).unwrap(),
///     "<Error><Message>Bad request</Message><MessageDetail>the property OldPassword is missing\
///      </MessageDetail><ErrorType>BadRequest</ErrorType></Error>"
/// );
/// ```
pub fn encode_error(
    media_type: ResponseType,
    charset: Charset,
    error: &ErrorDocument<'_>,
) -> Vec<u8> {
    let text = match media_type {
        ResponseType::ProblemJson => to_json(&JsonProblem {
            r#type: "about:blank",
            title: error.message,
            status: error.status,
            detail: problem_detail(error),
            error_type: error.error_type,
        }),
        ResponseType::ProblemXml => {
            let mut out =
                String::with_capacity(160 + error.message.len() + error.message_detail.len());
            out.push_str(r#"<problem xmlns="urn:ietf:rfc:7807"><type>about:blank</type>"#);
            element(&mut out, "title", error.message);
            let _ = write!(out, "<status>{}</status>", error.status);
            element(&mut out, "detail", problem_detail(error));
            element(&mut out, "errorType", error.error_type);
            out.push_str("</problem>");
            out
        }
        ResponseType::Xml | ResponseType::TextXml => {
            let mut out =
                String::with_capacity(100 + error.message.len() + error.message_detail.len());
            out.push_str("<Error>");
            element(&mut out, "Message", error.message);
            element(&mut out, "MessageDetail", error.message_detail);
            element(&mut out, "ErrorType", error.error_type);
            out.push_str("</Error>");
            out
        }
        ResponseType::Json
        | ResponseType::TextJson
        | ResponseType::JsonPatch
        | ResponseType::MergePatch => to_json(&JsonError {
            message: error.message,
            message_detail: error.message_detail,
            error_type: error.error_type,
        }),
    };
    encode_text(text, charset)
}

fn problem_detail<'a>(error: &ErrorDocument<'a>) -> &'a str {
    if error.message_detail.is_empty() {
        error.message
    } else {
        error.message_detail
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing borrowed strings and numbers to a String cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Writes a small JSON value: as JSON for the JSON family, and for the XML family as an
/// element `root` with one child element per object member (arrays as repeated `<item>`
/// children, `null` as an empty element), escaped, without namespace or declaration.
///
/// Member names that are not XML names have their other characters replaced by `_`.
///
/// # Examples
///
/// ```
/// use agentgate_codec::{encode_value, Charset, ResponseType};
/// use serde_json::json;
///
/// let value = json!({"method": "POST", "request": ["OldPassword", "NewPassword"]});
/// assert_eq!(
///     String::from_utf8(encode_value(ResponseType::Xml, Charset::Utf8, "Description", &value)).unwrap(),
///     "<Description><method>POST</method><request><item>OldPassword</item>\
///      <item>NewPassword</item></request></Description>"
/// );
/// assert_eq!(
///     encode_value(ResponseType::Json, Charset::Utf8, "Description", &json!({"a": 1})),
///     br#"{"a":1}"#
/// );
/// ```
pub fn encode_value(
    media_type: ResponseType,
    charset: Charset,
    root: &str,
    value: &Value,
) -> Vec<u8> {
    let text = match media_type.syntax() {
        Syntax::Xml => {
            let mut out = String::new();
            write_xml_value(&mut out, &xml_name(root), value);
            out
        }
        Syntax::Json => to_json(value),
    };
    encode_text(text, charset)
}

fn write_xml_value(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {
            let _ = write!(out, "<{name}/>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<{name}>{b}</{name}>");
        }
        Value::Number(n) => {
            let _ = write!(out, "<{name}>{n}</{name}>");
        }
        Value::String(text) => element(out, name, text),
        Value::Array(items) => {
            let _ = write!(out, "<{name}>");
            for item in items {
                write_xml_value(out, "item", item);
            }
            let _ = write!(out, "</{name}>");
        }
        Value::Object(object) => {
            let _ = write!(out, "<{name}>");
            for (key, item) in object {
                write_xml_value(out, &xml_name(key), item);
            }
            let _ = write!(out, "</{name}>");
        }
    }
}

fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    escape_xml_into(out, text);
    let _ = write!(out, "</{name}>");
}

/// A name usable as an XML element name (XML 1.0 §2.3, kept to a safe ASCII-and-letters subset).
fn xml_name(name: &str) -> Cow<'_, str> {
    let start_ok = |c: char| c.is_alphabetic() || c == '_';
    let char_ok = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(start_ok) && chars.all(char_ok);
    if valid && !name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml")) {
        return Cow::Borrowed(name);
    }
    let mut fixed: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if (i == 0 && start_ok(c)) || (i > 0 && char_ok(c)) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if fixed.is_empty()
        || fixed
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("xml"))
    {
        fixed.insert(0, '_');
    }
    Cow::Owned(fixed)
}

/// Escapes text for XML element content or attribute values (`&<>"'`); characters XML 1.0
/// cannot hold become U+FFFD and a carriage return `&#xD;`, so that it survives a parser's
/// line-end normalization.
#[allow(
    dead_code,
    reason = "kept for the SOAP writer, which shares this escaping"
)]
pub(crate) fn escape_xml(text: &str) -> Cow<'_, str> {
    let plain = |c: char| !matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') && is_xml_char(c);
    if text.chars().all(plain) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    escape_xml_into(&mut out, text);
    Cow::Owned(out)
}

pub(crate) fn escape_xml_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ResponseType; 8] = ResponseType::ALL;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn document() -> ErrorDocument<'static> {
        ErrorDocument {
            message: "Bad <request> & \"quotes\" 'too'",
            message_detail: "line 1,\r\ncolumn 2\u{1}",
            error_type: "BadRequest",
            status: 400,
        }
    }

    #[test]
    fn bools_are_json_literals_or_datacontract_booleans() {
        for media_type in ALL {
            for value in [true, false] {
                let expected = if media_type.syntax() == Syntax::Xml {
                    format!(
                        r#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">{value}</boolean>"#
                    )
                } else {
                    value.to_string()
                };
                assert_eq!(
                    text(encode_bool(media_type, Charset::Utf8, value)),
                    expected,
                    "{media_type:?}"
                );
            }
        }
    }

    #[test]
    fn utf16_output_has_a_bom_and_the_right_byte_order() {
        let cases = [
            (
                Charset::Utf16,
                vec![0xFF, 0xFE, b'f', 0, b'a', 0, b'l', 0, b's', 0, b'e', 0],
            ),
            (
                Charset::Utf16Le,
                vec![0xFF, 0xFE, b'f', 0, b'a', 0, b'l', 0, b's', 0, b'e', 0],
            ),
            (
                Charset::Utf16Be,
                vec![0xFE, 0xFF, 0, b'f', 0, b'a', 0, b'l', 0, b's', 0, b'e'],
            ),
            (Charset::Utf8, b"false".to_vec()),
        ];
        for (charset, expected) in cases {
            assert_eq!(
                encode_bool(ResponseType::Json, charset, false),
                expected,
                "{charset:?}"
            );
        }
    }

    #[test]
    fn error_documents_are_escaped_in_every_format() {
        let cases = [
            (
                ResponseType::Json,
                r#"{"Message":"Bad <request> & \"quotes\" 'too'","MessageDetail":"line 1,\r\ncolumn 2\u0001","ErrorType":"BadRequest"}"#,
            ),
            (
                ResponseType::MergePatch,
                r#"{"Message":"Bad <request> & \"quotes\" 'too'","MessageDetail":"line 1,\r\ncolumn 2\u0001","ErrorType":"BadRequest"}"#,
            ),
            (
                ResponseType::TextXml,
                "<Error><Message>Bad &lt;request&gt; &amp; &quot;quotes&quot; &apos;too&apos;</Message><MessageDetail>line 1,&#xD;\ncolumn 2\u{FFFD}</MessageDetail><ErrorType>BadRequest</ErrorType></Error>",
            ),
            (
                ResponseType::ProblemJson,
                r#"{"type":"about:blank","title":"Bad <request> & \"quotes\" 'too'","status":400,"detail":"line 1,\r\ncolumn 2\u0001","errorType":"BadRequest"}"#,
            ),
            (
                ResponseType::ProblemXml,
                "<problem xmlns=\"urn:ietf:rfc:7807\"><type>about:blank</type><title>Bad &lt;request&gt; &amp; &quot;quotes&quot; &apos;too&apos;</title><status>400</status><detail>line 1,&#xD;\ncolumn 2\u{FFFD}</detail><errorType>BadRequest</errorType></problem>",
            ),
        ];
        for (media_type, expected) in cases {
            assert_eq!(
                text(encode_error(media_type, Charset::Utf8, &document())),
                expected,
                "{media_type:?}"
            );
        }
    }

    #[test]
    fn problem_detail_is_the_message_alone_when_the_detail_is_empty() {
        let error = ErrorDocument {
            message_detail: "",
            ..document()
        };
        let json: Value = serde_json::from_slice(&encode_error(
            ResponseType::ProblemJson,
            Charset::Utf8,
            &error,
        ))
        .unwrap();
        assert_eq!(json["detail"], "Bad <request> & \"quotes\" 'too'");
    }

    #[test]
    fn values_are_json_or_simple_xml() {
        // Keys in sorted order, so the test holds with and without serde_json's `preserve_order`.
        let value = serde_json::json!({
            "count": 2,
            "method": "POST",
            "nested": {"1st": [[1]], "x y": "<>"},
            "none": null,
            "ok": true,
            "types": ["application/json", "a&b"],
        });
        assert_eq!(
            text(encode_value(
                ResponseType::Xml,
                Charset::Utf8,
                "Description",
                &value
            )),
            "<Description><count>2</count><method>POST</method><nested><_st><item><item>1</item></item></_st><x_y>&lt;&gt;</x_y></nested><none/><ok>true</ok><types><item>application/json</item><item>a&amp;b</item></types></Description>"
        );
        assert_eq!(
            text(encode_value(
                ResponseType::TextJson,
                Charset::Utf8,
                "Description",
                &value
            )),
            serde_json::to_string(&value).unwrap()
        );
        assert_eq!(
            text(encode_value(
                ResponseType::Xml,
                Charset::Utf8,
                "r",
                &serde_json::json!("s")
            )),
            "<r>s</r>"
        );
    }

    #[test]
    fn xml_names_are_made_valid() {
        let cases = [
            ("ok", "ok"),
            ("a b", "a_b"),
            ("1a", "_a"),
            ("", "_"),
            ("xmlns", "_xmlns"),
            ("é-ß.1", "é-ß.1"),
        ];
        for (name, expected) in cases {
            assert_eq!(xml_name(name), expected, "{name:?}");
        }
    }

    #[test]
    fn escape_xml_borrows_plain_text_and_escapes_the_rest() {
        assert!(matches!(escape_xml("plain text é"), Cow::Borrowed(_)));
        assert_eq!(
            escape_xml("<&>\"'\r\u{0}\u{FFFF}\t\n"),
            "&lt;&amp;&gt;&quot;&apos;&#xD;\u{FFFD}\u{FFFD}\t\n"
        );
    }
}
