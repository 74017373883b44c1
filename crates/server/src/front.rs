//! What every request passes through first: one middleware, [`guard`], that refuses what
//! actix-web's own settings leave open (too many header bytes, one connection too many
//! from an address), puts a deadline on the whole request (a body that never finishes),
//! and observes the rest (request id, timing, the log line, the counters of [`metrics`]).
//!
//! One layer rather than three: each `from_fn` layer boxes the service it wraps and costs
//! an allocation and a dynamic call per request, a few percent of a cheap refusal (issue 17).
//!
//! The refusals answer before the routes, so they are plain text, not negotiated, and are
//! counted by their own metrics (`agentgate_headers_too_large_total`,
//! `agentgate_connections_refused_total`, `agentgate_requests_timed_out_total`) rather than
//! `agentgate_requests_total`.
//!
//! [`metrics`]: crate::metrics

use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::rt::net::TcpStream;
use actix_web::{Error, HttpResponse, ResponseError};

/// Open connections by client address, shared by every worker.
#[derive(Clone, Default)]
pub(crate) struct PerAddress {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Put in each connection's extensions; gives its slot back when the connection ends.
pub(crate) struct Connection {
    address: IpAddr,
    /// This connection made its address exceed the limit: every request on it gets 503.
    over: bool,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    /// `limit` 0 means no limit.
    pub(crate) fn new(limit: usize) -> PerAddress {
        PerAddress {
            limit,
            open: Arc::default(),
        }
    }

    /// `HttpServer::on_connect`: count the connection against its address.
    pub(crate) fn on_connect(&self, io: &dyn Any, ext: &mut Extensions) {
        if self.limit == 0 {
            return;
        }
        let peer = if let Some(tcp) = io.downcast_ref::<TcpStream>() {
            tcp.peer_addr()
        } else if let Some(tls) = io.downcast_ref::<TlsStream<TcpStream>>() {
            tls.get_ref().0.peer_addr()
        } else {
            return;
        };
        let Ok(peer) = peer else { return };
        let address = peer.ip();
        let from_address = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            let n = open.entry(address).or_insert(0);
            *n += 1;
            let from_address = *n;
            metrics::gauge!("agentgate_open_connections").set(open.values().sum::<usize>() as f64);
            from_address
        };
        ext.insert(Connection {
            address,
            over: from_address > self.limit,
            open: Arc::clone(&self.open),
        });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
            }
        }
        metrics::gauge!("agentgate_open_connections").set(open.values().sum::<usize>() as f64);
    }
}

/// The most header bytes (names, values and separators) a request may bring. actix-http
/// itself refuses only heads over 128 KiB; no legitimate client of this API needs 32.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The middleware. Answers 431 when the request's headers are too large (RFC 6585 §5) and
/// 503 (closing the connection) when it came on one connection too many for its address;
/// answers 408 and closes the connection when the request, its body included, takes longer
/// than [`RequestTimeout`]; observes everything else.
pub(crate) async fn guard<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if let Some(refusal) = refusal(&req) {
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    let observed = crate::metrics::Observed::start(&req);
    let response = match req.app_data::<RequestTimeout>() {
        None => next.call(req).await?,
        Some(&RequestTimeout(limit)) => {
            let deadline = tokio::time::Instant::from_std(observed.started()) + limit;
            match by(deadline, next.call(req)).await {
                Ok(response) => response?,
                Err(_) => {
                    metrics::counter!("agentgate_requests_timed_out_total").increment(1);
                    tracing::warn!(
                        request_id = %observed.id(),
                        timeout_s = limit.as_secs_f64(),
                        "request timed out"
                    );
                    return Err(TimedOut.into());
                }
            }
        }
    };
    Ok(observed.finish(response).map_into_left_body())
}

/// `call`'s output, unless `deadline` passes first. Most answers are ready at the first poll
/// (a refusal, a page, a description): they need no timer, whose arming and disarming were
/// a few percent of a cheap refusal (issue 17); only the others get one.
async fn by<F: Future>(
    deadline: tokio::time::Instant,
    call: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut call = std::pin::pin!(call);
    if let Poll::Ready(output) =
        std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await
    {
        return Ok(output);
    }
    tokio::time::timeout_at(deadline, call).await
}

/// The refusal of a request that must not reach the routes, if it is one.
fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        metrics::counter!("agentgate_headers_too_large_total").increment(1);
        tracing::warn!(path = %req.path(), header_bytes, "request headers too large");
        return Some(
            HttpResponse::build(actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
                .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .force_close()
                .body("Request header fields too large\n"),
        );
    }
    let over = req.conn_data::<Connection>().map(|c| (c.over, c.address));
    if let Some((true, address)) = over {
        metrics::counter!("agentgate_connections_refused_total").increment(1);
        tracing::warn!(client = %address, path = %req.path(), "too many connections from one address");
        return Some(
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .force_close()
                .body("Too many connections from this address\n"),
        );
    }
    None
}

/// The longest a request may take from its headers to its answer (`--request-timeout`).
#[derive(Clone, Copy)]
pub(crate) struct RequestTimeout(pub(crate) Duration);

/// The 408 of [`guard`], as an error because the request is gone with the dropped future.
#[derive(Debug)]
struct TimedOut;

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request timed out")
    }
}

impl ResponseError for TimedOut {
    fn error_response(&self) -> HttpResponse {
        HttpResponse::RequestTimeout()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .force_close()
            .body("Request timed out\n")
    }
}
