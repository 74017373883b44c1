//! `Content-Type` (RFC 9110 §8.3): what a request body is and in which charset.

use crate::header;
use crate::{Charset, Error, Essence};

/// The media type and charset a request declares for its body (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType<T> {
    /// The matching entry of the `supported` list given to [`content_type`]: the caller's own
    /// type, never the request's spelling.
    pub media_type: T,
    /// The declared charset; `None` when the header has no `charset` parameter (the reader
    /// then assumes UTF-8, honouring a BOM or an XML declaration).
    pub charset: Option<Charset>,
}

/// Reads the request's `Content-Type` (RFC 9110 §8.3, SPEC §2).
///
/// Type and subtype compare case-insensitively against the [`Essence`] of each `supported`
/// entry; the `charset` parameter is recognised by [`Charset::from_label`], quoted or not;
/// every other parameter is ignored. Without a header and with an empty body there is
/// nothing to read: `Ok(None)`, and the server answers 400 for the empty body.
///
/// # Errors
///
/// - [`Error::MissingContentType`] when there is no header but a body.
/// - [`Error::UnsupportedMediaType`] when the type is not in `supported`, or the header
///   cannot be parsed (`application`, `application/json; charset`, two types).
/// - [`Error::UnsupportedCharset`] when the charset is none of [`Charset`]'s, or the header
///   declares two different ones.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{Charset, ContentType, Error, RequestType, content_type};
///
/// const SUPPORTED: &[RequestType] = &[RequestType::Json, RequestType::Xml];
///
/// let declared = content_type(Some(r#"Application/JSON; Charset="UTF-16""#), false, SUPPORTED);
/// assert_eq!(
///     declared,
///     Ok(Some(ContentType { media_type: RequestType::Json, charset: Some(Charset::Utf16) })),
/// );
/// assert_eq!(content_type(None, true, SUPPORTED), Ok(None));
/// assert_eq!(content_type(None, false, SUPPORTED), Err(Error::MissingContentType));
/// assert_eq!(
///     content_type(Some("text/plain"), false, SUPPORTED),
///     Err(Error::UnsupportedMediaType),
/// );
/// assert_eq!(
///     content_type(Some("application/json; charset=koi8-r"), false, SUPPORTED),
///     Err(Error::UnsupportedCharset),
/// );
/// ```
pub fn content_type<T: Essence>(
    header: Option<&str>,
    body_is_empty: bool,
    supported: &[T],
) -> Result<Option<ContentType<T>>, Error> {
    let header = match header {
        Some(header) => header,
        None if body_is_empty => return Ok(None),
        None => return Err(Error::MissingContentType),
    };
    let (essence, params) = split_content_type(header)?;
    let Some(&media_type) = supported
        .iter()
        .find(|s| s.essence().eq_ignore_ascii_case(essence))
    else {
        return Err(Error::UnsupportedMediaType);
    };
    let charset = declared_charset(params)?;
    Ok(Some(ContentType {
        media_type,
        charset,
    }))
}

/// The essence of a `Content-Type` and its parameters, once the essence is known to be two
/// tokens.
fn split_content_type(header: &str) -> Result<(&str, header::Params<'_>), Error> {
    let (value, params) = header::split_params(header);
    match value.split_once('/') {
        Some((type_, subtype)) if header::is_token(type_) && header::is_token(subtype) => {
            Ok((value, params))
        }
        _ => Err(Error::UnsupportedMediaType),
    }
}

