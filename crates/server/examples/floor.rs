//! The floor for `scripts/bench`: the least an actix-web server can do for a POST, answering
//! `true` as JSON without reading credentials or the body's meaning. agentgate's cheap
//! refusals are measured against it, on the same machine in the same run.
//!
//! ```sh
//! cargo run --release -p agentgate-server --example floor -- 127.0.0.1:8090
//! # Replaying a response captured with `curl -si` (status, headers, body) instead of `true`:
//! cargo run --release -p agentgate-server --example floor -- 127.0.0.1:8091 401.http
//! ```
//!
//! The replay answers every request with the captured response's bytes, so the bench can tell
//! what agentgate's work costs from what its larger answer costs (headers and an error
//! document against `true`). `Content-Length`, `Date` and `Connection` are actix's own.
//!
//! It prints `floor listening on http://ADDR` on stderr once bound; the worker count is
//! actix's default (one per core), as `agentgate serve` uses.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpResponse, HttpServer, web};

/// A captured answer: status, headers in order, body.
#[derive(Clone)]
struct Replay {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: web::Bytes,
}

impl Replay {
    /// Reads `curl -si` output: the status line, header lines, an empty line, the body.
    fn read(path: &str) -> Result<Replay, String> {
        let raw = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("{path}: no empty line after the headers"))?;
        let head = std::str::from_utf8(&raw[..split]).map_err(|e| format!("{path}: {e}"))?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| format!("{path}: no status line"))?;
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| format!("{path}: not a header line: {line}"))?;
            let name = HeaderName::try_from(name.trim()).map_err(|e| format!("{path}: {e}"))?;
            if matches!(name.as_str(), "content-length" | "date" | "connection") {
                continue;
            }
            let value = HeaderValue::try_from(value.trim()).map_err(|e| format!("{path}: {e}"))?;
            headers.push((name, value));
        }
        Ok(Replay {
            status,
            headers,
            body: web::Bytes::copy_from_slice(&raw[split + 4..]),
        })
    }
}

async fn answer(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body("true")
}

async fn replayed(_body: web::Bytes, replay: web::Data<Replay>) -> HttpResponse {
    let mut response = HttpResponse::build(replay.status);
    for header in &replay.headers {
        response.append_header(header.clone());
    }
    response.body(replay.body.clone())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let replay = match args.next() {
        Some(path) => Some(Replay::read(&path).map_err(std::io::Error::other)?),
        None => None,
    };
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || match &replay {
            // The plain floor exactly as it always was: no app data to look up.
            None => App::new().default_service(web::to(answer)),
            Some(captured) => App::new()
                .app_data(web::Data::new(captured.clone()))
                .default_service(web::to(replayed)),
        })
        .bind(&bind)?;
        for addr in server.addrs() {
            eprintln!("floor listening on http://{addr}");
        }
        server.run().await
    })
}
