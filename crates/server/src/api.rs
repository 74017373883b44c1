//! `/api/v1/Agents/User/ChangeOwnPassword`: the one endpoint (SPEC §1 to §5).

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use agentgate_accounts::{ChangeOutcome, Client, Credential, PolicyViolation};
use agentgate_codec::{self as codec, RequestType};
use agentgate_negotiation as negotiation;
use futures_util::StreamExt;
use serde_json::json;

use crate::auth::{self, Presented};
use crate::error::ApiError;
use crate::metrics::Outcome;
use crate::pages;
use crate::respond::{Media, Reply, request_media_types, response_media_types};
use crate::state::AppState;

/// The lower-case path of the endpoint, without a trailing slash.
pub(crate) const PATH: &str = "/api/v1/agents/user/changeownpassword";

/// Answers everything under the endpoint's path, whatever the method.
pub(crate) async fn endpoint(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    match *req.method() {
        Method::POST => change(&req, payload, &state).await,
        Method::GET | Method::HEAD => describe(&req, &state),
        _ => {
            let reply = negotiate_or_lenient(&req, &state, None);
            reply.error(
                &state,
                &ApiError::MethodNotAllowed {
                    method: req.method().to_string(),
                },
            )
        }
    }
}

/// Any other path under `/api/`: 404 with the error document.
pub(crate) fn not_found(req: &HttpRequest, state: &AppState) -> HttpResponse {
    negotiate_or_lenient(req, state, None).error(state, &ApiError::NotFound)
}

fn negotiate_or_lenient(
    req: &HttpRequest,
    state: &AppState,
    request_type: Option<RequestType>,
) -> Reply {
    Reply::negotiate(req, state, request_type).unwrap_or_else(|_| Reply::lenient(req, state))
}

