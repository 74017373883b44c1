use crate::header;
use crate::{Charset, Error};

/// Chooses the response charset from `Accept-Charset` (RFC 9110 §12.5.2, SPEC §3).
///
/// The candidates are `utf-8` and `utf-16` (written as UTF-16LE with a byte order mark, so
/// a range `utf-16le` asks for it too). Each takes the q of the first range naming it, else
/// that of `*`, else 0. The higher q wins; a tie goes to UTF-8. No header, an empty one, or
/// one without a parseable item means UTF-8; items with a malformed q are skipped.
///
/// # Errors
///
/// When both candidates end up with q=0 (the header names only other charsets, or excludes
/// both), [`Error::NotAcceptableCharset`] if `strict`; otherwise the answer is UTF-8, as
/// ASP.NET Web API 2 falls back.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{Charset, Error, charset};
///
/// assert_eq!(charset(None, true), Ok(Charset::Utf8));
/// assert_eq!(charset(Some("utf-16, utf-8;q=0.9"), true), Ok(Charset::Utf16));
/// assert_eq!(charset(Some("utf-16, utf-8"), true), Ok(Charset::Utf8));
/// assert_eq!(charset(Some("iso-8859-1"), false), Ok(Charset::Utf8));
/// assert_eq!(charset(Some("iso-8859-1"), true), Err(Error::NotAcceptableCharset));
/// ```
pub fn charset(accept_charset: Option<&str>, strict: bool) -> Result<Charset, Error> {
    let mut utf8 = None;
    let mut utf16 = None;
    let mut any = None;
    let mut parsed = false;
    for item in header::items(accept_charset.unwrap_or("")).flatten() {
        if item.value.contains('/') {
            continue;
        }
        parsed = true;
        let slot = if item.value == "*" {
            &mut any
        } else {
            match Charset::from_label(item.value) {
                Some(Charset::Utf8) => &mut utf8,
                Some(Charset::Utf16 | Charset::Utf16Le) => &mut utf16,
                Some(Charset::Utf16Be) | None => continue,
            }
        };
        slot.get_or_insert(item.q);
    }
    if !parsed {
        return Ok(Charset::Utf8);
    }
    let utf8 = utf8.or(any).unwrap_or(0);
    let utf16 = utf16.or(any).unwrap_or(0);
    match (utf8, utf16) {
        (0, 0) if strict => Err(Error::NotAcceptableCharset),
        (utf8, utf16) if utf16 > utf8 => Ok(Charset::Utf16),
        _ => Ok(Charset::Utf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_charset_table() {
        use Charset::{Utf8, Utf16};
        let strict_and_lenient = |header: Option<&str>, expected: Result<Charset, Error>| {
            assert_eq!(charset(header, true), expected, "strict {header:?}");
            let lenient = expected.clone().or(Ok(Utf8));
            assert_eq!(charset(header, false), lenient, "lenient {header:?}");
        };
        let cases = [
            (None, Ok(Utf8)),
            (Some(""), Ok(Utf8)),
            (Some("*"), Ok(Utf8)),
            (Some("utf-8"), Ok(Utf8)),
            (Some("UTF-8"), Ok(Utf8)),
            (Some("utf8"), Ok(Utf8)),
            (Some("utf-16"), Ok(Utf16)),
            (Some("UTF-16LE"), Ok(Utf16)),
            (Some("utf-16, utf-8;q=0.9"), Ok(Utf16)),
            (Some("utf-8;q=0.5, utf-16;q=0.5"), Ok(Utf8)),
            (Some("utf-16;q=0.5, utf-8;q=0.5"), Ok(Utf8)),
            (Some("utf-8;q=0, *"), Ok(Utf16)),
            (Some("utf-8;q=0, utf-16;q=0.1"), Ok(Utf16)),
            (Some("iso-8859-1, *;q=0.1"), Ok(Utf8)),
            (Some("iso-8859-1;q=1, utf-16;q=0.2"), Ok(Utf16)),
            (Some("iso-8859-1"), Err(Error::NotAcceptableCharset)),
            (Some("utf-16be"), Err(Error::NotAcceptableCharset)),
            (
                Some("utf-8;q=0, utf-16;q=0"),
                Err(Error::NotAcceptableCharset),
            ),
            (Some("*;q=0"), Err(Error::NotAcceptableCharset)),
            (
                Some("utf-8;q=0, utf-16;q=0, *"),
                Err(Error::NotAcceptableCharset),
            ),
        ];
        for (header, expected) in cases {
            strict_and_lenient(header, expected);
        }
    }

    #[test]
    fn malformed_accept_charset_items_are_skipped() {
        assert_eq!(
            charset(Some("utf-16;q=abc, utf-8;q=0.1"), true),
            Ok(Charset::Utf8)
        );
        assert_eq!(
            charset(Some("utf-8;q=1.5, utf-16"), true),
            Ok(Charset::Utf16)
        );
        // Nothing parseable at all reads as no header.
        assert_eq!(
            charset(Some("utf-16;q=0.1234, ;;,"), true),
            Ok(Charset::Utf8)
        );
        assert_eq!(charset(Some("utf 16"), true), Ok(Charset::Utf8));
    }

    #[test]
    fn the_first_range_naming_a_charset_decides_its_weight() {
        assert_eq!(
            charset(Some("utf-16;q=0.9, utf-16le;q=0.1, utf-8;q=0.5"), true),
            Ok(Charset::Utf16)
        );
        assert_eq!(
            charset(Some("utf-16le;q=0.1, utf-16;q=0.9, utf-8;q=0.5"), true),
            Ok(Charset::Utf8)
        );
    }
}
