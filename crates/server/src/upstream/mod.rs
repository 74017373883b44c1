//! The HTTP client of upstream mode (SPEC §10): one `POST {URL}/api/v1/Agents/User/
//! ChangeOwnPassword` per change, to a SuperOffice NetServer WebAPI, and what its answer is.
//!
//! - Connections are pooled and kept alive; HTTP/1.1 (NetServer's WebAPI behind IIS speaks
//!   it, and one request at a time per connection bounds what a slow upstream holds).
//! - TLS is rustls on ring, as the listener's, with the system's roots or `--upstream-ca`;
//!   certificates are always verified ([`tls`]).
//! - Each call has a deadline (`--upstream-timeout`, 504 after it) covering the connect, the
//!   request and the whole answer.
//! - At most `--upstream-connections` calls are in flight; the next waits up to 1 s for a
//!   place, then is 503 with `Retry-After` ([`Client::slot`]).
//! - Redirects are not followed, and the change is never retried: it is not idempotent.
//! - What is sent is built here, never copied from the caller's request: the credential
//!   rebuilt from what was parsed, the language headers, `X-Request-Id`,
//!   `X-Forwarded-For`. Nothing else crosses, in either direction: no cookie, no XSRF
//!   token, no `SOAPAction`, no hop-by-hop header; the upstream's `Set-Cookie` is dropped
//!   with every header but `Retry-After`.
//!
//! # Choice of client: awc, over reqwest
//!
//! Measured with `scripts/bench.d/clients/compare.sh`: a one-route actix-web server that
//! relays a POST to an origin answering `true`, through either client configured as here
//! (keep-alive pool, no redirects, a deadline, at most 64 in flight), under wrk on loopback
//! (2 threads, 16 connections, 5 rounds of 8 s taken in turn, medians). awc relayed 29,589
//! requests/s with a p99 of 10 ms; reqwest (hyper-util's pool) 17,170 with 25 ms; the origin
//! alone 59,537. awc runs on the worker's own runtime, with a pool per worker, where reqwest's
//! connections live as tasks on whichever runtime opened them and every call crosses threads
//! to reach them. awc also brings the least: actix-http and actix-tls are the server's own,
//! where reqwest adds hyper, hyper-util, hyper-rustls and tower. Its futures are not `Send`,
//! so [`crate::change::Admitted::change`] returns a local future (actix handlers need no
//! more), and each worker thread keeps its own client ([`Client::awc`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use agentgate_codec::ChangeOwnPasswordRequest;

use crate::change::Context;
use crate::credential::Credential;
use crate::state::UpstreamSettings;

mod health;
mod tls;

pub(crate) use health::Health;

/// How long a call waits for a place among the `--upstream-connections` in flight.
const SLOT_WAIT: Duration = Duration::from_secs(1);
/// The largest answer read from the upstream; a `true`, `false` or error document is far
/// smaller, and anything larger is not one of them (502).
const ANSWER_LIMIT: usize = 64 * 1024;
/// The longest upstream `Message` passed on as `MessageDetail` (SPEC §10).
const MESSAGE_LIMIT: usize = 500;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static SO_LANGUAGE: HeaderName = HeaderName::from_static("so-language");
static SO_CULTURE: HeaderName = HeaderName::from_static("so-culture");
static SO_TIMEZONE: HeaderName = HeaderName::from_static("so-timezone");
static SO_APPTOKEN: HeaderName = HeaderName::from_static("so-apptoken");

/// Why upstream mode cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Occurs when the `--upstream-ca` file cannot be read or rustls refuses a certificate
    /// in it.
    #[error("--upstream-ca {0}")]
    Ca(String),
    /// Occurs when no `--upstream-ca` is given and the system has no usable root
    /// certificate for an https upstream.
    #[error(
        "no usable root certificates on this system for an https upstream: install the CA bundle (ca-certificates) or give --upstream-ca FILE"
    )]
    NoRoots,
    /// Occurs when the HTTP client cannot be built or the URL cannot be used.
    #[error("upstream client: {0}")]
    Client(String),
}

