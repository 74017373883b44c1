use crate::header;
use crate::range::{Match, Specificity, range, split_type};
use crate::{Error, Essence};

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

#[cfg(test)]
mod tests {
    use super::*;

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
        crate::range::quality(accept, M(media_type))
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
}
