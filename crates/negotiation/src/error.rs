/// Why a request cannot be read or answered as it asks.
///
/// The server maps each variant to a status (SPEC §2 and §3): the first three to 415, the
/// last two to 406. Headers that are merely malformed are not errors: their unparseable
/// items are skipped, as RFC 9110 §12.5.1 recommends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Occurs when a request has a body but no `Content-Type` header.
    #[error("the request has a body but no Content-Type")]
    MissingContentType,

    /// Occurs when the `Content-Type` names a media type that is not supported, or cannot be
    /// parsed at all (then `media_type` holds the whole header value).
    #[error("the media type {media_type:?} is not supported")]
    UnsupportedMediaType {
        /// The media type as the request wrote it, without parameters.
        media_type: String,
    },

    /// Occurs when the `Content-Type` declares a charset other than UTF-8 or UTF-16
    /// (SPEC §2).
    #[error("the charset {charset:?} is not supported")]
    UnsupportedCharset {
        /// The charset as the request wrote it, without quotes.
        charset: String,
    },

    /// Occurs in strict mode when `Accept` excludes every media type the server offers.
    #[error("none of the acceptable media types is available; available: {}", available.join(", "))]
    NotAcceptable {
        /// The media types the server could have answered with, in server order.
        available: Vec<&'static str>,
    },

    /// Occurs in strict mode when `Accept-Charset` excludes both UTF-8 and UTF-16.
    #[error("none of the acceptable charsets is available; available: utf-8, utf-16")]
    NotAcceptableCharset,
}
