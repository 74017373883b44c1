//! Request metrics and the request log: [`Observed`] times every request (for the one
//! middleware in [`crate::front`]), gives it an id, logs one line and counts it for
//! `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpMessage as _, HttpResponse, web};
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

use agentgate_codec::{RequestType, ResponseType};
use agentgate_negotiation::Essence as _;

use crate::respond::Media;
use crate::state::AppState;

/// What a request came to, for the `outcome` label: `changed`, `old-password-mismatch`, a
/// policy reason or an `ErrorType`. Handlers put it in the response's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome(pub(crate) &'static str);

static REQUEST_IDS: AtomicU64 = AtomicU64::new(0);

/// Log lines the writer thread had no room for (see `init_logging` in `cli/commands/serve.rs`).
static DROPPED_LOG_LINES: std::sync::OnceLock<crate::cli::logwriter::LogQueue> =
    std::sync::OnceLock::new();

/// Exports, at each scrape, how many log lines were dropped by this writer.
pub(crate) fn count_dropped_log_lines(queue: crate::cli::logwriter::LogQueue) {
    let _ = DROPPED_LOG_LINES.set(queue);
}

/// How often the recorder's upkeep runs (see [`keep_up`]).
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// Installs the process-wide Prometheus recorder, once, and starts its upkeep; later calls
/// get `None`.
pub fn install_recorder() -> Option<PrometheusHandle> {
    let handle = builder().ok()?.install_recorder().ok()?;
    keep_up(handle.clone(), UPKEEP_EVERY);
    Some(handle)
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new().set_buckets(&[
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// The recorder keeps every duration a histogram records until a scrape of `/metrics` or an
/// upkeep folds them into the buckets: with nobody scraping, a flood of 401s grew the server
/// by 16 bytes a request, without bound. A thread of its own runs the upkeep every `every`,
/// so that what is held is what arrives between two runs.
fn keep_up(handle: PrometheusHandle, every: Duration) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("metrics: no upkeep thread ({e}); durations are held until a scrape");
    }
}

/// The route label: the known paths by name, everything else as `other`, so a scan of
/// random paths cannot blow up the label set.
fn route(path: &str) -> &'static str {
    if crate::rest::is_endpoint(path) {
        return crate::rest::PUBLISHED_PATH;
    }
    let lower = path.to_ascii_lowercase();
    let lower = lower.strip_suffix('/').unwrap_or(&lower);
    match lower {
        "/login" => "/login",
        "/logout" => "/logout",
        "/password" => "/password",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        "/openapi.json" => "/openapi.json",
        p if p.starts_with("/remote/services") => "/Remote/Services/User.svc",
        p if p.starts_with("/api/") => "/api/other",
        _ => "other",
    }
}

/// The media type label of a `Content-Type`: one of the types agentgate names (SPEC §2,
/// §3, the pages, SOAP's), else `other`, so a client cannot blow up the label set.
fn media_label(value: Option<&HeaderValue>) -> &'static str {
    /// Types that are not API bodies but are sent or refused by name.
    const OTHERS: [&str; 4] = [
        "text/html",
        "text/plain",
        "text/css",
        "application/soap+xml",
    ];
    let Some(value) = value else { return "none" };
    let essence = value
        .as_bytes()
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if essence.is_empty() {
        return "none";
    }
    let known = RequestType::ALL
        .iter()
        .map(|m| m.essence())
        .chain(ResponseType::ALL.iter().map(|m| m.essence()))
        .chain(OTHERS);
    known
        .into_iter()
        .find(|known| known.as_bytes().eq_ignore_ascii_case(essence))
        .unwrap_or("other")
}

/// The media type an API answer was written in, put in the response's extensions by
/// the responders: the label then comes from the type itself, not from parsing a header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseMedia(pub(crate) Media);

/// Where upstream mode's backend notes its call (SPEC §10), for the request's log line: put
/// in the request's extensions by [`Observed::start`] in upstream mode, carried in
/// [`crate::change::Context`], read back once the response is made.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpstreamTrace(std::sync::Arc<std::sync::OnceLock<crate::upstream::Trace>>);

