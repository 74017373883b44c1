//! The one API error type: every way a request can fail, with its status, its `ErrorType`
//! and its message, set in one place ([`ApiError::class`]), for REST, SOAP and the pages
//! alike. The library crates' errors become one by `From`, each an exhaustive `match`: a new
//! variant there is a compile error here, never a silent 400.

use std::time::{Duration, SystemTime};

use actix_web::http::StatusCode;

use crate::i18n::{Arg, Message};

/// Everything that can go wrong with a call, in the terms of SPEC §3, §4 and §10.
///
/// Rendering into the negotiated format happens in the `respond` module (REST), the `soap`
/// module and the pages.
#[derive(Debug)]
pub enum ApiError {
    /// The body could not be read as a request; `detail` names what and where, never the
    /// request's own text (SPEC §2).
    BadRequest {
        /// What is wrong and where.
        detail: String,
    },
    /// The connection broke while the body was being read.
    BodyUnreadable,
    /// The body was empty.
    EmptyBody,
    /// `$select` held characters outside the allowed set.
    InvalidSelect,
    /// A JSON Patch `test` operation failed (RFC 6902 §4.6).
    PatchTestFailed {
        /// Which operation failed.
        detail: String,
    },
    /// The Content-Type is not one the endpoint reads.
    UnsupportedMediaType,
    /// A body was sent without a Content-Type.
    MissingContentType,
    /// The charset (header or XML declaration) is not one of utf-8 and utf-16.
    UnsupportedCharset,
    /// The body is larger than the configured limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Strict mode and nothing in Accept or Accept-Charset can be produced.
    NotAcceptable,
    /// No credentials or bad ones.
    Unauthorized,
    /// A cookie session without a valid XSRF token.
    XsrfInvalid,
    /// A partner app's token under `--online`.
    PartnerAppForbidden,
    /// `--online` without `--enable-user-agent`.
    OnlineForbidden,
    /// The upstream refused the caller (its 403, SPEC §10).
    Forbidden,
    /// A method other than GET and POST.
    MethodNotAllowed,
    /// No resource at this path.
    NotFound,
    /// Too many wrong passwords; the caller must wait.
    Throttled {
        /// How long to wait.
        retry_after: Duration,
        /// The moment of the next allowed try.
        until: SystemTime,
    },
    /// The hashing queue (or the upstream's connection budget) is full; nothing changed.
    Busy {
        /// When to try again.
        retry_after: Duration,
    },
    /// The user store cannot be reached; nothing changed.
    StoreUnavailable,
    /// The upstream could not be reached or gave no usable answer (SPEC §10).
    BadGateway,
    /// The upstream did not answer in time (SPEC §10).
    GatewayTimeout,
    /// A bug or an unexpected failure; nothing changed.
    Internal,
}

/// What an error is to a SOAP client (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoapKind {
    /// A refusal of the call: 200, `Succeeded` false, `ExceptionInfo`.
    Refusal,
    /// The transport cannot be served: its HTTP status with an `s:Client` fault.
    Transport,
    /// The server (or its upstream) failed: 500 with an `s:Server` fault.
    Server,
}

