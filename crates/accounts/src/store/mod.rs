//! Where accounts live: the [`Store`] trait and its SQLite and PostgreSQL implementations.
//!
//! Everything that matters (users, hashes, credential digests, throttle counters, audit
//! events, the server secret) is in the store, so several instances on one PostgreSQL answer
//! alike. The policy decisions are made by [`Accounts`](crate::Accounts); a store only keeps
//! data and the atomicity each method promises.

use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Error, ThrottleConfig, UserSummary};

mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A persistent home for accounts.
///
/// Every method is one round of work against the store, and each documents what it does
/// atomically. Errors mean the same everywhere:
///
/// * [`Error::Unavailable`]: the store could not be reached in time (no connection from the
///   pool within the acquire timeout, a refused or broken connection). Nothing was changed,
///   or, for a transaction that failed on commit, nothing that can be observed.
/// * [`Error::Store`]: the store answered with some other error.
///
/// Times are stored with millisecond precision. Methods that take `now` use it as given
/// rather than reading a clock, so callers decide what time it is.
///
/// Credentials are passed as their SHA-256 digests; a store never sees a secret in clear,
/// and must never log what it is given.
pub trait Store: Send + Sync + 'static {
    /// Brings the schema up to date: applies, in order, each migration not yet recorded in
    /// `schema_migrations`, each in its own transaction together with its record. Safe to run
    /// from several instances at once and again on every start.
    ///
    /// # Errors
    ///
    /// As described on the trait; a failed migration leaves the previous ones applied.
    fn migrate(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// A cheap round trip, proving the store is reachable.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn ping(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// The server secret: stores `candidate` if there is none yet, then returns the stored
    /// one. Instances racing here all end up with the same secret.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn server_secret(
        &self,
        candidate: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;

    /// Adds a user and returns its id. Ids are never reused.
    ///
    /// # Errors
    ///
    /// [`Error::UserExists`] when `user.username_key` is taken; otherwise as on the trait.
    fn insert_user(&self, user: &NewUser<'_>) -> impl Future<Output = Result<i64, Error>> + Send;

    /// The user whose key (lowercase name) is `username_key`.
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown user is `Ok(None)`.
    fn user_by_key(
        &self,
        username_key: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, Error>> + Send;

    /// The user with this id.
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown user is `Ok(None)`.
    fn user_by_id(&self, id: i64)
    -> impl Future<Output = Result<Option<UserRecord>, Error>> + Send;

    /// All users, ordered by key.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn list_users(&self) -> impl Future<Output = Result<Vec<UserSummary>, Error>> + Send;

    /// Sets or clears the disabled flag; `Ok(false)` when there is no such user.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn set_disabled(
        &self,
        username_key: &str,
        disabled: bool,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Removes a user with, atomically, its credentials and its password throttle state;
    /// `Ok(false)` when there is no such user. Audit events stay.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn remove_user(&self, username_key: &str) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Stores a ticket, token or session digest. May drop the user's expired credentials in
    /// passing.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn insert_credential(
        &self,
        credential: &NewCredential<'_>,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The credential of this kind and digest that has not expired at `now`, with its user
    /// (disabled or not).
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown, expired or revoked credential is `Ok(None)`.
    fn find_credential(
        &self,
        kind: CredentialKind,
        digest: &[u8],
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<CredentialMatch>, Error>> + Send;

    /// Revokes the credential of this kind and digest; `Ok(false)` when there was none.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn delete_credential(
        &self,
        kind: CredentialKind,
        digest: &[u8],
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// The failure history under `key`, if any.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn throttle_state(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ThrottleState>, Error>> + Send;

    /// Counts one more failure under `key` at `now` by `rule` and returns the new state,
    /// together with `audit` when given. Atomic: the read of the old state, the write of the
    /// new and the audit event happen in one transaction holding the row, so failures
    /// reported concurrently, by any number of instances, all count.
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was counted.
    fn record_failure(
        &self,
        key: &str,
        rule: &ThrottleConfig,
        now: SystemTime,
        audit: Option<&AuditEvent<'_>>,
    ) -> impl Future<Output = Result<ThrottleState, Error>> + Send;

    /// Forgets the failures under `key`.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn reset_throttle(&self, key: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// The password change, in one transaction: replaces the user's hash only if it still is
    /// `change.expected_hash` and the user is not disabled (a compare-and-swap), then deletes
    /// every credential of the user except `change.keep_credential`, deletes the throttle
    /// state under `change.throttle_key` and records `change.audit`.
    ///
    /// Returns `Ok(true)` once all of it is committed (durably, on SQLite with
    /// `synchronous=FULL`), `Ok(false)` when the compare failed (a concurrent change won) and
    /// nothing was written. Of several concurrent calls expecting the same hash, at most one
    /// returns `Ok(true)`.
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was changed.
    fn change_password(
        &self,
        change: &PasswordChange<'_>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Appends an audit event.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn audit(&self, event: &AuditEvent<'_>) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A user to add.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// The name as given.
    pub username: &'a str,
    /// The unique key: the name, NFKC-normalised and lowercased.
    pub username_key: &'a str,
    /// The PHC string of the password.
    pub hash: &'a str,
    /// When the user was added; also its first `changed_at`.
    pub at: SystemTime,
}

/// A stored user.
#[derive(Clone)]
pub struct UserRecord {
    /// The id, never reused.
    pub id: i64,
    /// The name as given.
    pub username: String,
    /// The PHC string of the password.
    pub hash: String,
    /// A disabled user cannot authenticate.
    pub disabled: bool,
    /// When the password was last set.
    pub changed_at: SystemTime,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("changed_at", &self.changed_at)
            .finish()
    }
}

/// The three kinds of bearer credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// `7T:` session tickets (`SOTicket`).
    Ticket,
    /// `8A:` access tokens (`Bearer`).
    Token,
    /// Browser session cookies.
    Session,
}

impl CredentialKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Ticket => "ticket",
            CredentialKind::Token => "token",
            CredentialKind::Session => "session",
        }
    }
}

