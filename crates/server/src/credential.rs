//! Who is calling: the `Authorization` schemes and the browser session (SPEC §5), read from
//! the request, and the challenges of a 401.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;

/// The name of the browser session cookie.
pub(crate) const SESSION_COOKIE: &str = "agentgate_session";
/// The name of the cookie that carries the XSRF token for scripts and forms.
pub(crate) const XSRF_COOKIE: &str = "XSRF-TOKEN";
/// The header in which scripts send the XSRF token back.
pub(crate) static X_XSRF_TOKEN: HeaderName = HeaderName::from_static("x-xsrf-token");

/// What a request presents to prove who is calling (SPEC §5), read but not yet checked.
///
/// `Debug` shows the scheme and the user name only.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    /// `Authorization: Basic`: a user name and a password.
    Basic {
        /// The user-id, as sent.
        username: String,
        /// The password, as sent.
        password: String,
    },
    /// `Authorization: SOTicket 7T:…`, or SOAP `Credentials/Ticket`.
    Ticket(String),
    /// `Authorization: Bearer 8A:…`.
    Token(String),
    /// The browser session cookie (only without an `Authorization` header).
    Session(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
            Credential::Ticket(_) => f.write_str("Ticket"),
            Credential::Token(_) => f.write_str("Token"),
            Credential::Session(_) => f.write_str("Session"),
        }
    }
}

impl Credential {
    /// The credential a request presents: its `Authorization` header, else its session
    /// cookie. `None` when there is neither, or the header cannot be read (an unknown scheme,
    /// bad base64, no colon), or there are two `Authorization` headers, which SPEC §5 counts
    /// as bad credentials whichever comes first.
    pub(crate) fn from_request(req: &HttpRequest) -> Option<Credential> {
        let mut headers = req.headers().get_all(header::AUTHORIZATION);
        if let Some(value) = headers.next() {
            if headers.next().is_some() {
                return None;
            }
            return value.to_str().ok().and_then(parse_authorization);
        }
        session_cookie(req)
            .filter(|cookie| !cookie.value().is_empty())
            .map(|cookie| Credential::Session(cookie.value().to_owned()))
    }

    /// The same credential, borrowed, as the accounts check it.
    pub(crate) fn as_accounts(&self) -> agentgate_accounts::Credential<'_> {
        use agentgate_accounts::Credential as C;
        match self {
            Credential::Basic { username, password } => C::Basic { username, password },
            Credential::Ticket(ticket) => C::Ticket(ticket),
            Credential::Token(token) => C::Token(token),
            Credential::Session(cookie) => C::Session(cookie),
        }
    }
}

/// `Basic` (RFC 7617 §2, UTF-8), `SOTicket 7T:…`, `Bearer 8A:…`; scheme names compare
/// case-insensitively (RFC 9110 §11.1).
fn parse_authorization(value: &str) -> Option<Credential> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (username, password) = text.split_once(':')?;
        Some(Credential::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    } else if scheme.eq_ignore_ascii_case("soticket") {
        Some(Credential::Ticket(rest.to_owned()))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Credential::Token(rest.to_owned()))
    } else {
        None
    }
}

/// The browser session cookie, if the request carries one.
pub(crate) fn session_cookie(req: &HttpRequest) -> Option<actix_web::cookie::Cookie<'static>> {
    // Without a `Cookie` header, actix would still parse and store an empty cookie list.
    if !req.headers().contains_key(header::COOKIE) {
        return None;
    }
    req.cookie(SESSION_COOKIE)
}

/// Whether the request carries the browser session cookie.
pub(crate) fn has_session_cookie(req: &HttpRequest) -> bool {
    session_cookie(req).is_some()
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
            Credential::Basic { username, password } => Some((username, password)),
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
            matches!(parse_authorization("soticket 7T:abc"), Some(Credential::Ticket(t)) if t == "7T:abc")
        );
        assert!(
            matches!(parse_authorization("BEARER 8A:xyz"), Some(Credential::Token(t)) if t == "8A:xyz")
        );
    }
}
