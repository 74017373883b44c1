//! Several instances on one PostgreSQL.

use std::str::FromStr;

use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::store::{Migration, impl_store};
use crate::{Config, Error};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../../migrations/postgres/0001_initial.sql"),
}];

/// Serialises migrators of one schema; released with the transaction.
const MIGRATION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('agentgate-migrations:' || current_schema()))";

/// The [`Store`](crate::store::Store) on PostgreSQL.
///
/// Every connection is tested before use, so after the server has been away the pool
/// replaces dead connections by itself; while it is away, calls fail within the acquire
/// timeout with [`Error::Unavailable`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`, with any parameter libpq
    /// accepts there, such as `options=-c search_path=...`).
    ///
    /// Does not migrate; see [`Store::migrate`](crate::store::Store::migrate).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDatabaseUrl`] when the URL does not parse, [`Error::Unavailable`] when
    /// no connection opens within the acquire timeout.
    pub async fn connect(url: &str, config: &Config) -> Result<PgStore, Error> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::InvalidDatabaseUrl(format!("{}: {e}", redact(url))))?;
        PgStore::connect_with(options, config).await
    }

    /// Connects with options built by hand.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when no connection opens within the acquire timeout.
    pub async fn connect_with(
        options: PgConnectOptions,
        config: &Config,
    ) -> Result<PgStore, Error> {
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(PgStore { pool })
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl_store!(
    PgStore,
    sqlx::postgres::PgRow,
    sqlx::PgConnection,
    MIGRATIONS,
    Some(MIGRATION_LOCK)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_url_errors() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres:///db"), "postgres:///db");
    }
}
