//! Media ranges of `Accept` (RFC 9110 §12.5.1) and how specifically each matches a type.

use crate::Essence;
use crate::header::{self, Q_MAX};

/// The q, in thousandths, that `Accept` gives `media_type` by the rule of [`media_type`](crate::media_type):
/// the most specific matching range decides. `None` when the type is excluded (q=0) or no
/// range matches. No header, an empty one, or one without a parseable item accepts
/// everything: `Some(1000)`.
///
/// Unlike [`media_type`](crate::media_type), wildcards count here: `*/*` gives `text/html` 1000. The server
/// uses this to compare, say, `text/html` with `application/json` for one client.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{ResponseType, quality};
///
/// let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
///     image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
/// assert_eq!(quality(Some(chromium), ResponseType::Xml), Some(900));
/// assert_eq!(quality(Some(chromium), ResponseType::Json), Some(800));
/// assert_eq!(quality(Some("text/*;q=0.5, text/xml;q=0"), ResponseType::TextXml), None);
/// assert_eq!(quality(None, ResponseType::TextXml), Some(1000));
/// ```
pub fn quality<T: Essence>(accept: Option<&str>, media_type: T) -> Option<u16> {
    quality_of(accept, media_type.essence())
}

fn quality_of(accept: Option<&str>, essence: &str) -> Option<u16> {
    let Some(accept) = accept else {
        return Some(Q_MAX);
    };
    let target = split_type(essence);
    let mut parsed = false;
    let mut best = Match::NONE;
    for range in header::items(accept).flatten().filter_map(range) {
        parsed = true;
        best.improve(&range, target);
    }
    match best {
        _ if !parsed => Some(Q_MAX),
        Match {
            specificity: Specificity::None,
            ..
        }
        | Match { q: 0, .. } => None,
        Match { q, .. } => Some(q),
    }
}

/// A parsed media range of `Accept`.
pub(crate) struct Range<'a> {
    type_: &'a str,
    subtype: &'a str,
    q: u16,
    has_params: bool,
}

/// Reads one `Accept` item as a media range; `None` when it is not one (`json`, `*/json`).
pub(crate) fn range(item: header::Weighted<'_>) -> Option<Range<'_>> {
    // Old Java clients send a lone `*`; it can only mean `*/*`. The item grammar guarantees
    // tokens on both sides of the `/`.
    let (type_, subtype) = if item.value == "*" {
        ("*", "*")
    } else {
        split_at_slash(item.value)?
    };
    let valid = type_ != "*" || subtype == "*";
    valid.then_some(Range {
        type_,
        subtype,
        q: item.q,
        has_params: item.has_params,
    })
}

pub(crate) fn split_type(media_type: &str) -> (&str, &str) {
    split_at_slash(media_type).unwrap_or((media_type, ""))
}

/// `split_once('/')` for the short strings here, without the set-up of a substring search.
fn split_at_slash(s: &str) -> Option<(&str, &str)> {
    let slash = s.bytes().position(|b| b == b'/')?;
    Some((&s[..slash], &s[slash + 1..]))
}

/// `str::eq_ignore_ascii_case`, but with a shortcut for equal bytes: headers are nearly
/// always lower case already, and this comparison is the inner loop of [`rank`].
#[inline]
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(a, b)| a == b || a.eq_ignore_ascii_case(&b))
}

/// How specifically a range matches a media type, least specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Specificity {
    None,
    /// `*/*`
    Any,
    /// `type/*`
    Subtypes,
    /// `type/subtype;param=value`: names the type, but asks for a variant the offer does not
    /// claim, so a bare `type/subtype` range is the better match.
    ParameterisedType,
    /// `type/subtype`
    Type,
}

/// The best range found so far for one media type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match {
    pub(crate) specificity: Specificity,
    pub(crate) q: u16,
}

impl Match {
    pub(crate) const NONE: Match = Match {
        specificity: Specificity::None,
        q: 0,
    };

    /// Takes `range`'s q if it matches `(type_, subtype)` more specifically than the ranges
    /// seen before; between equally specific ranges the first one stays.
    #[inline]
    pub(crate) fn improve(&mut self, range: &Range<'_>, (type_, subtype): (&str, &str)) {
        if self.specificity == Specificity::Type {
            // Nothing beats an exact match, and it keeps its q against later equal ones.
            return;
        }
        let specificity = if range.type_ == "*" {
            Specificity::Any
        } else if !eq_ignore_case(range.type_, type_) {
            Specificity::None
        } else if range.subtype == "*" {
            Specificity::Subtypes
        } else if !eq_ignore_case(range.subtype, subtype) {
            Specificity::None
        } else if range.has_params {
            Specificity::ParameterisedType
        } else {
            Specificity::Type
        };
        if specificity > self.specificity {
            *self = Match {
                specificity,
                q: range.q,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An offer type for the tests: any essence.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct M(&'static str);

    impl Essence for M {
        fn essence(self) -> &'static str {
            self.0
        }
    }

    const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

    fn quality(accept: Option<&str>, media_type: &'static str) -> Option<u16> {
        super::quality(accept, M(media_type))
    }
    #[test]
    fn quality_follows_the_most_specific_range() {
        let cases = [
            (None, "text/html", Some(1000)),
            (Some(""), "text/html", Some(1000)),
            (Some(CHROMIUM), "text/html", Some(1000)),
            (Some(CHROMIUM), "application/xml", Some(900)),
            (Some(CHROMIUM), "application/json", Some(800)),
            (Some("application/json"), "text/html", None),
            (Some("text/*;q=0.5, text/xml;q=0"), "text/xml", None),
            (Some("text/*;q=0.5, text/xml;q=0"), "text/json", Some(500)),
            (Some("TEXT/*;Q=0.5"), "text/json", Some(500)),
            (Some("*/*;q=0.001"), "image/png", Some(1)),
            // Old Java clients' lone `*`.
            (Some("*"), "text/xml", Some(1000)),
            (Some("text/xml;q=0.5, *;q=0.6"), "text/xml", Some(500)),
            (
                Some("text/xml;q=0.5, *;q=0.6"),
                "application/json",
                Some(600),
            ),
        ];
        for (accept, media_type, expected) in cases {
            assert_eq!(
                quality(accept, media_type),
                expected,
                "{media_type} in {accept:?}"
            );
        }
    }
}
