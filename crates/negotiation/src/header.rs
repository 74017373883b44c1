//! The shared grammar of the negotiation headers: comma-separated lists (RFC 9110 §5.6.1),
//! `;` parameters (RFC 9110 §5.6.6) and weights (RFC 9110 §12.4.2).
//!
//! Everything here borrows from the header string: nothing allocates.

/// The weight `q=1`, in thousandths.
pub(crate) const Q_MAX: u16 = 1000;

/// Iterates the items of a weighted list (`Accept`, `Accept-Charset`, `Accept-Language`):
/// `#( value *( OWS ";" OWS [ parameter ] ) )` with the weight among the parameters.
///
/// A value is a token, or two joined by `/` (a media range). Each item comes as
/// `Some(Weighted)`, or `None` when it cannot be parsed: a malformed value or parameter, or
/// a `q` that is not a qvalue of RFC 9110 §12.4.2 (`q=abc`, `q=1.5`, `q=0.1234`); parsing
/// then resumes after the next comma outside a quoted string. Empty list elements (`a,,b`)
/// are skipped, as RFC 9110 §5.6.1.2 asks of recipients.
///
/// One pass over the bytes, one table lookup each: this is the hot path of negotiation.
pub(crate) fn items(header: &str) -> Items<'_> {
    Items { header, pos: 0 }
}

/// The iterator of [`items`].
pub(crate) struct Items<'a> {
    header: &'a str,
    pos: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = Option<Weighted<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.header.as_bytes();
        while self.pos < bytes.len() && matches!(bytes[self.pos], b' ' | b'\t' | b',') {
            self.pos += 1;
        }
        if self.pos == bytes.len() {
            return None;
        }
        let item = self.item();
        if item.is_none() {
            self.skip_past_comma();
        }
        Some(item)
    }
}

