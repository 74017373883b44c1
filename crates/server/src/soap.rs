//! `/Remote/ServicesNN/User.svc`: `ChangeOwnPassword` for NetServer's SOAP clients (SPEC §9),
//! from the same accounts, policy, throttling and messages as the API.
//!
//! What becomes what:
//! - the transport is wrong: `Content-Type` other than `text/xml` (also `application/soap+xml`),
//!   an unsupported charset, or a SOAP 1.2 envelope: 415, as WCF's `BasicHttpBinding`
//!   answers; a body over `--body-limit`: 413. Both carry a SOAP 1.1 fault `s:Client` for
//!   clients that read one.
//! - the message is wrong (broken envelope, `SOAPAction` of another operation, unknown
//!   operation, a `mustUnderstand` header we do not know): HTTP 500 with a fault `s:Client`
//!   (`s:MustUnderstand` for the last), the `faultstring` localized; an internal failure is
//!   `s:Server`.
//! - the call is refused (bad credentials, partner app, Online, missing password, wrong old
//!   password, policy, throttled, store or hashing unavailable): 200, `Succeeded` false,
//!   `ExceptionInfo` filled and `Response` false, as NetServer reports a failed call.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use agentgate_accounts::{ChangeOutcome, Client, Credential};
use agentgate_codec::soap::{self, ExceptionInfo, FaultCode};
use agentgate_codec::{self as codec, RequestType};
use agentgate_negotiation as negotiation;
use futures_util::StreamExt;

use crate::auth::{self, Presented};
use crate::error::ApiError;
use crate::i18n::Arg;
use crate::metrics::Outcome;
use crate::respond::Reply;
use crate::state::AppState;

const TEXT_XML: &str = "text/xml; charset=utf-8";

/// Only the language varies a SOAP reply; the media type is fixed by the binding.
const VARY: &str = "Accept-Language, SO-Language";

/// The NetServer version of a SOAP service path, `/remote/servicesNN/user.svc` (already
/// lower-cased, trailing slash stripped), for the versions served.
pub(crate) fn service_version(lower_path: &str) -> Option<u8> {
    let digits = lower_path
        .strip_prefix("/remote/services")?
        .strip_suffix("/user.svc")?;
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let version = digits.parse().ok()?;
    soap::VERSIONS.contains(&version).then_some(version)
}

/// Answers everything at a service path: the WSDL, the call, or 405.
pub(crate) async fn endpoint(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    version: u8,
) -> HttpResponse {
    match *req.method() {
        Method::POST => call(&req, payload, &state, version).await,
        Method::GET | Method::HEAD if asks_for_wsdl(req.query_string()) => {
            wsdl(&req, &state, version)
        }
        Method::GET | Method::HEAD => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "NetServer Services{version} User service: ChangeOwnPassword over SOAP 1.1.\n\
                 The service description is at {}?wsdl\n",
                address(&req, &state)
            )),
        _ => HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, POST"))
            .content_type("text/plain; charset=utf-8")
            .body("Allowed methods: GET, POST.\n"),
    }
}

/// `?wsdl`, in any case, as WCF serves it (and `?singleWsdl`, its one-document form, which
/// is the same here).
fn asks_for_wsdl(query: &str) -> bool {
    query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        key.eq_ignore_ascii_case("wsdl") || key.eq_ignore_ascii_case("singlewsdl")
    })
}

/// The service's URL as clients reach it: the configured public base URL (behind a proxy),
/// else the scheme and host this request came to, then the request path.
fn address(req: &HttpRequest, state: &AppState) -> String {
    let base = match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    format!("{base}{}", req.path())
}

fn wsdl(req: &HttpRequest, state: &AppState, version: u8) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TEXT_XML))
        .body(soap::wsdl(version, &address(req, state)));
    response.extensions_mut().insert(Outcome("wsdl"));
    response
}

