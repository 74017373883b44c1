//! The routes: which path goes where.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, middleware, web};

use crate::state::AppState;
use crate::{api, metrics, openapi, pages};

/// Registers every route. Used by `serve` and by the in-process tests alike:
/// `App::new().app_data(state).configure(agentgate_server::configure)`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(middleware::from_fn(metrics::observe))
            .route("/login", web::get().to(pages::login_page))
            .route("/login", web::post().to(pages::login))
            .route("/logout", web::post().to(pages::logout))
            .route("/password", web::get().to(pages::password_page))
            .route("/assets/agentgate.css", web::get().to(pages::stylesheet))
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics::render))
            .route("/openapi.json", web::get().to(openapi::document))
            .default_service(web::to(dispatch)),
    );
}

/// Everything the fixed routes do not catch. ASP.NET routing matches paths
/// case-insensitively and tolerates one trailing slash, so the API paths are matched here
/// by hand rather than by actix's case-sensitive router.
async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lower = req.path().to_ascii_lowercase();
    let path = lower.strip_suffix('/').unwrap_or(&lower);
    if path == api::PATH {
        return api::endpoint(req, payload, state).await;
    }
    if path == "/api" || path.starts_with("/api/") {
        return api::not_found(&req, &state);
    }
    if req.method() == Method::GET && path.is_empty() {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/password"))
            .finish();
    }
    HttpResponse::NotFound()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body("Not found\n")
}

/// `GET /healthz`: 200 when the store answers, else 503.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if state.accounts.healthy().await {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("store unreachable\n")
    }
}
