//! Content negotiation for agentgate, from plain header strings.
//!
//! Given the values of a request's headers, this crate decides how its body is to be read
//! and how the answer is to be written (SPEC §2, §3, §7):
//!
//! - [`content_type`]: the request's media type and charset (RFC 9110 §8.3), or why it
//!   cannot be read;
//! - [`media_type`] and [`quality`]: the response media type from `Accept` (RFC 9110
//!   §12.5.1, q-values as integer thousandths per RFC 9110 §12.4.2), with ASP.NET Web API 2's
//!   fallback or a strict refusal;
//! - [`charset`]: UTF-8 or UTF-16 from `Accept-Charset` (RFC 9110 §12.5.2);
//! - [`language`] and [`culture`]: the message language from `SO-Language` or
//!   `Accept-Language` (RFC 4647 §3.4 lookup) and the formatting culture from `SO-Culture`;
//! - [`time_zone`]: the zone of `SO-TimeZone`;
//! - [`VARY`]: the `Vary` value every `/api/` response carries.
//!
//! Negotiation is generic over what is offered: anything implementing [`Essence`], such as
//! the [`RequestType`] and [`ResponseType`] of `agentgate-media` (re-exported here with
//! [`Charset`]), and it answers with the caller's own value, never a string to be parsed back.
//!
//! Malformed headers are not errors: unparseable items are skipped, as RFC 9110 §12.5.1
//! recommends. [`Error`] is kept for what the server must refuse.
//!
//! You will notably *not* find here: body parsing or encoding (that is `agentgate-codec`),
//! anything of an HTTP framework (no actix-web types, no status codes: the server maps
//! [`Error`] to 406 and 415), or translation (the server owns the messages; this crate only
//! says which language to use).
//!
//! # Example
//!
//! ```
//! use agentgate_negotiation::{
//!     Charset, Essence, Fallback, Language, Offer, ResponseType, charset, language, media_type,
//! };
//!
//! // The server's offers: the codec's response types, and its own HTML pages.
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! enum Media {
//!     Api(ResponseType),
//!     Html,
//! }
//! impl Essence for Media {
//!     fn essence(self) -> &'static str {
//!         match self {
//!             Media::Api(media_type) => media_type.essence(),
//!             Media::Html => "text/html",
//!         }
//!     }
//! }
//!
//! const OFFERS: &[Offer<Media>] = &[
//!     Offer::new(Media::Api(ResponseType::Json)),
//!     Offer::new(Media::Api(ResponseType::TextJson)),
//!     Offer::new(Media::Api(ResponseType::Xml)),
//!     Offer::new(Media::Api(ResponseType::TextXml)),
//!     Offer::when_named(Media::Html),
//! ];
//! const LANGUAGES: &[&str] = &["en", "sv", "no", "da", "de", "nl"];
//!
//! // A browser posting the password form.
//! let accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
//! let fallback = Fallback::Compatible { request_type: None };
//! assert_eq!(media_type(Some(accept), OFFERS, fallback)?, Media::Html);
//! assert_eq!(charset(None, false)?, Charset::Utf8);
//! let choice = language(None, Some("nb-NO,nb;q=0.9,en;q=0.8"), LANGUAGES, "en");
//! assert_eq!(choice.language, Language::Tag("no"));
//! assert_eq!(choice.content_language(), Some("no"));
//!
//! // A script with `fetch()`: JSON.
//! assert_eq!(media_type(Some("*/*"), OFFERS, fallback)?, Media::Api(ResponseType::Json));
//! # Ok::<(), agentgate_negotiation::Error>(())
//! ```
//!
//! # Performance
//!
//! Nothing is allocated on the way to a decision (only [`Error::NotAcceptable`]'s list,
//! [`culture`]'s string and [`time_zone`]'s name are). A weighted list is parsed in one pass
//! over its bytes, one table lookup per byte; a long header costs linear time.
//!
//! `benches/negotiation.rs` negotiates a browser request: Chromium's `Accept`
//! (`text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,`
//! `image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7`) against SPEC §3's six
//! types plus `text/html`, `Accept-Language: sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7`, no
//! `Accept-Charset`. The baseline, in the same run, only splits those two headers on commas
//! and counts the pieces:
//!
//! ```text
//! cargo bench -p agentgate-negotiation --bench negotiation
//!
//! browser/baseline: split Accept and Accept-Language on commas   110 ns  [107 ns 113 ns]
//! browser/negotiate: media type, charset and language            449 ns  [441 ns 460 ns]
//! browser/media_type alone                                       374 ns  [362 ns 388 ns]
//! browser/language alone                                          83 ns  [82 ns 83 ns]
//! browser/quality of text/html                                   174 ns  [174 ns 175 ns]
//! ```
//!
//! Negotiating costs about 4× splitting on commas, and a whole browser negotiation takes
//! under half a microsecond (the aim was 1 µs). Measured 2026-11-27 on a 2-vCPU VM ("AMD
//! EPYC") with nothing else running. An earlier run on a loaded 2-vCPU Xeon VM (load average
//! 4 to 5) gave 1.56 µs against a 307 ns baseline: the ratio, about 5, is the stable figure.
//! Counted by callgrind, one negotiation is about 7,600 instructions against 1,650 for the
//! baseline.
//!
//! (`--bench negotiation` is needed: without it cargo also passes criterion's options to the
//! library's test harness, which rejects them.)

mod charset;
mod content_type;
mod error;
mod header;
mod language;
mod media;
mod range;
mod time_zone;

pub use agentgate_media::{Charset, Essence, RequestType, ResponseType, Syntax};

pub use crate::charset::charset;
pub use crate::content_type::{ContentType, content_type};
pub use crate::error::Error;
pub use crate::language::{Language, LanguageChoice, culture, language};
pub use crate::media::{Fallback, Offer, media_type};
pub use crate::range::quality;
pub use crate::time_zone::{TimeZoneChoice, time_zone};

/// The `Vary` value every `/api/` response carries (SPEC §3): the answer depends on these
/// request headers (RFC 9110 §12.5.5).
///
/// # Examples
///
/// ```
/// assert!(agentgate_negotiation::VARY.contains("SO-Language"));
/// ```
pub const VARY: &str = "Accept, Accept-Charset, Accept-Language, SO-Language";
