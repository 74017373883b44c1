//! The browser pages (SPEC §6): sign in, change the password, the result, sign out. Plain
//! HTML forms that work without JavaScript, served with strict security headers.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use agentgate_accounts::{ChangeOutcome, Credential};
use subtle::ConstantTimeEq;

use crate::auth::{SESSION_COOKIE, XSRF_COOKIE};
use crate::error::ApiError;
use crate::i18n::Arg;
use crate::respond::Reply;
use crate::state::AppState;

// `connect-src 'self'` lets the page's own scripts (and a SPA on this origin) call the
// endpoint with fetch() and the X-XSRF-TOKEN header; nothing else is allowed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The stylesheet, served from `/assets/agentgate.css` so the CSP needs no inline styles.
pub(crate) const STYLESHEET: &str = include_str!("../assets/agentgate.css");

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page_headers(builder: &mut HttpResponseBuilder, reply: &Reply) {
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    if let Some(lang) = reply.language.content_language() {
        builder.insert_header((header::CONTENT_LANGUAGE, lang));
    }
}

fn t(state: &AppState, reply: &Reply, id: &str) -> String {
    escape(&reply.message(state, id, &[]))
}

/// The whole document around a page's main content.
fn layout(reply: &Reply, title: &str, main: &str) -> String {
    let lang = reply.language.content_language().unwrap_or("en");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · agentgate</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/agentgate.css\">\n</head>\n<body>\n\
         <div class=\"page\">\n<p class=\"brand\">agentgate</p>\n\
         <main class=\"card\">\n{main}\n</main>\n</div>\n</body>\n</html>\n"
    )
}

fn xsrf_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    Cookie::build(XSRF_COOKIE, value.to_owned())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .http_only(false)
        .finish()
}

fn session_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value.to_owned())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .http_only(true)
        .finish()
}

fn expired(name: &'static str, state: &AppState, http_only: bool) -> Cookie<'static> {
    Cookie::build(name, "")
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .http_only(http_only)
        .max_age(CookieDuration::ZERO)
        .finish()
}

fn login_form(
    state: &AppState,
    reply: &Reply,
    token: &str,
    error: Option<&str>,
    username: &str,
) -> String {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"message error\" role=\"alert\">{}</p>\n",
                escape(e)
            )
        })
        .unwrap_or_default();
    layout(
        reply,
        &t(state, reply, "SR_PAGE_LOGIN_TITLE"),
        &format!(
            "<h1>{title}</h1>\n{error}<form method=\"post\" action=\"/login\">\n\
             <input type=\"hidden\" name=\"XSRF_TOKEN\" value=\"{token}\">\n\
             <label for=\"username\">{user}</label>\n\
             <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" \
             autocapitalize=\"none\" spellcheck=\"false\" required value=\"{username}\">\n\
             <label for=\"password\">{pass}</label>\n\
             <input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required>\n\
             <button type=\"submit\">{submit}</button>\n</form>",
            title = t(state, reply, "SR_PAGE_LOGIN_TITLE"),
            token = escape(token),
            user = t(state, reply, "SR_PAGE_USERNAME"),
            pass = t(state, reply, "SR_PAGE_PASSWORD"),
            submit = t(state, reply, "SR_PAGE_LOG_IN"),
            username = escape(username),
        ),
    )
}

