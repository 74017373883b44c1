//! The one flow of a password change (SPEC §4), behind every front door.
//!
//! A front door (the REST endpoint in [`crate::rest`], SOAP in [`crate::soap`], the browser
//! form) only translates: it reads its wire format into a [`Command`], calls [`run`], and
//! writes the [`Outcome`] or the [`ApiError`] back in the form its caller negotiated. The
//! checks, their order, the log line and the backend call happen here, once.
//!
//! The change itself is a [`Backend`]'s: [`Local`] keeps users in the accounts store;
//! [`Upstream`] forwards it to a NetServer (SPEC §10). The flow does not know which one it
//! talks to.
//!
//! Order of checks (SPEC §4, as ASP.NET Web API 2 runs authorization before model binding):
//! the body limit (413, checked by the front door on `Content-Length` before it builds the
//! command, and again while the body is read), then the credentials (401, 403, 429: the
//! backend's [`admit`](Backend::admit), which also refuses while the change throttle makes
//! this caller wait), then the body (415, 400), then the XSRF token of a browser (401), then
//! the change (the policy and the password check are the backend's).

use std::net::IpAddr;

use actix_web::web;
use agentgate_codec::{self as codec, ChangeOwnPasswordRequest};
use agentgate_negotiation as negotiation;
use futures_util::StreamExt as _;
use futures_util::future::{BoxFuture, LocalBoxFuture};

use crate::credential::Credential;
use crate::error::ApiError;
use crate::metrics::Outcome as Label;
use crate::state::AppState;

mod local;
mod upstream;

pub(crate) use local::Local;
pub(crate) use upstream::Upstream;

/// One password change, as a front door read it.
pub(crate) struct Command<'a> {
    /// Who is calling, as presented; [`None`] when nothing readable was presented (no
    /// `Authorization` header and no session, an unknown scheme, two headers).
    pub(crate) credential: Option<Credential>,
    /// The passwords: decoded already, or still to be read.
    pub(crate) body: Body<'a>,
    /// How the request proves it is the browser's own, when it comes from one.
    pub(crate) xsrf: Xsrf,
    /// What the backend may need to know about the request besides the credential.
    pub(crate) context: Context,
}

/// The request's passwords.
pub(crate) enum Body<'a> {
    /// Read by the front door, which needed the body first (SOAP carries the credential in
    /// the envelope); a refusal found there (a missing password) waits its turn, after the
    /// credentials.
    Read(Result<ChangeOwnPasswordRequest, ApiError>),
    /// Still in the request: read and decoded only once the credentials hold.
    Pending(PendingBody<'a>),
}

/// A body not yet read: the payload, its declared type and the limit. The payload is
/// borrowed, so the front door can drain what is left of it after a refusal and keep the
/// connection alive.
pub(crate) struct PendingBody<'a> {
    pub(crate) payload: &'a mut web::Payload,
    /// The `Content-Type` header as sent.
    pub(crate) content_type: Option<String>,
    /// `--body-limit`, in bytes.
    pub(crate) limit: usize,
}

/// The XSRF check a request must pass after its body is read (SPEC §5, §6).
pub(crate) enum Xsrf {
    /// Not a browser request: credentials in a header or an envelope need none.
    None,
    /// A cookie session: the token from `X-XSRF-TOKEN` or the form field `XSRF_TOKEN` must be
    /// the one bound to this session.
    Session {
        /// The session cookie's value.
        cookie: String,
        /// The `X-XSRF-TOKEN` header, if sent.
        header: Option<String>,
    },
    /// The upstream-mode form (SPEC §10), which has no session: its token is bound to the
    /// `XSRF-TOKEN` cookie as the login form's is: the form field (or `X-XSRF-TOKEN`) must
    /// equal the cookie and carry the server's signature.
    Form {
        /// The `XSRF-TOKEN` cookie's value, if sent.
        cookie: Option<String>,
        /// The `X-XSRF-TOKEN` header, if sent.
        header: Option<String>,
    },
}

/// About the request, for backends and the log: never a secret.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// The client's address, as SPEC §8 derives it (forwarded headers only from trusted
    /// proxies).
    pub(crate) address: Option<IpAddr>,
    /// The request's id (`X-Request-Id`).
    pub(crate) request_id: std::sync::Arc<str>,
    /// A partner application's token (`SO-AppToken`, SOAP `ApplicationToken`); an empty one
    /// is none.
    pub(crate) app_token: Option<String>,
    /// `X-Forwarded-For` as upstream mode sends it on (SPEC §10): the incoming one from a
    /// trusted proxy, with the peer's address appended.
    pub(crate) forwarded_for: Option<String>,
    /// The language, culture and time zone the caller asked for, as sent: upstream mode
    /// passes them on so NetServer answers in the same terms.
    pub(crate) locale: LocaleHeaders,
    /// Where the upstream backend notes its call for the request log line; `None` in local
    /// mode.
    pub(crate) trace: Option<crate::metrics::UpstreamTrace>,
}

/// `SO-Language`, `Accept-Language`, `SO-Culture` and `SO-TimeZone` as the caller sent them
/// (SOAP: its `TimeZone` header as `SO-TimeZone` text).
#[derive(Debug, Clone, Default)]
pub(crate) struct LocaleHeaders {
    pub(crate) so_language: Option<String>,
    pub(crate) accept_language: Option<String>,
    pub(crate) so_culture: Option<String>,
    pub(crate) so_time_zone: Option<String>,
}

/// A change that was tried: what it came to, and for whom.
#[derive(Debug)]
pub(crate) struct Completed {
    pub(crate) outcome: Outcome,
    /// The user's name, when the backend knows it (for a browser's signed-in bar).
    pub(crate) username: Option<String>,
}