/// What a call came to, before it is written.
enum Answer {
    /// The password was changed.
    Changed,
    /// A refusal: `Succeeded` false with `ExceptionInfo`.
    Refused {
        /// `ExceptionType`: an `ErrorType` or an `X-Reason` code.
        exception_type: &'static str,
        /// The message id and its arguments.
        message: (&'static str, Vec<(&'static str, Arg)>),
        /// `Retry-After` in seconds, when waiting helps.
        retry_after: Option<u64>,
    },
    /// A SOAP fault with its HTTP status.
    Fault {
        status: StatusCode,
        code: FaultCode,
        message: (&'static str, Vec<(&'static str, Arg)>),
        /// The `ErrorType` for the metrics' outcome label.
        outcome: &'static str,
    },
}

impl Answer {
    fn refused(err: &ApiError) -> Answer {
        Answer::Refused {
            exception_type: err.error_type(),
            message: err.message(),
            retry_after: err.retry_after(),
        }
    }

    /// A client fault (HTTP 500, `s:Client`) with one of the SOAP message ids.
    fn client_fault(id: &'static str, args: Vec<(&'static str, Arg)>) -> Answer {
        Answer::Fault {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: FaultCode::Client,
            message: (id, args),
            outcome: "BadRequest",
        }
    }

    /// The transport cannot be served (415, 413): the status of the API error, a fault
    /// `s:Client` with its message.
    fn transport(err: &ApiError) -> Answer {
        Answer::Fault {
            status: err.status_code(),
            code: FaultCode::Client,
            message: err.message(),
            outcome: err.error_type(),
        }
    }

    fn internal() -> Answer {
        let err = ApiError::Internal;
        Answer::Fault {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: FaultCode::Server,
            message: err.message(),
            outcome: err.error_type(),
        }
    }
}

/// `POST`: the call.
async fn call(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    version: u8,
) -> HttpResponse {
    let mut reply = Reply::lenient(req, state);
    let (answer, label) = match run(req, payload, state, version, &mut reply).await {
        Ok((answer, label)) => (answer, label),
        Err(answer) => (answer, ""),
    };
    write(state, &reply, version, answer, label)
}

