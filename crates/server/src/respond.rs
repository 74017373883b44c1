//! How an answer is written: the negotiated media type, charset, language, culture and time
//! zone of one request (SPEC §3, §7), and the responders for `true`/`false` and errors.

use std::cell::RefCell;
use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use agentgate_codec::{self as codec, Charset, RequestType, ResponseType};
use agentgate_negotiation::{
    self as negotiation, Essence, Fallback, Language, LanguageChoice, Offer,
};

use crate::error::ApiError;
use crate::i18n::{Arg, Locale, Message};
use crate::metrics::ResponseMedia;
use crate::state::AppState;

/// What an answer body is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// One of the codec's formats.
    Api(ResponseType),
    /// An HTML page for a browser.
    Html,
}

impl Essence for Media {
    fn essence(self) -> &'static str {
        match self {
            Media::Api(media) => media.essence(),
            Media::Html => "text/html",
        }
    }
}

/// Offers for a successful answer: the six response types in server order, then HTML for
/// browsers that name it.
static SUCCESS_OFFERS: LazyLock<Vec<Offer<Media>>> = LazyLock::new(|| {
    ResponseType::SERVER_ORDER
        .into_iter()
        .map(|media| Offer::new(Media::Api(media)))
        .chain([Offer::when_named(Media::Html)])
        .collect()
});

/// Offers for an error: as for success, plus the RFC 9457 problem types when named.
static ERROR_OFFERS: LazyLock<Vec<Offer<Media>>> = LazyLock::new(|| {
    let problems = ResponseType::PROBLEM
        .into_iter()
        .map(|media| Offer::when_named(Media::Api(media)));
    SUCCESS_OFFERS.iter().copied().chain(problems).collect()
});

/// The negotiated shape of one request's answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) success: Media,
    pub(crate) error: Media,
    pub(crate) charset: Charset,
    pub(crate) language: LanguageChoice,
    pub(crate) culture: Option<String>,
    pub(crate) zone: negotiation::TimeZoneChoice,
    /// The client named a time zone (`SO-TimeZone`).
    pub(crate) zone_named: bool,
}

/// SuperOffice's own request headers (SPEC §7). Names made once: a `&str` name is parsed
/// into a `HeaderName` at every lookup.
pub(crate) static SO_LANGUAGE: HeaderName = HeaderName::from_static("so-language");
pub(crate) static SO_CULTURE: HeaderName = HeaderName::from_static("so-culture");
pub(crate) static SO_TIMEZONE: HeaderName = HeaderName::from_static("so-timezone");
/// A partner application's token (SPEC §4).
pub(crate) static SO_APPTOKEN: HeaderName = HeaderName::from_static("so-apptoken");
static X_REASON: HeaderName = HeaderName::from_static("x-reason");
static ACCEPT_POST: HeaderName = HeaderName::from_static("accept-post");

