//! `/api/v1/Agents/User/ChangeOwnPassword`: the REST front door (SPEC §1 to §5).
//!
//! It translates: the request's headers and body into a [`Command`] for the one flow in
//! [`crate::change`], and the outcome into the negotiated format: `true` or `false` in one of
//! the API formats, an HTML page for a browser, or an error document.

use actix_web::http::header::HeaderName;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use agentgate_codec::RequestType;
use agentgate_negotiation as negotiation;
use futures_util::StreamExt as _;
use serde_json::json;

use crate::change::{
    self, Body, Command, Completed, Context, LocaleHeaders, Outcome, PendingBody, Xsrf,
};
use crate::credential::{self, Credential};
use crate::error::ApiError;
use crate::i18n::Message;
use crate::metrics::Outcome as Label;
use crate::pages;
use crate::respond::{Media, Reply, SO_APPTOKEN, SO_CULTURE, SO_LANGUAGE, SO_TIMEZONE, header_str};
use crate::state::AppState;

/// The endpoint's path as published, the spelling clients use (and a NetServer serves).
pub(crate) const PUBLISHED_PATH: &str = "/api/v1/Agents/User/ChangeOwnPassword";

/// Whether `path` is the endpoint's, as ASP.NET matches it: ASCII case ignored, one trailing
/// slash allowed. Without the lower-case copy other paths are matched on: every request of
/// the endpoint asks, twice (the route and its metrics label).
pub(crate) fn is_endpoint(path: &str) -> bool {
    path.strip_suffix('/')
        .unwrap_or(path)
        .eq_ignore_ascii_case(PUBLISHED_PATH)
}

/// Answers everything under the endpoint's path, whatever the method.
pub(crate) async fn endpoint(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let reply = match Reply::negotiate(&req, &state) {
        Ok(reply) => reply,
        Err(e) => return Reply::lenient(&req, &state).error(&state, &e),
    };
    match *req.method() {
        Method::POST => post(&req, payload, &state, &reply).await,
        Method::GET | Method::HEAD => describe(&reply),
        _ => reply.error(&state, &ApiError::MethodNotAllowed),
    }
}

/// Any other path under `/api/`: 404 with the error document.
pub(crate) fn not_found(req: &HttpRequest, state: &AppState) -> HttpResponse {
    Reply::negotiate(req, state)
        .unwrap_or_else(|_| Reply::lenient(req, state))
        .error(state, &ApiError::NotFound)
}

/// `GET`: a small description of the call, without authentication (SPEC §1); a browser that
/// prefers HTML goes to the form.
fn describe(reply: &Reply) -> HttpResponse {
    let media = match reply.success {
        Media::Api(media) => media,
        Media::Html => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/password"))
                .insert_header((header::VARY, negotiation::VARY))
                .finish();
        }
    };
    let request_types: Vec<&str> = RequestType::ALL.iter().map(|m| m.as_str()).collect();
    let response_types: Vec<&str> = agentgate_codec::ResponseType::SERVER_ORDER
        .iter()
        .map(|m| m.as_str())
        .collect();
    let description = json!({
        "Method": "POST",
        "Path": PUBLISHED_PATH,
        "RequestProperties": ["OldPassword", "NewPassword"],
        "RequestMediaTypes": request_types,
        "ResponseMediaTypes": response_types,
        "Response": "bool",
    });
    reply.value(media, "ChangeOwnPasswordDescription", &description)
}

/// `$select`: letters, digits, `_`, `.`, `/`, `,` and spaces (SPEC §1). It cannot narrow
/// a bool, so a valid one changes nothing.
fn select_is_valid(query: &str) -> bool {
    // Decoding is lossy (a bad escape becomes U+FFFD), which the character check refuses
    // like any other bad character.
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
    pairs.iter().all(|(key, value)| {
        !key.eq_ignore_ascii_case("$select")
            || value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | ',' | ' '))
    })
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    header_str(req, &header::CONTENT_LENGTH)?
        .trim()
        .parse()
        .ok()
}

