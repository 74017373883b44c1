use crate::header::{self, Q_MAX};
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

/// One media type the server can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer<T> {
    /// The media type, which [`media_type`] hands back when it chooses this offer.
    pub media_type: T,
    /// Whether the offer is a candidate only when `Accept` names it exactly (a `type/subtype`
    /// range, not a wildcard, with q > 0): `text/html` and the problem types, which a client
    /// that sends `*/*` did not ask for.
    pub only_when_named: bool,
}

impl<T> Offer<T> {
    /// An offer any matching range may choose, wildcards included.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_negotiation::{Offer, ResponseType};
    ///
    /// assert!(!Offer::new(ResponseType::Json).only_when_named);
    /// ```
    pub const fn new(media_type: T) -> Offer<T> {
        Offer {
            media_type,
            only_when_named: false,
        }
    }

    /// An offer chosen only when `Accept` names it exactly.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_negotiation::{Offer, ResponseType};
    ///
    /// assert!(Offer::when_named(ResponseType::ProblemJson).only_when_named);
    /// ```
    pub const fn when_named(media_type: T) -> Offer<T> {
        Offer {
            media_type,
            only_when_named: true,
        }
    }
}

/// What [`media_type`] answers when `Accept` excludes every offer (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback<T> {
    /// ASP.NET Web API 2's behaviour, the default: the request's media type when it is one of
    /// the offers that are not `only_when_named`, else the first such offer.
    Compatible {
        /// The request's media type as an offer, when it is one (a form is not:
        /// [`RequestType::as_response`](crate::RequestType::as_response) is `None`).
        request_type: Option<T>,
    },
    /// Refuse: [`Error::NotAcceptable`] (`--strict-accept`).
    Strict,
}

/// Chooses the response media type from `Accept` (RFC 9110 §12.5.1, SPEC §3).
///
/// Each offer takes the q of the most specific range that matches its [`Essence`]:
/// `type/subtype` beats `type/subtype;param=...`, which beats `type/*`, which beats `*/*`.
/// Parameters other than q do not prevent a match, but a bare range is the better match for
/// a bare offer, so `text/plain;format=fixed;q=0.4, text/plain;q=0.7` gives `text/plain` 0.7
/// in either order. Between equally specific ranges the first one counts. q=0 excludes an
/// offer; the highest q wins; ties go to offer order. Items that cannot be parsed (a
/// malformed `type/subtype`, `q=abc`, `q=1.5`, `q=0.1234`) are skipped; Java's lone `*` reads
/// as `*/*`.
///
/// An offer marked [`only_when_named`](Offer::only_when_named) is a candidate only when a
/// `type/subtype` range naming it has q > 0.
///
/// No header, an empty one, or one in which no item can be parsed expresses no preference:
/// the first offer that is not `only_when_named` (the first offer if all are).
///
/// # Errors
///
/// [`Error::NotAcceptable`], listing the offers that are not `only_when_named`, when nothing
/// is acceptable and `fallback` is [`Fallback::Strict`], or when `offers` is empty.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{Error, Essence, Fallback, Offer, ResponseType, media_type};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// enum Media {
///     Api(ResponseType),
///     Html,
/// }
/// impl Essence for Media {
///     fn essence(self) -> &'static str {
///         match self {
///             Media::Api(media_type) => media_type.essence(),
///             Media::Html => "text/html",
///         }
///     }
/// }
///
/// const OFFERS: &[Offer<Media>] = &[
///     Offer::new(Media::Api(ResponseType::Json)),
///     Offer::new(Media::Api(ResponseType::Xml)),
///     Offer::when_named(Media::Html),
/// ];
/// let compatible = Fallback::Compatible { request_type: None };
/// let json = Media::Api(ResponseType::Json);
///
/// // fetch(), curl, HttpClient: JSON.
/// assert_eq!(media_type(Some("*/*"), OFFERS, compatible), Ok(json));
/// assert_eq!(media_type(None, OFFERS, compatible), Ok(json));
/// // A browser's form post: HTML.
/// let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// assert_eq!(media_type(Some(firefox), OFFERS, compatible), Ok(Media::Html));
/// // The most specific range decides: XML is excluded although application/* allows it.
/// let header = "application/*;q=0.2, application/xml;q=0";
/// assert_eq!(media_type(Some(header), OFFERS, compatible), Ok(json));
/// // Nothing acceptable.
/// assert_eq!(
///     media_type(Some("image/png"), OFFERS, Fallback::Strict),
///     Err(Error::NotAcceptable { available: vec!["application/json", "application/xml"] }),
/// );
/// let xml = Media::Api(ResponseType::Xml);
/// let from_xml = Fallback::Compatible { request_type: Some(xml) };
/// assert_eq!(media_type(Some("image/png"), OFFERS, from_xml), Ok(xml));
/// ```
pub fn media_type<T: Essence + PartialEq>(
    accept: Option<&str>,
    offers: &[Offer<T>],
    fallback: Fallback<T>,
) -> Result<T, Error> {
    match accept.map_or(Ranking::NoPreference, |accept| rank(accept, offers)) {
        Ranking::Chosen(index) => Ok(offers[index].media_type),
        Ranking::NoPreference => first_offer(offers).ok_or_else(|| not_acceptable(offers)),
        Ranking::NothingAcceptable => match fallback {
            Fallback::Compatible { request_type } => request_type
                .filter(|&request_type| {
                    offers
                        .iter()
                        .any(|offer| !offer.only_when_named && offer.media_type == request_type)
                })
                .or_else(|| first_offer(offers))
                .ok_or_else(|| not_acceptable(offers)),
            Fallback::Strict => Err(not_acceptable(offers)),
        },
    }
}

