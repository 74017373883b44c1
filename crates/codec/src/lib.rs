//! Bytes to a `ChangeOwnPassword` request, and results or errors to bytes, for every media
//! type and charset agentgate speaks (SPEC §2 and §3).
//!
//! [`decode`] reads the request body of `POST /api/v1/Agents/User/ChangeOwnPassword`, the
//! properties `OldPassword` and `NewPassword`, from
//!
//! - `application/json` and `text/json`: one object, names matched ignoring case;
//! - `application/xml` and `text/xml`: any root element, DataContract or plain;
//! - `application/x-www-form-urlencoded`: with the `XSRF_TOKEN` field of a browser form;
//! - `application/json-patch+json` (RFC 6902) and `application/merge-patch+json` (RFC 7396),
//!   applied to `{"OldPassword": null, "NewPassword": null}`;
//!
//! in UTF-8 or UTF-16 (byte order mark, `charset` parameter or XML declaration), within
//! [`Limits`]. [`encode_bool`], [`encode_error`] and [`encode_value`] write the response bodies:
//! the result, the error document (also as RFC 9457 problem details) and the description served
//! by `GET`.
//!
//! Errors say what is wrong and where, and never quote the request's own text (SPEC §2): their
//! `Display` is meant to be sent as `MessageDetail` and logged as it is.
//!
//! XML, for the XML format and the SOAP envelope alike, is read by one hardened reader in
//! time linear in its size: no DOCTYPE, limited depth, at most [`Limits::max_attributes`]
//! attributes per element and none twice.
//!
//! You will notably *not* find HTTP here: no status codes (the server maps [`Error`] with one
//! exhaustive `match`), no header parsing and no content negotiation, which live in
//! `agentgate-negotiation`; the caller passes an already chosen [`RequestType`] or
//! [`ResponseType`] and [`Charset`]. Those types come from `agentgate-media`, re-exported here,
//! and every `match` on them is exhaustive: a new media type is a compile error until it is
//! decoded or encoded.
//!
//! # Examples
//!
//! ```
//! use agentgate_codec::{decode, encode_bool, Charset, Limits, RequestType, ResponseType};
//!
//! let body = br#"<ChangeOwnPasswordRequest xmlns="http://schemas.datacontract.org/2004/07/SuperOffice"
//!     xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
//!   <NewPassword>Tr0ub4dour&amp;3-horse</NewPassword>
//!   <OldPassword>sint</OldPassword>
//! </ChangeOwnPasswordRequest>"#;
//! let request = decode(RequestType::Xml, None, body, &Limits::default())?;
//! assert_eq!(request.old_password, "sint");
//! assert_eq!(request.new_password, "Tr0ub4dour&3-horse");
//!
//! let form = b"oldpassword=sint&NewPassword=Tr0ub4dour%263-horse&XSRF_TOKEN=abc";
//! let request = decode(RequestType::FormUrlEncoded, Some(Charset::Utf8), form, &Limits::default())?;
//! assert_eq!(request.new_password, "Tr0ub4dour&3-horse");
//! assert_eq!(request.xsrf_token.as_deref(), Some("abc"));
//!
//! let error = decode(RequestType::Json, None, br#"{"OldPassword": "sint"}"#, &Limits::default())
//!     .unwrap_err();
//! assert_eq!(error.to_string(), "the property NewPassword is missing");
//!
//! assert_eq!(encode_bool(ResponseType::Json, Charset::Utf8, true), b"true");
//! # Ok::<(), agentgate_codec::Error>(())
//! ```
//!
//! # Performance
//!
//! `benches/codec.rs` measures every decoder and encoder, with the baseline in the same run:
//! `serde_json::from_slice` of the same JSON fixture into
//! `#[derive(Deserialize)] struct { OldPassword: String, NewPassword: String }`, which does
//! none of the checks above (case, duplicates, depth, `null`).
//!
//! ```sh
//! cargo bench -p agentgate-codec -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Measured on the project's 2-core machine while other builds ran (load average 4 to 6, so
//! take ±15 %), medians, inputs from `fixtures/`:
//!
//! | decode | time | vs baseline |
//! |---|---|---|
//! | baseline `serde_json::from_slice` | 267 ns | 1.00 |
//! | `application/json` | 306 ns | 1.14 |
//! | `text/json` | 267 ns | 1.00 |
//! | `application/json`, UTF-16 with BOM | 697 ns | 2.61 |
//! | `application/xml`, DataContract | 1.85 µs | 6.9 |
//! | `text/xml`, plain | 1.56 µs | 5.8 |
//! | `text/xml`, UTF-16LE with BOM | 3.18 µs | 11.9 |
//! | `application/x-www-form-urlencoded` | 751 ns | 2.8 |
//! | `application/json-patch+json` (3 operations) | 3.73 µs | 14.0 |
//! | `application/merge-patch+json` | 1.83 µs | 6.9 |
//!
//! | encode | time |
//! |---|---|
//! | `true`, JSON | 69 ns |
//! | `true`, XML | 190 ns |
//! | `true`, XML in UTF-16 | 714 ns |
//! | error, JSON | 291 ns |
//! | error, JSON in UTF-16 | 620 ns |
//! | error, XML | 697 ns |
//! | error, `problem+json` | 771 ns |
//! | error, `problem+xml` | 1.41 µs |
//!
//! The JSON path stays within 1.5x of the baseline, and every format under 5 µs.