impl UpstreamTrace {
    /// Notes the call; a request makes at most one (the change is never retried).
    pub(crate) fn note(&self, trace: crate::upstream::Trace) {
        let _ = self.0.set(trace);
    }

    fn get(&self) -> Option<crate::upstream::Trace> {
        self.0.get().copied()
    }
}

/// The upstream trace of a request, when upstream mode made one for it.
pub(crate) fn upstream_trace(req: &actix_web::HttpRequest) -> Option<UpstreamTrace> {
    req.extensions().get::<UpstreamTrace>().cloned()
}

/// The id of a request (`X-Request-Id`), in its extensions for handlers and the log. Shared,
/// not copied: the guard, the extensions and the change's context hold the one allocation.
#[derive(Debug, Clone)]
struct RequestId(Arc<str>);

/// This request's id, as the log line and the `X-Request-Id` header give it.
pub(crate) fn request_id(req: &actix_web::HttpRequest) -> Arc<str> {
    req.extensions()
        .get::<RequestId>()
        .map_or_else(|| Arc::from(""), |id| Arc::clone(&id.0))
}

/// The status label. Made only when a worker first meets a label set (see
/// [`count_request`]), so its allocation is not on the request path.
fn status_label(status: u16) -> String {
    status.to_string()
}

/// A request id of this process: its id in 8 hex digits, `-`, `n` in hex (`00000b3f-1a`).
/// The prefix is formatted once; each id is written on the stack and allocated once:
/// `format!` was about 1% of a cheap refusal's time.
fn new_request_id(n: u64) -> Arc<str> {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| format!("{:08x}-", std::process::id()));
    let digits = ((u64::BITS - n.leading_zeros()).div_ceil(4)).max(1) as usize;
    // The prefix (8 digits of a u32 and `-`), then at most 16 digits of a u64.
    let mut id = [0u8; 9 + 16];
    let (head, tail) = id.split_at_mut(prefix.len());
    head.copy_from_slice(prefix.as_bytes());
    for (i, digit) in tail[..digits].iter_mut().rev().enumerate() {
        *digit = b"0123456789abcdef"[((n >> (i * 4)) & 0xf) as usize];
    }
    Arc::from(std::str::from_utf8(&id[..prefix.len() + digits]).unwrap_or_default())
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
/// A year, as RFC 6797 §11.2 suggests for a site that serves only HTTPS.
static HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// The labels of `agentgate_requests_total`; every value but the status is a static string
/// from a closed set, so the set of label combinations stays small.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct RequestLabels {
    route: &'static str,
    request_media: &'static str,
    response_media: &'static str,
    status: u16,
    outcome: &'static str,
}

/// Counts a request and records its duration under these labels. Looking a handle up in the
/// recorder hashes and compares the whole key, a few thousand instructions a request; each
/// worker thread keeps the handles it has used instead, in a map hashed with foldhash: its
/// keys are the server's own static strings, so SipHash's defence against chosen keys buys
/// nothing, and it cost about 800 instructions a request (callgrind, issue 17). (`serve`
/// installs the recorder before the workers start, so no handle is taken from the no-op
/// recorder.)
fn count_request(labels: RequestLabels, elapsed: Duration) {
    thread_local! {
        static HANDLES: std::cell::RefCell<
            foldhash::HashMap<RequestLabels, (metrics::Counter, metrics::Histogram)>,
        > = std::cell::RefCell::default();
    }
    HANDLES.with_borrow_mut(|handles| {
        let (requests, duration) = handles.entry(labels).or_insert_with(|| {
            let counter = metrics::counter!(
                "agentgate_requests_total",
                "route" => labels.route,
                "request_media_type" => labels.request_media,
                "response_media_type" => labels.response_media,
                "status" => status_label(labels.status),
                "outcome" => labels.outcome,
            );
            let histogram = metrics::histogram!(
                "agentgate_request_duration_seconds",
                "route" => labels.route
            );
            (counter, histogram)
        });
        requests.increment(1);
        duration.record(elapsed.as_secs_f64());
    });
}