/// The q, in thousandths, that `Accept` gives `media_type` by the rule of [`media_type`]:
/// the most specific matching range decides. `None` when the type is excluded (q=0) or no
/// range matches. No header, an empty one, or one without a parseable item accepts
/// everything: `Some(1000)`.
///
/// Unlike [`media_type`], wildcards count here: `*/*` gives `text/html` 1000. The server
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

enum Ranking {
    Chosen(usize),
    NoPreference,
    NothingAcceptable,
}

/// Offers are ranked in chunks of this many, each with its matches on the stack, so that the
/// header is parsed once per chunk and nothing allocates. Servers offer fewer than this.
const CHUNK: usize = 16;

/// An offer as ranking sees it: the generic part is only the lookup of the essences, the
/// ranking itself is compiled once for all offer types.
#[derive(Clone, Copy)]
struct Target<'a> {
    type_: &'a str,
    subtype: &'a str,
    only_when_named: bool,
}

impl Target<'_> {
    const EMPTY: Target<'static> = Target {
        type_: "",
        subtype: "",
        only_when_named: false,
    };
}

fn rank<T: Essence>(accept: &str, offers: &[Offer<T>]) -> Ranking {
    let mut parsed = false;
    // (q, index) of the best candidate so far.
    let mut best: Option<(u16, usize)> = None;
    for (chunk_index, chunk) in offers.chunks(CHUNK).enumerate() {
        let mut targets = [Target::EMPTY; CHUNK];
        for (target, offer) in targets.iter_mut().zip(chunk) {
            let (type_, subtype) = split_type(offer.media_type.essence());
            *target = Target {
                type_,
                subtype,
                only_when_named: offer.only_when_named,
            };
        }
        rank_chunk(
            accept,
            &targets[..chunk.len()],
            chunk_index * CHUNK,
            &mut parsed,
            &mut best,
        );
    }
    match best {
        Some((_, index)) => Ranking::Chosen(index),
        None if !parsed => Ranking::NoPreference,
        None => Ranking::NothingAcceptable,
    }
}