/// The `charset` parameter: `None` when absent.
fn declared_charset(params: header::Params<'_>) -> Result<Option<Charset>, Error> {
    let mut charset = None;
    for param in params {
        let (name, value) = param.ok_or(Error::UnsupportedMediaType)?;
        if !name.eq_ignore_ascii_case("charset") {
            continue;
        }
        let declared =
            Charset::from_label(header::unquote(value)).ok_or(Error::UnsupportedCharset)?;
        // Two different charsets would let two readers disagree about the body: refuse.
        if charset
            .replace(declared)
            .is_some_and(|earlier| earlier != declared)
        {
            return Err(Error::UnsupportedCharset);
        }
    }
    Ok(charset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RequestType;
    #[test]
    fn content_type_table() {
        use Charset::{Utf8, Utf16, Utf16Be, Utf16Le};
        use RequestType::{FormUrlEncoded, Json, TextXml, Xml};
        const SUPPORTED: &[RequestType] = &[
            RequestType::Json,
            RequestType::TextJson,
            RequestType::Xml,
            RequestType::TextXml,
            RequestType::FormUrlEncoded,
        ];
        let ok = |media_type, charset| {
            Ok(Some(ContentType {
                media_type,
                charset,
            }))
        };
        let media = |_: &str| Err(Error::UnsupportedMediaType);
        let charset = |_: &str| Err(Error::UnsupportedCharset);
        let cases = [
            ("application/json", ok(Json, None)),
            ("Application/JSON", ok(Json, None)),
            ("application/json; charset=utf-8", ok(Json, Some(Utf8))),
            ("application/json;charset=UTF-8", ok(Json, Some(Utf8))),
            ("application/json; charset=\"utf-8\"", ok(Json, Some(Utf8))),
            ("application/json; CHARSET=\"UTF8\"", ok(Json, Some(Utf8))),
            ("text/xml; charset=utf-16", ok(TextXml, Some(Utf16))),
            ("text/xml; charset=utf-16LE", ok(TextXml, Some(Utf16Le))),
            ("text/xml; charset=\"utf-16be\"", ok(TextXml, Some(Utf16Be))),
            (
                "application/xml; version=1; charset=utf-8; x=\"a;b\"",
                ok(Xml, Some(Utf8)),
            ),
            ("application/xml;;", ok(Xml, None)),
            (
                " application/x-www-form-urlencoded ",
                ok(FormUrlEncoded, None),
            ),
            // One label table for header and XML declaration: `utf16` is UTF-16 in both.
            ("application/json; charset=utf16", ok(Json, Some(Utf16))),
            ("text/xml; charset=UTF16LE", ok(TextXml, Some(Utf16Le))),
            (
                "application/json; charset=utf-8; charset=UTF8",
                ok(Json, Some(Utf8)),
            ),
            (
                "application/json; charset=iso-8859-1",
                charset("iso-8859-1"),
            ),
            ("application/json; charset=\"latin1\"", charset("latin1")),
            (
                "application/json; charset=",
                media("application/json; charset="),
            ),
            (
                "application/json; charset=utf-8; charset=utf-16",
                charset("utf-16"),
            ),
            ("text/plain", media("text/plain")),
            ("text/plain; charset=utf-8", media("text/plain")),
            ("text/plain; charset=latin1", media("text/plain")),
            (
                "application/soap+xml; charset=utf-8",
                media("application/soap+xml"),
            ),
            ("application", media("application")),
            ("", media("")),
            (
                "application/json, text/xml",
                media("application/json, text/xml"),
            ),
            (
                "application/json; charset",
                media("application/json; charset"),
            ),
            ("/json", media("/json")),
        ];
        for (header, expected) in cases {
            assert_eq!(
                content_type(Some(header), false, SUPPORTED),
                expected,
                "{header:?}"
            );
        }
    }

    #[test]
    fn refusals_never_repeat_the_header() {
        // SPEC §2: a password pasted into the wrong header must not come back.
        let headers = [
            "text/secretvalue",
            "secretvalue",
            "application/json; charset=secretvalue",
            "application/json; charset=\"secretvalue\"",
            "application/json; secretvalue",
            "application/json; charset=utf-8; charset=secretvalue",
            "secret value/json",
        ];
        for header in headers {
            let error = content_type(Some(header), false, &RequestType::ALL).unwrap_err();
            assert!(!error.to_string().contains("secret"), "{header}: {error}");
            assert!(
                !format!("{error:?}").contains("secret"),
                "{header}: {error:?}"
            );
        }
    }

    #[test]
    fn missing_content_type_depends_on_the_body() {
        assert_eq!(content_type(None, true, &[RequestType::Json]), Ok(None));
        assert_eq!(
            content_type(None, false, &[RequestType::Json]),
            Err(Error::MissingContentType)
        );
        // A header is read even for an empty body: the server answers 400 for the body.
        let declared = content_type(Some("application/json"), true, &[RequestType::Json]);
        assert_eq!(
            declared,
            Ok(Some(ContentType {
                media_type: RequestType::Json,
                charset: None
            }))
        );
    }
}
