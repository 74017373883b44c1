//! The shared grammar of the negotiation headers: comma-separated lists (RFC 9110 §5.6.1),
//! `;` parameters (RFC 9110 §5.6.6) and weights (RFC 9110 §12.4.2).
//!
//! Everything here borrows from the header string: nothing allocates, so negotiating a whole
//! browser request stays well under a microsecond.

/// The weight `q=1`, in thousandths.
pub(crate) const Q_MAX: u16 = 1000;

/// Iterates the elements of a comma-separated list, splitting only outside quoted strings.
///
/// Elements come trimmed of optional whitespace; empty elements (`a,,b`) are skipped, as the
/// list grammar of RFC 9110 §5.6.1.2 requires of recipients.
pub(crate) fn elements(header: &str) -> Elements<'_> {
    Elements {
        rest: header,
        quotes: header.contains('"'),
    }
}

/// The iterator of [`elements`].
pub(crate) struct Elements<'a> {
    rest: &'a str,
    /// Whether the header holds a `"` at all: looked up once, not per element, so that a
    /// long header costs linear time.
    quotes: bool,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while !self.rest.is_empty() {
            let end = find_unquoted(self.rest, b',', self.quotes);
            let element = trim_ows(&self.rest[..end]);
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            if !element.is_empty() {
                return Some(element);
            }
        }
        None
    }
}

/// One element of a weighted list: its value (the part before the first `;`) and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Weighted<'a> {
    /// The value, trimmed: a media range, a charset or a language range.
    pub(crate) value: &'a str,
    /// The weight in thousandths; 1000 when the element has no `q` parameter.
    pub(crate) q: u16,
    /// Whether parameters other than the weight come before it (media-type parameters of
    /// RFC 9110 §12.5.1, which make a range more specific than a bare `type/subtype`).
    pub(crate) has_params: bool,
}

/// Splits one list element into value, parameters and weight.
///
/// Returns `None` for an element that cannot be parsed: a malformed parameter, or a `q`
/// that is not a qvalue of RFC 9110 §12.4.2 (`q=abc`, `q=1.5`, `q=0.1234`). Parameters after
/// the weight are accept extensions and do not count as `has_params`.
pub(crate) fn weighted(element: &str) -> Option<Weighted<'_>> {
    let (value, params) = split_params(element);
    let mut q = None;
    let mut has_params = false;
    for param in params {
        let (name, value) = param?;
        if q.is_some() {
            continue;
        }
        if name.eq_ignore_ascii_case("q") {
            q = Some(qvalue(value)?);
        } else {
            has_params = true;
        }
    }
    Some(Weighted {
        value,
        q: q.unwrap_or(Q_MAX),
        has_params,
    })
}

/// Splits `value *( OWS ";" OWS [ parameter ] )` (RFC 9110 §5.6.6) into the trimmed value
/// and an iterator over its parameters.
pub(crate) fn split_params(s: &str) -> (&str, Params<'_>) {
    let quotes = s.contains('"');
    let end = find_unquoted(s, b';', quotes);
    (
        trim_ows(&s[..end]),
        Params {
            rest: s.get(end + 1..),
            quotes,
        },
    )
}

/// The parameters of [`split_params`]: `Some((name, value))` each, `None` for one that is
/// malformed. Empty parameters (`text/html;;q=0.5`) are skipped, as RFC 9110 §5.6.6 allows
/// them.
pub(crate) struct Params<'a> {
    rest: Option<&'a str>,
    quotes: bool,
}

impl<'a> Iterator for Params<'a> {
    type Item = Option<(&'a str, &'a str)>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(rest) = self.rest {
            let end = find_unquoted(rest, b';', self.quotes);
            let param = trim_ows(&rest[..end]);
            self.rest = rest.get(end + 1..);
            if !param.is_empty() {
                return Some(parameter(param));
            }
        }
        None
    }
}

/// Splits a `name=value` parameter; the value is a token or a quoted string, returned with
/// its quotes. Whitespace around `=` is tolerated although RFC 9110 §5.6.6 has none, because
/// some clients send it and nothing becomes ambiguous.
fn parameter(param: &str) -> Option<(&str, &str)> {
    let (name, value) = param.split_once('=')?;
    let (name, value) = (trim_ows(name), trim_ows(value));
    if !is_token(name) {
        return None;
    }
    if is_token(value) || is_quoted_string(value) {
        Some((name, value))
    } else {
        None
    }
}