/// What a change came to, when it was tried.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The password was changed (`true`).
    Changed {
        /// The browser session that made the change, under its new id (SPEC §6).
        session: Option<agentgate_accounts::NewSession>,
    },
    /// The change was refused (`false` with `X-Reason`).
    Refused(Refusal),
}

/// Why a change was refused: the `X-Reason` values of SPEC §4 and §10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The old password is wrong.
    OldPasswordMismatch,
    /// The new password breaks the policy.
    Policy(agentgate_accounts::PolicyViolation),
    /// The upstream NetServer answered `false`; it gives no reason (SPEC §10).
    Upstream,
}

impl Refusal {
    /// The `X-Reason` header value, and the SOAP `ExceptionType`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::OldPasswordMismatch => "old-password-mismatch",
            Refusal::Policy(violation) => violation.reason(),
            Refusal::Upstream => "upstream-refused",
        }
    }
}

impl Outcome {
    /// The `outcome` label of metrics and the log.
    pub(crate) fn label(&self) -> Label {
        match self {
            Outcome::Changed { .. } => Label("changed"),
            Outcome::Refused(refusal) => Label(refusal.reason()),
        }
    }
}

/// Where passwords are changed: the accounts store, or an upstream NetServer.
///
/// The flow calls [`admit`](Backend::admit) once the credentials are read and before the
/// body is, and the [`Admitted`] it gets back once the body and the XSRF token hold. A
/// backend answers with an [`ApiError`] for everything that is not an outcome: bad
/// credentials (401), a refusal (403), a wait (429 with `Retry-After`), being unable to work
/// (503, 502, 504). It never sees a request whose body or token is bad.
pub(crate) trait Backend: Send + Sync + 'static {
    /// Checks what can be checked of the credentials before the body is read: local users
    /// are authenticated here (the password of `Basic` verified, a ticket looked up), and
    /// the change throttle's wait is applied.
    fn admit<'a>(
        &'a self,
        credential: &'a Credential,
        context: &'a Context,
    ) -> BoxFuture<'a, Result<Box<dyn Admitted>, ApiError>>;
}

/// A caller the backend let in, who may now try the change.
pub(crate) trait Admitted: Send {
    /// The user's name, for the log, when the backend knows it.
    fn username(&self) -> Option<&str>;

    /// Changes the password: the old one checked, the policy applied, the new one stored.
    /// The future runs on the worker that took the request (upstream mode's client is the
    /// worker's own), so it need not be `Send`.
    fn change(
        self: Box<Self>,
        request: ChangeOwnPasswordRequest,
    ) -> LocalBoxFuture<'static, Result<Outcome, ApiError>>;
}

/// Runs a change through every check, in the order of SPEC §4.
///
/// # Errors
///
/// Every refusal that is not an [`Outcome`]: see the module documentation for the order.
pub(crate) async fn run(state: &AppState, command: Command<'_>) -> Result<Completed, ApiError> {
    let Command {
        credential,
        body,
        xsrf,
        context,
    } = command;
    let credential = credential.ok_or(ApiError::Unauthorized)?;
    let admitted = state.backend.admit(&credential, &context).await?;
    let request = match body {
        Body::Read(request) => request?,
        Body::Pending(pending) => pending.decode().await?,
    };
    match &xsrf {
        Xsrf::None => {}
        Xsrf::Session { cookie, header } => {
            let token = header.as_deref().or(request.xsrf_token.as_deref());
            if !token.is_some_and(|token| state.accounts.verify_xsrf(cookie, token)) {
                return Err(ApiError::XsrfInvalid);
            }
        }
        Xsrf::Form { cookie, header } => {
            let token = header.as_deref().or(request.xsrf_token.as_deref());
            let bound = token.zip(cookie.as_deref()).is_some_and(|(token, cookie)| {
                !token.is_empty()
                    && subtle::ConstantTimeEq::ct_eq(token.as_bytes(), cookie.as_bytes()).into()
                    && state.accounts.verify_login_xsrf(token)
            });
            if !bound {
                return Err(ApiError::XsrfInvalid);
            }
        }
    }
    let username = admitted.username().map(str::to_owned);
    let outcome = admitted.change(request).await?;
    tracing::info!(
        user = username.as_deref().unwrap_or_default(),
        outcome = outcome.label().0,
        request_id = %context.request_id,
        "password change"
    );
    Ok(Completed { outcome, username })
}

impl PendingBody<'_> {
    /// Reads the body within the limit and decodes it by its declared type and charset.
    ///
    /// # Errors
    ///
    /// 413 over the limit, 415 for a missing or unsupported type or charset, 400 for an
    /// empty or malformed body (409 for a failed JSON Patch `test`).
    pub(crate) async fn decode(self) -> Result<ChangeOwnPasswordRequest, ApiError> {
        let body = read_body(self.payload, self.limit).await?;
        let declared = negotiation::content_type(
            self.content_type.as_deref(),
            body.is_empty(),
            codec::RequestType::ALL.as_slice(),
        )?;
        let Some(declared) = declared else {
            return Err(ApiError::EmptyBody);
        };
        let limits = codec::Limits {
            max_bytes: self.limit,
            ..codec::Limits::default()
        };
        Ok(codec::decode(
            declared.media_type,
            declared.charset,
            &body,
            &limits,
        )?)
    }
}

/// Reads a body up to `limit` bytes; over it, [`ApiError::PayloadTooLarge`].
pub(crate) async fn read_body(
    payload: &mut web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BodyUnreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