impl ApiError {
    /// Status, `ErrorType`, message and SOAP treatment of every variant: the one place they
    /// are set. Every variant is named, so a new one cannot silently become a 400.
    fn class(&self) -> (StatusCode, &'static str, Message, SoapKind) {
        use SoapKind::{Refusal, Server, Transport};
        match self {
            ApiError::BadRequest { .. } | ApiError::BodyUnreadable => (
                StatusCode::BAD_REQUEST,
                "BadRequest",
                Message::BadRequest,
                Refusal,
            ),
            ApiError::EmptyBody => (
                StatusCode::BAD_REQUEST,
                "BadRequest",
                Message::EmptyBody,
                Refusal,
            ),
            ApiError::InvalidSelect => (
                StatusCode::BAD_REQUEST,
                "BadRequest",
                Message::InvalidSelect,
                Refusal,
            ),
            ApiError::PatchTestFailed { .. } => (
                StatusCode::CONFLICT,
                "PatchTestFailed",
                Message::PatchTestFailed,
                Refusal,
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                Message::UnsupportedMediaType,
                Transport,
            ),
            ApiError::MissingContentType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                Message::MissingContentType,
                Transport,
            ),
            ApiError::UnsupportedCharset => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                Message::UnsupportedCharset,
                Transport,
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                Message::PayloadTooLarge,
                Transport,
            ),
            ApiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "NotAcceptable",
                Message::NotAcceptable,
                Transport,
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                Message::Unauthorized,
                Refusal,
            ),
            ApiError::XsrfInvalid => (
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                Message::XsrfInvalid,
                Refusal,
            ),
            ApiError::PartnerAppForbidden => (
                StatusCode::FORBIDDEN,
                "PartnerAppForbidden",
                Message::PartnerAppForbidden,
                Refusal,
            ),
            ApiError::OnlineForbidden => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                Message::OnlineForbidden,
                Refusal,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Forbidden",
                Message::Forbidden,
                Refusal,
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                Message::MethodNotAllowed,
                Transport,
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "NotFound",
                Message::NotFound,
                Transport,
            ),
            ApiError::Throttled { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                Message::Throttled,
                Refusal,
            ),
            ApiError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                Message::Busy,
                Refusal,
            ),
            ApiError::StoreUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                Message::StoreUnavailable,
                Refusal,
            ),
            ApiError::BadGateway => (
                StatusCode::BAD_GATEWAY,
                "BadGateway",
                Message::BadGateway,
                Server,
            ),
            ApiError::GatewayTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeout",
                Message::GatewayTimeout,
                Server,
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                Message::InternalError,
                Server,
            ),
        }
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        self.class().0
    }

    /// The `ErrorType` of SPEC §3.
    pub fn error_type(&self) -> &'static str {
        self.class().1
    }

    /// What the error is to a SOAP client.
    pub(crate) fn soap_kind(&self) -> SoapKind {
        self.class().3
    }

    /// The localized message: its id and arguments.
    pub(crate) fn message(&self) -> (Message, Vec<(&'static str, Arg)>) {
        let id = self.class().2;
        let args = match self {
            ApiError::PayloadTooLarge { limit } => {
                vec![("limit", Arg::Number(*limit as i64))]
            }
            ApiError::Throttled { until, .. } => {
                vec![("until", Arg::Time(system_time_to_timestamp(*until)))]
            }
            ApiError::Busy { retry_after } => {
                vec![("seconds", Arg::Number(retry_seconds(*retry_after) as i64))]
            }
            _ => vec![],
        };
        (id, args)
    }

    /// `MessageDetail`: technical, never a secret and never the request's own text.
    pub(crate) fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail } | ApiError::PatchTestFailed { detail } => {
                detail.clone()
            }
            ApiError::UnsupportedMediaType | ApiError::MissingContentType => format!(
                "Supported media types: {}.",
                media_list(agentgate_codec::RequestType::ALL.iter().map(|m| m.as_str()))
            ),
            ApiError::UnsupportedCharset => {
                "Supported character sets: utf-8, utf-16, utf-16le, utf-16be.".to_owned()
            }
            ApiError::NotAcceptable => format!(
                "Available media types: {}; character sets: utf-8, utf-16.",
                media_list(
                    agentgate_codec::ResponseType::SERVER_ORDER
                        .iter()
                        .map(|m| m.as_str())
                )
            ),
            ApiError::MethodNotAllowed => "Allowed methods: GET, POST.".to_owned(),
            ApiError::Throttled { retry_after, .. } | ApiError::Busy { retry_after } => {
                format!("Retry after {} seconds.", retry_seconds(*retry_after))
            }
            ApiError::BodyUnreadable => "The request body could not be read.".to_owned(),
            ApiError::EmptyBody
            | ApiError::InvalidSelect
            | ApiError::PayloadTooLarge { .. }
            | ApiError::Unauthorized
            | ApiError::XsrfInvalid
            | ApiError::PartnerAppForbidden
            | ApiError::OnlineForbidden
            | ApiError::Forbidden
            | ApiError::NotFound
            | ApiError::StoreUnavailable
            | ApiError::BadGateway
            | ApiError::GatewayTimeout
            | ApiError::Internal => String::new(),
        }
    }

    /// The `Retry-After` value in seconds, where the status has one.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Throttled { retry_after, .. } | ApiError::Busy { retry_after } => {
                Some(retry_seconds(*retry_after))
            }
            ApiError::StoreUnavailable => Some(5),
            _ => None,
        }
    }
}

fn media_list<'a>(types: impl Iterator<Item = &'a str>) -> String {
    types.collect::<Vec<_>>().join(", ")
}

