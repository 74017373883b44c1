//! The embedded default: one SQLite file (or memory, for `agentgate demo`).

mod connections;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::migrate::MigrateError;
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow,
    SqliteSynchronous,
};
use tokio::sync::Semaphore;

use self::connections::{Connections, Lease};

use crate::store::migrate::{self, BASELINE_VERSION};
use crate::store::{
    AuditEvent, CredentialKind, CredentialMatch, HASH_KIND_SQL, NewCredential, NewUser,
    PasswordChange, PasswordReset, Store, ThrottleCount, ThrottleState, ThrottleUpdate, UserRecord,
    from_millis, in_count_order, in_key_order, throttle_read_sql, throttle_write_sql, to_millis,
};
use crate::{Config, Error, UserSummary};

/// The [`Store`](Store) on SQLite.
///
/// A file is created with its schema on first use, in WAL mode with `synchronous=FULL`, so a
/// committed change survives a power cut (`synchronous=NORMAL` when
/// [`Config::durable_commits`] is off). Writers of this process take turns in it, waiting
/// up to the acquire timeout; writers of other processes on the same file queue on the
/// database lock for up to the busy timeout; either wait past its limit fails with
/// [`Error::Unavailable`].
///
/// The throttle counts are written on connections of their own with `synchronous=NORMAL`:
/// their commits are atomic and isolated like every other, but not flushed one by one. The
/// next flushed commit (a change, a new credential, anything else) flushes them with it, as
/// they are earlier in the same write-ahead log; a power cut may lose the places taken in
/// the moments before it, no change and nothing else.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connections: Arc<Connections>,
    /// For [`Store::update_throttles`] and the purge of old counts: `connections` itself
    /// where every commit is unflushed anyway, or in memory.
    counts: Arc<Connections>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`: `sqlite://path/to/file.db`,
    /// `sqlite:file.db` or `sqlite::memory:`. An in-memory database lives in one connection
    /// that is never closed, so it lasts as long as the store.
    ///
    /// Does not migrate; see [`Store::migrate`](Store::migrate).
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
                .synchronous(if config.durable_commits {
                    SqliteSynchronous::Full
                } else {
                    SqliteSynchronous::Normal
                })
        };
        let max = if in_memory {
            // Every connection to `:memory:` is a database of its own.
            1
        } else {
            config.max_connections.clamp(1, 5) as usize
        };
        let timeout = config.acquire_timeout;
        // One file, one writer at a time: the counts' connections write to it too.
        let turns = Arc::new(Semaphore::new(1));
        let connections =
            Arc::new(Connections::open(options.clone(), max, timeout, Arc::clone(&turns)).await?);
        let counts = if in_memory || !config.durable_commits {
            Arc::clone(&connections)
        } else {
            let options = options.synchronous(SqliteSynchronous::Normal);
            Arc::new(Connections::open(options, max, timeout, turns).await?)
        };
        Ok(SqliteStore {
            connections,
            counts,
        })
    }

    /// A connection of the store's, for this caller alone until dropped.
    async fn conn(&self) -> Result<Lease<'_>, Error> {
        self.connections.acquire().await
    }

    /// A connection of the store's, to write, in this process's writers' turn.
    async fn write_conn(&self) -> Result<Lease<'_>, Error> {
        self.connections.acquire_to_write().await
    }

    /// A connection whose commits are not flushed one by one, for the throttle counts, in
    /// this process's writers' turn.
    async fn counts_write_conn(&self) -> Result<Lease<'_>, Error> {
        self.counts.acquire_to_write().await
    }

    /// A database made before `sqlx::migrate!` recorded its first migration in
    /// `schema_migrations`; the same record goes into `_sqlx_migrations`, so the migrator
    /// takes the schema as it is and goes on from there. Openers racing here queue on the
    /// write lock (or are told SQLite is busy, and try again).
    async fn adopt_schema_migrations(&self) -> Result<(), Error> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await.map_err(Error::from_sqlx)?;
        let recorded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
             WHERE type = 'table' AND name = 'schema_migrations')",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(Error::from_sqlx)?;
        if recorded {
            let applied: i64 =
                sqlx::query_scalar("SELECT count(*) FROM schema_migrations WHERE version = $1")
                    .bind(BASELINE_VERSION)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
            if applied == 1 {
                // The table as sqlx creates it (sqlx-sqlite 0.8, `ensure_migrations_table`).
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\
                        version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                        installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                        success BOOLEAN NOT NULL, checksum BLOB NOT NULL, \
                        execution_time BIGINT NOT NULL)",
                )
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
                sqlx::query(
                    "INSERT INTO _sqlx_migrations \
                     (version, description, success, checksum, execution_time) \
                     VALUES ($1, 'initial', TRUE, $2, 0) ON CONFLICT (version) DO NOTHING",
                )
                .bind(BASELINE_VERSION)
                .bind(migrate::baseline_checksum(&migrate::SQLITE))
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
            }
        }
        tx.commit().await.map_err(Error::from_sqlx)
    }
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), Error> {
        self.adopt_schema_migrations().await?;
        let mut conn = self.conn().await?;
        // SQLite has no lock a migrator could hold across its transactions, so processes
        // creating one new file together may both try a migration: the second fails (the
        // tables exist), finds the first one's record and goes on.
        for _ in 0..=migrate::SQLITE.iter().count() {
            match migrate::SQLITE.run_direct(&mut *conn).await {
                Err(MigrateError::ExecuteMigration(e, version)) => {
                    if !is_applied(&mut conn, version).await? {
                        return Err(Error::from_sqlx(e));
                    }
                    tracing::debug!(version, "migration applied by another opener");
                }
                result => return result.map_err(migrate::from_migrate),
            }
        }
        Err(Error::Store(sqlx::Error::Protocol(
            "migrations kept failing while others applied them".into(),
        )))
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.conn().await?)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(())
    }

    async fn server_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, Error> {
        let mut conn = self.conn().await?;
        sqlx::query(
            "INSERT INTO server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate)
        .execute(&mut *conn)
        .await
        .map_err(Error::from_sqlx)?;
        sqlx::query_scalar("SELECT secret FROM server_secret WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(Error::from_sqlx)
    }

    async fn insert_user(&self, user: &NewUser<'_>) -> Result<i64, Error> {
        sqlx::query_scalar(
            "INSERT INTO users (username, username_key, hash, disabled, created_at, changed_at) \
             VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING id",
        )
        .bind(user.username)
        .bind(user.username_key)
        .bind(user.hash)
        .bind(to_millis(user.at))
        .fetch_one(&mut *self.write_conn().await?)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => Error::UserExists,
            _ => Error::from_sqlx(e),
        })
    }

    async fn user_by_key(&self, username_key: &str) -> Result<Option<UserRecord>, Error> {
        sqlx::query(
            "SELECT id, username, hash, disabled, changed_at FROM users WHERE username_key = $1",
        )
        .bind(username_key)
        .fetch_optional(&mut *self.conn().await?)
        .await
        .map_err(Error::from_sqlx)?
        .map(|row| user_record(&row))
        .transpose()
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, Error> {
        sqlx::query("SELECT id, username, hash, disabled, changed_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.conn().await?)
            .await
            .map_err(Error::from_sqlx)?
            .map(|row| user_record(&row))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserSummary>, Error> {
        let rows =
            sqlx::query("SELECT username, disabled, changed_at FROM users ORDER BY username_key")
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(Error::from_sqlx)?;
        rows.iter()
            .map(|row| {
                Ok(UserSummary {
                    username: row.try_get("username")?,
                    disabled: row.try_get("disabled")?,
                    changed_at: from_millis(row.try_get("changed_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Error::from_sqlx)
    }

    async fn hash_kinds(&self) -> Result<Vec<String>, Error> {
        sqlx::query_scalar(HASH_KIND_SQL)
            .fetch_all(&mut *self.conn().await?)
            .await
            .map_err(Error::from_sqlx)
    }

    async fn set_disabled(&self, username_key: &str, disabled: bool) -> Result<bool, Error> {
        let done = sqlx::query("UPDATE users SET disabled = $2 WHERE username_key = $1")
            .bind(username_key)
            .bind(disabled)
            .execute(&mut *self.write_conn().await?)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_user(&self, username_key: &str) -> Result<bool, Error> {
        let mut conn = self.write_conn().await?;
        let mut tx = conn.begin().await.map_err(Error::from_sqlx)?;
        let id: Option<i64> =
            sqlx::query_scalar("DELETE FROM users WHERE username_key = $1 RETURNING id")
                .bind(username_key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
        let Some(id) = id else {
            return Ok(false);
        };
        // The foreign key cascades too; this does not depend on it being enforced.
        for sql in [
            "DELETE FROM credentials WHERE user_id = $1",
            "DELETE FROM throttle WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
        }
        tx.commit().await.map_err(Error::from_sqlx)?;
        Ok(true)
    }

    async fn reset_password(&self, reset: &PasswordReset<'_>) -> Result<bool, Error> {
        let mut conn = self.write_conn().await?;
        let mut tx = conn.begin().await.map_err(Error::from_sqlx)?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET hash = $1, changed_at = $2 WHERE username_key = $3 RETURNING id",
        )
        .bind(reset.new_hash)
        .bind(to_millis(reset.audit.at))
        .bind(reset.username_key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::from_sqlx)?;
        let Some(id) = id else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM credentials WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(Error::from_sqlx)?;
        sqlx::query("DELETE FROM throttle WHERE user_id = $1 OR throttle_key = $2")
            .bind(id)
            .bind(reset.guess_key)
            .execute(&mut *tx)
            .await
            .map_err(Error::from_sqlx)?;
        let audit = AuditEvent {
            user_id: Some(id),
            ..reset.audit
        };
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(Error::from_sqlx)?;
        Ok(true)
    }

    async fn rehash(
        &self,
        user_id: i64,
        expected_hash: &str,
        new_hash: &str,
    ) -> Result<bool, Error> {
        let done = sqlx::query("UPDATE users SET hash = $1 WHERE id = $2 AND hash = $3")
            .bind(new_hash)
            .bind(user_id)
            .bind(expected_hash)
            .execute(&mut *self.write_conn().await?)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_credential(&self, credential: &NewCredential<'_>) -> Result<(), Error> {
        let created_at = to_millis(credential.created_at);
        let mut conn = self.write_conn().await?;
        let mut tx = conn.begin().await.map_err(Error::from_sqlx)?;
        sqlx::query(
            "INSERT INTO credentials (user_id, kind, digest, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(credential.user_id)
        .bind(credential.kind.as_str())
        .bind(credential.digest)
        .bind(created_at)
        .bind(to_millis(credential.expires_at))
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
        kind: CredentialKind,
        digest: &[u8],
        now: SystemTime,
    ) -> Result<Option<CredentialMatch>, Error> {
        let row = sqlx::query(
            "SELECT c.id AS credential_id, u.id, u.username, u.hash, u.disabled, u.changed_at \
             FROM credentials c JOIN users u ON u.id = c.user_id \
             WHERE c.digest = $1 AND c.kind = $2 AND c.expires_at > $3",
        )
        .bind(digest)
        .bind(kind.as_str())
        .bind(to_millis(now))
        .fetch_optional(&mut *self.conn().await?)
        .await
        .map_err(Error::from_sqlx)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CredentialMatch {
            credential_id: row.try_get("credential_id").map_err(Error::from_sqlx)?,
            user: user_record(&row)?,
        }))
    }

    async fn delete_credential(&self, kind: CredentialKind, digest: &[u8]) -> Result<bool, Error> {
        let done = sqlx::query("DELETE FROM credentials WHERE digest = $1 AND kind = $2")
            .bind(digest)
            .bind(kind.as_str())
            .execute(&mut *self.write_conn().await?)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(done.rows_affected() > 0)
    }

    async fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, Error> {
        sqlx::query(
            "SELECT failures, last_failure, locked_until FROM throttle WHERE throttle_key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *self.conn().await?)
        .await
        .map_err(Error::from_sqlx)?
        .map(|row| throttle_state(&row))
        .transpose()
    }

    async fn update_throttles<F>(
        &self,
        counts: &[ThrottleCount<'_>],
        update: F,
        read_user: Option<&str>,
    ) -> Result<ThrottleUpdate, Error>
    where
        F: FnOnce(&[ThrottleState]) -> Option<Vec<ThrottleState>> + Send,
    {
        let mut conn = self.counts_write_conn().await?;
        // BEGIN rides with the first statement and COMMIT with the last: two commands to the
        // connection's thread, not four (each a round trip, docs/PERFORMANCE.md). The first
        // statement is a write, which takes the lock until commit: concurrent updates queue
        // here and each reads the states the one before it wrote.
        conn.set_in_transaction(true);
        let read_sql = format!("BEGIN IMMEDIATE; {}", throttle_read_sql(counts.len()));
        let mut read = sqlx::query(&read_sql);
        for count in in_key_order(counts) {
            read = read.bind(count.key).bind(count.user_id);
        }
        let rows = match read.fetch_all(&mut *conn).await {
            Ok(rows) => rows,
            Err(e) => return Err(roll_back(&mut conn, e).await),
        };
        let rows = rows
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("throttle_key").map_err(Error::from_sqlx)?,
                    throttle_state(row)?,
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let before = in_count_order(counts, &rows)?;
        let Some(after) = update(&before).filter(|after| after.len() == counts.len()) else {
            rollback(&mut conn).await.map_err(Error::from_sqlx)?;
            return Ok(ThrottleUpdate {
                before,
                ..ThrottleUpdate::default()
            });
        };
        // The user rides with the write, before the COMMIT: all or nothing.
        let mut write_sql = throttle_write_sql(counts.len(), false);
        if read_user.is_some() {
            write_sql.push_str(&format!(
                "; SELECT id, username, hash, disabled, changed_at FROM users \
                 WHERE username_key = ${}",
                5 * counts.len() + 1
            ));
        }
        write_sql.push_str("; COMMIT");
        let mut write = sqlx::query(&write_sql);
        for (count, state) in counts.iter().zip(&after) {
            write = write
                .bind(count.key)
                .bind(i64::from(state.failures))
                .bind(to_millis(state.last_failure))
                .bind(to_millis(state.locked_until))
                .bind(count.user_id);
        }
        if let Some(key) = read_user {
            write = write.bind(key);
        }
        let rows = match write.fetch_all(&mut *conn).await {
            Ok(rows) => rows,
            Err(e) => return Err(roll_back(&mut conn, e).await),
        };
        conn.set_in_transaction(false);
        let done = ThrottleUpdate {
            before,
            after: Some(after),
            user: rows.first().map(user_record).transpose()?,
        };
        Ok(done)
    }

    async fn settle_success(
        &self,
        clear: &[&str],
        give_back: &[&str],
        read: Option<&str>,
    ) -> Result<Option<ThrottleState>, Error> {
        let mut conn = self.counts_write_conn().await?;
        let list = |from: usize, n: usize| {
            (from..from + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut sql = String::from("BEGIN IMMEDIATE");
        if !clear.is_empty() {
            sql.push_str(&format!(
                "; UPDATE throttle SET failures = 0, last_failure = 0, locked_until = 0 \
                 WHERE throttle_key IN ({})",
                list(1, clear.len())
            ));
        }
        if !give_back.is_empty() {
            sql.push_str(&format!(
                "; UPDATE throttle SET failures = MAX(failures - 1, 0) WHERE throttle_key IN ({})",
                list(clear.len() + 1, give_back.len())
            ));
        }
        if read.is_some() {
            sql.push_str(&format!(
                "; SELECT failures, last_failure, locked_until FROM throttle \
                 WHERE throttle_key = ${}",
                clear.len() + give_back.len() + 1
            ));
        }
        sql.push_str("; COMMIT");
        let mut query = sqlx::query(&sql);
        for key in clear.iter().chain(give_back).chain(read.as_slice()) {
            query = query.bind(*key);
        }
        // One command, BEGIN to COMMIT; a statement failing leaves the transaction open,
        // which the lease's mark rolls back.
        conn.set_in_transaction(true);
        let rows = match query.fetch_all(&mut *conn).await {
            Ok(rows) => rows,
            Err(e) => return Err(roll_back(&mut conn, e).await),
        };
        conn.set_in_transaction(false);
        rows.first().map(throttle_state).transpose()
    }

    async fn purge_throttle(&self, horizon: SystemTime) -> Result<(), Error> {
        sqlx::query("DELETE FROM throttle WHERE last_failure < $1 AND locked_until < $1")
            .bind(to_millis(horizon))
            .execute(&mut *self.counts_write_conn().await?)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(())
    }

    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<bool, Error> {
        let mut conn = self.write_conn().await?;
        // One command to the connection's thread, BEGIN to COMMIT, since each command is a
        // round trip, which on a busy machine costs more than the statements
        // (docs/PERFORMANCE.md). The swap comes first; every later statement holds only if
        // it happened, which the user's row tells: it has the new hash, whose salt is new. A
        // lost race so commits nothing. RETURNING counts the swap: after BEGIN,
        // `rows_affected` would add the count of the connection's previous write. `$12` is
        // NULL unless the kept credential gets a new digest.
        const SWAP: &str = "BEGIN IMMEDIATE; \
             UPDATE users SET hash = $1, changed_at = $2 \
             WHERE id = $3 AND hash = $4 AND disabled = FALSE RETURNING id; \
             INSERT INTO audit_events (at, user_id, username, action, outcome, client_address) \
             SELECT $5, $6, $7, $8, $9, $10 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = $3 AND hash = $1); \
             DELETE FROM credentials WHERE user_id = $3 AND id <> $11 \
             AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND hash = $1); \
             UPDATE credentials SET digest = $12 WHERE id = $11 AND $12 IS NOT NULL \
             AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND hash = $1); \
             DELETE FROM throttle WHERE throttle_key = $13 \
             AND EXISTS (SELECT 1 FROM users WHERE id = $3 AND hash = $1); \
             COMMIT";
        let query = sqlx::query(SWAP)
            .bind(change.new_hash)
            .bind(to_millis(change.audit.at))
            .bind(change.user_id)
            .bind(change.expected_hash);
        let query = bind_audit(query, &change.audit)
            .bind(change.keep_credential.unwrap_or(-1))
            .bind(change.keep_credential.and(change.renew_digest))
            .bind(change.throttle_key);
        // A statement failing leaves the transaction open, which is rolled back.
        conn.set_in_transaction(true);
        let swapped = match query.fetch_all(&mut *conn).await {
            Ok(rows) => rows.len() == 1,
            Err(e) => return Err(roll_back(&mut conn, e).await),
        };
        conn.set_in_transaction(false);
        Ok(swapped)
    }

    async fn audit(&self, event: &AuditEvent<'_>) -> Result<(), Error> {
        let mut conn = self.write_conn().await?;
        insert_audit(&mut conn, event).await
    }
}

/// Rolls back a transaction begun with a statement (see [`Lease::set_in_transaction`]). If
/// that fails, the lease stays marked and closes the connection when dropped, which rolls
/// back.
async fn rollback(conn: &mut Lease<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("ROLLBACK").execute(&mut **conn).await?;
    conn.set_in_transaction(false);
    Ok(())
}

/// Rolls back the transaction `error` ended, and returns `error`: a failed rollback is left
/// to the lease (see [`rollback`]).
async fn roll_back(conn: &mut Lease<'_>, error: sqlx::Error) -> Error {
    let _ = rollback(conn).await;
    Error::from_sqlx(error)
}

fn user_record(row: &SqliteRow) -> Result<UserRecord, Error> {
    let record = || {
        Ok::<_, sqlx::Error>(UserRecord {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            hash: row.try_get("hash")?,
            disabled: row.try_get("disabled")?,
            changed_at: from_millis(row.try_get("changed_at")?),
        })
    };
    record().map_err(Error::from_sqlx)
}

fn throttle_state(row: &SqliteRow) -> Result<ThrottleState, Error> {
    let state = || {
        let failures: i64 = row.try_get("failures")?;
        Ok::<_, sqlx::Error>(ThrottleState {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            last_failure: from_millis(row.try_get("last_failure")?),
            locked_until: from_millis(row.try_get("locked_until")?),
        })
    };
    state().map_err(Error::from_sqlx)
}

async fn insert_audit(conn: &mut SqliteConnection, event: &AuditEvent<'_>) -> Result<(), Error> {
    let insert = sqlx::query(
        "INSERT INTO audit_events (at, user_id, username, action, outcome, client_address) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    );
    bind_audit(insert, event)
        .execute(conn)
        .await
        .map_err(Error::from_sqlx)?;
    Ok(())
}

/// Binds `event` as `$1` to `$6` of an insert into `audit_events`, in its column order.
fn bind_audit<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    event: &AuditEvent<'q>,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    query
        .bind(to_millis(event.at))
        .bind(event.user_id)
        .bind(event.username)
        .bind(event.action.as_str())
        .bind(event.outcome.as_str())
        .bind(event.client.map(|address| address.to_string()))
}

/// Whether `version` is recorded as applied: by another opener, when ours failed.
async fn is_applied(conn: &mut SqliteConnection, version: i64) -> Result<bool, Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = $1 AND success)",
    )
    .bind(version)
    .fetch_one(conn)
    .await
    .map_err(Error::from_sqlx)
}

/// A new directory for a test's database files.
#[cfg(test)]
fn test_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "agentgate-{name}-{}-{:?}",
        std::process::id(),
        SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn synchronous(mut lease: Lease<'_>) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *lease)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn changes_are_flushed_one_by_one_and_throttle_counts_are_not() {
        let dir = test_dir("sqlite-sync");
        let url = format!("sqlite://{}", dir.join("store.db").display());
        let (full, normal) = (2, 1);

        let durable = SqliteStore::connect(&url, &Config::default())
            .await
            .unwrap();
        assert_eq!(synchronous(durable.conn().await.unwrap()).await, full);
        assert_eq!(
            synchronous(durable.counts_write_conn().await.unwrap()).await,
            normal
        );

        let config = Config {
            durable_commits: false,
            ..Config::default()
        };
        let unflushed = SqliteStore::connect(&url, &config).await.unwrap();
        assert!(Arc::ptr_eq(&unflushed.connections, &unflushed.counts));
        assert_eq!(synchronous(unflushed.conn().await.unwrap()).await, normal);

        // Every connection to `:memory:` is a database of its own: one for everything.
        let memory = SqliteStore::connect("sqlite::memory:", &Config::default())
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&memory.connections, &memory.counts));

        drop((durable, unflushed));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
