//! The embedded default: one SQLite file (or memory, for `agentgate demo`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::store::{Migration, impl_store};
use crate::{Config, Error};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
}];

/// The [`Store`](crate::store::Store) on SQLite.
///
/// A file is created with its schema on first use, in WAL mode with `synchronous=FULL`, so a
/// committed change survives a power cut. Writers queue on the database lock for up to the
/// busy timeout, then fail with [`Error::Unavailable`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`: `sqlite://path/to/file.db`,
    /// `sqlite:file.db` or `sqlite::memory:`. An in-memory database lives in one connection
    /// that is never closed, so it lasts as long as the store.
    ///
    /// Does not migrate; see [`Store::migrate`](crate::store::Store::migrate).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDatabaseUrl`] when the URL does not parse, [`Error::Unavailable`] when
    /// the file cannot be opened.
    pub async fn connect(url: &str, config: &Config) -> Result<SqliteStore, Error> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::InvalidDatabaseUrl(format!("{url}: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(config.acquire_timeout.max(Duration::from_secs(1)));
        let in_memory = is_in_memory(url);
        let options = if in_memory {
            options
        } else {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        };
        let pool_options = SqlitePoolOptions::new().acquire_timeout(config.acquire_timeout);
        let pool_options = if in_memory {
            pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            pool_options.max_connections(config.max_connections.clamp(1, 5))
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(SqliteStore { pool })
    }
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl_store!(
    SqliteStore,
    sqlx::sqlite::SqliteRow,
    sqlx::SqliteConnection,
    MIGRATIONS,
    None
);