/// What the upstream answered, as SPEC §10 tells the answers apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 200 `true`: the password was changed.
    Changed,
    /// 200 `false`: refused, with no reason given.
    Refused,
    /// 401: the credential does not hold.
    Unauthorized,
    /// 403: the caller may not change the password there.
    Forbidden,
    /// 429, with its `Retry-After` when it sent one.
    TooManyRequests { retry_after: Option<Duration> },
    /// 400, with the `Message` of its ASP.NET error document, already cut to 500
    /// characters and left out when it holds either password.
    BadRequest { message: Option<String> },
    /// Anything else: another status, a 200 that is neither `true` nor `false`, an answer
    /// over [`ANSWER_LIMIT`].
    Unusable,
}

/// Why there is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No place among the calls in flight within [`SLOT_WAIT`].
    Busy,
    /// Not reachable, refused, reset, a TLS failure: no usable answer.
    Unreachable,
    /// No whole answer within `--upstream-timeout`.
    Timeout,
}

/// One finished call, for the log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trace {
    /// The upstream's status; `None` when no answer came.
    pub(crate) status: Option<u16>,
    /// From the first byte sent to the last byte read.
    pub(crate) elapsed: Duration,
}

/// The upstream client, shared by every worker; the connections are each worker's own.
pub(crate) struct Client {
    /// Tells this client's per-worker awc clients from another's (tests run several).
    id: u64,
    /// `{URL}/api/v1/Agents/User/ChangeOwnPassword`.
    endpoint: actix_web::http::Uri,
    /// What each worker builds its awc client from.
    transport: Arc<Transport>,
    timeout: Duration,
    slots: Arc<tokio::sync::Semaphore>,
    health: Arc<Health>,
    /// Where the health probe connects.
    target: (String, u16),
}

/// How a worker's awc client is made.
struct Transport {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    connections: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A place among the calls in flight, held for the whole call.
pub(crate) struct Slot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Client {
    /// A client for `settings`: its pool, TLS roots and bounds.
    ///
    /// # Errors
    ///
    /// [`Error::Ca`], [`Error::NoRoots`] for an https upstream whose roots cannot be had;
    /// [`Error::Client`] when the URL cannot be used.
    pub(crate) fn new(settings: &UpstreamSettings) -> Result<Client, Error> {
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // The call's published path under the upstream's base URL.
        let url = format!(
            "{}{}",
            settings.url.trim_end_matches('/'),
            crate::rest::PUBLISHED_PATH
        );
        let endpoint: actix_web::http::Uri = url
            .parse()
            .map_err(|e| Error::Client(format!("{}: {e}", settings.url)))?;
        let https = endpoint.scheme_str() == Some("https");
        let host = endpoint
            .host()
            .ok_or_else(|| Error::Client(format!("{}: no host", settings.url)))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = endpoint.port_u16().unwrap_or(if https { 443 } else { 80 });
        // A plain http upstream never uses the TLS configuration (redirects are not
        // followed), so it gets no roots rather than a start-up failure on a system
        // without a CA bundle.
        let tls = tls::client_config(https, settings.ca.as_deref())?;
        Ok(Client {
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            endpoint,
            transport: Arc::new(Transport {
                tls: Arc::new(tls),
                timeout: settings.timeout,
                connections: settings.connections,
            }),
            timeout: settings.timeout,
            slots: Arc::new(tokio::sync::Semaphore::new(settings.connections)),
            health: Arc::new(Health::new()),
            target: (host, port),
        })
    }

    /// This worker's awc client, made on first use: its own pool of kept-alive
    /// connections (at most `--upstream-connections`; the semaphore bounds them all), no
    /// redirects, no default headers, and no timeout of its own (the call's deadline is
    /// [`Client::change`]'s).
    fn awc(&self) -> awc::Client {
        thread_local! {
            static CLIENTS: std::cell::RefCell<std::collections::HashMap<u64, awc::Client>> =
                std::cell::RefCell::default();
        }
        CLIENTS.with_borrow_mut(|clients| {
            clients
                .entry(self.id)
                .or_insert_with(|| {
                    let transport = &self.transport;
                    let connector = awc::Connector::new()
                        .rustls_0_23(transport.tls.clone())
                        .timeout(transport.timeout)
                        .handshake_timeout(transport.timeout)
                        .limit(transport.connections)
                        .conn_keep_alive(Duration::from_secs(60));
                    awc::Client::builder()
                        .connector(connector)
                        .disable_redirects()
                        .disable_timeout()
                        .no_default_headers()
                        .add_default_header((
                            header::USER_AGENT,
                            concat!("agentgate/", env!("CARGO_PKG_VERSION")),
                        ))
                        .finish()
                })
                .clone()
        })
    }

