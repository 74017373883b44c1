//! What every request shares: the accounts, the message catalogs and the settings.

use std::path::PathBuf;
use std::time::Duration;

use agentgate_accounts::Accounts;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::cli::Cidr;
use crate::i18n::Catalog;

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

/// Shared by all workers through `web::Data`.
pub struct AppState {
    /// Users, credentials, the change itself.
    pub accounts: Accounts,
    /// Messages in every language.
    pub(crate) catalog: Catalog,
    /// How to answer.
    pub settings: Settings,
    /// Renders `/metrics`; `None` when no recorder could be installed (tests).
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    /// Everything a worker needs, with the catalogs loaded once.
    pub fn new(accounts: Accounts, settings: Settings, metrics: Option<PrometheusHandle>) -> Self {
        AppState {
            accounts,
            catalog: Catalog::load(),
            settings,
            metrics,
        }
    }
}
