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
//!
//! The change itself is the one flow of [`crate::change`]; this module only reads the
//! envelope into its command and writes its outcome as an envelope.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use agentgate_codec::soap::{self, ExceptionInfo, FaultCode};
use agentgate_codec::{self as codec, ChangeOwnPasswordRequest, RequestType};
use agentgate_negotiation as negotiation;

use crate::change::{self, Body, Command, Outcome, Xsrf};
use crate::credential::Credential;
use crate::error::{ApiError, SoapKind};
use crate::i18n::{Arg, Message};
use crate::metrics::Outcome as Label;
use crate::respond::{Reply, header_str};
use crate::state::AppState;

static SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

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
    format!("{}{}", state.settings.base_url(req), req.path())
}

/// The WSDL names the address it was fetched at, which depends on the request: no cache
/// may keep it for another.
fn wsdl(req: &HttpRequest, state: &AppState, version: u8) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TEXT_XML))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(soap::wsdl(version, &address(req, state)));
    response.extensions_mut().insert(Label("wsdl"));
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
        message: (Message, Vec<(&'static str, Arg)>),
        /// `Retry-After` in seconds, when waiting helps.
        retry_after: Option<u64>,
    },
    /// A SOAP fault with its HTTP status.
    Fault {
        status: StatusCode,
        code: FaultCode,
        message: (Message, Vec<(&'static str, Arg)>),
    },
}

impl Answer {
    /// A client fault (HTTP 500, `s:Client`) with one of the SOAP messages.
    fn client_fault(message: Message) -> Answer {
        Answer::Fault {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: FaultCode::Client,
            message: (message, vec![]),
        }
    }

    /// What an error of the flow is to a SOAP client (SPEC §9, §10): a transport that cannot
    /// be served keeps its status (413, 415) with an `s:Client` fault; a failure of the
    /// server or of the upstream is an `s:Server` fault; everything else is a refusal.
    fn from_error(err: &ApiError) -> Answer {
        match err.soap_kind() {
            SoapKind::Transport => Answer::Fault {
                status: err.status_code(),
                code: FaultCode::Client,
                message: err.message(),
            },
            SoapKind::Server => Answer::Fault {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: FaultCode::Server,
                message: err.message(),
            },
            SoapKind::Refusal => Answer::Refused {
                exception_type: err.error_type(),
                message: err.message(),
                retry_after: err.retry_after(),
            },
        }
    }

    fn from_outcome(outcome: &Outcome) -> Answer {
        match outcome {
            Outcome::Changed { .. } => Answer::Changed,
            Outcome::Refused(refusal) => Answer::Refused {
                exception_type: refusal.reason(),
                message: crate::pages::refusal_message(*refusal),
                retry_after: None,
            },
        }
    }
}

/// `POST`: the call.
async fn call(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    version: u8,
) -> HttpResponse {
    let mut reply = Reply::lenient(req, state);
    let (answer, label) = match envelope(req, &mut payload, state, version).await {
        Err(fault) => (fault, Label("BadRequest")),
        Ok(request) => {
            if let Some(zone) = &request.time_zone {
                reply.zone = negotiation::time_zone(Some(zone));
            }
            let command = command(req, state, request);
            match change::run(state, command).await {
                Ok(done) => (Answer::from_outcome(&done.outcome), done.outcome.label()),
                Err(e) => (Answer::from_error(&e), e.label()),
            }
        }
    };
    let mut response = write(state, &reply, version, answer);
    response.extensions_mut().insert(label);
    response
}

/// The call as the one flow takes it: the ticket in the envelope is the SOAP way, HTTP
/// `Authorization` is accepted too. A browser session is not: SOAP clients carry no XSRF
/// token.
fn command(req: &HttpRequest, state: &AppState, request: soap::Request) -> Command<'static> {
    let time_zone = request.time_zone.clone();
    let credential = match request.ticket {
        Some(ticket) => Some(Credential::Ticket(ticket)),
        None => Credential::from_request(req)
            .filter(|credential| !matches!(credential, Credential::Session(_))),
    };
    let body = match (request.old_password, request.new_password) {
        (Some(old_password), Some(new_password)) => Ok(ChangeOwnPasswordRequest {
            old_password,
            new_password,
            xsrf_token: None,
        }),
        (None, _) => Err(ApiError::BadRequest {
            detail: "the property OldPassword is missing".to_owned(),
        }),
        (_, None) => Err(ApiError::BadRequest {
            detail: "the property NewPassword is missing".to_owned(),
        }),
    };
    let mut context = crate::rest::context(req, state);
    // Upstream mode passes the envelope's TimeZone on as SO-TimeZone (SPEC §10).
    if state.upstream.is_some() && time_zone.is_some() {
        context.locale.so_time_zone = time_zone;
    }
    // The envelope's ApplicationToken (nil or empty is none) is what SO-AppToken is for REST:
    // checked only under --online, passed on as SO-AppToken in upstream mode.
    if request.application_token.is_some() {
        context.app_token = request.application_token;
    }
    Command {
        credential,
        body: Body::Read(body),
        xsrf: Xsrf::None,
        context,
    }
}

/// Reads the transport and the envelope: a fault for anything that is not a well-formed
/// call of this service.
async fn envelope(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &AppState,
    version: u8,
) -> Result<soap::Request, Answer> {
    let declared = negotiation::content_type(
        header_str(req, &header::CONTENT_TYPE),
        false,
        &[RequestType::TextXml],
    )
    .map_err(|e| Answer::from_error(&e.into()))?;
    // Absent is fine (SPEC §9: "when present it must match"); every one present must.
    let action_matches = req
        .headers()
        .get_all(&SOAP_ACTION)
        .all(|a| a.to_str().is_ok_and(|a| soap::action_matches(a, version)));
    if !action_matches {
        return Err(Answer::client_fault(Message::SoapActionMismatch));
    }
    let limit = state.settings.body_limit;
    let too_large = || Answer::from_error(&ApiError::PayloadTooLarge { limit });
    let length =
        header_str(req, &header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    if length.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = change::read_body(payload, limit)
        .await
        .map_err(|e| Answer::from_error(&e))?;
    let limits = codec::Limits {
        max_bytes: limit,
        ..codec::Limits::default()
    };
    let charset = declared.and_then(|d| d.charset);
    soap::decode_request(&body, charset, version, &limits).map_err(fault)
}

/// The fault for an envelope that cannot be read.
fn fault(err: soap::Error) -> Answer {
    match err {
        soap::Error::Soap12 => Answer::from_error(&ApiError::UnsupportedMediaType),
        soap::Error::Xml(e) => match ApiError::from(e) {
            e @ (ApiError::PayloadTooLarge { .. } | ApiError::UnsupportedCharset) => {
                Answer::from_error(&e)
            }
            _ => Answer::client_fault(Message::SoapBadEnvelope),
        },
        soap::Error::MustUnderstand { .. } => Answer::Fault {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: FaultCode::MustUnderstand,
            message: (Message::SoapMustUnderstand, vec![]),
        },
        soap::Error::UnknownOperation { .. } => Answer::client_fault(Message::SoapUnknownOperation),
        soap::Error::Envelope { .. } => Answer::client_fault(Message::SoapBadEnvelope),
    }
}

/// Writes the answer: `text/xml; charset=utf-8`, localized.
fn write(state: &AppState, reply: &Reply, version: u8, answer: Answer) -> HttpResponse {
    let (status, body, retry_after) = match answer {
        Answer::Changed => (StatusCode::OK, soap::encode_response(version, None), None),
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
            (
                StatusCode::OK,
                soap::encode_response(version, Some(&info)),
                retry_after,
            )
        }
        Answer::Fault {
            status,
            code,
            message: (id, args),
        } => {
            let message = reply.message(state, id, &args);
            (
                status,
                soap::encode_fault(code, &message, reply.lang()),
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
    builder.body(body)
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test as actix_test};

    use super::*;
    use crate::state::Settings;
    use crate::state::testing::{PASSWORD as OLD, state};

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

    #[actix_web::test]
    async fn an_application_token_is_refused_only_under_online() {
        let with_token = |ticket: &str| {
            envelope(
                &format!(
                    "{}<ApplicationToken xmlns=\"{}\">app-token</ApplicationToken>",
                    credentials(ticket),
                    soap::namespace(88)
                ),
                OLD,
                NEW,
            )
        };
        let (on_site, ticket) = state(Settings::default()).await;
        let (_, _, body) = post(on_site, &[XML], with_token(&ticket)).await;
        assert!(body.contains(">true</h:Succeeded>"), "on-site: {body}");

        let online = Settings {
            online: true,
            enable_user_agent: true,
            ..Settings::default()
        };
        let (online, ticket) = state(online).await;
        let (_, _, body) = post(online, &[XML], with_token(&ticket)).await;
        assert!(
            body.contains("<h:ExceptionType>PartnerAppForbidden</h:ExceptionType>"),
            "online: {body}"
        );
    }
}
