//! The one API error type: every way a request under `/api/` can fail, with its status.

use std::time::{Duration, SystemTime};

use actix_web::http::StatusCode;

use crate::i18n::Arg;

/// Everything that can go wrong with a call, in the terms of SPEC §3 and §4.
///
/// Each variant knows its HTTP status, its `ErrorType` and its message id; rendering into
/// the negotiated format happens in the `respond` module.
#[derive(Debug)]
pub enum ApiError {
    /// The body could not be read as a request; `detail` names what and where.
    BadRequest {
        /// What is wrong and where, never a password.
        detail: String,
    },
    /// The body was empty.
    EmptyBody,
    /// `$select` held characters outside the allowed set.
    InvalidSelect,
    /// A JSON Patch `test` operation failed (RFC 6902 §4.6).
    PatchTestFailed {
        /// Which operation failed.
        detail: String,
    },
    /// The Content-Type is not one the endpoint reads. The type the client sent is not
    /// repeated (SPEC §2).
    UnsupportedMediaType,
    /// A body was sent without a Content-Type.
    MissingContentType,
    /// The charset (header or XML declaration) is not one of utf-8 and utf-16. The label the
    /// client sent is not repeated (SPEC §2).
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
    /// The caller identified itself as a partner app (`SO-AppToken`).
    PartnerAppForbidden,
    /// `--online` without `--enable-user-agent`.
    OnlineForbidden,
    /// A method other than GET and POST.
    MethodNotAllowed {
        /// The method the client used.
        method: String,
    },
    /// No resource at this path.
    NotFound,
    /// Too many wrong old passwords; the user must wait.
    Throttled {
        /// How long to wait.
        retry_after: Duration,
        /// The moment of the next allowed try.
        until: SystemTime,
    },
    /// The hashing queue is full; nothing changed.
    Busy {
        /// When to try again.
        retry_after: Duration,
    },
    /// The user store cannot be reached; nothing changed.
    StoreUnavailable,
    /// A bug or an unexpected failure; nothing changed.
    Internal,
}

