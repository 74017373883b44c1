//! What every request shares: the accounts, the message catalogs and the settings.

use agentgate_accounts::Accounts;
use metrics_exporter_prometheus::PrometheusHandle;

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
