//! The floor for `scripts/bench`: the least an actix-web server can do for a POST, answering
//! `true` as JSON without reading credentials or the body's meaning. agentgate's cheap
//! refusals are measured against it, on the same machine in the same run.
//!
//! ```sh
//! cargo run --release -p agentgate-server --example floor -- 127.0.0.1:8090
//! ```
//!
//! It prints `floor listening on http://ADDR` on stderr once bound; the worker count is
//! actix's default (one per core), as `agentgate serve` uses.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn answer(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body("true")
}

fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| App::new().default_service(web::to(answer))).bind(&bind)?;
        for addr in server.addrs() {
            eprintln!("floor listening on http://{addr}");
        }
        server.run().await
    })
}