    /// Starts the health probe on the current Tokio runtime (without one, as for a library
    /// user outside a runtime, the upstream counts as unhealthy), and shows the in-flight
    /// gauge.
    pub(crate) fn start_health_probe(&self) {
        // The gauge is there from the start, at 0, not only after the first call.
        metrics::gauge!("agentgate_upstream_in_flight").set(0.0);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (host, port) = self.target.clone();
            runtime.spawn(health::probe(Arc::downgrade(&self.health), host, port));
        }
    }

    /// Whether the upstream answered a TCP connect within the last 10 s.
    pub(crate) fn is_healthy(&self) -> bool {
        self.health.is_fresh()
    }

    /// A place among the calls in flight: at once, or within 1 s.
    ///
    /// # Errors
    ///
    /// [`Failure::Busy`] after 1 s without one.
    pub(crate) async fn slot(&self) -> Result<Slot, Failure> {
        let permit = tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await;
        match permit {
            Ok(Ok(permit)) => Ok(Slot { _permit: permit }),
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => Err(Failure::Busy),
        }
    }

    /// Sends the change, once, and reads the answer within the deadline.
    ///
    /// # Errors
    ///
    /// [`Failure::Unreachable`] and [`Failure::Timeout`]; the [`Trace`] is there either way.
    pub(crate) async fn change(
        &self,
        _slot: &Slot,
        credential: &Credential,
        request: &ChangeOwnPasswordRequest,
        context: &Context,
    ) -> (Result<Answer, Failure>, Trace) {
        let in_flight = InFlight::enter();
        let started = Instant::now();
        let call = self.send(credential, request, context);
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((status, answer))) => (Some(status), Ok(answer)),
            Ok(Err(failure)) => (None, Err(failure)),
            Err(_) => (None, Err(Failure::Timeout)),
        };
        drop(in_flight);
        let trace = Trace {
            status: result.0,
            elapsed: started.elapsed(),
        };
        record(&trace, &result.1);
        (result.1, trace)
    }

    async fn send(
        &self,
        credential: &Credential,
        request: &ChangeOwnPasswordRequest,
        context: &Context,
    ) -> Result<(u16, Answer), Failure> {
        let headers = headers(credential, context).ok_or(Failure::Unreachable)?;
        let body = serde_json::json!({
            "OldPassword": request.old_password,
            "NewPassword": request.new_password,
        });
        let mut outgoing = self.awc().post(self.endpoint.clone());
        for (name, value) in &headers {
            outgoing = outgoing.insert_header((name.clone(), value.clone()));
        }
        let mut response = outgoing.send_body(body.to_string()).await.map_err(|e| {
            use awc::error::{ConnectError, SendRequestError};
            match e {
                SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout) => {
                    Failure::Timeout
                }
                e => {
                    tracing::warn!(error = %e, "upstream call failed");
                    Failure::Unreachable
                }
            }
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, SystemTime::now()));
        let body = match response.body().limit(ANSWER_LIMIT).await {
            Ok(body) => Some(body),
            Err(awc::error::PayloadError::Overflow) => None,
            Err(e) => {
                tracing::warn!(error = %e, "upstream answer broken off");
                return Err(Failure::Unreachable);
            }
        };
        Ok((
            status,
            answer(status, retry_after, body.as_deref(), request),
        ))
    }
}

/// One call in `agentgate_upstream_in_flight`, for as long as it lives: a call given up
/// half-way (the caller went away) leaves the gauge too.
struct InFlight(metrics::Gauge);