/// A request being observed: its id, when it started, and the labels known from it.
pub(crate) struct Observed {
    started: Instant,
    id: Arc<str>,
    method: actix_web::http::Method,
    route: &'static str,
    request_media: &'static str,
    tls: bool,
    /// Upstream mode: where the backend notes its call, for the log line.
    upstream: Option<UpstreamTrace>,
}

impl Observed {
    /// Gives the request its id (`X-Request-Id` as sent, when it is printable and short,
    /// else a new one), in its extensions for handlers, and starts the clock.
    pub(crate) fn start(req: &ServiceRequest) -> Observed {
        let started = Instant::now();
        let id = req
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(Arc::from)
            .unwrap_or_else(|| new_request_id(REQUEST_IDS.fetch_add(1, Ordering::Relaxed)));
        req.extensions_mut().insert(RequestId(Arc::clone(&id)));
        let state = req.app_data::<web::Data<AppState>>();
        let upstream = state
            .is_some_and(|state| state.upstream.is_some())
            .then(UpstreamTrace::default);
        if let Some(trace) = &upstream {
            req.extensions_mut().insert(trace.clone());
        }
        Observed {
            started,
            id,
            method: req.method().clone(),
            route: route(req.path()),
            request_media: media_label(req.headers().get(header::CONTENT_TYPE)),
            tls: state.is_some_and(|state| state.settings.secure_cookies),
            upstream,
        }
    }

    /// When the request started.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// The request's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Finishes with the answer: the headers every response carries, the counters, one log
    /// line.
    pub(crate) fn finish<B>(self, mut res: ServiceResponse<B>) -> ServiceResponse<B> {
        let status = res.status().as_u16();
        let response_media = match res.response().extensions().get::<ResponseMedia>() {
            Some(ResponseMedia(media)) => media.essence(),
            None => media_label(res.headers().get(header::CONTENT_TYPE)),
        };
        let outcome = res
            .response()
            .extensions()
            .get::<Outcome>()
            .map_or("none", |o| o.0);
        // SPEC §8: every response, pages and plain text included.
        let headers = res.headers_mut();
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF.clone());
        if self.tls {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS.clone());
        }
        if let Ok(value) = HeaderValue::from_str(&self.id) {
            headers.insert(X_REQUEST_ID.clone(), value);
        }
        let elapsed = self.started.elapsed();
        count_request(
            RequestLabels {
                route: self.route,
                request_media: self.request_media,
                response_media,
                status,
                outcome,
            },
            elapsed,
        );
        if is_store_error(self.route, status, outcome) {
            metrics::counter!("agentgate_store_errors_total", "route" => self.route).increment(1);
        }
        // Whole microseconds, so the line reads 0.003 rather than 0.0030139999999999998.
        let duration_ms = elapsed.as_micros() as f64 / 1000.0;
        // The request is still there: its path needs no copy.
        let path = res.request().path();
        // Upstream mode: what the upstream answered and how long it took, so a slow or
        // failing NetServer shows in the line of the request it slowed (SPEC §10); absent
        // fields are not written.
        let call = self.upstream.as_ref().and_then(UpstreamTrace::get);
        let upstream_status = call.map(|c| {
            tracing::field::display(
                c.status
                    .map_or_else(|| "none".to_owned(), |s| s.to_string()),
            )
        });
        tracing::info!(
            request_id = %self.id,
            method = %self.method,
            path = %path,
            status,
            request_media_type = %self.request_media,
            response_media_type = %response_media,
            outcome,
            duration_ms,
            upstream_status,
            upstream_ms = call.map(|c| c.elapsed.as_micros() as f64 / 1000.0),
            "request"
        );
        res
    }
}

/// Whether an answer says the user store failed: `/healthz` answering 503, or a response
/// whose handler labelled it `StoreUnavailable` (a full hashing queue is labelled `Busy`).
fn is_store_error(route: &str, status: u16, outcome: &str) -> bool {
    (route == "/healthz" && status == 503 && outcome != "UpstreamUnreachable")
        || outcome == "StoreUnavailable"
}

/// `GET /metrics`: Prometheus text format.
/// On the main address: with `--metrics-bind` it is served on that address only, and here
/// it is as unknown as any other path.
pub(crate) async fn render(state: web::Data<AppState>) -> HttpResponse {
    if state.settings.metrics_bind.is_some() {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Not found\n");
    }
    scrape(&state)
}