impl ApiError {
    /// The HTTP status. Every variant is named, so a new one cannot silently become a 400.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::EmptyBody => StatusCode::BAD_REQUEST,
            ApiError::InvalidSelect => StatusCode::BAD_REQUEST,
            ApiError::PatchTestFailed { .. } => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MissingContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnsupportedCharset => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::XsrfInvalid => StatusCode::UNAUTHORIZED,
            ApiError::PartnerAppForbidden => StatusCode::FORBIDDEN,
            ApiError::OnlineForbidden => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `ErrorType` of SPEC §3.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } | ApiError::EmptyBody | ApiError::InvalidSelect => {
                "BadRequest"
            }
            ApiError::PatchTestFailed { .. } => "PatchTestFailed",
            ApiError::UnsupportedMediaType
            | ApiError::MissingContentType
            | ApiError::UnsupportedCharset => "UnsupportedMediaType",
            ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
            ApiError::NotAcceptable => "NotAcceptable",
            ApiError::Unauthorized | ApiError::XsrfInvalid => "Unauthorized",
            ApiError::PartnerAppForbidden => "PartnerAppForbidden",
            ApiError::OnlineForbidden => "Forbidden",
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::NotFound => "NotFound",
            ApiError::Throttled { .. } => "TooManyRequests",
            ApiError::Busy { .. } | ApiError::StoreUnavailable => "ServiceUnavailable",
            ApiError::Internal => "InternalError",
        }
    }

    /// The localized message: its resource id and arguments.
    pub(crate) fn message(&self) -> (&'static str, Vec<(&'static str, Arg)>) {
        match self {
            ApiError::BadRequest { .. } => ("SR_BAD_REQUEST", vec![]),
            ApiError::EmptyBody => ("SR_EMPTY_BODY", vec![]),
            ApiError::InvalidSelect => ("SR_INVALID_SELECT", vec![]),
            ApiError::PatchTestFailed { .. } => ("SR_PATCH_TEST_FAILED", vec![]),
            ApiError::UnsupportedMediaType => ("SR_UNSUPPORTED_MEDIA_TYPE", vec![]),
            ApiError::MissingContentType => ("SR_MISSING_CONTENT_TYPE", vec![]),
            ApiError::UnsupportedCharset => ("SR_UNSUPPORTED_CHARSET", vec![]),
            ApiError::PayloadTooLarge { limit } => (
                "SR_PAYLOAD_TOO_LARGE",
                vec![("limit", Arg::Number(*limit as i64))],
            ),
            ApiError::NotAcceptable => ("SR_NOT_ACCEPTABLE", vec![]),
            ApiError::Unauthorized => ("SR_UNAUTHORIZED", vec![]),
            ApiError::XsrfInvalid => ("SR_XSRF_INVALID", vec![]),
            ApiError::PartnerAppForbidden => ("SR_PARTNER_APP_FORBIDDEN", vec![]),
            ApiError::OnlineForbidden => ("SR_ONLINE_FORBIDDEN", vec![]),
            ApiError::MethodNotAllowed { method } => (
                "SR_METHOD_NOT_ALLOWED",
                vec![("method", Arg::Str(method.clone()))],
            ),
            ApiError::NotFound => ("SR_NOT_FOUND", vec![]),
            ApiError::Throttled { until, .. } => (
                "SR_THROTTLED",
                vec![("until", Arg::Time(system_time_to_timestamp(*until)))],
            ),
            ApiError::Busy { retry_after } => (
                "SR_BUSY",
                vec![("seconds", Arg::Number(retry_seconds(*retry_after) as i64))],
            ),
            ApiError::StoreUnavailable => ("SR_STORE_UNAVAILABLE", vec![]),
            ApiError::Internal => ("SR_INTERNAL_ERROR", vec![]),
        }
    }

    /// `MessageDetail`: technical, not localized, never a secret.
    pub(crate) fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail } | ApiError::PatchTestFailed { detail } => {
                detail.clone()
            }
            ApiError::UnsupportedMediaType | ApiError::MissingContentType => format!(
                "Supported media types: {}.",
                crate::respond::request_media_types().join(", ")
            ),
            ApiError::NotAcceptable => format!(
                "Available media types: {}; character sets: utf-8, utf-16.",
                crate::respond::response_media_types().join(", ")
            ),
            ApiError::MethodNotAllowed { .. } => "Allowed methods: GET, POST.".to_owned(),
            ApiError::Throttled { retry_after, .. } | ApiError::Busy { retry_after } => {
                format!("Retry after {} seconds.", retry_seconds(*retry_after))
            }
            ApiError::EmptyBody
            | ApiError::InvalidSelect
            | ApiError::UnsupportedCharset
            | ApiError::PayloadTooLarge { .. }
            | ApiError::Unauthorized
            | ApiError::XsrfInvalid
            | ApiError::PartnerAppForbidden
            | ApiError::OnlineForbidden
            | ApiError::NotFound
            | ApiError::StoreUnavailable
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

    /// The title for problem documents (RFC 9457 §3.1.3): the reason phrase.
    pub(crate) fn title(&self) -> &'static str {
        self.status_code().canonical_reason().unwrap_or("Error")
    }
}

/// Whole seconds to wait, rounded up and at least one, as `Retry-After` wants (RFC 9110 §10.2.3).
pub(crate) fn retry_seconds(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

pub(crate) fn system_time_to_timestamp(t: SystemTime) -> jiff::Timestamp {
    jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

impl From<agentgate_accounts::Error> for ApiError {
    fn from(e: agentgate_accounts::Error) -> Self {
        use agentgate_accounts::Error as E;
        match e {
            E::Unauthorized | E::UnknownUser => ApiError::Unauthorized,
            E::Busy { retry_after } => ApiError::Busy { retry_after },
            E::Unavailable(_) => ApiError::StoreUnavailable,
            other => {
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
            ApiError::MethodNotAllowed {
                method: "PUT".into(),
            },
            ApiError::NotFound,
            ApiError::Throttled {
                retry_after: Duration::from_secs(60),
                until: SystemTime::now(),
            },
            ApiError::Busy {
                retry_after: Duration::from_secs(1),
            },
            ApiError::StoreUnavailable,
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
        ];
        for e in &all {
            assert!(spec.contains(&e.error_type()), "{e:?}");
            assert!(e.status_code().is_client_error() || e.status_code().is_server_error());
        }
    }
}