/// Parses a qvalue (RFC 9110 §12.4.2) into thousandths: `"0"`, `"0.5"`, `"1.000"`.
///
/// At most three decimals, nothing above 1, no leading `.`, no sign, no exponent.
pub(crate) fn qvalue(value: &str) -> Option<u16> {
    let bytes = value.as_bytes();
    let (&first, rest) = bytes.split_first()?;
    let decimals = match rest {
        [] => &[][..],
        [b'.', decimals @ ..] if decimals.len() <= 3 => decimals,
        _ => return None,
    };
    match first {
        b'0' => {
            let mut q = 0;
            let mut scale = 100;
            for &digit in decimals {
                if !digit.is_ascii_digit() {
                    return None;
                }
                q += u16::from(digit - b'0') * scale;
                scale /= 10;
            }
            Some(q)
        }
        b'1' if decimals.iter().all(|&digit| digit == b'0') => Some(Q_MAX),
        _ => None,
    }
}

/// Removes the quotes of a quoted string, leaving a token as it is.
///
/// Escapes (`\"`) are left in place: no value this crate compares contains one, so a value
/// that does simply fails to match, and nothing needs to allocate.
pub(crate) fn unquote(value: &str) -> &str {
    if is_quoted_string(value) {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Whether `s` is a token (RFC 9110 §5.6.2): one or more `tchar`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

fn is_quoted_string(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'"' || bytes[bytes.len() - 1] != b'"' {
        return false;
    }
    let mut escaped = false;
    for &b in &bytes[1..bytes.len() - 1] {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            return false;
        }
    }
    !escaped
}

/// The index of the first `needle` outside a quoted string, or `s.len()`; `quotes` says
/// whether `s` may hold a quoted string at all.
fn find_unquoted(s: &str, needle: u8, quotes: bool) -> usize {
    let bytes = s.as_bytes();
    // Fast path: most headers carry no quotes at all.
    if !quotes {
        return bytes
            .iter()
            .position(|&b| b == needle)
            .unwrap_or(bytes.len());
    }
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted {
            match b {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == needle {
            return i;
        }
    }
    bytes.len()
}

/// Trims optional whitespace (RFC 9110 §5.6.3: spaces and horizontal tabs).
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues_parse_into_thousandths() {
        let cases = [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.001", Some(1)),
            ("0.999", Some(999)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("1.001", None),
            ("2", None),
            ("0.1234", None),
            ("abc", None),
            (".5", None),
            ("-0", None),
            ("", None),
            ("0.5 ", None),
            ("0,5", None),
            ("0.a", None),
            ("1e0", None),
        ];
        for (input, expected) in cases {
            assert_eq!(qvalue(input), expected, "qvalue({input:?})");
        }
    }

    #[test]
    fn lists_split_outside_quotes_and_skip_empty_elements() {
        let got: Vec<_> = elements(r#" a , b;x="1,2", ,c;y="q\"," ,"#).collect();
        assert_eq!(got, ["a", r#"b;x="1,2""#, r#"c;y="q\",""#]);
        assert_eq!(elements("").count(), 0);
        assert_eq!(elements(" , ,\t").count(), 0);
    }

    #[test]
    fn weighted_elements_separate_value_params_and_weight() {
        let cases = [
            ("text/html", Some(("text/html", 1000, false))),
            ("text/html;q=0.5", Some(("text/html", 500, false))),
            ("text/html ; Q=0.5", Some(("text/html", 500, false))),
            ("text/plain;format=flowed", Some(("text/plain", 1000, true))),
            (
                "text/plain;format=fixed;q=0.4",
                Some(("text/plain", 400, true)),
            ),
            ("text/plain;q=0.4;ext=1", Some(("text/plain", 400, false))),
            ("text/plain;;q=0.4", Some(("text/plain", 400, false))),
            (
                r#"text/plain;a="x;q=0";q=0.3"#,
                Some(("text/plain", 300, true)),
            ),
            ("text/html;q=abc", None),
            ("text/html;q=1.5", None),
            ("text/html;q=0.1234", None),
            ("text/html;q=", None),
            ("text/html;novalue", None),
            ("text/html;a b=c", None),
            (r#"text/html;a="unterminated"#, None),
        ];
        for (input, expected) in cases {
            let got = weighted(input).map(|w| (w.value, w.q, w.has_params));
            assert_eq!(got, expected, "weighted({input:?})");
        }
    }

    #[test]
    fn unquote_strips_only_a_complete_quoted_string() {
        assert_eq!(unquote(r#""utf-8""#), "utf-8");
        assert_eq!(unquote("utf-8"), "utf-8");
        assert_eq!(unquote(r#""utf-8"#), r#""utf-8"#);
        assert_eq!(unquote(r#""""#), "");
    }
}