impl<'a> Items<'a> {
    fn item(&mut self) -> Option<Weighted<'a>> {
        let start = self.pos;
        self.token()?;
        if self.peek() == Some(b'/') {
            self.pos += 1;
            self.token()?;
        }
        let value = &self.header[start..self.pos];
        let mut q = None;
        let mut has_params = false;
        loop {
            self.skip_ows();
            match self.peek() {
                None | Some(b',') => break,
                Some(b';') => self.pos += 1,
                Some(_) => return None,
            }
            self.skip_ows();
            if matches!(self.peek(), None | Some(b',' | b';')) {
                // RFC 9110 §5.6.6 allows empty parameters (`text/html;;q=0.5`).
                continue;
            }
            let name = self.token()?;
            // Whitespace around `=` is not in RFC 9110 §5.6.6, but some clients send it and
            // nothing becomes ambiguous.
            self.skip_ows();
            if self.peek() != Some(b'=') {
                return None;
            }
            self.pos += 1;
            self.skip_ows();
            let value = if self.peek() == Some(b'"') {
                self.quoted()?
            } else {
                self.token()?
            };
            if q.is_some() {
                // Accept extensions (RFC 9110 §12.5.1) follow the weight: ignored.
            } else if name.eq_ignore_ascii_case("q") {
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

    fn peek(&self) -> Option<u8> {
        self.header.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Consumes a token; `None` if there is none here.
    fn token(&mut self) -> Option<&'a str> {
        let bytes = self.header.as_bytes();
        let start = self.pos;
        let mut end = start;
        while end < bytes.len() && TCHAR[usize::from(bytes[end])] {
            end += 1;
        }
        self.pos = end;
        (end > start).then(|| &self.header[start..end])
    }

    /// Consumes a quoted string, returned with its quotes; `None` if it is unterminated.
    fn quoted(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.pos += 1;
        let bytes = self.header.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Some(&self.header[start..self.pos]);
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        self.pos = bytes.len();
        None
    }

    /// Recovers from an unparseable item: moves past the next comma outside quotes.
    fn skip_past_comma(&mut self) {
        let rest = &self.header[self.pos.min(self.header.len())..];
        let end = find_unquoted(rest, b',', rest.contains('"'));
        self.pos = (self.pos + end + 1).min(self.header.len());
    }
}

/// One item of a weighted list: its value and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Weighted<'a> {
    /// The value: a media range, a charset or a language range.
    pub(crate) value: &'a str,
    /// The weight in thousandths; 1000 when the item has no `q` parameter.
    pub(crate) q: u16,
    /// Whether parameters other than the weight come before it (media-type parameters of
    /// RFC 9110 §12.5.1, which make a range more specific than a bare `type/subtype`).
    pub(crate) has_params: bool,
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
    !s.is_empty() && s.bytes().all(|b| TCHAR[usize::from(b)])
}

/// `tchar` of RFC 9110 §5.6.2 as a table: one load per byte instead of a chain of compares.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < table.len() {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
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
            );
        i += 1;
    }
    table
};

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
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |last| last + 1);
    // Both ends sit next to ASCII bytes, so they are character boundaries.
    &s[start..end]
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
        let values = |header| {
            items(header)
                .map(|item| item.map(|w| w.value))
                .collect::<Vec<_>>()
        };
        let got = values(r#" a , b;x="1,2", ,c;y="q\"," ,"#);
        assert_eq!(got, [Some("a"), Some("b"), Some("c")]);
        assert_eq!(values(""), []);
        assert_eq!(values(" , ,\t"), []);
        // Parsing resumes after an unparseable item, not inside its quoted string.
        let got = values(r#"a b;x="1,2", c, d;x="unterminated, e"#);
        assert_eq!(got, [None, Some("c"), None]);
        assert_eq!(values("a/b/c, d"), [None, Some("d")]);
        assert_eq!(values(r#"a/"b", c"#), [None, Some("c")]);
    }

    #[test]
    fn weighted_items_separate_value_params_and_weight() {
        let cases = [
            ("text/html", Some(("text/html", 1000, false))),
            ("text/html;q=0.5", Some(("text/html", 500, false))),
            ("text/html ; Q=0.5", Some(("text/html", 500, false))),
            ("text/html;q = 0.5", Some(("text/html", 500, false))),
            ("text/plain;format=flowed", Some(("text/plain", 1000, true))),
            (
                "text/plain;format=fixed;q=0.4",
                Some(("text/plain", 400, true)),
            ),
            ("text/plain;q=0.4;ext=1", Some(("text/plain", 400, false))),
            ("text/plain;q=0.4;q=0.9", Some(("text/plain", 400, false))),
            ("text/plain;;q=0.4;", Some(("text/plain", 400, false))),
            (
                r#"text/plain;a="x;q=0";q=0.3"#,
                Some(("text/plain", 300, true)),
            ),
            ("en-US;q=0.8", Some(("en-US", 800, false))),
            ("*", Some(("*", 1000, false))),
            ("text/html;q=abc", None),
            ("text/html;q=1.5", None),
            ("text/html;q=0.1234", None),
            ("text/html;q=", None),
            ("text/html;q=\"0.5\"", None),
            ("text/html;novalue", None),
            ("text/html;a b=c", None),
            ("text/html junk", None),
            ("text /html", None),
            ("text/", None),
            ("/html", None),
            (r#"text/html;a="unterminated"#, None),
            ("é", None),
        ];
        for (input, expected) in cases {
            let mut parsed = items(input);
            let got = parsed
                .next()
                .flatten()
                .map(|w| (w.value, w.q, w.has_params));
            assert_eq!(got, expected, "items({input:?})");
            assert_eq!(parsed.next(), None, "items({input:?}) has one item");
        }
    }

    #[test]
    fn trim_removes_only_spaces_and_tabs() {
        let cases = [
            (" \t a b \t", "a b"),
            ("  ", ""),
            ("", ""),
            ("\u{a0}x\n", "\u{a0}x\n"),
            ("é ", "é"),
        ];
        for (input, expected) in cases {
            assert_eq!(trim_ows(input), expected, "{input:?}");
        }
    }

    #[test]
    fn tokens_are_tchar_only() {
        assert!(is_token("application"));
        assert!(is_token("!#$%&'*+-.^_`|~09azAZ"));
        for not_token in ["", "a b", "a/b", "a,b", "a;b", "a\"b", "é", "a=b", "a\tb"] {
            assert!(!is_token(not_token), "{not_token:?}");
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