pub(crate) fn header_str<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl Reply {
    /// Negotiates from the request's headers. In compatibility mode, when nothing in Accept
    /// fits, the answer is in the request body's media type where that is a response type.
    ///
    /// # Errors
    ///
    /// [`ApiError::NotAcceptable`] in strict mode when neither a media type nor a charset
    /// can satisfy the client.
    pub(crate) fn negotiate(req: &HttpRequest, state: &AppState) -> Result<Reply, ApiError> {
        let strict = state.settings.strict_accept;
        let accept = header_str(req, &header::ACCEPT);
        // The fallback counts only when Accept names nothing offered, so the request's own
        // media type is parsed only then: a strict choice is the same choice wherever Accept
        // decides (about 600 instructions of a cheap refusal, issue 17).
        let chosen = negotiation::media_type(accept, &SUCCESS_OFFERS, Fallback::Strict).and_then(
            |success| {
                negotiation::media_type(accept, &ERROR_OFFERS, Fallback::Strict)
                    .map(|error| (success, error))
            },
        );
        let (success, error) = match chosen {
            Ok(chosen) => chosen,
            Err(e) if strict => return Err(e.into()),
            Err(_) => {
                let request_type = negotiation::content_type(
                    header_str(req, &header::CONTENT_TYPE),
                    false,
                    RequestType::ALL.as_slice(),
                )
                .ok()
                .flatten()
                .and_then(|declared| declared.media_type.as_response());
                let fallback = Fallback::Compatible {
                    request_type: request_type.map(Media::Api),
                };
                (
                    negotiation::media_type(accept, &SUCCESS_OFFERS, fallback)?,
                    negotiation::media_type(accept, &ERROR_OFFERS, fallback)?,
                )
            }
        };
        let charset = negotiation::charset(header_str(req, &header::ACCEPT_CHARSET), strict)?;
        let reply = Reply {
            success,
            error,
            charset,
            ..Reply::lenient(req, state)
        };
        // A browser's HTML page, the error page included, is written as a page.
        Ok(if reply.error == Media::Html {
            reply.for_page()
        } else {
            reply
        })
    }

    /// JSON in UTF-8 with the request's language: how a 406 itself, and anything before
    /// negotiation, is written.
    pub(crate) fn lenient(req: &HttpRequest, state: &AppState) -> Reply {
        let language = negotiation::language(
            header_str(req, &SO_LANGUAGE),
            header_str(req, &header::ACCEPT_LANGUAGE),
            &crate::i18n::Catalog::LANGUAGES,
            state.settings.default_language,
        );
        let culture = negotiation::culture(header_str(req, &SO_CULTURE), &language);
        let named_zone = header_str(req, &SO_TIMEZONE);
        let zone = negotiation::time_zone(named_zone);
        Reply {
            success: Media::Api(ResponseType::Json),
            error: Media::Api(ResponseType::Json),
            charset: Charset::Utf8,
            language,
            culture,
            zone,
            zone_named: named_zone.is_some(),
        }
    }

    /// For an HTML page: times carry their UTC offset unless the client named a time zone.
    /// Browsers send no `SO-TimeZone`, and a bare UTC time on a page reads as local time.
    pub(crate) fn for_page(mut self) -> Reply {
        self.success = Media::Html;
        self.error = Media::Html;
        if !self.zone_named {
            self.zone.include_offset = true;
        }
        self
    }

    /// The language tag messages are written in, `None` for untranslated resource ids.
    pub(crate) fn lang(&self) -> Option<&'static str> {
        match self.language.language {
            Language::Tag(tag) => Some(tag),
            Language::Untranslated => None,
        }
    }

    /// Where this request reads its messages.
    pub(crate) fn locale(&self) -> Locale<'_> {
        Locale {
            language: self.lang(),
            culture: self.culture.as_deref(),
            zone: &self.zone.zone,
            include_offset: self.zone.include_offset,
        }
    }

    /// A localized message in this request's language, culture and time zone.
    pub(crate) fn message<'s>(
        &self,
        state: &'s AppState,
        message: Message,
        args: &[(&str, Arg)],
    ) -> std::borrow::Cow<'s, str> {
        state.catalog.message(&self.locale(), message, args)
    }

    /// `true` or `false` in the negotiated API format (a page is the pages' business).
    pub(crate) fn boolean(&self, media: ResponseType, value: bool) -> HttpResponse {
        let mut builder = HttpResponse::Ok();
        self.api_headers(&mut builder, media);
        builder.body(codec::encode_bool(media, self.charset, value))
    }

    /// A refusal: `false` with `X-Reason` (SPEC §4).
    pub(crate) fn refusal(&self, media: ResponseType, reason: &'static str) -> HttpResponse {
        let mut response = self.boolean(media, false);
        response
            .headers_mut()
            .insert(X_REASON.clone(), HeaderValue::from_static(reason));
        response
    }

    /// An error in the negotiated error format, with the headers its status needs.
    pub(crate) fn error(&self, state: &AppState, err: &ApiError) -> HttpResponse {
        let media = match self.error {
            Media::Api(media) => media,
            Media::Html => return crate::pages::error_page(state, self, err),
        };
        let (id, args) = err.message();
        let detail = err.detail();
        let status = err.status_code();
        let error_type = err.error_type();
        let mut builder = HttpResponse::build(status);
        error_headers(&mut builder, err);
        self.api_headers(&mut builder, media);
        let encode = || {
            let message = self.message(state, id, &args);
            let doc = codec::ErrorDocument {
                message: &message,
                message_detail: &detail,
                error_type,
                status: status.as_u16(),
            };
            codec::encode_error(media, self.charset, &doc)
        };
        if args.is_empty() && detail.is_empty() {
            let key = PlainError {
                message: id,
                language: self.lang(),
                media,
                charset: self.charset,
                error_type,
                status: status.as_u16(),
            };
            return builder.body(plain_error_body(key, encode));
        }
        builder.body(encode())
    }

    /// A small object (the GET description) in the negotiated API format.
    pub(crate) fn value(
        &self,
        media: ResponseType,
        root: &str,
        value: &serde_json::Value,
    ) -> HttpResponse {
        let mut builder = HttpResponse::Ok();
        self.api_headers(&mut builder, media);
        builder.body(codec::encode_value(media, self.charset, root, value))
    }

    /// The headers of every API answer. Values from static strings, where they can be: a
    /// `&str` value is copied into a new allocation at every insert.
    fn api_headers(&self, builder: &mut HttpResponseBuilder, media: ResponseType) {
        builder.insert_header((header::CONTENT_TYPE, content_type(media, self.charset)));
        builder.insert_header((header::VARY, HeaderValue::from_static(negotiation::VARY)));
        builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(lang) = self.language.content_language() {
            builder.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)));
        }
        builder
            .extensions_mut()
            .insert(ResponseMedia(Media::Api(media)));
    }
}

/// What an error document without arguments or detail is made of: all it depends on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PlainError {
    message: Message,
    language: Option<&'static str>,
    media: ResponseType,
    charset: Charset,
    error_type: &'static str,
    status: u16,
}