/// `GET /metrics` on the `--metrics-bind` address.
pub(crate) async fn render_on_metrics_bind(state: web::Data<AppState>) -> HttpResponse {
    scrape(&state)
}

fn scrape(state: &AppState) -> HttpResponse {
    metrics::gauge!("agentgate_hashing_queue_depth")
        .set(state.accounts.hashing_queue_depth() as f64);
    metrics::counter!("agentgate_hashing_jobs_total")
        .absolute(state.accounts.hashing_jobs() as u64);
    // Summed wait before a hashing thread took a job; divided by the jobs, the mean wait.
    metrics::gauge!("agentgate_hashing_wait_seconds_total")
        .set(state.accounts.hashing_wait().as_secs_f64());
    if let Some(dropped) = DROPPED_LOG_LINES.get() {
        metrics::counter!("agentgate_log_lines_dropped_total").absolute(dropped.dropped());
    }
    let body = state
        .metrics
        .as_ref()
        .map(PrometheusHandle::render)
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_closed_set_of_labels() {
        assert_eq!(
            route("/API/v1/Agents/User/ChangeOwnPassword/"),
            "/api/v1/Agents/User/ChangeOwnPassword"
        );
        assert_eq!(route("/api/v1/nothing"), "/api/other");
        assert_eq!(route("/wp-admin/xyz"), "other");
        assert_eq!(
            route("/Remote/Services88/User.svc"),
            "/Remote/Services/User.svc"
        );
    }

    #[test]
    fn request_ids_read_as_the_format_they_replace() {
        for n in [0, 1, 15, 16, 0x1a, 0xffff_ffff, u64::MAX] {
            assert_eq!(
                &*new_request_id(n),
                format!("{:08x}-{:x}", std::process::id(), n)
            );
        }
    }

    #[test]
    fn the_endpoint_is_matched_as_asp_net_matches_it() {
        for path in [
            "/api/v1/Agents/User/ChangeOwnPassword",
            "/API/V1/AGENTS/USER/CHANGEOWNPASSWORD/",
            "/api/v1/agents/user/changeownpassword",
        ] {
            assert!(crate::rest::is_endpoint(path), "{path}");
        }
        for path in [
            "/api/v1/Agents/User/ChangeOwnPassword//",
            "/api/v1/Agents/User/ChangeOwnPasswordX",
            "/api/v1/Agents/User",
            "",
        ] {
            assert!(!crate::rest::is_endpoint(path), "{path}");
        }
    }

    #[test]
    fn status_labels_are_the_numbers() {
        for status in [200, 401, 503, 299, 599] {
            assert_eq!(&*status_label(status), status.to_string());
        }
    }

    #[test]
    fn unknown_media_types_are_one_label() {
        let v = HeaderValue::from_static("Application/JSON; charset=utf-8");
        assert_eq!(media_label(Some(&v)), "application/json");
        let v = HeaderValue::from_static("image/png");
        assert_eq!(media_label(Some(&v)), "other");
        assert_eq!(media_label(None), "none");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod upkeep {
    use std::time::Duration;

    use super::{builder, keep_up};

    /// This process's resident memory in bytes. nextest runs every test in a process of its
    /// own, so what grows is this test's.
    fn resident() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }

    #[test]
    fn durations_recorded_while_nobody_scrapes_are_let_go() {
        let recorder = builder().unwrap().build_recorder();
        keep_up(recorder.handle(), Duration::from_millis(5));
        let before = resident();
        let mut most = 0;
        metrics::with_local_recorder(&recorder, || {
            let histogram = metrics::histogram!("agentgate_request_duration_seconds");
            // Two million requests' durations, at a pace the upkeep can follow.
            for _ in 0..40 {
                for _ in 0..50_000 {
                    histogram.record(0.000_1);
                }
                std::thread::sleep(Duration::from_millis(10));
                most = most.max(resident().saturating_sub(before));
            }
        });
        // Held without the upkeep: about 8 bytes a duration, 16 MB.
        assert!(
            most < 4 << 20,
            "grew by {most} bytes for two million durations"
        );
    }
}