/// What the backend may need to know about the request besides its credential. What only
/// upstream mode sends on is read only in upstream mode.
pub(crate) fn context(req: &HttpRequest, state: &AppState) -> Context {
    let upstream = state.upstream.is_some();
    let owned = |name: &HeaderName| {
        upstream
            .then(|| header_str(req, name))
            .flatten()
            .map(str::to_owned)
    };
    Context {
        address: state.settings.client_address(req),
        request_id: crate::metrics::request_id(req),
        app_token: header_str(req, &SO_APPTOKEN)
            .filter(|token| !token.trim().is_empty())
            .map(str::to_owned),
        forwarded_for: upstream
            .then(|| state.settings.forwarded_for(req))
            .flatten(),
        locale: LocaleHeaders {
            so_language: owned(&SO_LANGUAGE),
            accept_language: owned(&header::ACCEPT_LANGUAGE),
            so_culture: owned(&SO_CULTURE),
            so_time_zone: owned(&SO_TIMEZONE),
        },
        trace: crate::metrics::upstream_trace(req),
    }
}

/// `POST`: the change.
async fn post(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    reply: &Reply,
) -> HttpResponse {
    let limit = state.settings.body_limit;
    // Upstream mode's browser form carries the credential in its body (SPEC §10).
    let form = state.upstream.is_some() && is_upstream_form(req);
    let mut typed = String::new();
    let result = if !select_is_valid(req.query_string()) {
        Err(ApiError::InvalidSelect)
    } else if declared_length(req).is_some_and(|n| n > limit as u64) {
        // The body limit comes first (SPEC §4): a client that says it will send too much is
        // told so before anything else is looked at.
        Err(ApiError::PayloadTooLarge { limit })
    } else if form {
        match form_command(req, &mut payload, state).await {
            Ok((command, username)) => {
                typed = username;
                change::run(state, command).await
            }
            Err(e) => Err(e),
        }
    } else if let Some(credential) = Credential::from_request(req) {
        let xsrf = match &credential {
            Credential::Session(cookie) => Xsrf::Session {
                cookie: cookie.clone(),
                header: header_str(req, &credential::X_XSRF_TOKEN).map(str::to_owned),
            },
            _ => Xsrf::None,
        };
        let command = Command {
            credential: Some(credential),
            body: Body::Pending(PendingBody {
                payload: &mut payload,
                content_type: header_str(req, &header::CONTENT_TYPE).map(str::to_owned),
                limit,
            }),
            xsrf,
            context: context(req, state),
        };
        change::run(state, command).await
    } else {
        // Nothing presented: the pipeline's first refusal (`change::run` starts with it),
        // without the command it would drop unread: its context, the body's type and the
        // payload's borrow were some 500 instructions of a cheap refusal (issue 17).
        Err(ApiError::Unauthorized)
    };
    match result {
        Ok(done) => answer(req, state, reply, &done),
        // The upstream (or the form itself) named no user it knows with that password: the
        // form again, one message for both (SPEC §10).
        Err(ApiError::Unauthorized) if form && reply.success == Media::Html => {
            let page_reply = reply.clone().for_page();
            let mut response =
                pages::upstream_form(state, &page_reply, Some(Message::PageLoginFailed), &typed);
            response
                .extensions_mut()
                .insert(ApiError::Unauthorized.label());
            response
        }
        Err(e) => {
            // A refusal before the body was read (401, 403) would leave it unread, and actix
            // then closes the connection: clients would pay a new handshake per refusal.
            // Reading what is left, within the limit, keeps the connection alive.
            if !matches!(e, ApiError::PayloadTooLarge { .. }) {
                drain(&mut payload, limit).await;
            }
            refuse(req, state, reply, &e)
        }
    }
}

/// Whether a post is upstream mode's browser form: no `Authorization` header (a post with
/// one is an API call) and a form body.
fn is_upstream_form(req: &HttpRequest) -> bool {
    !req.headers().contains_key(header::AUTHORIZATION)
        && header_str(req, &header::CONTENT_TYPE).is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case(RequestType::FormUrlEncoded.as_str())
        })
}

