//! Negotiating a browser request: Chromium's `Accept`, a Swedish `Accept-Language`, no
//! `Accept-Charset`; against the baseline of merely splitting those headers on commas, in the
//! same run.
//!
//! `cargo bench -p agentgate-negotiation --bench negotiation -- --warm-up-time 1 --measurement-time 3`
//!
//! Figures and their reading: the crate docs, "Performance".

use std::hint::black_box;

use agentgate_negotiation::{
    Essence, Fallback, Offer, RequestType, ResponseType, charset, language, media_type, quality,
};
use criterion::{Criterion, criterion_main};

const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
    image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const ACCEPT_LANGUAGE: &str = "sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7";

/// The server's offer type: the response types, and its HTML pages.
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

/// What the server offers for a successful answer: SPEC §3's response types and `text/html`.
const OFFERS: &[Offer<Media>] = &[
    Offer::new(Media::Api(ResponseType::Json)),
    Offer::new(Media::Api(ResponseType::TextJson)),
    Offer::new(Media::Api(ResponseType::Xml)),
    Offer::new(Media::Api(ResponseType::TextXml)),
    Offer::new(Media::Api(ResponseType::JsonPatch)),
    Offer::new(Media::Api(ResponseType::MergePatch)),
    Offer::when_named(Media::Html),
];
const LANGUAGES: &[&str] = &["en", "sv", "no", "da", "de", "nl"];

fn browser(c: &mut Criterion) {
    // A form post: not a response type, so nothing to fall back to but the first offer.
    let fallback = Fallback::Compatible {
        request_type: RequestType::FormUrlEncoded.as_response().map(Media::Api),
    };
    let mut group = c.benchmark_group("browser");
    group.bench_function(
        "baseline: split Accept and Accept-Language on commas",
        |b| {
            b.iter(|| {
                let accept = black_box(CHROMIUM).split(',').count();
                let languages = black_box(ACCEPT_LANGUAGE).split(',').count();
                black_box(accept + languages)
            });
        },
    );
    group.bench_function("negotiate: media type, charset and language", |b| {
        b.iter(|| {
            let media_type = media_type(black_box(Some(CHROMIUM)), OFFERS, fallback);
            let charset = charset(black_box(None), false);
            let language = language(None, black_box(Some(ACCEPT_LANGUAGE)), LANGUAGES, "en");
            black_box((media_type, charset, language))
        });
    });
    group.bench_function("media_type alone", |b| {
        b.iter(|| media_type(black_box(Some(CHROMIUM)), OFFERS, fallback));
    });
    group.bench_function("language alone", |b| {
        b.iter(|| language(None, black_box(Some(ACCEPT_LANGUAGE)), LANGUAGES, "en"));
    });
    group.bench_function("quality of text/html", |b| {
        b.iter(|| quality(black_box(Some(CHROMIUM)), Media::Html));
    });
    group.finish();
}

/// The benchmarks, with criterion's command line; written out because `criterion_group!`
/// generates an undocumented function, which the workspace lints refuse.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    browser(&mut c);
}

criterion_main!(benches);
