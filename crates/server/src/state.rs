//! What every request shares: the accounts, the message catalogs and the settings.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;
use agentgate_accounts::Accounts;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::change::{Backend, Local};
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

impl Settings {
    /// The client's address as SPEC §8 derives it: the connection's peer. (Forwarded headers
    /// are believed only from `--trusted-proxies`.)
    pub(crate) fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        req.peer_addr().map(|a| a.ip())
    }

    /// The base URL clients reach the gateway at, without a trailing slash: `--public-url`,
    /// else the scheme of this listener and the request's `Host`. Forwarded headers are not
    /// believed from just anyone (SPEC §8): a client could make the WSDL point elsewhere.
    pub(crate) fn base_url(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_owned();
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

/// Shared by all workers through `web::Data`.
pub struct AppState {
    /// Users, credentials, throttle counts, the XSRF secret.
    pub accounts: Accounts,
    /// Where passwords are changed.
    pub(crate) backend: Box<dyn Backend>,
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
        let backend = Box::new(Local::new(
            accounts.clone(),
            settings.online,
            settings.enable_user_agent,
        ));
        AppState {
            accounts,
            backend,
            catalog: Catalog::load(),
            settings,
            metrics,
        }
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
            web::Data::new(AppState::new(accounts, settings, None)),
            ticket,
        )
    }
}