/// `GET /login`: the sign-in form with a fresh login XSRF token in cookie and form. A
/// browser that is signed in already goes on to the change form instead: the login token
/// would displace its session's token from the `XSRF-TOKEN` cookie, which scripts read for
/// `X-XSRF-TOKEN`.
pub(crate) async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let client = req.peer_addr().map(|a| a.ip());
        let session = Credential::Session(cookie.value());
        if state.accounts.authenticate(session, client).await.is_ok() {
            return see_other("/password");
        }
    }
    let reply = Reply::lenient(&req, &state).for_page();
    let token = state.accounts.login_xsrf_token();
    let mut builder = HttpResponse::Ok();
    page_headers(&mut builder, &reply);
    builder.cookie(xsrf_cookie(&state, &token));
    builder.body(login_form(&state, &reply, &token, None, ""))
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
    let reply = Reply::lenient(&req, &state).for_page();
    let fields = form_fields(&body);
    let username = field(&fields, "username").unwrap_or("");
    let password = field(&fields, "password").unwrap_or("");
    let form_token = field(&fields, "XSRF_TOKEN").unwrap_or("");
    let cookie_token = req
        .cookie(XSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let fresh = state.accounts.login_xsrf_token();

    let token_ok = !form_token.is_empty()
        && same_token(form_token, &cookie_token)
        && state.accounts.verify_login_xsrf(form_token);
    if !token_ok {
        let message = reply.message(&state, "SR_XSRF_INVALID", &[]);
        let mut builder = HttpResponse::Forbidden();
        page_headers(&mut builder, &reply);
        builder.cookie(xsrf_cookie(&state, &fresh));
        return builder.body(login_form(&state, &reply, &fresh, Some(&message), username));
    }

    let client = req.peer_addr().map(|a| a.ip());
    match state.accounts.login(username, password, client).await {
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
            let message = match ApiError::from(e) {
                ApiError::Unauthorized => reply.message(&state, "SR_PAGE_LOGIN_FAILED", &[]),
                other => {
                    let (id, args) = other.message();
                    reply.message(&state, id, &args)
                }
            };
            let mut builder = HttpResponse::Ok();
            page_headers(&mut builder, &reply);
            builder.cookie(xsrf_cookie(&state, &fresh));
            builder.body(login_form(&state, &reply, &fresh, Some(&message), username))
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
    let mut reply = Reply::lenient(req, state).for_page();
    reply.error = crate::respond::Media::Html;
    reply
}

fn redirect_to_login() -> HttpResponse {
    see_other("/login")
}

/// The change form; the hidden token holds the same value as the `XSRF-TOKEN` cookie.
fn change_form(state: &AppState, reply: &Reply, username: &str, xsrf: &str) -> String {
    let policy = reply.message(
        state,
        "SR_PAGE_POLICY",
        &[
            (
                "min",
                Arg::Number(state.accounts.policy().min_length as i64),
            ),
            (
                "max",
                Arg::Number(state.accounts.policy().max_length as i64),
            ),
        ],
    );
    let signed_in = reply.message(
        state,
        "SR_PAGE_SIGNED_IN_AS",
        &[("username", Arg::Str(username.to_owned()))],
    );
    layout(
        reply,
        &t(state, reply, "SR_PAGE_CHANGE_TITLE"),
        &format!(
            "<header class=\"bar\"><span class=\"who\">{signed_in}</span>\n\
             <form method=\"post\" action=\"/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"XSRF_TOKEN\" value=\"{xsrf}\">\
             <button type=\"submit\" class=\"secondary\">{logout}</button></form></header>\n\
             <h1>{title}</h1>\n\
             <form method=\"post\" action=\"/api/v1/Agents/User/ChangeOwnPassword\">\n\
             <input type=\"hidden\" name=\"XSRF_TOKEN\" value=\"{xsrf}\">\n\
             <input type=\"text\" name=\"username\" autocomplete=\"username\" value=\"{user}\" \
             hidden readonly>\n\
             <label for=\"OldPassword\">{current}</label>\n\
             <input id=\"OldPassword\" name=\"OldPassword\" type=\"password\" \
             autocomplete=\"current-password\" required>\n\
             <label for=\"NewPassword\">{new}</label>\n\
             <input id=\"NewPassword\" name=\"NewPassword\" type=\"password\" \
             autocomplete=\"new-password\" minlength=\"{min}\" maxlength=\"{max}\" \
             aria-describedby=\"policy\" required>\n\
             <p id=\"policy\" class=\"hint\">{policy}</p>\n\
             <button type=\"submit\">{submit}</button>\n</form>",
            signed_in = escape(&signed_in),
            xsrf = escape(xsrf),
            logout = t(state, reply, "SR_PAGE_LOG_OUT"),
            title = t(state, reply, "SR_PAGE_CHANGE_TITLE"),
            user = escape(username),
            current = t(state, reply, "SR_PAGE_CURRENT_PASSWORD"),
            new = t(state, reply, "SR_PAGE_NEW_PASSWORD"),
            min = state.accounts.policy().min_length,
            max = state.accounts.policy().max_length,
            policy = escape(&policy),
            submit = t(state, reply, "SR_PAGE_CHANGE_BUTTON"),
        ),
    )
}

/// `GET /password`: the change form, or a redirect to `/login` without a session.
pub(crate) async fn password_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return redirect_to_login();
    };
    let client = req.peer_addr().map(|a| a.ip());
    let identity = match state
        .accounts
        .authenticate(Credential::Session(cookie.value()), client)
        .await
    {
        Ok(identity) => identity,
        Err(agentgate_accounts::Error::Unauthorized) => return redirect_to_login(),
        Err(e) => {
            return error_reply(&req, &state).error(&state, &ApiError::from(e));
        }
    };
    let reply = Reply::lenient(&req, &state).for_page();
    let xsrf = state.accounts.xsrf_token(cookie.value());
    let mut builder = HttpResponse::Ok();
    page_headers(&mut builder, &reply);
    builder.cookie(xsrf_cookie(&state, &xsrf));
    builder.body(change_form(&state, &reply, &identity.username, &xsrf))
}

