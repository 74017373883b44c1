//! What every request shares: the accounts, the backend, the message catalogs and the
//! settings.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use agentgate_accounts::Accounts;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::change::{Backend, Local, Upstream};
use crate::cli::Cidr;
use crate::i18n::Catalog;
use crate::upstream;

/// Settings that shape how requests are answered (SPEC §8 `serve` options).
#[derive(Debug, Clone)]
pub struct Settings {
    /// 406 instead of the Web API 2 fallback when nothing in Accept fits.
    pub strict_accept: bool,
    /// Behave as SuperOffice Online: the User agent is off unless enabled.
    pub online: bool,
    /// Turn the User agent on in Online mode.
    pub enable_user_agent: bool,
    /// The largest request body in bytes.
    pub body_limit: usize,
    /// The language for callers that name none we have.
    pub default_language: &'static str,
    /// Mark cookies `Secure` (the server runs under TLS).
    pub secure_cookies: bool,
    /// The base URL the gateway is reached at behind a proxy (for the WSDL address).
    pub public_url: Option<String>,
    /// Peers whose `Forwarded` and `X-Forwarded-*` headers are believed (`--trusted-proxies`);
    /// empty: nobody's.
    pub trusted_proxies: Vec<Cidr>,
    /// The address `/metrics` is served on instead of the main one (`--metrics-bind`); the
    /// main address then answers 404 for it.
    pub metrics_bind: Option<String>,
    /// Upstream mode (SPEC §10): the NetServer the change is sent to; `None` keeps users here.
    pub upstream: Option<UpstreamSettings>,
}

/// Where and how upstream mode reaches NetServer (`--upstream`, `--upstream-timeout`,
/// `--upstream-connections`, `--upstream-ca`), checked at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    /// The WebAPI base URL, `http` or `https`, without a trailing slash, query or fragment:
    /// the call goes to `{url}/api/v1/Agents/User/ChangeOwnPassword`.
    pub url: String,
    /// No answer within this is 504 `GatewayTimeout`.
    pub timeout: Duration,
    /// The most calls in flight at once.
    pub connections: usize,
    /// A PEM file of extra trusted CA certificates (it holds at least one); `None`: the
    /// system's roots.
    pub ca: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            strict_accept: false,
            online: false,
            enable_user_agent: false,
            body_limit: 64 * 1024,
            default_language: "en",
            secure_cookies: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            metrics_bind: None,
            upstream: None,
        }
    }
}

impl Settings {
    /// Whether the connection's peer is one of `--trusted-proxies`, whose `Forwarded` and
    /// `X-Forwarded-*` headers are believed.
    fn peer_is_trusted(&self, req: &HttpRequest) -> bool {
        req.peer_addr()
            .is_some_and(|peer| self.trusted_proxies.iter().any(|n| n.contains(peer.ip())))
    }

    /// The client's address as SPEC §8 derives it: the connection's peer, unless that is a
    /// trusted proxy; then the last address in `X-Forwarded-For` that is not a trusted proxy
    /// (the proxies append, so anything left of it came from the client and proves nothing).
    pub(crate) fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|a| a.ip());
        if !self.peer_is_trusted(req) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all(&X_FORWARDED_FOR)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .iter()
            .rev()
            .find(|a| !self.trusted_proxies.iter().any(|n| n.contains(**a)))
            .or(forwarded.first())
            .copied()
            .or(peer)
    }

    /// `X-Forwarded-For` for a request sent on upstream (SPEC §10): the incoming one when the
    /// peer is a trusted proxy, with the peer's address appended, so a client cannot choose
    /// the address the upstream sees.
    pub(crate) fn forwarded_for(&self, req: &HttpRequest) -> Option<String> {
        let peer = req.peer_addr()?.ip();
        let incoming = self
            .peer_is_trusted(req)
            .then(|| {
                let list: Vec<&str> = req
                    .headers()
                    .get_all(&X_FORWARDED_FOR)
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                list.join(", ")
            })
            .filter(|list| !list.trim().is_empty());
        Some(match incoming {
            Some(list) => format!("{list}, {peer}"),
            None => peer.to_string(),
        })
    }

    /// The base URL clients reach the gateway at, without a trailing slash: `--public-url`;
    /// else, behind a trusted proxy, what its forwarded headers say; else the scheme of this
    /// listener and the request's `Host`. Forwarded headers are not believed from just
    /// anyone (SPEC §8): a client could make the WSDL point elsewhere.
    pub(crate) fn base_url(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        if self.peer_is_trusted(req) {
            let info = req.connection_info();
            return format!("{}://{}", info.scheme(), info.host());
        }
        let scheme = if self.secure_cookies { "https" } else { "http" };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .map_or_else(|| req.app_config().host().to_owned(), str::to_owned);
        format!("{scheme}://{host}")
    }
}

static X_FORWARDED_FOR: header::HeaderName = header::HeaderName::from_static("x-forwarded-for");