/// A credential to store.
#[derive(Debug, Clone, Copy)]
pub struct NewCredential<'a> {
    /// The owner.
    pub user_id: i64,
    /// Ticket, token or session.
    pub kind: CredentialKind,
    /// SHA-256 of the credential.
    pub digest: &'a [u8],
    /// When it was issued.
    pub created_at: SystemTime,
    /// When it stops working.
    pub expires_at: SystemTime,
}

/// A live credential and its user.
#[derive(Debug, Clone)]
pub struct CredentialMatch {
    /// The credential's id.
    pub credential_id: i64,
    /// Its owner.
    pub user: UserRecord,
}

/// Failures remembered under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures counted in the current window.
    pub failures: u32,
    /// The latest one.
    pub last_failure: SystemTime,
    /// Until when the caller has to wait; the epoch when not at all.
    pub locked_until: SystemTime,
}

impl ThrottleState {
    /// No history.
    pub(crate) const NONE: ThrottleState = ThrottleState {
        failures: 0,
        last_failure: UNIX_EPOCH,
        locked_until: UNIX_EPOCH,
    };
}

/// One audit event. Never carries a secret.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    /// When.
    pub at: SystemTime,
    /// Who, when known.
    pub user_id: Option<i64>,
    /// The name the caller gave.
    pub username: &'a str,
    /// What: `change-password`, `login`, `user-add`, ...
    pub action: &'a str,
    /// How it went: `changed`, `old-password-mismatch`, `password-too-weak`, ...
    pub outcome: &'a str,
    /// From where.
    pub client: Option<IpAddr>,
}

/// What [`Store::change_password`] needs.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// Whose password.
    pub user_id: i64,
    /// The hash the old password was verified against.
    pub expected_hash: &'a str,
    /// The new PHC string.
    pub new_hash: &'a str,
    /// The caller's own ticket, token or session, which stays valid.
    pub keep_credential: Option<i64>,
    /// The password throttle state to reset.
    pub throttle_key: &'a str,
    /// Recorded in the same transaction; its `at` is the new `changed_at`.
    pub audit: AuditEvent<'a>,
}