/// Ranks one chunk of offers, the first at `first_index`, improving `best`.
fn rank_chunk(
    accept: &str,
    targets: &[Target<'_>],
    first_index: usize,
    parsed: &mut bool,
    best: &mut Option<(u16, usize)>,
) {
    let mut matches = [Match::NONE; CHUNK];
    for range in header::items(accept).flatten().filter_map(range) {
        *parsed = true;
        for (found, target) in matches.iter_mut().zip(targets) {
            found.improve(&range, (target.type_, target.subtype));
        }
    }
    for (i, (found, target)) in matches.iter().zip(targets).enumerate() {
        let candidate = found.q > 0
            && if target.only_when_named {
                found.specificity >= Specificity::ParameterisedType
            } else {
                found.specificity > Specificity::None
            };
        // Strictly greater: a tie keeps the earlier offer.
        if candidate && best.is_none_or(|(q, _)| found.q > q) {
            *best = Some((found.q, first_index + i));
        }
    }
}

fn first_offer<T: Copy>(offers: &[Offer<T>]) -> Option<T> {
    offers
        .iter()
        .find(|offer| !offer.only_when_named)
        .or(offers.first())
        .map(|offer| offer.media_type)
}

fn not_acceptable<T: Essence>(offers: &[Offer<T>]) -> Error {
    let available = offers
        .iter()
        .filter(|offer| !offer.only_when_named)
        .map(|offer| offer.media_type.essence());
    Error::NotAcceptable {
        available: available.collect(),
    }
}

/// A parsed media range of `Accept`.
struct Range<'a> {
    type_: &'a str,
    subtype: &'a str,
    q: u16,
    has_params: bool,
}