mod charset;
mod encode;
mod error;
mod form;
mod json;
mod patch;
pub mod soap;
mod xml;

use std::fmt;

pub use agentgate_media::{Charset, Essence, RequestType, ResponseType, Syntax};
pub use encode::{ErrorDocument, encode_bool, encode_error, encode_value};
pub use error::Error;

// For the SOAP reader and writer, which share this crate's XML text handling.
pub(crate) use charset::decode_text;
#[allow(unused_imports, reason = "kept for the SOAP writer")]
pub(crate) use encode::escape_xml;

/// Bounds on what [`decode`] reads.
///
/// # Examples
///
/// ```
/// use agentgate_codec::Limits;
///
/// let limits = Limits::default();
/// assert_eq!((limits.max_bytes, limits.max_depth, limits.max_attributes), (65_536, 32, 32));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest body, in bytes (SPEC §2: 64 KiB by default, 413 beyond).
    pub max_bytes: usize,
    /// The deepest nesting of JSON objects and arrays or XML elements; the root is level 1.
    pub max_depth: usize,
    /// The most attributes one XML element may have, namespace declarations included
    /// (SPEC §2: 32). Bounding them keeps reading linear: attributes are checked for
    /// duplicates against each other.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 65_536,
            max_depth: 32,
            max_attributes: 32,
        }
    }
}

/// The decoded request: the two passwords and, from a browser form, the XSRF token.
///
/// `Debug` does not show the passwords or the token.
///
/// # Examples
///
/// ```
/// use agentgate_codec::ChangeOwnPasswordRequest;
///
/// let request = ChangeOwnPasswordRequest {
///     old_password: "sint".into(),
///     new_password: "Tr0ub4dour&3-horse".into(),
///     xsrf_token: None,
/// };
/// assert!(!format!("{request:?}").contains("sint"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ChangeOwnPasswordRequest {
    /// `OldPassword`, exactly as sent (not trimmed, not normalized).
    pub old_password: String,
    /// `NewPassword`, exactly as sent.
    pub new_password: String,
    /// The form field `XSRF_TOKEN` (SPEC §5); `None` in every other format.
    pub xsrf_token: Option<String>,
}