/// The error documents without arguments or detail (the 401 of a request without
/// credentials, a 404, a 405), encoded once by each worker and kept: the same bytes every
/// time, whose encoding was about 1,300 instructions of a cheap refusal (callgrind, issue 17).
/// Every part of the key comes from a closed set (messages, the catalogs' languages, media
/// types, charsets, statuses), so the map stays small.
fn plain_error_body(key: PlainError, encode: impl FnOnce() -> Vec<u8>) -> Bytes {
    thread_local! {
        static BODIES: RefCell<foldhash::HashMap<PlainError, Bytes>> = RefCell::default();
    }
    BODIES.with_borrow_mut(|bodies| {
        bodies
            .entry(key)
            .or_insert_with(|| Bytes::from(encode()))
            .clone()
    })
}

/// `Content-Type` of an answer: made once per media type and charset, not per response.
fn content_type(media: ResponseType, charset: Charset) -> HeaderValue {
    fn make(media: ResponseType, charset: Charset) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{}; charset={}",
            media.essence(),
            charset.as_str()
        ))
        .expect("a media type is a header value")
    }
    static VALUES: LazyLock<Vec<(ResponseType, HeaderValue, HeaderValue)>> = LazyLock::new(|| {
        ResponseType::ALL
            .into_iter()
            .map(|media| {
                (
                    media,
                    make(media, Charset::Utf8),
                    make(media, Charset::Utf16),
                )
            })
            .collect()
    });
    let Some((_, utf8, utf16)) = VALUES.iter().find(|(m, ..)| *m == media) else {
        return make(media, charset);
    };
    match charset {
        Charset::Utf8 => utf8.clone(),
        Charset::Utf16 => utf16.clone(),
        Charset::Utf16Le | Charset::Utf16Be => make(media, charset),
    }
}

/// The headers an error's status calls for: `Retry-After`, `Allow`, `Accept-Post`.
pub(crate) fn error_headers(builder: &mut HttpResponseBuilder, err: &ApiError) {
    static ACCEPT_POST_VALUE: LazyLock<HeaderValue> = LazyLock::new(|| {
        let types: Vec<&str> = RequestType::ALL.iter().map(|m| m.as_str()).collect();
        HeaderValue::from_str(&types.join(", ")).expect("media types are a header value")
    });
    if let Some(secs) = err.retry_after() {
        builder.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
    }
    match err {
        ApiError::MethodNotAllowed => {
            builder.insert_header((header::ALLOW, HeaderValue::from_static("GET, POST")));
        }
        ApiError::UnsupportedMediaType | ApiError::MissingContentType => {
            builder.insert_header((ACCEPT_POST.clone(), ACCEPT_POST_VALUE.clone()));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::test::TestRequest;

    use super::*;
    use crate::state::{Settings, testing};

    /// The body of `err` as `reply` writes it.
    fn body(reply: &Reply, state: &AppState, err: &ApiError) -> Bytes {
        reply
            .error(state, err)
            .into_body()
            .try_into_bytes()
            .unwrap()
    }

    #[actix_web::test]
    async fn a_kept_error_document_is_the_one_encoding_writes_in_each_language_and_format() {
        let state = testing::state(Settings::default()).await.0;
        let reply = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post();
            for &(name, value) in headers {
                req = req.insert_header((name, value));
            }
            Reply::negotiate(&req.to_http_request(), &state).unwrap()
        };
        let cases = [
            reply(&[]),
            reply(&[("Accept-Language", "sv")]),
            reply(&[("Accept", "application/xml")]),
            reply(&[("Accept", "application/xml"), ("Accept-Charset", "utf-16")]),
            reply(&[
                ("Accept", "application/problem+json"),
                ("SO-Language", "de"),
            ]),
        ];
        let mut seen = Vec::new();
        for reply in &cases {
            let media = match reply.error {
                Media::Api(media) => media,
                Media::Html => unreachable!("no case asks for a page"),
            };
            let (id, _) = ApiError::Unauthorized.message();
            let message = reply.message(&state, id, &[]);
            let fresh = codec::encode_error(
                media,
                reply.charset,
                &codec::ErrorDocument {
                    message: &message,
                    message_detail: "",
                    error_type: "Unauthorized",
                    status: 401,
                },
            );
            // The first answer encodes and keeps the document, the second is the kept one.
            for _ in 0..2 {
                assert_eq!(body(reply, &state, &ApiError::Unauthorized), fresh);
            }
            seen.push(fresh);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen.len(),
            cases.len(),
            "each case has a document of its own"
        );
        // An error with arguments is not kept: its text changes with them.
        let small = body(&cases[0], &state, &ApiError::PayloadTooLarge { limit: 10 });
        let large = body(&cases[0], &state, &ApiError::PayloadTooLarge { limit: 20 });
        assert_ne!(small, large);
    }
}