/// Checks and performs the call. `Ok` carries the answer and the outcome label of a change
/// that was tried; `Err` an answer reached before.
async fn run(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    version: u8,
    reply: &mut Reply,
) -> Result<(Answer, &'static str), Answer> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let charset = match negotiation::content_type(content_type, false, &[RequestType::TextXml]) {
        Ok(declared) => declared.and_then(|d| d.charset),
        Err(negotiation::Error::UnsupportedCharset) => {
            return Err(Answer::transport(&ApiError::UnsupportedCharset));
        }
        Err(
            negotiation::Error::MissingContentType
            | negotiation::Error::UnsupportedMediaType
            | negotiation::Error::NotAcceptable { .. }
            | negotiation::Error::NotAcceptableCharset,
        ) => {
            return Err(Answer::transport(&ApiError::UnsupportedMediaType));
        }
    };
    // Absent is fine (SPEC §9: "when present it must match"); every one present must.
    let action_matches = req
        .headers()
        .get_all("soapaction")
        .all(|a| a.to_str().is_ok_and(|a| soap::action_matches(a, version)));
    if !action_matches {
        return Err(Answer::client_fault("SR_SOAP_ACTION_MISMATCH", vec![]));
    }

    let limit = state.settings.body_limit;
    let body = read_body(req, &mut payload, limit).await?;
    let limits = codec::Limits {
        max_bytes: limit,
        ..codec::Limits::default()
    };
    let request = soap::decode_request(&body, charset, version, &limits).map_err(|e| {
        tracing::info!(error = %e, "SOAP request refused");
        decode_error(e, limit)
    })?;
    if let Some(zone) = &request.time_zone {
        reply.zone = negotiation::time_zone(Some(zone));
    }

    if state.settings.online && !state.settings.enable_user_agent {
        return Err(Answer::refused(&ApiError::OnlineForbidden));
    }
    // SPEC §4, §9: application tokens are checked only Online; nil or empty is no token.
    let app_token = req.headers().get(&crate::respond::SO_APPTOKEN);
    let partner = request.application_token.is_some() || app_token.is_some_and(|v| !v.is_empty());
    if state.settings.online && partner {
        return Err(Answer::refused(&ApiError::PartnerAppForbidden));
    }
    // The ticket in the envelope is the SOAP way; HTTP `Authorization` is accepted too. A
    // browser session is not: SOAP clients carry no XSRF token.
    let presented = auth::presented(req);
    let credential = match (&request.ticket, &presented) {
        (Some(ticket), _) => Credential::Ticket(ticket),
        (None, Presented::Authorization(owned)) => owned.as_credential(),
        (None, Presented::Nothing | Presented::Malformed | Presented::Session(_)) => {
            return Err(Answer::refused(&ApiError::Unauthorized));
        }
    };
    let (Some(old_password), Some(new_password)) = (&request.old_password, &request.new_password)
    else {
        return Err(Answer::refused(&ApiError::BadRequest {
            detail: String::new(),
        }));
    };

    let client = Client {
        address: req.peer_addr().map(|a| a.ip()),
    };
    let identity = state
        .accounts
        .authenticate(credential, &client)
        .await
        .map_err(|e| accounts_error(e.into()))?;
    let outcome = state
        .accounts
        .change_password(&identity, old_password, new_password, &client)
        .await
        .map_err(|e| accounts_error(e.into()))?;
    let (answer, label) = match outcome {
        ChangeOutcome::Changed => (Answer::Changed, "changed"),
        ChangeOutcome::OldPasswordMismatch => (
            Answer::Refused {
                exception_type: "old-password-mismatch",
                message: ("SR_OLD_PASSWORD_MISMATCH", vec![]),
                retry_after: None,
            },
            "old-password-mismatch",
        ),
        ChangeOutcome::Refused(violation) => (
            Answer::Refused {
                exception_type: violation.reason(),
                message: crate::api::policy_message(&violation),
                retry_after: None,
            },
            violation.reason(),
        ),
        ChangeOutcome::Throttled { retry_after, until } => {
            return Err(Answer::refused(&ApiError::Throttled { retry_after, until }));
        }
    };
    tracing::info!(user = %identity.username, outcome = label, version, "SOAP password change");
    Ok((answer, label))
}

/// A failure of the accounts: a refusal, except for a bug, which is a server fault.
fn accounts_error(err: ApiError) -> Answer {
    match err {
        ApiError::Internal => Answer::internal(),
        err => Answer::refused(&err),
    }
}

/// Reads the body up to the API's limit.
async fn read_body(
    req: &HttpRequest,
    payload: &mut web::Payload,
    limit: usize,
) -> Result<web::BytesMut, Answer> {
    let too_large = || Answer::transport(&ApiError::PayloadTooLarge { limit });
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Answer::client_fault("SR_SOAP_BAD_ENVELOPE", vec![]))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn decode_error(err: soap::Error, limit: usize) -> Answer {
    match err {
        soap::Error::Soap12 => Answer::transport(&ApiError::UnsupportedMediaType),
        soap::Error::Xml(codec::Error::TooLarge { .. }) => {
            Answer::transport(&ApiError::PayloadTooLarge { limit })
        }
        soap::Error::Xml(codec::Error::UnsupportedCharset) => {
            Answer::transport(&ApiError::UnsupportedCharset)
        }
        soap::Error::MustUnderstand { .. } => Answer::Fault {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: FaultCode::MustUnderstand,
            message: ("SR_SOAP_MUST_UNDERSTAND", vec![]),
            outcome: "BadRequest",
        },
        soap::Error::UnknownOperation { .. } => {
            Answer::client_fault("SR_SOAP_UNKNOWN_OPERATION", vec![])
        }
        soap::Error::Xml(
            codec::Error::Empty
            | codec::Error::Encoding { .. }
            | codec::Error::Syntax { .. }
            | codec::Error::TooDeep { .. }
            | codec::Error::Doctype { .. }
            | codec::Error::TooManyAttributes { .. }
            | codec::Error::DuplicateAttribute { .. }
            | codec::Error::Shape { .. }
            | codec::Error::Missing { .. }
            | codec::Error::NotAString { .. }
            | codec::Error::Duplicate { .. }
            | codec::Error::DuplicateName { .. }
            | codec::Error::PercentEncoding { .. }
            | codec::Error::Patch { .. }
            | codec::Error::PatchTestFailed { .. },
        )
        | soap::Error::Envelope { .. } => Answer::client_fault("SR_SOAP_BAD_ENVELOPE", vec![]),
    }
}

