//! How an answer is written: the negotiated media type, charset, language, culture and time
//! zone of one request (SPEC §3, §7), and the responders for `true`/`false` and errors.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use agentgate_codec::{self as codec, RequestType, ResponseType};
use agentgate_negotiation::{
    self as negotiation, Essence, Fallback, Language, LanguageChoice, Offer,
};

use crate::error::ApiError;
use crate::i18n::Arg;
use crate::state::AppState;

static REQUEST_TYPES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| RequestType::ALL.iter().map(|m| m.as_str()).collect());
static RESPONSE_TYPES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    ResponseType::SERVER_ORDER
        .iter()
        .map(|m| m.as_str())
        .collect()
});

/// Offers for a successful answer: the six response types in server order, then HTML for
/// browsers that name it.
static SUCCESS_OFFERS: LazyLock<Vec<Offer<Media>>> = LazyLock::new(|| {
    let mut offers: Vec<Offer<Media>> = ResponseType::SERVER_ORDER
        .into_iter()
        .map(|media_type| Offer::new(Media::Api(media_type)))
        .collect();
    offers.push(Offer::when_named(Media::Html));
    offers
});

/// Offers for an error: as for success, plus the RFC 9457 problem types when named.
static ERROR_OFFERS: LazyLock<Vec<Offer<Media>>> = LazyLock::new(|| {
    let mut offers = SUCCESS_OFFERS.clone();
    for media_type in ResponseType::PROBLEM {
        offers.push(Offer::when_named(Media::Api(media_type)));
    }
    offers
});

/// The media types a request body may have, for `Accept-Post` and messages.
pub(crate) fn request_media_types() -> &'static [&'static str] {
    &REQUEST_TYPES
}

/// The media types an answer may have (besides HTML and problem documents).
pub(crate) fn response_media_types() -> &'static [&'static str] {
    &RESPONSE_TYPES
}

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
            Media::Api(media_type) => media_type.essence(),
            Media::Html => "text/html",
        }
    }
}

/// The negotiated shape of one request's answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) success: Media,
    pub(crate) error: Media,
    pub(crate) charset: codec::Charset,
    pub(crate) language: LanguageChoice,
    pub(crate) culture: Option<String>,
    pub(crate) zone: negotiation::TimeZoneChoice,
    /// The client named a time zone (`SO-TimeZone`).
    pub(crate) zone_named: bool,
}

/// SuperOffice's own request headers (SPEC §7). Names made once: a `&str` name is parsed
/// into a `HeaderName` at every lookup.
static SO_LANGUAGE: HeaderName = HeaderName::from_static("so-language");
static SO_CULTURE: HeaderName = HeaderName::from_static("so-culture");
static SO_TIMEZONE: HeaderName = HeaderName::from_static("so-timezone");
/// A partner application's token (SPEC §4: partner apps are refused).
pub(crate) static SO_APPTOKEN: HeaderName = HeaderName::from_static("so-apptoken");

fn header_str<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

