//! Properties of negotiation over generated headers: the choice agrees with an oracle built
//! from the generated structure (not from parsing), carries the highest q, does not depend on
//! the order of items with distinct weights; and no header string makes a parser panic.

use agentgate_negotiation::{
    Charset, Error, Essence, Fallback, Language, LanguageChoice, Offer, RequestType, ResponseType,
    charset, content_type, culture, language, media_type, quality, time_zone,
};
use proptest::prelude::*;
use proptest::sample::subsequence;

/// What the server offers: the response types, and its own HTML pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Api(ResponseType),
    Html,
}

impl Essence for Media {
    fn essence(self) -> &'static str {
        match self {
            Media::Api(media_type) => media_type.essence(),
            Media::Html => "text/html",
        }
    }
}

const OFFERS: &[Offer<Media>] = &[
    Offer::new(Media::Api(ResponseType::Json)),
    Offer::new(Media::Api(ResponseType::TextJson)),
    Offer::new(Media::Api(ResponseType::Xml)),
    Offer::new(Media::Api(ResponseType::TextXml)),
    Offer::new(Media::Api(ResponseType::JsonPatch)),
    Offer::new(Media::Api(ResponseType::MergePatch)),
    Offer::when_named(Media::Html),
    Offer::when_named(Media::Api(ResponseType::ProblemJson)),
];

/// How specifically a generated range matches an offer, least specific first (RFC 9110
/// §12.5.1, with the crate's documented rule that a bare range beats a parameterised one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    Any,
    Subtypes,
    Parameterised,
    Exact,
}

/// A generated media range: what it is, and how it is written.
#[derive(Debug, Clone)]
struct Range {
    text: String,
    /// `(type, subtype or None for *, has parameters)`; `None` for `*/*`.
    pattern: Option<(&'static str, Option<&'static str>, bool)>,
}

impl Range {
    fn specificity(&self, offer: &str) -> Option<Specificity> {
        let (type_, subtype) = offer.split_once('/').unwrap();
        match self.pattern {
            None => Some(Specificity::Any),
            Some((t, _, _)) if t != type_ => None,
            Some((_, None, _)) => Some(Specificity::Subtypes),
            Some((_, Some(s), _)) if s != subtype => None,
            Some((_, Some(_), true)) => Some(Specificity::Parameterised),
            Some((_, Some(_), false)) => Some(Specificity::Exact),
        }
    }
}

/// Every range the generator can write; at most one parameterised form per type, so that
/// distinct ranges never tie in specificity for one offer.
fn all_ranges() -> Vec<Range> {
    let mut ranges = vec![
        Range {
            text: "*/*".into(),
            pattern: None,
        },
        Range {
            text: "text/*".into(),
            pattern: Some(("text", None, false)),
        },
        Range {
            text: "application/*".into(),
            pattern: Some(("application", None, false)),
        },
        Range {
            text: "image/png".into(),
            pattern: Some(("image", Some("png"), false)),
        },
    ];
    for offer in OFFERS {
        let (type_, subtype) = offer.media_type.essence().split_once('/').unwrap();
        ranges.push(Range {
            text: offer.media_type.essence().into(),
            pattern: Some((type_, Some(subtype), false)),
        });
        ranges.push(Range {
            text: format!("{};level=1", offer.media_type.essence().to_uppercase()),
            pattern: Some((type_, Some(subtype), true)),
        });
    }
    ranges
}

/// A generated `Accept` item: its range, its weight in thousandths, and a number choosing
/// how the weight is spelled.
type Item = (Range, u16, u8);

/// A qvalue in one of the spellings RFC 9110 §12.4.2 allows, or none (q=1).
fn written_q(q: u16, style: u8) -> String {
    match (q, style % 4) {
        (1000, 0) => String::new(),
        (1000, 1) => ";q=1".into(),
        (1000, _) => ";q=1.000".into(),
        (q, 0) => format!(";q=0.{q:03}"),
        (q, 1) => format!("; Q=0.{q:03}"),
        (0, _) => ";q=0".into(),
        (q, _) if q % 100 == 0 => format!(";q=0.{}", q / 100),
        (q, _) => format!(" ;q=0.{q:03}"),
    }
}

/// Items `(range, q)`; the header writes them in order.
fn header(items: &[Item]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|(range, q, style)| format!("{}{}", range.text, written_q(*q, *style)))
        .collect();
    items.join(", ")
}

/// The oracle: each offer's (specificity, q) from the structure, then the rule of SPEC §3.
fn oracle(items: &[Item]) -> Result<Media, Error> {
    if items.is_empty() {
        return Ok(OFFERS[0].media_type);
    }
    let mut best: Option<(u16, Media)> = None;
    for offer in OFFERS {
        let mut found: Option<(Specificity, u16)> = None;
        for (range, q, _) in items {
            if let Some(specificity) = range.specificity(offer.media_type.essence())
                && found.is_none_or(|(s, _)| specificity > s)
            {
                found = Some((specificity, *q));
            }
        }
        let Some((specificity, q)) = found else {
            continue;
        };
        let named = specificity >= Specificity::Parameterised;
        if q > 0 && (named || !offer.only_when_named) && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, offer.media_type));
        }
    }
    best.map(|(_, media_type)| media_type)
        .ok_or_else(|| Error::NotAcceptable {
            available: OFFERS
                .iter()
                .filter(|o| !o.only_when_named)
                .map(|o| o.media_type.essence())
                .collect(),
        })
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    let q = prop_oneof![Just(0u16), Just(1000u16), 0u16..=1000];
    prop::collection::vec((prop::sample::select(all_ranges()), q, any::<u8>()), 0..10)
}