/// Writes the answer: `text/xml; charset=utf-8`, localized, with the outcome for metrics.
fn write(
    state: &AppState,
    reply: &Reply,
    version: u8,
    answer: Answer,
    label: &'static str,
) -> HttpResponse {
    let (status, body, outcome, retry_after) = match answer {
        Answer::Changed => (
            StatusCode::OK,
            soap::encode_response(version, None),
            "changed",
            None,
        ),
        Answer::Refused {
            exception_type,
            message: (id, args),
            retry_after,
        } => {
            let message = reply.message(state, id, &args);
            let info = ExceptionInfo {
                message: &message,
                friendly_text: &message,
                exception_type,
            };
            let outcome = if label.is_empty() {
                exception_type
            } else {
                label
            };
            (
                StatusCode::OK,
                soap::encode_response(version, Some(&info)),
                outcome,
                retry_after,
            )
        }
        Answer::Fault {
            status,
            code,
            message: (id, args),
            outcome,
        } => {
            let message = reply.message(state, id, &args);
            (
                status,
                soap::encode_fault(code, &message, reply.lang()),
                outcome,
                None,
            )
        }
    };
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CONTENT_TYPE, TEXT_XML))
        .insert_header((header::VARY, VARY))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(lang) = reply.language.content_language() {
        builder.insert_header((header::CONTENT_LANGUAGE, lang));
    }
    if let Some(seconds) = retry_after {
        builder.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
    }
    let mut response = builder.body(body);
    response.extensions_mut().insert(Outcome(outcome));
    response
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test as actix_test};
    use agentgate_accounts::{Accounts, Config, HashParams};

    use super::*;
    use crate::state::Settings;

    const OLD: &str = "sint-occaecat-42";
    const NEW: &str = "Tr0ub4dour&3-horse";
    const PATH: &str = "/Remote/Services88/User.svc";
    const ACTION: &str =
        "http://www.superoffice.net/ws/crm/NetServer/Services88/User/ChangeOwnPassword";

    #[test]
    fn service_paths_name_a_served_version() {
        let cases = [
            ("/remote/services88/user.svc", Some(88)),
            ("/remote/services84/user.svc", Some(84)),
            ("/remote/services83/user.svc", Some(83)),
            ("/remote/services75/user.svc", Some(75)),
            ("/remote/services73/user.svc", Some(73)),
            ("/remote/services79/user.svc", None),
            ("/remote/services74/user.svc", None),
            ("/remote/services89/user.svc", None),
            ("/remote/services8a/user.svc", None),
            ("/remote/services088/user.svc", None),
            ("/remote/services88/principal.svc", None),
            ("/remote/services88/user.svc/x", None),
        ];
        for (path, expected) in cases {
            assert_eq!(service_version(path), expected, "{path}");
        }
    }

    #[test]
    fn wsdl_is_asked_for_in_any_case() {
        for (query, asks) in [
            ("wsdl", true),
            ("WSDL", true),
            ("wsdl=", true),
            ("x=1&Wsdl", true),
            ("singleWsdl", true),
            ("", false),
            ("wsdlx", false),
            ("x=wsdl", false),
        ] {
            assert_eq!(asks_for_wsdl(query), asks, "{query}");
        }
    }

    async fn state(settings: Settings) -> (web::Data<AppState>, String) {
        let config = Config {
            hash: HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            ..Config::default()
        };
        let accounts = Accounts::open("sqlite::memory:", config).await.unwrap();
        accounts.add_user("tje0", OLD).await.unwrap();
        let ticket = accounts.issue_ticket("tje0", None).await.unwrap();
        (
            web::Data::new(AppState::new(accounts, settings, None)),
            ticket,
        )
    }

    fn envelope(header: &str, old: &str, new: &str) -> String {
        let ns = soap::namespace(88);
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body><ChangeOwnPassword xmlns="{ns}"><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
            old.replace('&', "&amp;"),
            new.replace('&', "&amp;"),
        )
    }

    fn credentials(ticket: &str) -> String {
        format!(
            r#"<Credentials xmlns="{}"><Ticket>{ticket}</Ticket></Credentials>"#,
            soap::namespace(88)
        )
    }

    async fn post(
        state: web::Data<AppState>,
        headers: &[(&str, &str)],
        body: String,
    ) -> (StatusCode, actix_web::http::header::HeaderMap, String) {
        let app =
            actix_test::init_service(App::new().app_data(state).configure(crate::app::configure))
                .await;
        let mut req = actix_test::TestRequest::post().uri(PATH).set_payload(body);
        for &(name, value) in headers {
            req = req.insert_header((name, value));
        }
        let res = actix_test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = String::from_utf8(actix_test::read_body(res).await.to_vec()).unwrap();
        (status, headers, body)
    }

    const XML: (&str, &str) = ("Content-Type", "text/xml; charset=utf-8");

    #[actix_web::test]
    async fn a_ticket_in_the_header_changes_the_password() {
        let (state, ticket) = state(Settings::default()).await;
        let body = envelope(&credentials(&ticket), OLD, NEW);
        let (status, headers, body) = post(
            state.clone(),
            &[XML, ("SOAPAction", &format!("\"{ACTION}\""))],
            body,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers.get("content-type").unwrap(), TEXT_XML);
        assert_eq!(body.as_bytes(), soap::encode_response(88, None));
        // The ticket that made the change stays valid; the old password no longer holds.
        let again = envelope(&credentials(&ticket), OLD, "another-Passw0rd-42");
        let (_, _, body) = post(state, &[XML], again).await;
        assert!(
            body.contains("<h:ExceptionType>old-password-mismatch</h:ExceptionType>"),
            "{body}"
        );
    }

    #[actix_web::test]
    async fn refusals_are_200_with_exception_info_in_the_caller_s_language() {
        let (state, ticket) = state(Settings::default()).await;
        let cases = [
            (
                envelope(&credentials(&ticket), "wrong-one", NEW),
                "old-password-mismatch",
                "Den nuværende",
            ),
            (
                envelope(&credentials(&ticket), OLD, "short"),
                "password-too-short",
                "mindst",
            ),
            (
                envelope(&credentials("7T:nope"), OLD, NEW),
                "Unauthorized",
                "",
            ),
            (envelope("", OLD, NEW), "Unauthorized", ""),
            // On-site an application token is ignored (SPEC §4): the call goes on, here to
            // a wrong old password.
            (
                envelope(
                    &format!(
                        "{}<ApplicationToken xmlns=\"{}\">x</ApplicationToken>",
                        credentials(&ticket),
                        soap::namespace(88)
                    ),
                    "not-the-old-one",
                    NEW,
                ),
                "old-password-mismatch",
                "Den nuværende",
            ),
            (
                envelope(&credentials(&ticket), OLD, NEW)
                    .replace("<NewPassword>", "<Other>")
                    .replace("</NewPassword>", "</Other>"),
                "BadRequest",
                "",
            ),
        ];
        for (body, exception_type, danish) in cases {
            let (status, headers, reply) =
                post(state.clone(), &[XML, ("Accept-Language", "da")], body).await;
            assert_eq!(status, StatusCode::OK, "{exception_type}");
            assert_eq!(headers.get("content-language").unwrap(), "da");
            assert!(
                reply.contains(&format!(
                    "<h:ExceptionType>{exception_type}</h:ExceptionType>"
                )),
                "{reply}"
            );
            assert!(reply.contains(">false</h:Succeeded>"), "{reply}");
            assert!(reply.contains("<Response>false</Response>"), "{reply}");
            assert!(reply.contains(danish), "{exception_type}: {reply}");
        }
    }

    #[actix_web::test]
    async fn http_authorization_works_too() {
        let (state, _) = state(Settings::default()).await;
        let (status, _, body) = post(
            state,
            &[XML, ("Authorization", "Basic dGplMDpzaW50LW9jY2FlY2F0LTQy")],
            envelope("", OLD, NEW),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(">true</h:Succeeded>"), "{body}");
    }

    #[actix_web::test]
    async fn transport_and_message_errors() {
        let (state, ticket) = state(Settings::default()).await;
        let good = envelope(&credentials(&ticket), OLD, NEW);
        let soap12 = good.replace(
            "http://schemas.xmlsoap.org/soap/envelope/",
            "http://www.w3.org/2003/05/soap-envelope",
        );
        let unknown = good.replace("ChangeOwnPassword", "ChangePassword");
        let must = envelope(
            &format!(
                "{}<w:Security xmlns:w=\"urn:wss\" s:mustUnderstand=\"1\"/>",
                credentials(&ticket)
            ),
            OLD,
            NEW,
        );
        // (request headers, body, status, fault code)
        type Case<'a> = (Vec<(&'a str, &'a str)>, String, u16, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![("Content-Type", "application/soap+xml; charset=utf-8")],
                good.clone(),
                415,
                "s:Client",
            ),
            (vec![XML], soap12, 415, "s:Client"),
            (
                vec![("Content-Type", "text/xml; charset=iso-8859-1")],
                good.clone(),
                415,
                "s:Client",
            ),
            (
                vec![XML, ("SOAPAction", "\"urn:other\"")],
                good.clone(),
                500,
                "s:Client",
            ),
            (vec![XML], "<nope".to_owned(), 500, "s:Client"),
            (vec![XML], unknown, 500, "s:Client"),
            (vec![XML], must, 500, "s:MustUnderstand"),
            (vec![XML], good.repeat(2000), 413, "s:Client"),
        ];
        for (headers, body, status, code) in cases {
            let (s, h, reply) = post(state.clone(), &headers, body).await;
            assert_eq!(s.as_u16(), status, "{headers:?}: {reply}");
            assert_eq!(h.get("content-type").unwrap(), TEXT_XML);
            assert!(
                reply.contains(&format!("<faultcode>{code}</faultcode>")),
                "{reply}"
            );
            assert!(reply.contains("<faultstring xml:lang=\"en\">"), "{reply}");
        }
    }

    #[actix_web::test]
    async fn the_wsdl_names_the_address_it_was_fetched_at_or_the_public_url() {
        for (public_url, expected) in [
            (None, "http://gw.example:8080/remote/SERVICES86/user.svc"),
            (
                Some("https://crm.example/base/".to_owned()),
                "https://crm.example/base/remote/SERVICES86/user.svc",
            ),
        ] {
            let (state, _) = state(Settings {
                public_url,
                ..Settings::default()
            })
            .await;
            let app = actix_test::init_service(
                App::new().app_data(state).configure(crate::app::configure),
            )
            .await;
            let req = actix_test::TestRequest::get()
                .uri("/remote/SERVICES86/user.svc?WSDL")
                .insert_header(("Host", "gw.example:8080"))
                .to_request();
            let res = actix_test::call_service(&app, req).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers().get("content-type").unwrap(), TEXT_XML);
            let body = String::from_utf8(actix_test::read_body(res).await.to_vec()).unwrap();
            assert_eq!(body, soap::wsdl(86, expected));
        }
    }

    #[actix_web::test]
    async fn online_without_the_user_agent_is_a_forbidden_refusal() {
        let settings = Settings {
            online: true,
            ..Settings::default()
        };
        let (state, ticket) = state(settings).await;
        let (status, _, body) =
            post(state, &[XML], envelope(&credentials(&ticket), OLD, NEW)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("<h:ExceptionType>Forbidden</h:ExceptionType>"),
            "{body}"
        );
    }
}