/// Reads one `Accept` item as a media range; `None` when it is not one (`json`, `*/json`).
fn range(item: header::Weighted<'_>) -> Option<Range<'_>> {
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

fn split_type(media_type: &str) -> (&str, &str) {
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
enum Specificity {
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
struct Match {
    specificity: Specificity,
    q: u16,
}

impl Match {
    const NONE: Match = Match {
        specificity: Specificity::None,
        q: 0,
    };

    /// Takes `range`'s q if it matches `(type_, subtype)` more specifically than the ranges
    /// seen before; between equally specific ranges the first one stays.
    #[inline]
    fn improve(&mut self, range: &Range<'_>, (type_, subtype): (&str, &str)) {
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
    use crate::RequestType;

    /// An offer type for the tests: any essence, spelled as the test likes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct M(&'static str);

    impl Essence for M {
        fn essence(self) -> &'static str {
            self.0
        }
    }

    /// [`super::media_type`], answering with the essence so cases read as strings.
    fn media_type(
        accept: Option<&str>,
        offers: &[Offer<M>],
        fallback: Fallback<M>,
    ) -> Result<&'static str, Error> {
        super::media_type(accept, offers, fallback).map(|m| m.0)
    }

    fn quality(accept: Option<&str>, media_type: &'static str) -> Option<u16> {
        super::quality(accept, M(media_type))
    }

    /// The response types of SPEC §3 in server order, then `text/html` and the problem types.
    const OFFERS: &[Offer<M>] = &[
        Offer::new(M("application/json")),
        Offer::new(M("text/json")),
        Offer::new(M("application/xml")),
        Offer::new(M("text/xml")),
        Offer::new(M("application/json-patch+json")),
        Offer::new(M("application/merge-patch+json")),
        Offer::when_named(M("text/html")),
        Offer::when_named(M("application/problem+json")),
        Offer::when_named(M("application/problem+xml")),
    ];
    const NOT_NAMED: &[&str] = &[
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    const COMPATIBLE: Fallback<M> = Fallback::Compatible { request_type: None };

    const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const SAFARI: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    fn choose(accept: Option<&str>) -> Result<&'static str, Error> {
        media_type(accept, OFFERS, Fallback::Strict)
    }

    #[test]
    fn clients_get_their_expected_type() {
        let cases = [
            ("Chromium form post", Some(CHROMIUM), "text/html"),
            ("Firefox form post", Some(FIREFOX), "text/html"),
            ("Safari form post", Some(SAFARI), "text/html"),
            ("fetch()", Some("*/*"), "application/json"),
            ("curl", Some("*/*"), "application/json"),
            (".NET HttpClient", None, "application/json"),
            ("empty header", Some(""), "application/json"),
            ("blank header", Some(" ,\t"), "application/json"),
            (
                "Java HttpURLConnection",
                Some("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
                "text/html",
            ),
            (
                "jQuery JSON",
                Some("application/json, text/javascript, */*; q=0.01"),
                "application/json",
            ),
            (
                "legacy XML client",
                Some("application/xml"),
                "application/xml",
            ),
            ("text/xml client", Some("text/xml"), "text/xml"),
            ("case-insensitive", Some("TEXT/XML"), "text/xml"),
            (
                "problem types when named",
                Some("application/problem+json, */*;q=0.5"),
                "application/problem+json",
            ),
            (
                "problem xml when named",
                Some("application/problem+xml"),
                "application/problem+xml",
            ),
            (
                "parameters do not prevent a match",
                Some("application/xml;charset=utf-8"),
                "application/xml",
            ),
            (
                "accept extensions are ignored",
                Some("text/xml;q=0.9;ext=1, text/json;q=0.8"),
                "text/xml",
            ),
        ];
        for (client, accept, expected) in cases {
            assert_eq!(choose(accept), Ok(expected), "{client}: {accept:?}");
        }
    }

    #[test]
    fn without_html_on_offer_browsers_fall_to_the_wildcard() {
        let offers = &OFFERS[..6];
        // application/xml;q=0.9 beats */*;q=0.8.
        for browser in [CHROMIUM, FIREFOX, SAFARI] {
            assert_eq!(
                media_type(Some(browser), offers, Fallback::Strict),
                Ok("application/xml")
            );
        }
    }

    #[test]
    fn q_zero_excludes_a_type() {
        let cases = [
            ("application/json;q=0, */*", "text/json"),
            (
                "application/json;q=0, text/json;q=0, */*;q=0.1",
                "application/xml",
            ),
            (
                "application/*;q=0.2, application/xml;q=0",
                "application/json",
            ),
            (
                "application/*;q=0.2, application/json;q=0",
                "application/xml",
            ),
            ("text/*;q=0.5, text/xml;q=0", "text/json"),
            ("text/*;q=0.5, text/json;q=0", "text/xml"),
            ("text/html;q=0, */*", "application/json"),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(Some(accept)), Ok(expected), "{accept:?}");
        }
    }

    #[test]
    fn an_excluded_type_is_never_chosen_whatever_else_matches() {
        let headers = [
            (
                "application/*;q=0.2, application/xml;q=0",
                "application/xml",
            ),
            (
                "application/xml;q=0, application/*;q=0.2",
                "application/xml",
            ),
            ("application/xml;q=0, */*", "application/xml"),
            ("text/*;q=0.5, text/xml;q=0", "text/xml"),
            ("text/xml;q=0, text/*;q=0.5, */*;q=0.1", "text/xml"),
        ];
        let offer_sets: [&[Offer<M>]; 3] = [
            OFFERS,
            &[
                Offer::new(M("application/xml")),
                Offer::new(M("text/xml")),
                Offer::new(M("application/json")),
            ],
            &[
                Offer::new(M("text/xml")),
                Offer::new(M("application/xml")),
                Offer::new(M("text/json")),
            ],
        ];
        // Each set holds something else acceptable, so the fallback (which may answer in an
        // excluded type when nothing is acceptable, as Web API 2 does) never comes into play.
        for (accept, excluded) in headers {
            for offers in offer_sets {
                for fallback in [Fallback::Strict, COMPATIBLE] {
                    let chosen = media_type(Some(accept), offers, fallback);
                    assert_ne!(chosen, Ok(excluded), "{accept:?} with {offers:?}");
                }
            }
        }
    }

    #[test]
    fn html_and_problem_types_need_to_be_named() {
        let cases = [
            ("*/*", "application/json"),
            ("text/*", "text/json"),
            ("application/*", "application/json"),
            ("text/html;q=0.5, */*", "application/json"),
            // Browsers weigh `*/*` lower; when they do not, ties go to server order.
            ("text/html, */*;q=0.8", "text/html"),
            ("text/html, */*", "application/json"),
            ("text/html;level=1", "text/html"),
            (
                "application/problem+json;q=0.9, application/json",
                "application/json",
            ),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(Some(accept)), Ok(expected), "{accept:?}");
        }
        // Named by a wildcard only: not a candidate, so nothing is acceptable.
        let html_only = &[Offer::when_named(M("text/html"))];
        assert_eq!(
            media_type(Some("text/*"), html_only, Fallback::Strict),
            Err(Error::NotAcceptable { available: vec![] })
        );
    }

    #[test]
    fn ties_go_to_offer_order() {
        let cases = [
            ("text/xml, application/xml", "application/xml"),
            ("text/json, application/json", "application/json"),
            ("text/*;q=0.5, application/xml;q=0.5", "text/json"),
            ("text/xml;q=0.5, text/json;q=0.5", "text/json"),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(Some(accept)), Ok(expected), "{accept:?}");
        }
    }

    #[test]
    fn highest_q_wins() {
        let cases = [
            ("application/json;q=0.5, text/xml;q=0.6", "text/xml"),
            (
                "application/json;q=0.001, application/merge-patch+json",
                "application/merge-patch+json",
            ),
            ("*/*;q=0.1, text/*;q=0.2", "text/json"),
            ("text/*;q=0.2, application/xml;q=0.21", "application/xml"),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(Some(accept)), Ok(expected), "{accept:?}");
        }
    }

    #[test]
    fn malformed_items_are_skipped() {
        let cases = [
            ("application/json;q=abc, text/xml;q=0.5", "text/xml"),
            ("application/json;q=1.5, text/xml;q=0.5", "text/xml"),
            ("application/json;q=0.1234, text/xml;q=0.5", "text/xml"),
            ("application/json;q=, text/xml;q=0.5", "text/xml"),
            ("json, text/xml;q=0.5", "text/xml"),
            ("*/json, text/xml;q=0.5", "text/xml"),
            ("application/json;charset, text/xml;q=0.5", "text/xml"),
            ("app lication/json, text/xml;q=0.5", "text/xml"),
            // `0.` is a valid qvalue (RFC 9110 §12.4.2), `-0` is not: that exclusion is lost.
            ("text/*;q=0.5, text/json;q=0.", "text/xml"),
            ("text/*;q=0.5, text/json;q=-0", "text/json"),
        ];
        for (accept, expected) in cases {
            assert_eq!(choose(Some(accept)), Ok(expected), "{accept:?}");
        }
        // Nothing parseable: no preference.
        assert_eq!(choose(Some("q=0.5, ;;, /, a/")), Ok("application/json"));
    }

    #[test]
    fn nothing_acceptable_falls_back_or_refuses() {
        let not_acceptable = Err(Error::NotAcceptable {
            available: NOT_NAMED.to_vec(),
        });
        let cases = [
            ("image/png", Fallback::Strict, not_acceptable.clone()),
            ("*/*;q=0", Fallback::Strict, not_acceptable.clone()),
            (
                "text/html;q=0, application/*;q=0, text/*;q=0",
                Fallback::Strict,
                not_acceptable,
            ),
            ("image/png", COMPATIBLE, Ok("application/json")),
            (
                "image/png",
                Fallback::Compatible {
                    request_type: Some(M("text/xml")),
                },
                Ok("text/xml"),
            ),
            (
                "image/png",
                Fallback::Compatible {
                    request_type: Some(M("application/x-www-form-urlencoded")),
                },
                Ok("application/json"),
            ),
            // A request type that is only_when_named does not count.
            (
                "image/png",
                Fallback::Compatible {
                    request_type: Some(M("text/html")),
                },
                Ok("application/json"),
            ),
        ];
        for (accept, fallback, expected) in cases {
            assert_eq!(
                media_type(Some(accept), OFFERS, fallback),
                expected,
                "{accept:?} {fallback:?}"
            );
        }
    }

    #[test]
    fn no_offers_is_never_acceptable() {
        for accept in [None, Some("*/*")] {
            for fallback in [COMPATIBLE, Fallback::Strict] {
                let chosen = media_type(accept, &[], fallback);
                assert_eq!(chosen, Err(Error::NotAcceptable { available: vec![] }));
            }
        }
    }

    #[test]
    fn many_offers_rank_across_chunks() {
        let names: Vec<&'static str> = (0..40).map(|i| &*format!("type/sub{i}").leak()).collect();
        let offers: Vec<Offer<M>> = names.iter().map(|&name| Offer::new(M(name))).collect();
        let chosen = media_type(
            Some("type/*;q=0.5, type/sub37;q=0.6, type/sub38;q=0.6"),
            &offers,
            Fallback::Strict,
        );
        assert_eq!(chosen, Ok("type/sub37"));
        let chosen = media_type(
            Some("type/sub1;q=0, type/*;q=0.5"),
            &offers,
            Fallback::Strict,
        );
        assert_eq!(chosen, Ok("type/sub0"));
        let chosen = media_type(
            Some("type/sub0;q=0, type/*;q=0.5, type/sub20;q=0.9"),
            &offers,
            Fallback::Strict,
        );
        assert_eq!(chosen, Ok("type/sub20"));
    }

    #[test]
    fn rfc_9110_precedence_example() {
        // RFC 9110 §12.5.1: "text/plain;format=flowed" > "text/plain" > "text/*" > "*/*".
        let accept = Some("text/*, text/plain, text/plain;format=flowed, */*");
        let cases = [
            ("text/plain", Some(1000)),
            ("text/html", Some(1000)),
            ("application/json", Some(1000)),
        ];
        for (media_type, expected) in cases {
            assert_eq!(quality(accept, media_type), expected, "{media_type}");
        }
        // The ranges decide the weights, offers ties decide among them.
        let offers = &[
            Offer::new(M("text/plain")),
            Offer::new(M("application/json")),
        ];
        assert_eq!(
            media_type(accept, offers, Fallback::Strict),
            Ok("text/plain")
        );
        let offers = &[
            Offer::new(M("application/json")),
            Offer::new(M("text/plain")),
        ];
        assert_eq!(
            media_type(accept, offers, Fallback::Strict),
            Ok("application/json")
        );
    }

    #[test]
    fn rfc_9110_weights_example() {
        // RFC 9110 §12.5.1's second example, with text/plain for text/html.
        let accept = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, \
            text/plain;format=fixed;q=0.4, */*;q=0.5";
        // Same ranges, the parameterised ones first: the bare range still decides.
        let reordered = "text/plain;format=fixed;q=0.4, text/plain;format=flowed, \
            text/*;q=0.3, text/plain;q=0.7, */*;q=0.5";
        let cases = [
            ("text/plain", Some(700)),
            ("text/html", Some(300)),
            ("text/json", Some(300)),
            ("image/jpeg", Some(500)),
            ("application/json", Some(500)),
        ];
        for header in [accept, reordered] {
            for (media_type, expected) in cases {
                assert_eq!(
                    quality(Some(header), media_type),
                    expected,
                    "{media_type} in {header:?}"
                );
            }
            // Adapted to our offers: */* (0.5) beats text/* (0.3).
            assert_eq!(choose(Some(header)), Ok("application/json"));
            let offers = &[
                Offer::new(M("text/json")),
                Offer::new(M("text/plain")),
                Offer::new(M("application/json")),
            ];
            assert_eq!(
                media_type(Some(header), offers, Fallback::Strict),
                Ok("text/plain")
            );
        }
        // The RFC's own header and table, for text/html.
        let rfc =
            "text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5";
        let rfc_cases = [
            ("text/html", Some(700)),
            ("text/plain", Some(300)),
            ("image/jpeg", Some(500)),
        ];
        for (media_type, expected) in rfc_cases {
            assert_eq!(quality(Some(rfc), media_type), expected, "{media_type}");
        }
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
