//! The browser pages (SPEC §6): sign in, change the password, the result, sign out. Plain
//! HTML forms that work without JavaScript, from the templates in [`templates`], served
//! with strict security headers.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use agentgate_accounts::Credential;
use askama::Template;
use subtle::ConstantTimeEq;

use crate::change::{Outcome, Refusal};
use crate::credential::{self, SESSION_COOKIE, XSRF_COOKIE};
use crate::error::ApiError;
use crate::i18n::{Arg, Message};
use crate::respond::Reply;
use crate::state::AppState;

mod templates;
mod upstream;

pub(crate) use upstream::{form_username, upstream_form};

use templates::{Bar, Frame, LoginPage, PasswordPage, PolicyHint, ResultPage, Tone, UsernameField};

// `connect-src 'self'` lets the page's own scripts (and a SPA on this origin) call the
// endpoint with fetch() and the X-XSRF-TOKEN header; nothing else is allowed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served from `/assets/agentgate.css` so the CSP needs no inline styles.
pub(crate) const STYLESHEET: &str = include_str!("../../assets/agentgate.css");

/// The headers of every page.
fn page_headers(builder: &mut HttpResponseBuilder, reply: &Reply) {
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if let Some(lang) = reply.language.content_language() {
        builder.insert_header((header::CONTENT_LANGUAGE, lang));
    }
}

/// A rendered template as the body; a template that cannot render (it cannot, with these
/// types) is a 500 rather than a panic.
fn body(builder: &mut HttpResponseBuilder, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => builder.body(html),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn cookie(state: &AppState, name: &'static str, value: &str, http_only: bool) -> Cookie<'static> {
    Cookie::build(name, value.to_owned())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .http_only(http_only)
        .finish()
}

pub(crate) fn xsrf_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    cookie(state, XSRF_COOKIE, value, false)
}

pub(crate) fn session_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    cookie(state, SESSION_COOKIE, value, true)
}

fn expired(state: &AppState, name: &'static str, http_only: bool) -> Cookie<'static> {
    let mut cookie = cookie(state, name, "", http_only);
    cookie.set_max_age(CookieDuration::ZERO);
    cookie
}

/// The texts of a page, in the request's language.
struct Texts<'s> {
    state: &'s AppState,
    reply: &'s Reply,
}

impl<'s> Texts<'s> {
    fn get(&self, message: Message) -> std::borrow::Cow<'s, str> {
        self.reply.message(self.state, message, &[])
    }

    fn with(&self, message: Message, args: &[(&str, Arg)]) -> std::borrow::Cow<'s, str> {
        self.reply.message(self.state, message, args)
    }

    fn lang(&self) -> &'static str {
        self.reply.language.content_language().unwrap_or("en")
    }
}

/// The login form, with a fresh token in cookie and form, and why the last try failed.
fn login_form(
    state: &AppState,
    reply: &Reply,
    status: StatusCode,
    error: Option<&str>,
    username: &str,
) -> HttpResponse {
    let texts = Texts { state, reply };
    let token = state.accounts.login_xsrf_token();
    let title = texts.get(Message::PageLoginTitle);
    let page = LoginPage {
        frame: Frame {
            lang: texts.lang(),
            title: &title,
            bar: None,
        },
        error,
        xsrf: &token,
        username,
        username_label: &texts.get(Message::PageUsername),
        password_label: &texts.get(Message::PagePassword),
        submit: &texts.get(Message::PageLogIn),
    };
    let mut builder = HttpResponse::build(status);
    page_headers(&mut builder, reply);
    builder.cookie(xsrf_cookie(state, &token));
    body(&mut builder, &page)
}

/// `GET /login`: the sign-in form with a fresh login XSRF token in cookie and form. A
/// browser that is signed in already goes on to the change form instead: the login token
/// would displace its session's token from the `XSRF-TOKEN` cookie, which scripts read for
/// `X-XSRF-TOKEN`.
pub(crate) async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.upstream.is_some() {
        return see_other("/password");
    }
    if let Some(cookie) = credential::session_cookie(&req) {
        let session = Credential::Session(cookie.value());
        if state
            .accounts
            .authenticate(session, state.settings.client_address(&req))
            .await
            .is_ok()
        {
            return see_other("/password");
        }
    }
    let reply = Reply::lenient(&req, &state).for_page();
    login_form(&state, &reply, StatusCode::OK, None, "")
}

fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn same_token(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `POST /login`: opens a session, or shows the form again with one message for an
/// unknown user and a wrong password alike.
pub(crate) async fn login(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    // Upstream mode has no sessions: the one form is /password (SPEC §10).
    if state.upstream.is_some() {
        return see_other("/password");
    }
    let reply = Reply::lenient(&req, &state).for_page();
    let fields = form_fields(&body);
    let username = field(&fields, "username").unwrap_or("");
    let password = field(&fields, "password").unwrap_or("");
    let form_token = field(&fields, "XSRF_TOKEN").unwrap_or("");
    let cookie_token = req.cookie(XSRF_COOKIE);
    let cookie_token = cookie_token.as_ref().map_or("", |c| c.value());

    let token_ok = !form_token.is_empty()
        && same_token(form_token, cookie_token)
        && state.accounts.verify_login_xsrf(form_token);
    if !token_ok {
        let message = reply.message(&state, Message::XsrfInvalid, &[]);
        return login_form(
            &state,
            &reply,
            StatusCode::FORBIDDEN,
            Some(&message),
            username,
        );
    }

    match state
        .accounts
        .login(username, password, state.settings.client_address(&req))
        .await
    {
        Ok(session) => {
            let mut builder = HttpResponse::SeeOther();
            page_headers(&mut builder, &reply);
            builder
                .insert_header((header::LOCATION, "/password"))
                .cookie(session_cookie(&state, &session.cookie))
                .cookie(xsrf_cookie(&state, &session.xsrf_token))
                .finish()
        }
        Err(e) => {
            // One message for an unknown user and a wrong password; a wait (SPEC §5) is a
            // 429 with Retry-After, shown on the form.
            let error = ApiError::from(e);
            let (status, message) = match &error {
                ApiError::Unauthorized => (
                    StatusCode::OK,
                    reply.message(&state, Message::PageLoginFailed, &[]),
                ),
                other => {
                    let (id, args) = other.message();
                    (other.status_code(), reply.message(&state, id, &args))
                }
            };
            let mut response = login_form(&state, &reply, status, Some(&message), username);
            if let Some(seconds) = error.retry_after() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    }
}

fn see_other(location: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// How a page's own failures are answered: an HTML error page in the request's language.
fn error_reply(req: &HttpRequest, state: &AppState) -> Reply {
    Reply::lenient(req, state).for_page()
}

/// `GET /password`: the change form, or a redirect to `/login` without a session.
pub(crate) async fn password_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.upstream.is_some() {
        let reply = Reply::lenient(&req, &state).for_page();
        return upstream_form(&state, &reply, None, "");
    }
    let Some(cookie) = credential::session_cookie(&req) else {
        return see_other("/login");
    };
    let identity = match state
        .accounts
        .authenticate(
            Credential::Session(cookie.value()),
            state.settings.client_address(&req),
        )
        .await
    {
        Ok(identity) => identity,
        Err(agentgate_accounts::Error::Unauthorized) => return see_other("/login"),
        Err(e) => {
            return error_page(&state, &error_reply(&req, &state), &ApiError::from(e));
        }
    };
    let reply = Reply::lenient(&req, &state).for_page();
    let texts = Texts {
        state: &state,
        reply: &reply,
    };
    let xsrf = state.accounts.xsrf_token(cookie.value());
    let policy = state.accounts.policy();
    let (min, max) = (policy.min_length, policy.max_length);
    let policy_text = texts.with(
        Message::PagePolicy,
        &[
            ("min", Arg::Number(min as i64)),
            ("max", Arg::Number(max as i64)),
        ],
    );
    let signed_in = texts.with(
        Message::PageSignedInAs,
        &[("username", Arg::Str(identity.username.clone()))],
    );
    let title = texts.get(Message::PageChangeTitle);
    let page = PasswordPage {
        frame: Frame {
            lang: texts.lang(),
            title: &title,
            bar: Some(Bar {
                signed_in: &signed_in,
                xsrf: &xsrf,
                log_out: &texts.get(Message::PageLogOut),
            }),
        },
        error: None,
        xsrf: &xsrf,
        username: UsernameField::Known(&identity.username),
        username_label: &texts.get(Message::PageUsername),
        current_label: &texts.get(Message::PageCurrentPassword),
        new_label: &texts.get(Message::PageNewPassword),
        policy: Some(PolicyHint {
            min,
            max,
            text: &policy_text,
        }),
        submit: &texts.get(Message::PageChangeButton),
    };
    let mut builder = HttpResponse::Ok();
    page_headers(&mut builder, &reply);
    builder.cookie(xsrf_cookie(&state, &xsrf));
    body(&mut builder, &page)
}

/// `POST /logout`: needs the XSRF token; ends the session, clears both cookies.
pub(crate) async fn logout(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    if state.upstream.is_some() {
        return see_other("/password");
    }
    let fields = form_fields(&body);
    let token = req
        .headers()
        .get("x-xsrf-token")
        .and_then(|v| v.to_str().ok())
        .or_else(|| field(&fields, "XSRF_TOKEN"));
    let Some(cookie) = credential::session_cookie(&req) else {
        return see_other("/login");
    };
    if !token.is_some_and(|t| state.accounts.verify_xsrf(cookie.value(), t)) {
        return error_page(&state, &error_reply(&req, &state), &ApiError::XsrfInvalid);
    }
    if let Err(e) = state.accounts.logout(cookie.value()).await {
        return error_page(&state, &error_reply(&req, &state), &ApiError::from(e));
    }
    let mut response = see_other("/login");
    let _ = response.add_cookie(&expired(&state, SESSION_COOKIE, true));
    let _ = response.add_cookie(&expired(&state, XSRF_COOKIE, false));
    response
}

/// Who is signed in on a result page: the user's name and the session's XSRF token.
pub(crate) struct SignedIn<'a> {
    pub(crate) username: &'a str,
    pub(crate) xsrf: &'a str,
}

/// The endpoint's answer to a browser that prefers HTML: 200 with the result, `X-Reason`
/// on a refusal (SPEC §6).
pub(crate) fn result_page(
    state: &AppState,
    reply: &Reply,
    outcome: &Outcome,
    signed_in: Option<SignedIn<'_>>,
) -> HttpResponse {
    let texts = Texts { state, reply };
    let (tone, message, link_text) = match outcome {
        Outcome::Changed { .. } => (
            Tone::Success,
            texts.get(Message::PasswordChanged),
            Message::PageBack,
        ),
        Outcome::Refused(refusal) => {
            let (id, args) = refusal_message(*refusal);
            (Tone::Refusal, texts.with(id, &args), Message::PageTryAgain)
        }
    };
    let mut builder = HttpResponse::Ok();
    page_headers(&mut builder, reply);
    builder.insert_header((header::VARY, agentgate_negotiation::VARY));
    if let Outcome::Refused(refusal) = outcome {
        builder.insert_header(("X-Reason", refusal.reason()));
    }
    let signed_in_text = signed_in.as_ref().map(|s| {
        texts.with(
            Message::PageSignedInAs,
            &[("username", Arg::Str(s.username.to_owned()))],
        )
    });
    let log_out = texts.get(Message::PageLogOut);
    let title = texts.get(Message::PageResultTitle);
    let page = ResultPage {
        frame: Frame {
            lang: texts.lang(),
            title: &title,
            bar: signed_in
                .as_ref()
                .zip(signed_in_text.as_deref())
                .map(|(s, text)| Bar {
                    signed_in: text,
                    xsrf: s.xsrf,
                    log_out: &log_out,
                }),
        },
        tone,
        message: &message,
        link: "/password",
        link_text: &texts.get(link_text),
        status: None,
    };
    body(&mut builder, &page)
}

/// The message of a refusal: its id and the limits it names.
pub(crate) fn refusal_message(refusal: Refusal) -> (Message, Vec<(&'static str, Arg)>) {
    use agentgate_accounts::PolicyViolation;
    match refusal {
        Refusal::OldPasswordMismatch => (Message::OldPasswordMismatch, vec![]),
        Refusal::Policy(PolicyViolation::TooShort { min }) => (
            Message::PasswordTooShort,
            vec![("min", Arg::Number(min as i64))],
        ),
        Refusal::Policy(PolicyViolation::TooLong { max }) => (
            Message::PasswordTooLong,
            vec![("max", Arg::Number(max as i64))],
        ),
        Refusal::Policy(PolicyViolation::TooWeak { .. }) => (Message::PasswordTooWeak, vec![]),
        Refusal::Policy(PolicyViolation::Unchanged) => (Message::PasswordUnchanged, vec![]),
        Refusal::Upstream => (Message::UpstreamRefused, vec![]),
    }
}

/// An error as a page, for browsers that prefer HTML: its status, the localized message,
/// a way on, and the status line as HTTP writes it.
pub(crate) fn error_page(state: &AppState, reply: &Reply, err: &ApiError) -> HttpResponse {
    let texts = Texts { state, reply };
    let (id, args) = err.message();
    let message = texts.with(id, &args);
    let status = err.status_code();
    // A stale token is not a lost session: /password hands out a fresh one, or sends a
    // browser without a session on to /login.
    let (link, link_text) = match err {
        ApiError::Unauthorized => ("/login", Message::PageLogIn),
        ApiError::XsrfInvalid => ("/password", Message::PageTryAgain),
        _ => ("/password", Message::PageBack),
    };
    let status_line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let title = texts.get(Message::PageResultTitle);
    let page = ResultPage {
        frame: Frame {
            lang: texts.lang(),
            title: &title,
            bar: None,
        },
        tone: Tone::Error,
        message: &message,
        link,
        link_text: &texts.get(link_text),
        status: Some(&status_line),
    };
    let mut builder = HttpResponse::build(status);
    page_headers(&mut builder, reply);
    builder.insert_header((header::VARY, agentgate_negotiation::VARY));
    crate::respond::error_headers(&mut builder, err);
    body(&mut builder, &page)
}

/// `GET /assets/agentgate.css`.
pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ))
        .body(STYLESHEET)
}
