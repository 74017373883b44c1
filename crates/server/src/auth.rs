//! Who is calling: the `Authorization` schemes and the browser session (SPEC §5).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use agentgate_accounts::Credential;
use base64::Engine as _;

/// The name of the browser session cookie.
pub(crate) const SESSION_COOKIE: &str = "agentgate_session";
/// The name of the cookie that carries the XSRF token for scripts and forms.
pub(crate) const XSRF_COOKIE: &str = "XSRF-TOKEN";

/// Credentials as presented in the request, before they are checked.
pub(crate) enum Presented {
    /// Neither an `Authorization` header nor a session cookie.
    Nothing,
    /// An `Authorization` header we cannot read (unknown scheme, bad base64, no colon).
    Malformed,
    /// A readable `Authorization` header.
    Authorization(Owned),
    /// The browser session cookie; the XSRF token is checked separately.
    Session(String),
}

/// An owned copy of what `Authorization` carried.
pub(crate) enum Owned {
    Basic { username: String, password: String },
    Ticket(String),
    Token(String),
}

impl Owned {
    pub(crate) fn as_credential(&self) -> Credential<'_> {
        match self {
            Owned::Basic { username, password } => Credential::Basic { username, password },
            Owned::Ticket(t) => Credential::Ticket(t),
            Owned::Token(t) => Credential::Token(t),
        }
    }
}

/// Reads the credentials a request presents. An `Authorization` header wins over a cookie,
/// as SPEC §5 has the cookie only "with no `Authorization` header".
pub(crate) fn presented(req: &HttpRequest) -> Presented {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        return value
            .to_str()
            .ok()
            .and_then(parse_authorization)
            .map_or(Presented::Malformed, Presented::Authorization);
    }
    match req.cookie(SESSION_COOKIE) {
        Some(cookie) if !cookie.value().is_empty() => Presented::Session(cookie.value().to_owned()),
        _ => Presented::Nothing,
    }
}

/// `Basic` (RFC 7617 §2, UTF-8), `SOTicket 7T:…`, `Bearer 8A:…`; scheme names compare
/// case-insensitively (RFC 9110 §11.1).
fn parse_authorization(value: &str) -> Option<Owned> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (username, password) = text.split_once(':')?;
        Some(Owned::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    } else if scheme.eq_ignore_ascii_case("soticket") {
        Some(Owned::Ticket(rest.to_owned()))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Owned::Token(rest.to_owned()))
    } else {
        None
    }
}

/// Whether the request carries the browser session cookie.
pub(crate) fn has_session_cookie(req: &HttpRequest) -> bool {
    req.cookie(SESSION_COOKIE).is_some()
}

/// `WWW-Authenticate` for a 401 (RFC 9110 §11.6.1): one challenge per scheme. The Basic
/// one is left out for browsers so they open no login dialog.
pub(crate) fn add_challenges(response: &mut HttpResponse, basic: bool) {
    let headers = response.headers_mut();
    if basic {
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="agentgate", charset="UTF-8""#),
        );
    }
    headers.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("SOTicket"),
    );
    headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(value: &str) -> Option<(String, String)> {
        match parse_authorization(value)? {
            Owned::Basic { username, password } => Some((username, password)),
            _ => None,
        }
    }

    #[test]
    fn basic_is_decoded_as_utf8_and_split_at_the_first_colon() {
        // The sample request of the published page: tje0:Tje0.
        assert_eq!(
            basic("Basic dGplMDpUamUw"),
            Some(("tje0".into(), "Tje0".into()))
        );
        assert_eq!(
            basic("bAsIc dGplMDpUamUw"),
            Some(("tje0".into(), "Tje0".into()))
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode("jörg:pa:ss wörd");
        assert_eq!(
            basic(&format!("Basic {encoded}")),
            Some(("jörg".into(), "pa:ss wörd".into()))
        );
    }

    #[test]
    fn unreadable_authorization_is_refused() {
        for value in ["Basic !!!", "Basic dGplMA==", "Digest abc", "Basic", ""] {
            assert!(parse_authorization(value).is_none(), "{value}");
        }
        let latin1 = base64::engine::general_purpose::STANDARD.encode([b'a', b':', 0xe9]);
        assert!(parse_authorization(&format!("Basic {latin1}")).is_none());
    }

    #[test]
    fn ticket_and_token_schemes_are_case_insensitive() {
        assert!(
            matches!(parse_authorization("soticket 7T:abc"), Some(Owned::Ticket(t)) if t == "7T:abc")
        );
        assert!(
            matches!(parse_authorization("BEARER 8A:xyz"), Some(Owned::Token(t)) if t == "8A:xyz")
        );
    }
}