impl Reply {
    /// Negotiates from the request's headers. `request_type` is the request body's media
    /// type, which compatibility mode answers in when nothing in Accept fits.
    ///
    /// # Errors
    /// [`ApiError::NotAcceptable`] in strict mode when neither a media type nor a charset
    /// can satisfy the client.
    pub(crate) fn negotiate(
        req: &HttpRequest,
        state: &AppState,
        request_type: Option<RequestType>,
    ) -> Result<Reply, ApiError> {
        let strict = state.settings.strict_accept;
        let accept = header_str(req, &header::ACCEPT);
        let fallback = if strict {
            Fallback::Strict
        } else {
            Fallback::Compatible {
                request_type: request_type
                    .and_then(RequestType::as_response)
                    .map(Media::Api),
            }
        };
        let success = negotiation::media_type(accept, &SUCCESS_OFFERS, fallback)
            .map_err(|_| ApiError::NotAcceptable)?;
        let error = negotiation::media_type(accept, &ERROR_OFFERS, fallback)
            .map_err(|_| ApiError::NotAcceptable)?;
        let charset = negotiation::charset(header_str(req, &header::ACCEPT_CHARSET), strict)
            .map_err(|_| ApiError::NotAcceptable)?;
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
            charset: codec::Charset::Utf8,
            language,
            culture,
            zone,
            zone_named: named_zone.is_some(),
        }
    }

    /// For an HTML page: times carry their UTC offset unless the client named a time zone.
    /// Browsers send no `SO-TimeZone`, and a bare UTC time on a page reads as local time.
    pub(crate) fn for_page(mut self) -> Reply {
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

    /// A localized message in this request's language, culture and time zone.
    pub(crate) fn message(&self, state: &AppState, id: &str, args: &[(&str, Arg)]) -> String {
        state.catalog.message(
            self.lang(),
            self.culture.as_deref(),
            &self.zone.zone,
            self.zone.include_offset,
            id,
            args,
        )
    }

    /// `true` or `false` in the negotiated format (HTML is the pages' business).
    pub(crate) fn boolean(&self, value: bool) -> HttpResponse {
        let media = match self.success {
            Media::Api(m) => m,
            Media::Html => ResponseType::Json,
        };
        let mut builder = HttpResponse::Ok();
        self.api_headers(&mut builder, media);
        builder.body(codec::encode_bool(media, self.charset, value))
    }

    /// A refusal: `false` with `X-Reason` (SPEC §4).
    pub(crate) fn refusal(&self, reason: &'static str) -> HttpResponse {
        let mut response = self.boolean(false);
        response.headers_mut().insert(
            header::HeaderName::from_static("x-reason"),
            HeaderValue::from_static(reason),
        );
        response
    }

    /// An error document in the negotiated error format, with the headers its status needs.
    pub(crate) fn error(&self, state: &AppState, err: &ApiError) -> HttpResponse {
        let (id, args) = err.message();
        let message = self.message(state, id, &args);
        let detail = err.detail();
        let mut builder = HttpResponse::build(err.status_code());
        add_error_headers(&mut builder, err);
        let media = match self.error {
            Media::Api(m) => m,
            Media::Html => {
                if let Some(lang) = self.language.content_language() {
                    builder
                        .insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)));
                }
                builder.insert_header((header::VARY, HeaderValue::from_static(negotiation::VARY)));
                return crate::pages::error_page(builder, state, self, &message, err);
            }
        };
        self.api_headers(&mut builder, media);
        if let Some(lang) = self.language.content_language() {
            builder.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)));
        }
        let doc = codec::ErrorDocument {
            message: &message,
            message_detail: &detail,
            error_type: err.error_type(),
            status: err.status_code().as_u16(),
            title: err.title(),
        };
        builder.body(codec::encode_error(media, self.charset, &doc))
    }

    /// An arbitrary small object (the GET description) in the negotiated format.
    pub(crate) fn value(&self, root: &str, value: &serde_json::Value) -> HttpResponse {
        let media = match self.success {
            Media::Api(m) => m,
            Media::Html => ResponseType::Json,
        };
        let mut builder = HttpResponse::Ok();
        self.api_headers(&mut builder, media);
        builder.body(codec::encode_value(media, self.charset, root, value))
    }

    /// Values from static strings, where they can be: a `&str` value is copied into a new
    /// allocation at every insert.
    fn api_headers(&self, builder: &mut HttpResponseBuilder, media: ResponseType) {
        builder.insert_header((header::CONTENT_TYPE, content_type(media, self.charset)));
        builder.insert_header((header::VARY, HeaderValue::from_static(negotiation::VARY)));
        builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    }
}

/// `Content-Type` of an answer: made once per media type and charset, not per response.
fn content_type(media: ResponseType, charset: codec::Charset) -> HeaderValue {
    fn make(media: ResponseType, utf8: bool) -> HeaderValue {
        let name = if utf8 { "utf-8" } else { "utf-16" };
        HeaderValue::from_str(&format!("{}; charset={name}", media.as_str()))
            .expect("a media type is a header value")
    }
    static VALUES: LazyLock<Vec<(ResponseType, bool, HeaderValue)>> = LazyLock::new(|| {
        ResponseType::ALL
            .into_iter()
            .flat_map(|media| [true, false].map(|utf8| (media, utf8, make(media, utf8))))
            .collect()
    });
    let utf8 = charset == codec::Charset::Utf8;
    VALUES
        .iter()
        .find(|(m, u, _)| *m == media && *u == utf8)
        .map_or_else(|| make(media, utf8), |(_, _, value)| value.clone())
}

fn add_error_headers(builder: &mut HttpResponseBuilder, err: &ApiError) {
    if let Some(secs) = err.retry_after() {
        builder.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    match err {
        ApiError::MethodNotAllowed { .. } => {
            builder.insert_header((header::ALLOW, "GET, POST"));
        }
        ApiError::UnsupportedMediaType | ApiError::MissingContentType => {
            builder.insert_header(("Accept-Post", REQUEST_TYPES.join(", ")));
        }
        _ => {}
    }
}
