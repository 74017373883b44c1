//! The comparison behind agentgate's choice of upstream client (crates/server/src/upstream):
//! one actix-web server that answers every POST by sending its body on to an origin and
//! relaying the answer, through awc or through reqwest, configured as agentgate configures its
//! client (keep-alive pool, no redirects, a deadline, at most N in flight). Put it in front of
//! the floor example and load it with wrk: the difference is the client's.
//!
//! ```sh
//! agentgate-client-comparison awc|reqwest BIND ORIGIN_URL [IN_FLIGHT]
//! agentgate-client-comparison floor BIND     # the origin: answers every request `true`
//! ```
//!
//! It prints `clients listening on http://ADDR` on stderr once bound; the worker count is
//! actix's default (one per core), as `agentgate serve` uses.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};

const DEADLINE: Duration = Duration::from_secs(15);

struct Shared {
    origin: String,
    slots: Arc<tokio::sync::Semaphore>,
    reqwest: reqwest::Client,
}

thread_local! {
    // awc's client is !Send: one per worker, each with its own pool.
    static AWC: awc::Client = awc::Client::builder()
        .disable_redirects()
        .timeout(DEADLINE)
        .finish();
}

async fn via_awc(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let Ok(_slot) = shared.slots.clone().acquire_owned().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let request = AWC.with(|c| {
        c.post(&shared.origin)
            .insert_header(("Content-Type", "application/json; charset=utf-8"))
            .insert_header(("Accept", "application/json"))
    });
    let call = async {
        let mut response = request.send_body(body).await.ok()?;
        let status = response.status().as_u16();
        let body = response.body().limit(64 * 1024).await.ok()?;
        Some((status, body))
    };
    answer(tokio::time::timeout(DEADLINE, call).await.ok().flatten())
}

async fn via_reqwest(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let Ok(_slot) = shared.slots.clone().acquire_owned().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let call = async {
        let response = shared
            .reqwest
            .post(&shared.origin)
            .header("Content-Type", "application/json; charset=utf-8")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        let body = response.bytes().await.ok()?;
        Some((status, body))
    };
    answer(tokio::time::timeout(DEADLINE, call).await.ok().flatten())
}

/// The origin: the floor example's handler.
async fn floor(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body("true")
}

fn answer(result: Option<(u16, web::Bytes)>) -> HttpResponse {
    match result {
        Some((200, body)) => HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body(body),
        Some(_) | None => HttpResponse::BadGateway().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let client = args.next().unwrap_or_else(|| "awc".to_owned());
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:8091".to_owned());
    let origin = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8090/api/v1/Agents/User/ChangeOwnPassword".to_owned());
    let in_flight: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(64);
    actix_web::rt::System::new().block_on(async move {
        let shared = web::Data::new(Shared {
            origin,
            slots: Arc::new(tokio::sync::Semaphore::new(in_flight)),
            reqwest: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .http1_only()
                .pool_max_idle_per_host(in_flight)
                .tcp_nodelay(true)
                // As agentgate: its own rustls configuration (ring); the origin here is http.
                .use_preconfigured_tls(
                    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .with_safe_default_protocol_versions()
                    .expect("TLS versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
                )
                .build()
                .expect("reqwest client"),
        });
        let server = HttpServer::new(move || {
            let app = App::new().app_data(shared.clone());
            match client.as_str() {
                "awc" => app.default_service(web::to(via_awc)),
                "reqwest" => app.default_service(web::to(via_reqwest)),
                _ => app.default_service(web::to(floor)),
            }
        })
        .bind(&bind)?;
        for addr in server.addrs() {
            eprintln!("clients listening on http://{addr}");
        }
        server.run().await
    })
}