/// One embedded migration.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// The bodies of [`Store`] for both backends. The SQL is written once in the dialect they
/// share (`$n` parameters, `ON CONFLICT`, `RETURNING`); sqlx's generic executor bounds would
/// cost more lines than this macro does.
macro_rules! impl_store {
    ($store:ty, $row:ty, $conn:ty, $migrations:expr, $migration_lock:expr) => {
        impl $crate::store::Store for $store {
            async fn migrate(&self) -> Result<(), Error> {
                let lock: Option<&str> = $migration_lock;
                let migrations: &[$crate::store::Migration] = $migrations;
                let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                if let Some(lock) = lock {
                    sqlx::query(lock).execute(&mut *tx).await.map_err(Error::from_sqlx)?;
                }
                // `Executor::execute` rather than `RawSql::execute`, whose future the compiler
                // cannot prove `Send` for every lifetime.
                sqlx::Executor::execute(
                    &mut *tx,
                    sqlx::raw_sql(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (\
                            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                    ),
                )
                .await
                .map_err(Error::from_sqlx)?;
                tx.commit().await.map_err(Error::from_sqlx)?;
                for migration in migrations {
                    let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                    if let Some(lock) = lock {
                        sqlx::query(lock).execute(&mut *tx).await.map_err(Error::from_sqlx)?;
                    }
                    // Claiming the version first makes this transaction a writer from its first
                    // statement: a concurrent migrator waits here, then finds it applied.
                    let claimed = sqlx::query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (version) DO NOTHING",
                    )
                    .bind(migration.version)
                    .bind(migration.name)
                    .bind($crate::store::to_millis(std::time::SystemTime::now()))
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?
                    .rows_affected();
                    if claimed == 1 {
                        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(migration.sql))
                            .await
                            .map_err(Error::from_sqlx)?;
                        tx.commit().await.map_err(Error::from_sqlx)?;
                        tracing::info!(version = migration.version, name = migration.name, "applied migration");
                    } else {
                        tx.rollback().await.map_err(Error::from_sqlx)?;
                    }
                }
                Ok(())
            }

            async fn ping(&self) -> Result<(), Error> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(Error::from_sqlx)?;
                Ok(())
            }

            async fn server_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, Error> {
                sqlx::query("INSERT INTO server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                    .bind(candidate)
                    .execute(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                let row = sqlx::query("SELECT secret FROM server_secret WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                row.try_get("secret").map_err(Error::from_sqlx)
            }

            async fn insert_user(&self, user: &$crate::store::NewUser<'_>) -> Result<i64, Error> {
                let at = $crate::store::to_millis(user.at);
                let row = sqlx::query(
                    "INSERT INTO users (username, username_key, hash, disabled, created_at, changed_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(user.username)
                .bind(user.username_key)
                .bind(user.hash)
                .bind(false)
                .bind(at)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match e.as_database_error() {
                    Some(db) if db.is_unique_violation() => Error::UserExists,
                    _ => Error::from_sqlx(e),
                })?;
                row.try_get("id").map_err(Error::from_sqlx)
            }

            async fn user_by_key(&self, username_key: &str) -> Result<Option<$crate::store::UserRecord>, Error> {
                sqlx::query(
                    "SELECT id, username, hash, disabled, changed_at FROM users WHERE username_key = $1",
                )
                .bind(username_key)
                .fetch_optional(&self.pool)
                .await
                .map_err(Error::from_sqlx)?
                .map(|row| user_record(&row))
                .transpose()
            }

            async fn user_by_id(&self, id: i64) -> Result<Option<$crate::store::UserRecord>, Error> {
                sqlx::query("SELECT id, username, hash, disabled, changed_at FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?
                    .map(|row| user_record(&row))
                    .transpose()
            }

            async fn list_users(&self) -> Result<Vec<$crate::UserSummary>, Error> {
                let rows = sqlx::query("SELECT username, disabled, changed_at FROM users ORDER BY username_key")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                rows.iter()
                    .map(|row| {
                        Ok($crate::UserSummary {
                            username: row.try_get("username")?,
                            disabled: row.try_get("disabled")?,
                            changed_at: $crate::store::from_millis(row.try_get("changed_at")?),
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()
                    .map_err(Error::from_sqlx)
            }

            async fn set_disabled(&self, username_key: &str, disabled: bool) -> Result<bool, Error> {
                let done = sqlx::query("UPDATE users SET disabled = $2 WHERE username_key = $1")
                    .bind(username_key)
                    .bind(disabled)
                    .execute(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                Ok(done.rows_affected() > 0)
            }

            async fn remove_user(&self, username_key: &str) -> Result<bool, Error> {
                let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                let Some(row) = sqlx::query("DELETE FROM users WHERE username_key = $1 RETURNING id")
                    .bind(username_key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?
                else {
                    return Ok(false);
                };
                let id: i64 = row.try_get("id").map_err(Error::from_sqlx)?;
                // The foreign key cascades too; this does not depend on it being enforced.
                sqlx::query("DELETE FROM credentials WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
                sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
                    .bind($crate::accounts::change_throttle_key(id))
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
                tx.commit().await.map_err(Error::from_sqlx)?;
                Ok(true)
            }

            async fn insert_credential(&self, credential: &$crate::store::NewCredential<'_>) -> Result<(), Error> {
                let created_at = $crate::store::to_millis(credential.created_at);
                let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                sqlx::query(
                    "INSERT INTO credentials (user_id, kind, digest, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(credential.user_id)
                .bind(credential.kind.as_str())
                .bind(credential.digest)
                .bind(created_at)
                .bind($crate::store::to_millis(credential.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
                sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND expires_at <= $2")
                    .bind(credential.user_id)
                    .bind(created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
                tx.commit().await.map_err(Error::from_sqlx)
            }

            async fn find_credential(
                &self,
                kind: $crate::store::CredentialKind,
                digest: &[u8],
                now: std::time::SystemTime,
            ) -> Result<Option<$crate::store::CredentialMatch>, Error> {
                let row = sqlx::query(
                    "SELECT c.id AS credential_id, u.id, u.username, u.hash, u.disabled, u.changed_at \
                     FROM credentials c JOIN users u ON u.id = c.user_id \
                     WHERE c.digest = $1 AND c.kind = $2 AND c.expires_at > $3",
                )
                .bind(digest)
                .bind(kind.as_str())
                .bind($crate::store::to_millis(now))
                .fetch_optional(&self.pool)
                .await
                .map_err(Error::from_sqlx)?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some($crate::store::CredentialMatch {
                    credential_id: row.try_get("credential_id").map_err(Error::from_sqlx)?,
                    user: user_record(&row)?,
                }))
            }

            async fn delete_credential(&self, kind: $crate::store::CredentialKind, digest: &[u8]) -> Result<bool, Error> {
                let done = sqlx::query("DELETE FROM credentials WHERE digest = $1 AND kind = $2")
                    .bind(digest)
                    .bind(kind.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                Ok(done.rows_affected() > 0)
            }

            async fn throttle_state(&self, key: &str) -> Result<Option<$crate::store::ThrottleState>, Error> {
                sqlx::query("SELECT failures, last_failure, locked_until FROM throttle WHERE throttle_key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?
                    .map(|row| throttle_state(&row))
                    .transpose()
            }

            async fn record_failure(
                &self,
                key: &str,
                rule: &$crate::ThrottleConfig,
                now: std::time::SystemTime,
                audit: Option<&$crate::store::AuditEvent<'_>>,
            ) -> Result<$crate::store::ThrottleState, Error> {
                let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                // A write first, which also locks the row (PostgreSQL) or the database
                // (SQLite) until commit: concurrent failures queue here and each sees the
                // previous one's count.
                let row = sqlx::query(
                    "INSERT INTO throttle (throttle_key, failures, last_failure, locked_until) \
                     VALUES ($1, 0, 0, 0) \
                     ON CONFLICT (throttle_key) DO UPDATE SET failures = throttle.failures \
                     RETURNING failures, last_failure, locked_until",
                )
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
                let state = rule.after_failure(&throttle_state(&row)?, now);
                sqlx::query(
                    "UPDATE throttle SET failures = $2, last_failure = $3, locked_until = $4 \
                     WHERE throttle_key = $1",
                )
                .bind(key)
                .bind(i64::from(state.failures))
                .bind($crate::store::to_millis(state.last_failure))
                .bind($crate::store::to_millis(state.locked_until))
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
                if let Some(event) = audit {
                    insert_audit(&mut *tx, event).await?;
                }
                if rand::random::<u8>() < 8 {
                    // Now and then, forget histories nobody can still be waiting on.
                    let horizon = (rule.window + rule.max_delay).max(std::time::Duration::from_secs(86_400));
                    let cutoff = $crate::store::to_millis(now.checked_sub(horizon).unwrap_or(std::time::UNIX_EPOCH));
                    sqlx::query("DELETE FROM throttle WHERE last_failure < $1 AND locked_until < $1")
                        .bind(cutoff)
                        .execute(&mut *tx)
                        .await
                        .map_err(Error::from_sqlx)?;
                }
                tx.commit().await.map_err(Error::from_sqlx)?;
                Ok(state)
            }

            async fn reset_throttle(&self, key: &str) -> Result<(), Error> {
                sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
                    .bind(key)
                    .execute(&self.pool)
                    .await
                    .map_err(Error::from_sqlx)?;
                Ok(())
            }

            async fn change_password(&self, change: &$crate::store::PasswordChange<'_>) -> Result<bool, Error> {
                let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
                let swapped = sqlx::query(
                    "UPDATE users SET hash = $1, changed_at = $2 \
                     WHERE id = $3 AND hash = $4 AND disabled = $5",
                )
                .bind(change.new_hash)
                .bind($crate::store::to_millis(change.audit.at))
                .bind(change.user_id)
                .bind(change.expected_hash)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?
                .rows_affected();
                if swapped != 1 {
                    tx.rollback().await.map_err(Error::from_sqlx)?;
                    return Ok(false);
                }
                sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND id <> $2")
                    .bind(change.user_id)
                    .bind(change.keep_credential.unwrap_or(-1))
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
                sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
                    .bind(change.throttle_key)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
                insert_audit(&mut *tx, &change.audit).await?;
                tx.commit().await.map_err(Error::from_sqlx)?;
                Ok(true)
            }

            async fn audit(&self, event: &$crate::store::AuditEvent<'_>) -> Result<(), Error> {
                let mut conn = self.pool.acquire().await.map_err(Error::from_sqlx)?;
                insert_audit(&mut *conn, event).await
            }
        }

        fn user_record(row: &$row) -> Result<$crate::store::UserRecord, Error> {
            let record = (|| {
                Ok::<_, sqlx::Error>($crate::store::UserRecord {
                    id: row.try_get("id")?,
                    username: row.try_get("username")?,
                    hash: row.try_get("hash")?,
                    disabled: row.try_get("disabled")?,
                    changed_at: $crate::store::from_millis(row.try_get("changed_at")?),
                })
            })();
            record.map_err(Error::from_sqlx)
        }

        fn throttle_state(row: &$row) -> Result<$crate::store::ThrottleState, Error> {
            let state = (|| {
                let failures: i64 = row.try_get("failures")?;
                Ok::<_, sqlx::Error>($crate::store::ThrottleState {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    last_failure: $crate::store::from_millis(row.try_get("last_failure")?),
                    locked_until: $crate::store::from_millis(row.try_get("locked_until")?),
                })
            })();
            state.map_err(Error::from_sqlx)
        }

        async fn insert_audit(conn: &mut $conn, event: &$crate::store::AuditEvent<'_>) -> Result<(), Error> {
            sqlx::query(
                "INSERT INTO audit_events (at, user_id, username, action, outcome, client_address) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind($crate::store::to_millis(event.at))
            .bind(event.user_id)
            .bind(event.username)
            .bind(event.action)
            .bind(event.outcome)
            .bind(event.client.map(|address| address.to_string()))
            .execute(conn)
            .await
            .map_err(Error::from_sqlx)?;
            Ok(())
        }
    };
}

pub(crate) use impl_store;
