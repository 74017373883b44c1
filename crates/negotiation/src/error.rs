/// Why a request cannot be read or answered as it asks.
///
/// The server maps each variant to a status (SPEC §2 and §3): the first three to 415, the
/// last two to 406. Headers that are merely malformed are not errors: their unparseable
/// items are skipped, as RFC 9110 §12.5.1 recommends.
///
/// No variant carries the request's own text: a `Content-Type` or charset the client wrote is
/// not repeated (SPEC §2), only the names the server offers are.
///
/// Not `#[non_exhaustive]`, unlike STYLE.md's library errors, on purpose: the server maps it
/// with one exhaustive `match` (no `_` arm), so a new variant here must be a compile error
/// there rather than silently become some status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Occurs when a request has a body but no `Content-Type` header.
    #[error("the request has a body but no Content-Type")]
    MissingContentType,

    /// Occurs when the `Content-Type` names a media type that is not supported, or cannot be
    /// parsed at all.
    #[error("the Content-Type is not one of the supported media types")]
    UnsupportedMediaType,

    /// Occurs when the `Content-Type` declares a charset other than UTF-8 or UTF-16
    /// (SPEC §2), or two different ones.
    #[error(
        "the charset of the Content-Type is not supported; use utf-8, utf-16, utf-16le or utf-16be"
    )]
    UnsupportedCharset,

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