/// `POST /logout`: needs the XSRF token; ends the session, clears both cookies.
pub(crate) async fn logout(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let fields = form_fields(&body);
    let token = req
        .headers()
        .get("x-xsrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| field(&fields, "XSRF_TOKEN").map(str::to_owned));
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return redirect_to_login();
    };
    let valid = token.is_some_and(|t| state.accounts.verify_xsrf(cookie.value(), &t));
    if !valid {
        return error_reply(&req, &state).error(&state, &ApiError::XsrfInvalid);
    }
    if let Err(e) = state.accounts.logout(cookie.value()).await {
        return error_reply(&req, &state).error(&state, &ApiError::from(e));
    }
    let mut response = redirect_to_login();
    let _ = response.add_cookie(&expired(SESSION_COOKIE, &state, true));
    let _ = response.add_cookie(&expired(XSRF_COOKIE, &state, false));
    response
}

/// The endpoint's answer to a browser that prefers HTML: 200 with the result, `X-Reason`
/// on a refusal (SPEC §6).
pub(crate) fn result_page(
    state: &AppState,
    reply: &Reply,
    outcome: &ChangeOutcome,
) -> HttpResponse {
    let (ok, message, reason) = match outcome {
        ChangeOutcome::Changed => (true, reply.message(state, "SR_PASSWORD_CHANGED", &[]), None),
        ChangeOutcome::OldPasswordMismatch => (
            false,
            reply.message(state, "SR_OLD_PASSWORD_MISMATCH", &[]),
            Some("old-password-mismatch"),
        ),
        ChangeOutcome::Refused(v) => {
            let (id, args) = crate::api::policy_message(v);
            (false, reply.message(state, id, &args), Some(v.reason()))
        }
        ChangeOutcome::Throttled { .. } => (false, String::new(), None),
    };
    let mut builder = HttpResponse::Ok();
    page_headers(&mut builder, reply);
    builder.insert_header((header::VARY, agentgate_negotiation::VARY));
    if let Some(reason) = reason {
        builder.insert_header(("X-Reason", reason));
    }
    let (class, link, link_text) = if ok {
        ("success", "/password", t(state, reply, "SR_PAGE_BACK"))
    } else {
        ("error", "/password", t(state, reply, "SR_PAGE_TRY_AGAIN"))
    };
    let title = t(state, reply, "SR_PAGE_RESULT_TITLE");
    builder.body(layout(
        reply,
        &title,
        &format!(
            "<h1>{title}</h1>\n<p class=\"message {class}\" role=\"status\">{}</p>\n\
             <p class=\"actions\"><a class=\"button\" href=\"{link}\">{link_text}</a></p>",
            escape(&message)
        ),
    ))
}

/// An error as a page, for browsers that prefer HTML.
pub(crate) fn error_page(
    mut builder: HttpResponseBuilder,
    state: &AppState,
    reply: &Reply,
    message: &str,
    err: &ApiError,
) -> HttpResponse {
    page_headers(&mut builder, reply);
    let status: StatusCode = err.status_code();
    // A stale token is not a lost session: /password hands out a fresh one, or sends a
    // browser without a session on to /login.
    let (link, text) = match err {
        ApiError::Unauthorized => ("/login", t(state, reply, "SR_PAGE_LOG_IN")),
        ApiError::XsrfInvalid => ("/password", t(state, reply, "SR_PAGE_TRY_AGAIN")),
        _ => ("/password", t(state, reply, "SR_PAGE_BACK")),
    };
    // The heading in the page's language; the status line as HTTP writes it.
    let title = t(state, reply, "SR_PAGE_RESULT_TITLE");
    let status_line = escape(&format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    ));
    let mut response = builder.body(layout(
        reply,
        &title,
        &format!(
            "<h1>{title}</h1>\n<p class=\"message error\" role=\"alert\">{}</p>\n\
             <p class=\"actions\"><a class=\"button\" href=\"{link}\">{text}</a></p>\n\
             <p class=\"status\">{status_line}</p>",
            escape(message)
        ),
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// `GET /assets/agentgate.css`.
pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(STYLESHEET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_element_and_attribute_contexts() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