/// `GET`: a small description of the call, without authentication (SPEC §1).
fn describe(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let reply = match Reply::negotiate(req, state, None) {
        Ok(reply) => reply,
        Err(e) => return Reply::lenient(req, state).error(state, &e),
    };
    if reply.success == Media::Html {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/password"))
            .insert_header((header::VARY, negotiation::VARY))
            .finish();
    }
    let description = json!({
        "Method": "POST",
        "Path": "/api/v1/Agents/User/ChangeOwnPassword",
        "RequestProperties": ["OldPassword", "NewPassword"],
        "RequestMediaTypes": request_media_types(),
        "ResponseMediaTypes": response_media_types(),
        "Response": "bool",
    });
    reply.value("ChangeOwnPasswordDescription", &description)
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

/// Reads the body up to the limit; over it, [`ApiError::PayloadTooLarge`].
async fn read_body(payload: &mut web::Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest {
            detail: "The request body could not be read.".to_owned(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `POST`: the change itself.
async fn change(req: &HttpRequest, mut payload: web::Payload, state: &AppState) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let request_type = negotiation::content_type(content_type, false, &RequestType::ALL)
        .ok()
        .flatten()
        .map(|ct| ct.media_type);
    let reply = match Reply::negotiate(req, state, request_type) {
        Ok(reply) => reply,
        Err(e) => return Reply::lenient(req, state).error(state, &e),
    };
    match change_inner(req, &mut payload, state, &reply, content_type).await {
        Ok(response) => response,
        Err(e) => {
            // A refusal before the body was read (401, 403) would leave it unread, and actix
            // then closes the connection: clients would pay a new handshake per refusal.
            // Reading what is left, within the limit, keeps the connection alive.
            if !matches!(e, ApiError::PayloadTooLarge { .. }) {
                drain(&mut payload, state.settings.body_limit).await;
            }
            let mut response = reply.error(state, &e);
            if matches!(e, ApiError::Unauthorized | ApiError::XsrfInvalid) {
                let basic = !auth::has_session_cookie(req) && reply.success != Media::Html;
                auth::add_challenges(&mut response, basic);
            }
            // The two 503s differ for operators: a full hashing queue is load, an
            // unreachable store is an incident.
            let outcome = match e {
                ApiError::StoreUnavailable => "StoreUnavailable",
                ApiError::Busy { .. } => "Busy",
                _ => e.error_type(),
            };
            response.extensions_mut().insert(Outcome(outcome));
            response
        }
    }
}

async fn change_inner(
    req: &HttpRequest,
    payload: &mut web::Payload,
    state: &AppState,
    reply: &Reply,
    content_type: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    if !select_is_valid(req.query_string()) {
        return Err(ApiError::InvalidSelect);
    }
    if state.settings.online && !state.settings.enable_user_agent {
        return Err(ApiError::OnlineForbidden);
    }
    if req.headers().contains_key(&crate::respond::SO_APPTOKEN) {
        return Err(ApiError::PartnerAppForbidden);
    }
    // The cheap refusal comes before the body is read: no credentials, no work.
    let presented = auth::presented(req);
    if matches!(presented, Presented::Nothing | Presented::Malformed) {
        return Err(ApiError::Unauthorized);
    }

    let limit = state.settings.body_limit;
    if declared_length(req).is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let body = read_body(payload, limit).await?;
    let declared = negotiation::content_type(content_type, body.is_empty(), &RequestType::ALL)
        .map_err(|e| match e {
            negotiation::Error::MissingContentType => ApiError::MissingContentType,
            negotiation::Error::UnsupportedCharset => ApiError::UnsupportedCharset,
            negotiation::Error::UnsupportedMediaType
            | negotiation::Error::NotAcceptable { .. }
            | negotiation::Error::NotAcceptableCharset => ApiError::UnsupportedMediaType,
        })?;
    let Some(declared) = declared else {
        return Err(ApiError::EmptyBody);
    };
    let limits = codec::Limits {
        max_bytes: limit,
        ..codec::Limits::default()
    };
    let request = codec::decode(declared.media_type, declared.charset, &body, &limits)
        .map_err(|e| decode_error(e, limit))?;

    let client = Client {
        address: req.peer_addr().map(|a| a.ip()),
    };
    let identity = match &presented {
        Presented::Authorization(credential) => {
            state
                .accounts
                .authenticate(credential.as_credential(), &client)
                .await?
        }
        Presented::Session(cookie) => {
            let token = req
                .headers()
                .get("x-xsrf-token")
                .and_then(|v| v.to_str().ok())
                .or(request.xsrf_token.as_deref());
            match token {
                Some(token) if state.accounts.verify_xsrf(cookie, token) => {}
                _ => return Err(ApiError::XsrfInvalid),
            }
            state
                .accounts
                .authenticate(Credential::Session(cookie), &client)
                .await?
        }
        Presented::Nothing | Presented::Malformed => return Err(ApiError::Unauthorized),
    };

    let outcome = state
        .accounts
        .change_password(
            &identity,
            &request.old_password,
            &request.new_password,
            &client,
        )
        .await?;
    let (reason, label): (Option<&'static str>, &'static str) = match &outcome {
        ChangeOutcome::Changed => (None, "changed"),
        ChangeOutcome::OldPasswordMismatch => {
            (Some("old-password-mismatch"), "old-password-mismatch")
        }
        ChangeOutcome::Refused(violation) => (Some(violation.reason()), violation.reason()),
        ChangeOutcome::Throttled { retry_after, until } => {
            return Err(ApiError::Throttled {
                retry_after: *retry_after,
                until: *until,
            });
        }
    };
    tracing::info!(user = %identity.username, outcome = label, "password change");
    let mut response = if reply.success == Media::Html {
        pages::result_page(state, reply, &outcome)
    } else {
        match reason {
            None => reply.boolean(true),
            Some(reason) => reply.refusal(reason),
        }
    };
    response.extensions_mut().insert(Outcome(label));
    Ok(response)
}

/// The message for a policy refusal: its id and the limits it names.
pub(crate) fn policy_message(
    violation: &PolicyViolation,
) -> (&'static str, Vec<(&'static str, crate::i18n::Arg)>) {
    use crate::i18n::Arg;
    match violation {
        PolicyViolation::TooShort { min } => (
            "SR_PASSWORD_TOO_SHORT",
            vec![("min", Arg::Number(*min as i64))],
        ),
        PolicyViolation::TooLong { max } => (
            "SR_PASSWORD_TOO_LONG",
            vec![("max", Arg::Number(*max as i64))],
        ),
        PolicyViolation::TooWeak { .. } => ("SR_PASSWORD_TOO_WEAK", vec![]),
        PolicyViolation::Unchanged => ("SR_PASSWORD_UNCHANGED", vec![]),
    }
}

fn decode_error(e: codec::Error, limit: usize) -> ApiError {
    match e {
        codec::Error::PatchTestFailed { .. } => ApiError::PatchTestFailed {
            detail: e.to_string(),
        },
        codec::Error::TooLarge { .. } => ApiError::PayloadTooLarge { limit },
        codec::Error::UnsupportedCharset => ApiError::UnsupportedCharset,
        codec::Error::Empty => ApiError::EmptyBody,
        codec::Error::Encoding { .. }
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
        | codec::Error::Patch { .. } => ApiError::BadRequest {
            detail: e.to_string(),
        },
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