/// Whole seconds to wait, rounded up and at least one, as `Retry-After` wants (RFC 9110 §10.2.3).
pub(crate) fn retry_seconds(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

pub(crate) fn system_time_to_timestamp(t: SystemTime) -> jiff::Timestamp {
    jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

impl From<agentgate_negotiation::Error> for ApiError {
    fn from(e: agentgate_negotiation::Error) -> Self {
        use agentgate_negotiation::Error as E;
        match e {
            E::MissingContentType => ApiError::MissingContentType,
            E::UnsupportedMediaType => ApiError::UnsupportedMediaType,
            E::UnsupportedCharset => ApiError::UnsupportedCharset,
            E::NotAcceptable { .. } | E::NotAcceptableCharset => ApiError::NotAcceptable,
        }
    }
}

impl From<agentgate_codec::Error> for ApiError {
    fn from(e: agentgate_codec::Error) -> Self {
        use agentgate_codec::Error as E;
        match e {
            E::Empty => ApiError::EmptyBody,
            E::TooLarge { limit } => ApiError::PayloadTooLarge { limit },
            E::UnsupportedCharset => ApiError::UnsupportedCharset,
            E::PatchTestFailed { .. } => ApiError::PatchTestFailed {
                detail: e.to_string(),
            },
            // What is wrong and where: the messages name positions and the contract's own
            // names, never the request's text (SPEC §2).
            E::Encoding { .. }
            | E::Syntax { .. }
            | E::TooDeep { .. }
            | E::Doctype { .. }
            | E::TooManyAttributes { .. }
            | E::DuplicateAttribute { .. }
            | E::Shape { .. }
            | E::Missing { .. }
            | E::NotAString { .. }
            | E::Duplicate { .. }
            | E::DuplicateName { .. }
            | E::PercentEncoding { .. }
            | E::Patch { .. } => ApiError::BadRequest {
                detail: e.to_string(),
            },
        }
    }
}

impl From<agentgate_accounts::Error> for ApiError {
    fn from(e: agentgate_accounts::Error) -> Self {
        use agentgate_accounts::Error as E;
        match e {
            E::Unauthorized | E::UnknownUser => ApiError::Unauthorized,
            E::Throttled {
                retry_after, until, ..
            } => ApiError::Throttled { retry_after, until },
            E::Busy { retry_after } => ApiError::Busy { retry_after },
            E::Unavailable(_) => ApiError::StoreUnavailable,
            // What only administration meets, and the store's and hashing's own failures,
            // are bugs or incidents on a request's path: logged, and 500.
            other @ (E::UserExists
            | E::InvalidUsername(_)
            | E::UserDisabled
            | E::TtlTooLong { .. }
            | E::Policy(_)
            | E::Store(_)
            | E::InvalidDatabaseUrl(_)
            | E::Hash(_)) => {
                tracing::error!(error = %other, "accounts failure");
                ApiError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_and_is_at_least_one_second() {
        assert_eq!(retry_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_seconds(Duration::from_millis(60_001)), 61);
        assert_eq!(retry_seconds(Duration::from_secs(60)), 60);
        assert_eq!(retry_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn every_error_type_is_one_of_the_spec() {
        let all = [
            ApiError::BadRequest {
                detail: String::new(),
            },
            ApiError::BodyUnreadable,
            ApiError::EmptyBody,
            ApiError::InvalidSelect,
            ApiError::PatchTestFailed {
                detail: String::new(),
            },
            ApiError::UnsupportedMediaType,
            ApiError::MissingContentType,
            ApiError::UnsupportedCharset,
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::NotAcceptable,
            ApiError::Unauthorized,
            ApiError::XsrfInvalid,
            ApiError::PartnerAppForbidden,
            ApiError::OnlineForbidden,
            ApiError::Forbidden,
            ApiError::MethodNotAllowed,
            ApiError::NotFound,
            ApiError::Throttled {
                retry_after: Duration::from_secs(60),
                until: SystemTime::now(),
            },
            ApiError::Busy {
                retry_after: Duration::from_secs(1),
            },
            ApiError::StoreUnavailable,
            ApiError::BadGateway,
            ApiError::GatewayTimeout,
            ApiError::Internal,
        ];
        let spec = [
            "BadRequest",
            "PatchTestFailed",
            "UnsupportedMediaType",
            "PayloadTooLarge",
            "NotAcceptable",
            "Unauthorized",
            "Forbidden",
            "PartnerAppForbidden",
            "MethodNotAllowed",
            "NotFound",
            "TooManyRequests",
            "ServiceUnavailable",
            "InternalError",
            "BadGateway",
            "GatewayTimeout",
        ];
        for e in &all {
            assert!(spec.contains(&e.error_type()), "{e:?}");
            assert!(e.status_code().is_client_error() || e.status_code().is_server_error());
        }
    }
}
