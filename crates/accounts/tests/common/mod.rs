//! What the accounts suites share: a fresh database per test on each backend, and fixtures.
//! Each suite uses part of it.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentgate_accounts::{Accounts, Config, Credential, Error, HashParams, Identity, ManualClock};
use sha2::{Digest, Sha256};
use sqlx::{Connection as _, PgConnection, SqliteConnection};

// ---------------------------------------------------------------------------------------------
// Harness

/// A fresh database for one test.
pub enum Db {
    Sqlite { dir: PathBuf },
    Postgres { base: String, schema: String },
}

impl Db {
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite { dir } => format!("sqlite://{}", dir.join("accounts.db").display()),
            Db::Postgres { base, schema } => {
                let separator = if base.contains('?') { '&' } else { '?' };
                format!("{base}{separator}options=-c%20search_path%3D{schema}")
            }
        }
    }

    pub async fn open(&self, config: Config) -> Accounts {
        Accounts::open(&self.url(), config).await.unwrap()
    }

    /// The first column of every row, as text.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite { .. } => {
                let mut conn = SqliteConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
            Db::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }

    /// The first column of every row, as bytes.
    pub async fn blobs(&self, sql: &str) -> Vec<Vec<u8>> {
        match self {
            Db::Sqlite { .. } => {
                let mut conn = SqliteConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
            Db::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }

    pub async fn execute(&self, sql: &str, first: &str, second: &str) {
        match self {
            Db::Sqlite { .. } => {
                let mut conn = SqliteConnection::connect(&self.url()).await.unwrap();
                sqlx::query(sql)
                    .bind(first)
                    .bind(second)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            Db::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                sqlx::query(sql)
                    .bind(first)
                    .bind(second)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
    }

    /// Every byte the SQLite database has on disk (file, WAL); `None` on PostgreSQL.
    pub fn file_bytes(&self) -> Option<Vec<u8>> {
        let Db::Sqlite { dir } = self else {
            return None;
        };
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        Some(bytes)
    }
}

pub fn unique_name() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<Db>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(format!("agentgate-accounts-{}", unique_name()));
    std::fs::create_dir_all(&dir).unwrap();
    let outcome = tokio::spawn(test(Arc::new(Db::Sqlite { dir: dir.clone() }))).await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

pub async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<Db>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(base) = postgres_base() else {
        return;
    };
    let schema = format!("t_{}", unique_name());
    let mut admin = PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let outcome = tokio::spawn(test(Arc::new(Db::Postgres {
        base,
        schema: schema.clone(),
    })))
    .await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// Runs each named `async fn(Arc<Db>)` once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_sqlite(super::$test).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run_postgres(super::$test).await;
            }
        }
    )*};
}

// ---------------------------------------------------------------------------------------------
// Fixtures

pub const CHEAP: HashParams = HashParams {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};
pub const PASSWORD: &str = "correct horse battery staple";
pub const NEW_PASSWORD: &str = "Tr0ub4dor&3 purple kettle";
/// More than 128 ASCII characters, none of them repeating a pattern zxcvbn would discount.
pub const LONG: &str = "The quick brown fox jumps over the lazy dog while 37 purple elephants \
                    dance on Tuesday nights near the old lighthouse at Bergen harbour, humming!";

pub fn cheap() -> Config {
    Config {
        hash: CHEAP,
        hashing_threads: 2,
        ..Config::default()
    }
}

pub fn from(address: &str) -> Option<IpAddr> {
    Some(address.parse().unwrap())
}

pub fn basic<'a>(username: &'a str, password: &'a str) -> Credential<'a> {
    Credential::Basic { username, password }
}

pub async fn with_alice(db: &Db, config: Config) -> Accounts {
    let accounts = db.open(config).await;
    accounts.add_user("Alice", PASSWORD).await.unwrap();
    accounts
}

pub async fn password_works(accounts: &Accounts, username: &str, password: &str) -> bool {
    match accounts.authenticate(basic(username, password), None).await {
        Ok(_) => true,
        Err(Error::Unauthorized) => false,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

pub async fn ticket_identity(accounts: &Accounts, username: &str) -> Identity {
    let ticket = accounts.issue_ticket(username, None).await.unwrap();
    accounts
        .authenticate(Credential::Ticket(&ticket), None)
        .await
        .unwrap()
}

pub fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The PostgreSQL server to test on, from `AGENTGATE_TEST_POSTGRES`. Without one, a test that
/// needs it fails under CI (`CI=true`), so CI cannot go green with it skipped; elsewhere it
/// says on stderr that it skipped and why.
pub fn postgres_base() -> Option<String> {
    match std::env::var("AGENTGATE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci() => panic!(
            "AGENTGATE_TEST_POSTGRES is not set, and under CI a test that needs PostgreSQL \
             must run (e.g. AGENTGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            eprintln!(
                "skipped the PostgreSQL half: AGENTGATE_TEST_POSTGRES is not set \
                 (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// Whether this runs under CI: `CI` set to anything but empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// A clock that moves only when told, standing at a whole millisecond of today (the store
/// keeps milliseconds, so waits come back exact).
pub fn manual_clock() -> ManualClock {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    ManualClock::new(UNIX_EPOCH + Duration::from_millis(now.as_millis() as u64))
}

impl Db {
    /// Opens the accounts on this database with `clock`.
    pub async fn open_at(&self, config: Config, clock: &ManualClock) -> Accounts {
        Accounts::open_with_clock(&self.url(), config, Arc::new(clock.clone()))
            .await
            .unwrap()
    }

    /// Runs a script of several statements.
    pub async fn script(&self, sql: &str) {
        match self {
            Db::Sqlite { .. } => {
                let options: sqlx::sqlite::SqliteConnectOptions = self.url().parse().unwrap();
                let mut conn = SqliteConnection::connect_with(&options.create_if_missing(true))
                    .await
                    .unwrap();
                // `Executor::execute`: `RawSql::execute`'s future is not `Send` for every lifetime.
                sqlx::Executor::execute(&mut conn, sqlx::raw_sql(sql))
                    .await
                    .unwrap();
            }
            Db::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                // `Executor::execute`: `RawSql::execute`'s future is not `Send` for every lifetime.
                sqlx::Executor::execute(&mut conn, sqlx::raw_sql(sql))
                    .await
                    .unwrap();
            }
        }
    }

    /// The first column of the first row, as a number.
    pub async fn number(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite { .. } => {
                let mut conn = SqliteConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
            }
            Db::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
            }
        }
    }

    /// Whether this is the SQLite half.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite { .. })
    }
}

/// Alice, on a database opened at `clock`.
pub async fn with_alice_at(db: &Db, config: Config, clock: &ManualClock) -> Accounts {
    let accounts = db.open_at(config, clock).await;
    accounts.add_user("Alice", PASSWORD).await.unwrap();
    accounts
}