/// Shared by all workers through `web::Data`.
pub struct AppState {
    /// Users, credentials, throttle counts, the XSRF secret.
    pub accounts: Accounts,
    /// Where passwords are changed.
    pub(crate) backend: Box<dyn Backend>,
    /// Upstream mode's client (SPEC §10), for `/healthz` and the pages; `None` in local mode.
    pub(crate) upstream: Option<std::sync::Arc<upstream::Client>>,
    /// Messages in every language.
    pub(crate) catalog: Catalog,
    /// How to answer.
    pub settings: Settings,
    /// Renders `/metrics`; `None` when no recorder could be installed (tests).
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    /// Everything a worker needs, with the catalogs loaded once. With
    /// [`Settings::upstream`], passwords are changed upstream (SPEC §10): the client is
    /// built here, and its health probe starts on the current Tokio runtime (call this
    /// inside one, as `serve` does).
    ///
    /// # Errors
    ///
    /// Upstream mode only: the CA file of `--upstream-ca` cannot be read or holds a
    /// certificate rustls does not accept.
    pub fn new(
        accounts: Accounts,
        settings: Settings,
        metrics: Option<PrometheusHandle>,
    ) -> Result<Self, upstream::Error> {
        let (backend, upstream): (Box<dyn Backend>, _) = match &settings.upstream {
            None => (
                Box::new(Local::new(
                    accounts.clone(),
                    settings.online,
                    settings.enable_user_agent,
                )),
                None,
            ),
            Some(upstream) => {
                let client = std::sync::Arc::new(upstream::Client::new(upstream)?);
                client.start_health_probe();
                (
                    Box::new(Upstream::new(accounts.clone(), client.clone())),
                    Some(client),
                )
            }
        };
        Ok(AppState {
            accounts,
            backend,
            upstream,
            catalog: Catalog::load(),
            settings,
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn settings(trusted: &[&str]) -> Settings {
        Settings {
            trusted_proxies: trusted.iter().map(|c| c.parse().unwrap()).collect(),
            ..Settings::default()
        }
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for &(name, value) in headers {
            req = req.insert_header((name, value));
        }
        req.to_http_request()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let xff = [("X-Forwarded-For", "6.6.6.6, 203.0.113.7")];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let nobody = settings(&[]);
        assert_eq!(
            nobody.client_address(&request("10.0.0.1:5", &xff)),
            ip("10.0.0.1")
        );
        let proxy = settings(&["10.0.0.0/8"]);
        // The proxy appended the address it saw; what the client wrote before it is not it.
        assert_eq!(
            proxy.client_address(&request("10.0.0.1:5", &xff)),
            ip("203.0.113.7")
        );
        let chain = [("X-Forwarded-For", "203.0.113.7, 10.0.0.9")];
        assert_eq!(
            proxy.client_address(&request("10.0.0.1:5", &chain)),
            ip("203.0.113.7")
        );
        assert_eq!(
            proxy.client_address(&request("192.0.2.1:5", &xff)),
            ip("192.0.2.1")
        );
        assert_eq!(
            proxy.client_address(&request("10.0.0.1:5", &[])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_forwarded_chain_sent_on_ends_with_the_peer() {
        let xff = [("X-Forwarded-For", "203.0.113.7")];
        let nobody = settings(&[]);
        assert_eq!(
            nobody
                .forwarded_for(&request("192.0.2.1:5", &xff))
                .as_deref(),
            Some("192.0.2.1")
        );
        let proxy = settings(&["10.0.0.0/8"]);
        assert_eq!(
            proxy.forwarded_for(&request("10.0.0.1:5", &xff)).as_deref(),
            Some("203.0.113.7, 10.0.0.1")
        );
        assert_eq!(
            proxy.forwarded_for(&request("10.0.0.1:5", &[])).as_deref(),
            Some("10.0.0.1")
        );
    }

    #[test]
    fn the_base_url_follows_forwarded_headers_only_from_trusted_proxies() {
        let headers = [
            ("Host", "gw.example:8080"),
            ("X-Forwarded-Host", "evil.example"),
        ];
        assert_eq!(
            settings(&[]).base_url(&request("192.0.2.1:5", &headers)),
            "http://gw.example:8080"
        );
        assert_eq!(
            settings(&["192.0.2.0/24"]).base_url(&request("192.0.2.1:5", &headers)),
            "http://evil.example"
        );
    }
}

/// For the in-process tests: an app on an in-memory store with cheap hashing, the user
/// `tje0` (password [`testing::PASSWORD`]) and a ticket of that user.
#[cfg(test)]
pub(crate) mod testing {
    use actix_web::web;
    use agentgate_accounts::{Accounts, Config, HashParams};

    use super::{AppState, Settings};

    /// `tje0`'s password.
    pub(crate) const PASSWORD: &str = "sint-occaecat-42";

    pub(crate) async fn state(settings: Settings) -> (web::Data<AppState>, String) {
        let config = Config {
            hash: HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            ..Config::default()
        };
        let accounts = Accounts::open("sqlite::memory:", config).await.unwrap();
        accounts.add_user("tje0", PASSWORD).await.unwrap();
        let ticket = accounts.issue_ticket("tje0", None).await.unwrap();
        (
            web::Data::new(AppState::new(accounts, settings, None).unwrap()),
            ticket,
        )
    }
}
