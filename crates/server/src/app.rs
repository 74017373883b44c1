//! The routes: which path goes where.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, middleware, web};

use crate::state::AppState;
use crate::{front, metrics, openapi, pages, rest, soap};

/// Registers every route. Used by `serve` and by the in-process tests alike:
/// `App::new().app_data(state).configure(agentgate_server::configure)`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(middleware::from_fn(front::guard))
            // The endpoint as published, first: the router tries its routes in turn before
            // the default service: 1,100 instructions of a cheap refusal (issue 17).
            // Other spellings (case, a trailing slash) reach it through `dispatch`.
            .route(rest::PUBLISHED_PATH, web::to(rest::endpoint))
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
    if rest::is_endpoint(req.path()) {
        return rest::endpoint(req, payload, state).await;
    }
    let lower = req.path().to_ascii_lowercase();
    let path = lower.strip_suffix('/').unwrap_or(&lower);
    if let Some(version) = soap::service_version(path) {
        return soap::endpoint(req, payload, state, version).await;
    }
    if path == "/api" || path.starts_with("/api/") {
        return rest::not_found(&req, &state);
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

/// `GET /healthz`: 200 when the store answers and, in upstream mode, the upstream answered
/// a TCP connect within the last 10 s (SPEC §10); else 503, saying which.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let upstream_down = state
        .upstream
        .as_ref()
        .is_some_and(|upstream| !upstream.is_healthy());
    let problem = if !state.accounts.healthy().await {
        Some("store unreachable\n")
    } else if upstream_down {
        Some("upstream unreachable\n")
    } else {
        None
    };
    match problem {
        None => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok\n"),
        Some(problem) => {
            let mut response = HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(problem);
            if upstream_down {
                // Not a store error: metrics tell the two apart.
                response
                    .extensions_mut()
                    .insert(metrics::Outcome("UpstreamUnreachable"));
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::{App, test, web};

    use crate::state::{AppState, Settings, testing};

    async fn state() -> web::Data<AppState> {
        testing::state(Settings::default()).await.0
    }

    #[actix_web::test]
    async fn a_basic_json_change_answers_true() {
        let app = test::init_service(
            App::new()
                .app_data(state().await)
                .configure(super::configure),
        )
        .await;
        let req = test::TestRequest::post()
            .uri("/api/v1/Agents/User/ChangeOwnPassword")
            .insert_header(("Authorization", "Basic dGplMDpzaW50LW9jY2FlY2F0LTQy"))
            .insert_header(("Content-Type", "application/json; charset=utf-8"))
            .insert_header(("Accept", "application/json; charset=utf-8"))
            .set_payload(r#"{"OldPassword":"sint-occaecat-42","NewPassword":"Tr0ub4dour&3-horse"}"#)
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json; charset=utf-8"
        );
        assert_eq!(test::read_body(res).await, "true");
    }

    #[actix_web::test]
    async fn other_methods_are_405_with_allow() {
        let app = test::init_service(
            App::new()
                .app_data(state().await)
                .configure(super::configure),
        )
        .await;
        let req = test::TestRequest::delete()
            .uri("/api/v1/agents/user/changeownpassword/")
            .insert_header(("Accept", "text/xml"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers().get("allow").unwrap(), "GET, POST");
        let body = test::read_body(res).await;
        assert!(body.starts_with(b"<Error><Message>"), "{body:?}");
        assert!(
            body.ends_with(b"<ErrorType>MethodNotAllowed</ErrorType></Error>"),
            "{body:?}"
        );
    }

    #[actix_web::test]
    async fn the_description_comes_in_the_negotiated_format() {
        let app = test::init_service(
            App::new()
                .app_data(state().await)
                .configure(super::configure),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/api/v1/Agents/User/ChangeOwnPassword")
            .insert_header(("Accept", "text/json"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "text/json; charset=utf-8"
        );
        let doc: serde_json::Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
        assert_eq!(
            doc["RequestProperties"],
            serde_json::json!(["OldPassword", "NewPassword"])
        );
    }

    #[actix_web::test]
    async fn health_reports_a_reachable_store() {
        let app = test::init_service(
            App::new()
                .app_data(state().await)
                .configure(super::configure),
        )
        .await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(test::read_body(res).await, "ok\n");
    }
}
