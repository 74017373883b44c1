//! `agentgate serve`: the HTTP server, its guards and logging, and `/metrics` on an address of
//! its own when `--metrics-bind` asks for one.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use agentgate_accounts::Accounts;

use crate::cli::config::Resolved;
use crate::cli::logline::{PlainFields, PlainLine, UtcMicros};
use crate::cli::logwriter::{LogGuard, LogQueue};
use crate::cli::store::{open, redact_url};
use crate::cli::{Failure, fail, tls};
use crate::front::{PerAddress, RequestTimeout};
use crate::state::AppState;

/// The most log lines waiting for the writer thread; past it, lines are dropped and counted
/// (`agentgate_log_lines_dropped_total`) rather than held: a flood cannot grow memory through
/// the log, nor slow requests down to the speed of stderr.
const LOG_LINES_QUEUED: usize = 16 * 1024;

/// Logs go to stderr from a thread of their own, in batches (`cli/logwriter.rs`): a request's
/// line is formatted on its worker and queued, and the write system calls happen elsewhere.
/// Keep the guard until the end: dropping it writes what is still queued.
fn init_logging(json: bool) -> Option<LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) =
        match LogQueue::start(LOG_LINES_QUEUED, "agentgate-log", std::io::stderr()) {
            Ok(started) => started,
            Err(e) => {
                eprintln!("agentgate: cannot start the log writer thread: {e}; logging nothing");
                return None;
            }
        };
    crate::metrics::count_dropped_log_lines(writer.clone());
    // Colours only for a terminal: a log file or journald gets plain text, written by the
    // cheaper line and field formatters that write what the default writes without colours.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_timer(UtcMicros)
        .with_writer(writer);
    let _ = if json {
        builder.json().try_init()
    } else if ansi {
        builder.try_init()
    } else {
        builder
            .fmt_fields(PlainFields)
            .event_format(PlainLine::<UtcMicros>::default())
            .try_init()
    };
    Some(guard)
}

/// `agentgate serve`.
pub(crate) async fn run(resolved: Resolved) -> Result<(), Failure> {
    serve(resolved, None, |_| {}).await
}

/// Serves until SIGTERM or Ctrl-C. The addresses are bound before `listening` is called with
/// the base URL (`http://127.0.0.1:8080`), so what it prints names an address that works.
pub(crate) async fn serve(
    resolved: Resolved,
    accounts: Option<Accounts>,
    listening: impl FnOnce(&str),
) -> Result<(), Failure> {
    let _log = init_logging(resolved.log_json);
    // Read the certificate before opening the store: a bad file is a start-up error.
    let tls = match &resolved.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key).map_err(fail)?),
        None => None,
    };
    let accounts = match accounts {
        Some(a) => a,
        None => open(&resolved.database, resolved.accounts.clone()).await?,
    };
    let metrics = crate::metrics::install_recorder();
    let state = AppState::new(accounts, resolved.settings.clone(), metrics)
        .map_err(|e| fail(e.to_string()))?;
    let state = web::Data::new(state);
    let metrics_bind = resolved.settings.metrics_bind.clone();
    let metrics_server = match &metrics_bind {
        Some(address) => Some(metrics_server(state.clone(), address)?),
        None => None,
    };
    let limit = resolved.settings.body_limit;
    let request_timeout = resolved.request_timeout;
    let per_address = PerAddress::new(resolved.max_connections_per_address);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(limit))
            .configure(crate::configure)
            .app_data(RequestTimeout(request_timeout))
    })
    .on_connect(move |io, ext| per_address.on_connect(io, ext))
    // Headers must arrive within this; it is also the keep-alive idle time.
    .client_request_timeout(resolved.header_timeout)
    .keep_alive(resolved.header_timeout)
    .client_disconnect_timeout(Duration::from_secs(2))
    .max_connection_rate(256)
    .shutdown_timeout(30);
    if let Some(n) = resolved.workers {
        server = server.workers(n);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = match tls {
        Some(config) => server.bind_rustls_0_23(&resolved.bind, config),
        None => server.bind(&resolved.bind),
    }
    .map_err(|e| cannot_listen(&resolved.bind, "--bind", &e))?;
    let addrs = server.addrs();
    if let Some(upstream) = &resolved.settings.upstream {
        tracing::info!(upstream = %upstream.url, timeout_s = upstream.timeout.as_secs_f64(), connections = upstream.connections, "upstream mode");
        eprintln!(
            "agentgate upstream mode: passwords are changed at {}",
            upstream.url
        );
    }
    if let Some(first) = addrs.first() {
        listening(&format!("{scheme}://{}", shown(*first)));
    }
    for addr in &addrs {
        tracing::info!(address = %addr, scheme, database = %redact_url(&resolved.database), "agentgate listening");
        eprintln!("agentgate listening on {scheme}://{addr}");
    }
    let server = server.run();
    let result = match metrics_server {
        None => server.await,
        Some((metrics, addrs)) => {
            for addr in addrs {
                tracing::info!(address = %addr, "agentgate metrics listening");
                eprintln!("agentgate metrics on http://{addr}/metrics");
            }
            let _ = std::io::stderr().flush();
            // Both stop on the same SIGTERM; the metrics server has nothing to drain.
            let (main, metrics) = futures_util::future::join(server, metrics).await;
            main.and(metrics)
        }
    };
    result.map_err(|e| fail(format!("server failed: {e}")))
}

/// `/metrics` alone, plain HTTP, on one worker: a scrape every few seconds needs no more.
fn metrics_server(
    state: web::Data<AppState>,
    address: &str,
) -> Result<(actix_web::dev::Server, Vec<SocketAddr>), Failure> {
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(crate::metrics::render_on_metrics_bind),
        )
    })
    .workers(1)
    .shutdown_timeout(1)
    .bind(address)
    .map_err(|e| cannot_listen(address, "--metrics-bind", &e))?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}

/// `127.0.0.1:8080` as a client should write it; an unspecified address (`0.0.0.0`) as
/// loopback, since a client cannot connect to "any".
fn shown(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// One line for an address that cannot be listened on, naming the option that chose it.
pub(crate) fn cannot_listen(address: &str, option: &str, e: &std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => fail(format!(
            "cannot listen on {address}: another process is using that address; choose another with {option} (e.g. {option} 127.0.0.1:0 for any free port)"
        )),
        _ => fail(format!("cannot listen on {address} ({option}): {e}")),
    }
}