impl InFlight {
    fn enter() -> InFlight {
        let gauge = metrics::gauge!("agentgate_upstream_in_flight");
        gauge.increment(1.0);
        InFlight(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The request's headers, every one made here (SPEC §10); `None` when the credential cannot
/// be written as a header value (a control character in it: the upstream could not have
/// accepted it either).
fn headers(credential: &Credential, context: &Context) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(12);
    let mut authorization = HeaderValue::from_str(&authorization(credential)?).ok()?;
    authorization.set_sensitive(true);
    headers.insert(header::AUTHORIZATION, authorization);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let passed_on = [
        (&X_REQUEST_ID, Some(&*context.request_id)),
        (&X_FORWARDED_FOR, context.forwarded_for.as_deref()),
        (&SO_LANGUAGE, context.locale.so_language.as_deref()),
        (
            &header::ACCEPT_LANGUAGE,
            context.locale.accept_language.as_deref(),
        ),
        (&SO_CULTURE, context.locale.so_culture.as_deref()),
        (&SO_TIMEZONE, context.locale.so_time_zone.as_deref()),
        (&SO_APPTOKEN, context.app_token.as_deref()),
    ];
    for (name, value) in passed_on {
        if let Some(value) = value.filter(|v| !v.is_empty())
            && let Ok(value) = HeaderValue::from_str(value)
        {
            headers.insert(name.clone(), value);
        }
    }
    Some(headers)
}

/// The caller's credential, rebuilt from what was parsed: `Basic` (RFC 7617, UTF-8),
/// `SOTicket`, `Bearer`. A session has no upstream form (`None`).
fn authorization(credential: &Credential) -> Option<String> {
    use base64::Engine as _;
    match credential {
        Credential::Basic { username, password } => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
        )),
        Credential::Ticket(ticket) => Some(format!("SOTicket {ticket}")),
        Credential::Token(token) => Some(format!("Bearer {token}")),
        Credential::Session(_) => None,
    }
}

/// What an answer is (SPEC §10); `body` is `None` when it was over the limit.
fn answer(
    status: u16,
    retry_after: Option<Duration>,
    body: Option<&[u8]>,
    request: &ChangeOwnPasswordRequest,
) -> Answer {
    let Some(body) = body else {
        return Answer::Unusable;
    };
    match status {
        200 => match serde_json::from_slice::<bool>(body) {
            Ok(true) => Answer::Changed,
            Ok(false) => Answer::Refused,
            Err(_) => Answer::Unusable,
        },
        400 => Answer::BadRequest {
            message: message(body, request),
        },
        401 => Answer::Unauthorized,
        403 => Answer::Forbidden,
        429 => Answer::TooManyRequests { retry_after },
        _ => Answer::Unusable,
    }
}

/// The `Message` of an ASP.NET error document (`{"Message": "…"}`), cut to 500 characters;
/// `None` when there is none, or when it holds either password (SPEC §2: a password must
/// not come back, and NetServer may quote what it refused).
fn message(body: &[u8], request: &ChangeOwnPasswordRequest) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = doc.get("Message")?.as_str()?;
    if [&request.old_password, &request.new_password]
        .iter()
        .any(|password| message.contains(password.as_str()))
    {
        return None;
    }
    Some(message.chars().take(MESSAGE_LIMIT).collect())
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or_default())
}