impl fmt::Debug for ChangeOwnPasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeOwnPasswordRequest")
            .field("old_password", &"<redacted>")
            .field("new_password", &"<redacted>")
            .field(
                "xsrf_token",
                &self.xsrf_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Decodes a request body of a media type (SPEC §2).
///
/// `charset` is the `charset` parameter of `Content-Type`; `None` when it was not given, and
/// then UTF-8 is read unless a byte order mark, or for XML the document's own declaration or
/// UTF-16 bytes, say otherwise. A byte order mark always wins and is skipped.
///
/// # Errors
///
/// [`Error::TooLarge`] over `limits.max_bytes`; [`Error::Empty`]; [`Error::UnsupportedCharset`]
/// for an XML declaration of another encoding; [`Error::Encoding`] for invalid bytes; and per
/// format the refusals of SPEC §2:
/// [`Error::Syntax`], [`Error::TooDeep`], [`Error::Doctype`], [`Error::Shape`],
/// [`Error::Missing`], [`Error::NotAString`], [`Error::Duplicate`],
/// [`Error::PercentEncoding`], [`Error::Patch`], [`Error::PatchTestFailed`].
///
/// # Examples
///
/// ```
/// use agentgate_codec::{decode, Charset, Limits, RequestType};
///
/// let body: Vec<u8> = [0xFF, 0xFE].into_iter()
///     .chain(r#"{"oldPassword":"sint","NewPassword":"Tr0ub4dour&3-horse"}"#
///         .encode_utf16().flat_map(u16::to_le_bytes))
///     .collect();
/// let request = decode(RequestType::TextJson, Some(Charset::Utf16), &body, &Limits::default())?;
/// assert_eq!(request.old_password, "sint");
///
/// let patch = br#"[{"op": "add", "path": "oldpassword", "value": "sint"},
///                  {"op": "add", "path": "/NewPassword", "value": "Tr0ub4dour&3-horse"}]"#;
/// let request = decode(RequestType::JsonPatch, None, patch, &Limits::default())?;
/// assert_eq!(request.new_password, "Tr0ub4dour&3-horse");
///
/// let error = decode(RequestType::Json, None, b"{\"OldPassword\": 1}", &Limits::default())
///     .unwrap_err();
/// assert_eq!(error.to_string(), "the property OldPassword must be a string");
/// # Ok::<(), agentgate_codec::Error>(())
/// ```
pub fn decode(
    media_type: RequestType,
    charset: Option<Charset>,
    body: &[u8],
    limits: &Limits,
) -> Result<ChangeOwnPasswordRequest, Error> {
    if body.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            limit: limits.max_bytes,
        });
    }
    match media_type {
        RequestType::Json | RequestType::TextJson => {
            json::decode(&decode_text(body, charset, false)?, limits)
        }
        RequestType::Xml | RequestType::TextXml => {
            xml::decode(&decode_text(body, charset, true)?, limits)
        }
        RequestType::FormUrlEncoded => form::decode(&decode_text(body, charset, false)?),
        RequestType::JsonPatch => {
            patch::decode_json_patch(&decode_text(body, charset, false)?, limits)
        }
        RequestType::MergePatch => {
            patch::decode_merge_patch(&decode_text(body, charset, false)?, limits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/",
                $name
            ))
        };
    }

    const OLD: &str = "sint";
    const NEW: &str = "Tr0ub4dour&3-horse";

    fn expected(xsrf_token: Option<&str>) -> ChangeOwnPasswordRequest {
        ChangeOwnPasswordRequest {
            old_password: OLD.into(),
            new_password: NEW.into(),
            xsrf_token: xsrf_token.map(Into::into),
        }
    }

    fn error_document() -> ErrorDocument<'static> {
        ErrorDocument {
            message: "The request is invalid.",
            message_detail: "the property NewPassword is missing",
            error_type: "BadRequest",
            status: 400,
        }
    }

    #[test]
    fn fixtures_of_every_request_format_decode_to_the_same_passwords() {
        type Case = (
            RequestType,
            Option<Charset>,
            &'static [u8],
            Option<&'static str>,
        );
        let cases: [Case; 10] = [
            (RequestType::Json, None, fixture!("request-json.json"), None),
            (
                RequestType::TextJson,
                Some(Charset::Utf8),
                fixture!("request-text-json.json"),
                None,
            ),
            (
                RequestType::Xml,
                None,
                fixture!("request-xml-datacontract.xml"),
                None,
            ),
            (
                RequestType::TextXml,
                None,
                fixture!("request-xml-plain.xml"),
                None,
            ),
            (
                RequestType::TextXml,
                None,
                fixture!("request-xml-utf16le-bom.xml"),
                None,
            ),
            (
                RequestType::TextXml,
                Some(Charset::Utf16),
                fixture!("request-xml-utf16le-bom.xml"),
                None,
            ),
            (
                RequestType::Xml,
                Some(Charset::Utf16Le),
                fixture!("request-xml-utf16le-bom.xml"),
                None,
            ),
            (
                RequestType::FormUrlEncoded,
                None,
                fixture!("request-form.txt"),
                Some("bm90LWEtcmVhbC10b2tlbg"),
            ),
            (
                RequestType::JsonPatch,
                None,
                fixture!("request-json-patch.json"),
                None,
            ),
            (
                RequestType::MergePatch,
                None,
                fixture!("request-merge-patch.json"),
                None,
            ),
        ];
        for (media_type, charset, body, xsrf) in cases {
            let request = decode(media_type, charset, body, &Limits::default())
                .unwrap_or_else(|e| panic!("{media_type:?}: {e}"));
            assert_eq!(request, expected(xsrf), "{media_type:?} {charset:?}");
        }
    }

    #[test]
    fn fixtures_of_every_response_body_are_what_the_encoders_write() {
        let cases: [(Vec<u8>, &[u8]); 9] = [
            (
                encode_bool(ResponseType::Json, Charset::Utf8, true),
                fixture!("response-true.json"),
            ),
            (
                encode_bool(ResponseType::MergePatch, Charset::Utf8, false),
                fixture!("response-false.json"),
            ),
            (
                encode_bool(ResponseType::Xml, Charset::Utf8, true),
                fixture!("response-true.xml"),
            ),
            (
                encode_bool(ResponseType::TextXml, Charset::Utf8, false),
                fixture!("response-false.xml"),
            ),
            (
                encode_error(ResponseType::Json, Charset::Utf8, &error_document()),
                fixture!("response-error.json"),
            ),
            (
                encode_error(ResponseType::TextJson, Charset::Utf16, &error_document()),
                fixture!("response-error-utf16le-bom.json"),
            ),
            (
                encode_error(ResponseType::Xml, Charset::Utf8, &error_document()),
                fixture!("response-error.xml"),
            ),
            (
                encode_error(ResponseType::ProblemJson, Charset::Utf8, &error_document()),
                fixture!("response-problem.json"),
            ),
            (
                encode_error(ResponseType::ProblemXml, Charset::Utf8, &error_document()),
                fixture!("response-problem.xml"),
            ),
        ];
        for (index, (written, fixture)) in cases.into_iter().enumerate() {
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(fixture),
                "case {index}"
            );
            assert_eq!(written, fixture, "case {index}");
        }
    }

    #[test]
    fn the_error_fixture_is_what_decoding_reports() {
        let body = br#"{"OldPassword":"sint"}"#;
        let error = decode(RequestType::Json, None, body, &Limits::default()).unwrap_err();
        let document = ErrorDocument {
            message_detail: &error.to_string(),
            ..error_document()
        };
        assert_eq!(
            encode_error(ResponseType::Json, Charset::Utf8, &document),
            fixture!("response-error.json")
        );
    }

    #[test]
    fn every_request_format_reads_every_charset() {
        let bodies = [
            (
                RequestType::Json,
                r#"{"OldPassword":"sint","NewPassword":"Tr0ub4dour&3-horse"}"#,
            ),
            (
                RequestType::Xml,
                "<r><OldPassword>sint</OldPassword><NewPassword>Tr0ub4dour&amp;3-horse</NewPassword></r>",
            ),
            (
                RequestType::FormUrlEncoded,
                "OldPassword=sint&NewPassword=Tr0ub4dour%263-horse",
            ),
            (
                RequestType::JsonPatch,
                r#"[{"op":"add","path":"/OldPassword","value":"sint"},{"op":"add","path":"/NewPassword","value":"Tr0ub4dour&3-horse"}]"#,
            ),
            (
                RequestType::MergePatch,
                r#"{"OldPassword":"sint","NewPassword":"Tr0ub4dour&3-horse"}"#,
            ),
        ];
        for (media_type, text) in bodies {
            let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
            let encodings: [(Option<Charset>, Vec<u8>); 7] = [
                (None, text.as_bytes().to_vec()),
                (
                    Some(Charset::Utf8),
                    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                ),
                (Some(Charset::Utf16), le.clone()),
                (Some(Charset::Utf16), [b"\xFE\xFF".as_slice(), &be].concat()),
                (Some(Charset::Utf16Le), le.clone()),
                (Some(Charset::Utf16Be), be.clone()),
                (None, [b"\xFF\xFE".as_slice(), &le].concat()),
            ];
            for (charset, body) in encodings {
                let request = decode(media_type, charset, &body, &Limits::default())
                    .unwrap_or_else(|e| panic!("{media_type:?} {charset:?}: {e}"));
                assert_eq!(request, expected(None), "{media_type:?} {charset:?}");
            }
        }
    }

    #[test]
    fn limits_and_empty_bodies_apply_to_every_format() {
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        for media_type in RequestType::ALL {
            let error = decode(media_type, None, &[b' '; 11], &small).unwrap_err();
            assert_eq!(error, Error::TooLarge { limit: 10 }, "{media_type:?}");
            assert_eq!(
                error.to_string(),
                "the request body is larger than 10 bytes"
            );
            assert!(matches!(
                decode(media_type, None, b"", &small),
                Err(Error::Empty)
            ));
            assert!(matches!(
                decode(media_type, None, b"\xEF\xBB\xBF", &small),
                Err(Error::Empty)
            ));
        }
    }

    #[test]
    fn each_refusal_the_server_answers_apart_is_its_own_variant() {
        let limits = Limits::default();
        let test_failed = decode(
            RequestType::JsonPatch,
            None,
            br#"[{"op":"test","path":"/OldPassword","value":"x"}]"#,
            &limits,
        );
        let unsupported = decode(
            RequestType::TextXml,
            None,
            b"<?xml version='1.0' encoding='koi8-r'?><r/>",
            &limits,
        );
        let too_large = decode(
            RequestType::Json,
            None,
            b"{}",
            &Limits {
                max_bytes: 1,
                ..limits
            },
        );
        assert_eq!(
            test_failed,
            Err(Error::PatchTestFailed {
                index: 0,
                property: Some("OldPassword")
            })
        );
        assert_eq!(unsupported, Err(Error::UnsupportedCharset));
        assert_eq!(too_large, Err(Error::TooLarge { limit: 1 }));
        // The charset's message names the supported ones, never the label sent.
        let message = unsupported.unwrap_err().to_string();
        assert!(!message.contains("koi8"), "{message}");
        assert!(message.contains("utf-8, utf-16"), "{message}");
    }

    #[test]
    fn debug_redacts_passwords_and_token() {
        let debug = format!("{:?}", expected(Some("t0k3n")));
        assert_eq!(
            debug,
            r#"ChangeOwnPasswordRequest { old_password: "<redacted>", new_password: "<redacted>", xsrf_token: Some("<redacted>") }"#
        );
    }

    #[test]
    fn no_error_message_echoes_a_password() {
        let secret = "s3cr3t-V4lue";
        let bodies: Vec<(RequestType, String)> = vec![
            (RequestType::Json, format!(r#""{secret}""#)),
            (
                RequestType::Json,
                format!(r#"{{"OldPassword":["{secret}"]}}"#),
            ),
            (
                RequestType::Json,
                format!(r#"{{"OldPassword":"{secret}","NewPassword":{secret}}}"#),
            ),
            (RequestType::Json, format!(r#"{{"OldPassword":"{secret}""#)),
            (
                RequestType::Xml,
                format!("<r><OldPassword>{secret}<x/></OldPassword></r>"),
            ),
            (
                RequestType::Xml,
                format!("<r><OldPassword>&{secret};</OldPassword></r>"),
            ),
            (RequestType::Xml, format!("<r><OldPassword>{secret}</r>")),
            (
                RequestType::FormUrlEncoded,
                format!("OldPassword={secret}%FF"),
            ),
            (
                RequestType::JsonPatch,
                format!(r#"[{{"op":"{secret}","path":"/OldPassword"}}]"#),
            ),
            (
                RequestType::JsonPatch,
                format!(r#"[{{"op":"test","path":"/OldPassword","value":"{secret}"}}]"#),
            ),
            (RequestType::MergePatch, format!(r#""{secret}""#)),
        ];
        for (media_type, body) in bodies {
            let error = decode(media_type, None, body.as_bytes(), &Limits::default()).unwrap_err();
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(inner) = source {
                message.push_str(&inner.to_string());
                source = inner.source();
            }
            assert!(!message.contains(secret), "{body}: {message}");
        }
    }
}