/// Upstream mode's form, read before anything else (its credential is in it): the
/// passwords, and the user name with the old password as `Basic` (SPEC §10). Returns the
/// command and the user name typed, for the form shown again.
///
/// # Errors
///
/// 413, 415 and 400 for a body that cannot be read.
async fn form_command(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &AppState,
) -> Result<(Command<'static>, String), ApiError> {
    let limit = state.settings.body_limit;
    let body = change::read_body(payload, limit).await?;
    let declared = negotiation::content_type(
        header_str(req, &header::CONTENT_TYPE),
        body.is_empty(),
        &[RequestType::FormUrlEncoded],
    )?
    .ok_or(ApiError::EmptyBody)?;
    let limits = agentgate_codec::Limits {
        max_bytes: limit,
        ..agentgate_codec::Limits::default()
    };
    let request = agentgate_codec::decode(declared.media_type, declared.charset, &body, &limits)?;
    let username = pages::form_username(&body, declared.charset);
    let credential = username.clone().map(|username| Credential::Basic {
        username,
        password: request.old_password.clone(),
    });
    let command = Command {
        credential,
        body: Body::Read(Ok(request)),
        xsrf: Xsrf::Form {
            cookie: req
                .cookie(credential::XSRF_COOKIE)
                .map(|cookie| cookie.value().to_owned()),
            header: header_str(req, &credential::X_XSRF_TOKEN).map(str::to_owned),
        },
        context: context(req, state),
    };
    Ok((command, username.unwrap_or_default()))
}

/// An outcome in the negotiated form.
fn answer(req: &HttpRequest, state: &AppState, reply: &Reply, done: &Completed) -> HttpResponse {
    let outcome = &done.outcome;
    let mut response = match (reply.success, outcome) {
        // Upstream mode has no sessions, so no signed-in bar (SPEC §10).
        (Media::Html, _) if state.upstream.is_some() => {
            pages::result_page(state, reply, outcome, None)
        }
        (Media::Html, _) => {
            // The signed-in bar: the session's user, with the XSRF token of the session as it
            // is now (a change gives the session a new id, and so a new token).
            let xsrf = match (outcome, Credential::from_request(req)) {
                (
                    Outcome::Changed {
                        session: Some(session),
                    },
                    _,
                ) => Some(session.xsrf_token.clone()),
                (_, Some(Credential::Session(cookie))) => Some(state.accounts.xsrf_token(&cookie)),
                _ => None,
            };
            let signed_in = done
                .username
                .as_deref()
                .zip(xsrf.as_deref())
                .map(|(username, xsrf)| pages::SignedIn { username, xsrf });
            pages::result_page(state, reply, outcome, signed_in)
        }
        (Media::Api(media), Outcome::Changed { .. }) => reply.boolean(media, true),
        (Media::Api(media), Outcome::Refused(refusal)) => reply.refusal(media, refusal.reason()),
    };
    // The session that made the change lives on under a new id (SPEC §6): the page or the
    // script that asked gets the new cookies, whatever the format of the answer.
    if let Outcome::Changed {
        session: Some(session),
    } = outcome
    {
        let _ = response.add_cookie(&pages::session_cookie(state, &session.cookie));
        let _ = response.add_cookie(&pages::xsrf_cookie(state, &session.xsrf_token));
    }
    response.extensions_mut().insert(outcome.label());
    response
}

/// An error in the negotiated form, with the challenges of a 401.
pub(crate) fn refuse(
    req: &HttpRequest,
    state: &AppState,
    reply: &Reply,
    e: &ApiError,
) -> HttpResponse {
    let mut response = reply.error(state, e);
    if matches!(e, ApiError::Unauthorized | ApiError::XsrfInvalid) {
        let basic = !credential::has_session_cookie(req) && reply.success != Media::Html;
        credential::add_challenges(&mut response, basic);
    }
    response.extensions_mut().insert(e.label());
    response
}

/// Reads and drops what is left of the body, at most `limit` bytes.
async fn drain(payload: &mut web::Payload, limit: usize) {
    let mut seen = 0;
    while let Some(Ok(chunk)) = payload.next().await {
        seen += chunk.len();
        if seen > limit {
            break;
        }
    }
}

impl ApiError {
    /// The `outcome` label of metrics and the log. The two 503s differ for operators: a
    /// full hashing queue is load, an unreachable store is an incident.
    pub(crate) fn label(&self) -> Label {
        match self {
            ApiError::StoreUnavailable => Label("StoreUnavailable"),
            ApiError::Busy { .. } => Label("Busy"),
            e => Label(e.error_type()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_accepts_property_paths_and_refuses_other_characters() {
        for (query, ok) in [
            ("", true),
            ("$select=name,department,category/id", true),
            ("%24select=name%2Cdepartment", true),
            ("$select=a b.c_d", true),
            ("$select=name;drop", false),
            ("$select=<script>", false),
            ("$select=name%27", false),
            ("other=<>", true),
        ] {
            assert_eq!(select_is_valid(query), ok, "{query}");
        }
    }
}