/// Distinct ranges with distinct weights, and the same items in a random order.
fn distinct_items() -> impl Strategy<Value = (Vec<Item>, Vec<Item>)> {
    let weights: Vec<u16> = (0..=1000).collect();
    (subsequence(all_ranges(), 1..=8), subsequence(weights, 8)).prop_flat_map(
        |(ranges, weights)| {
            let items: Vec<_> = ranges
                .into_iter()
                .zip(weights)
                .map(|(r, q)| (r, q, 0))
                .collect();
            (Just(items.clone()), Just(items).prop_shuffle())
        },
    )
}

/// A string made of the characters that matter to the header grammar, to reach deeper into
/// the parsers than arbitrary Unicode does.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9*/;=,.\"\\\\ \t_+-]{0,80}",
        "((text|application|\\*)/(json|xml|\\*|html)(;q=[01]?\\.?[0-9]{0,4})?(;[a-z]=\"[^\"]*\"?)?, ?){0,6}",
    ]
}

proptest! {
    #[test]
    fn the_choice_agrees_with_the_oracle(items in items()) {
        let accept = header(&items);
        prop_assert_eq!(media_type(Some(&accept), OFFERS, Fallback::Strict), oracle(&items), "{}", accept);
    }

    #[test]
    fn the_chosen_type_carries_the_highest_q(items in items()) {
        let accept = header(&items);
        let chosen = media_type(Some(&accept), OFFERS, Fallback::Strict);
        let highest = OFFERS.iter().filter(|o| !o.only_when_named).filter_map(|o| quality(Some(&accept), o.media_type)).max();
        match chosen {
            Ok(chosen) => {
                let q = quality(Some(&accept), chosen);
                prop_assert!(q.is_some_and(|q| q > 0), "{} chose {:?} with {:?}", accept, chosen, q);
                prop_assert!(q >= highest, "{} chose {:?} with {:?} < {:?}", accept, chosen, q, highest);
            }
            Err(_) => prop_assert_eq!(highest, None, "{} refused", accept),
        }
    }

    #[test]
    fn shuffling_items_with_distinct_q_keeps_the_choice((items, shuffled) in distinct_items()) {
        let (accept, reordered) = (header(&items), header(&shuffled));
        prop_assert_eq!(
            media_type(Some(&accept), OFFERS, Fallback::Strict),
            media_type(Some(&reordered), OFFERS, Fallback::Strict),
            "{} vs {}", accept, reordered
        );
    }

    #[test]
    fn shuffling_languages_with_distinct_q_keeps_the_choice(
        (languages, shuffled) in subsequence(vec!["sv", "en-US", "nb", "de-DE", "fr", "x", "da;q=0", "nl-BE"], 1..=8)
            .prop_flat_map(|languages| {
                let weighted: Vec<String> = languages.iter().enumerate()
                    .map(|(i, l)| if l.contains(';') { l.to_string() } else { format!("{l};q=0.{}", 9 - i) })
                    .collect();
                (Just(weighted.clone()), Just(weighted).prop_shuffle())
            })
    ) {
        const SUPPORTED: &[&str] = &["en", "sv", "no", "da", "de", "nl"];
        let (header, reordered) = (languages.join(", "), shuffled.join(","));
        prop_assert_eq!(
            language(None, Some(&header), SUPPORTED, "en"),
            language(Some(&reordered), None, SUPPORTED, "en")
        );
    }

    #[test]
    fn accept_charset_prefers_the_higher_q(utf8 in 0u16..=1000, utf16 in 0u16..=1000, first in any::<bool>()) {
        let (a, b) = (format!("utf-8{}", written_q(utf8, 0)), format!("utf-16{}", written_q(utf16, 1)));
        let header = if first { format!("{a}, {b}") } else { format!("{b}, {a}") };
        let expected = match (utf8, utf16) {
            (0, 0) => Err(Error::NotAcceptableCharset),
            (utf8, utf16) if utf16 > utf8 => Ok(Charset::Utf16),
            _ => Ok(Charset::Utf8),
        };
        prop_assert_eq!(charset(Some(&header), true), expected, "{}", header);
    }

    #[test]
    fn parsers_never_panic(value in header_like(), other in header_like(), flag in any::<bool>()) {
        let offers = [Offer::new(Media::Api(ResponseType::Json)), Offer::when_named(Media::Html)];
        let xml = Some(Media::Api(ResponseType::TextXml));
        let _ = media_type(Some(&value), &offers, Fallback::Compatible { request_type: xml });
        let _ = media_type(Some(&value), &offers, Fallback::Strict);
        let _ = quality(Some(&value), Media::Html);
        let _ = quality(Some(&other), ResponseType::ProblemXml);
        let _ = charset(Some(&value), flag);
        let choice = language(Some(&value), Some(&other), &["en", "sv", "no"], "en");
        let _ = language(None, Some(&value), &["en", "sv", "no"], "en");
        let _ = culture(Some(&other), &choice);
        let _ = culture(Some(&value), &LanguageChoice { language: Language::Tag("en"), explicit: true });
        let _ = content_type(Some(&value), flag, &RequestType::ALL);
        let _ = time_zone(Some(&value));
    }
}