/// `agentgate_upstream_requests_total{status,outcome}` and the duration histogram.
fn record(trace: &Trace, result: &Result<Answer, Failure>) {
    let outcome = match result {
        Ok(Answer::Changed) => "changed",
        Ok(Answer::Refused) => "refused",
        Ok(Answer::Unauthorized) => "unauthorized",
        Ok(Answer::Forbidden) => "forbidden",
        Ok(Answer::TooManyRequests { .. }) => "throttled",
        Ok(Answer::BadRequest { .. }) => "bad-request",
        Ok(Answer::Unusable) | Err(Failure::Unreachable | Failure::Busy) => "bad-gateway",
        Err(Failure::Timeout) => "timeout",
    };
    let status = trace
        .status
        .map_or_else(|| "none".to_owned(), |s| s.to_string());
    metrics::counter!("agentgate_upstream_requests_total", "status" => status, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("agentgate_upstream_request_duration_seconds")
        .record(trace.elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(old: &str, new: &str) -> ChangeOwnPasswordRequest {
        ChangeOwnPasswordRequest {
            old_password: old.to_owned(),
            new_password: new.to_owned(),
            xsrf_token: None,
        }
    }

    #[test]
    fn answers_are_told_apart_as_the_spec_maps_them() {
        let r = request("old-one-1", "new-one-2");
        let cases: [(u16, &[u8], Answer); 10] = [
            (200, b"true", Answer::Changed),
            (200, b" false\n", Answer::Refused),
            (200, b"\"true\"", Answer::Unusable),
            (200, b"<boolean>true</boolean>", Answer::Unusable),
            (401, b"", Answer::Unauthorized),
            (403, b"{}", Answer::Forbidden),
            (
                400,
                br#"{"Message":"The request is invalid."}"#,
                Answer::BadRequest {
                    message: Some("The request is invalid.".into()),
                },
            ),
            (400, b"not json", Answer::BadRequest { message: None }),
            (500, b"true", Answer::Unusable),
            (302, b"", Answer::Unusable),
        ];
        for (status, body, expected) in cases {
            assert_eq!(answer(status, None, Some(body), &r), expected, "{status}");
        }
        assert_eq!(answer(200, None, None, &r), Answer::Unusable);
        assert_eq!(
            answer(429, Some(Duration::from_secs(30)), Some(b""), &r),
            Answer::TooManyRequests {
                retry_after: Some(Duration::from_secs(30))
            }
        );
    }

    #[test]
    fn an_upstream_message_is_cut_and_never_carries_a_password() {
        let r = request("hunter2-old", "hunter2-new");
        let long = format!(r#"{{"Message":"{}"}}"#, "é".repeat(600));
        let cut = message(long.as_bytes(), &r).unwrap();
        assert_eq!(cut.chars().count(), 500);
        for quoted in [
            r#"{"Message":"Password hunter2-new is too weak"}"#,
            r#"{"Message":"hunter2-old is wrong"}"#,
        ] {
            assert_eq!(message(quoted.as_bytes(), &r), None, "{quoted}");
        }
        assert_eq!(message(br#"{"Message":7}"#, &r), None);
        assert_eq!(message(b"[]", &r), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn the_credential_is_rebuilt_and_nothing_else_is_made_up() {
        let context = Context {
            request_id: "r-1".into(),
            forwarded_for: Some("192.0.2.1".into()),
            locale: crate::change::LocaleHeaders {
                so_language: Some("sv".into()),
                accept_language: None,
                so_culture: Some(String::new()),
                so_time_zone: Some("Europe/Oslo".into()),
            },
            ..Context::default()
        };
        let basic = Credential::Basic {
            username: "jörg".into(),
            password: "pa:ss".into(),
        };
        let headers = headers(&basic, &context).unwrap();
        assert_eq!(
            headers.get("authorization").unwrap(),
            "Basic asO2cmc6cGE6c3M="
        );
        assert!(headers.get("authorization").unwrap().is_sensitive());
        assert_eq!(headers.get("x-request-id").unwrap(), "r-1");
        assert_eq!(headers.get("x-forwarded-for").unwrap(), "192.0.2.1");
        assert_eq!(headers.get("so-language").unwrap(), "sv");
        assert_eq!(headers.get("so-timezone").unwrap(), "Europe/Oslo");
        assert!(!headers.contains_key("so-culture"));
        assert!(!headers.contains_key("accept-language"));
        assert!(!headers.contains_key("so-apptoken"));
        assert_eq!(headers.len(), 7);
        let ticket = headers_of(&Credential::Ticket("7T:abc".into()));
        assert_eq!(ticket.get("authorization").unwrap(), "SOTicket 7T:abc");
        let token = headers_of(&Credential::Token("8A:xyz".into()));
        assert_eq!(token.get("authorization").unwrap(), "Bearer 8A:xyz");
        assert!(super::headers(&Credential::Session("c".into()), &Context::default()).is_none());
    }

    fn headers_of(credential: &Credential) -> HeaderMap {
        headers(credential, &Context::default()).unwrap()
    }
}
