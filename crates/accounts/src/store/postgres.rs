//! Several instances on one PostgreSQL.

use std::str::FromStr;
use std::time::SystemTime;

use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgExecutor, PgPool, PgPoolOptions, PgRow};

use crate::store::migrate::{self, BASELINE_VERSION};
use crate::store::{
    AuditEvent, CredentialKind, CredentialMatch, HASH_KIND_SQL, NewCredential, NewUser,
    PasswordChange, PasswordReset, Store, ThrottleCount, ThrottleState, ThrottleUpdate, UserRecord,
    from_millis, in_count_order, in_key_order, throttle_read_sql, throttle_write_sql, to_millis,
};
use crate::{Config, Error, UserSummary};

/// Serialises the adoption of a `schema_migrations` record by instances starting together;
/// released with the transaction.
const ADOPTION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('agentgate-migrations:' || current_schema()))";

/// The [`Store`] on PostgreSQL.
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
    /// Does not migrate; see [`Store::migrate`].
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
        let options = if config.durable_commits {
            options
        } else {
            options.options([("synchronous_commit", "off")])
        };
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(PgStore { pool })
    }

    /// A database made before `sqlx::migrate!` recorded its first migration in
    /// `schema_migrations`; the same record goes into `_sqlx_migrations`, so the migrator
    /// takes the schema as it is and goes on from there.
    async fn adopt_schema_migrations(&self) -> Result<(), Error> {
        let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
        sqlx::query(ADOPTION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(Error::from_sqlx)?;
        let recorded: bool =
            sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
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
                // The table as sqlx creates it (sqlx-postgres 0.8, `ensure_migrations_table`).
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\
                        version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                        installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), \
                        success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, \
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
                .bind(migrate::baseline_checksum(&migrate::POSTGRES))
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
            }
        }
        tx.commit().await.map_err(Error::from_sqlx)
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

impl Store for PgStore {
    async fn migrate(&self) -> Result<(), Error> {
        self.adopt_schema_migrations().await?;
        // sqlx's migrator holds a session advisory lock while it works, so instances
        // migrating one database at once take turns; the connection is closed if it fails,
        // so a lock it left behind goes with it.
        let mut conn = self.pool.acquire().await.map_err(Error::from_sqlx)?;
        let result = migrate::POSTGRES.run_direct(&mut *conn).await;
        if result.is_err() {
            conn.close_on_drop();
        }
        result.map_err(migrate::from_migrate)
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(())
    }

    async fn server_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, Error> {
        sqlx::query(
            "INSERT INTO server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate)
        .execute(&self.pool)
        .await
        .map_err(Error::from_sqlx)?;
        sqlx::query_scalar("SELECT secret FROM server_secret WHERE id = 1")
            .fetch_one(&self.pool)
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
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => Error::UserExists,
            _ => Error::from_sqlx(e),
        })
    }

    async fn user_by_key(&self, username_key: &str) -> Result<Option<UserRecord>, Error> {
        find_user(&self.pool, username_key).await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, Error> {
        sqlx::query("SELECT id, username, hash, disabled, changed_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::from_sqlx)?
            .map(|row| user_record(&row))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserSummary>, Error> {
        let rows =
            sqlx::query("SELECT username, disabled, changed_at FROM users ORDER BY username_key")
                .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
            .await
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
        let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
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
            .execute(&self.pool)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_credential(&self, credential: &NewCredential<'_>) -> Result<(), Error> {
        let created_at = to_millis(credential.created_at);
        let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
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
        .fetch_optional(&self.pool)
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
            .execute(&self.pool)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(done.rows_affected() > 0)
    }

    async fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, Error> {
        find_throttle(&self.pool, key).await
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
        // The counts' commit is not waited for on disk (as SQLite's counts are not flushed
        // one by one): atomic and isolated all the same, and flushed with the next commit
        // that is waited for. One simple query with the BEGIN, no round trip of its own.
        let mut tx = self
            .pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await
            .map_err(Error::from_sqlx)?;
        // A write first, which locks the rows until commit: concurrent updates queue here
        // and each reads the states the one before it wrote.
        let read_sql = throttle_read_sql(counts.len());
        let mut read = sqlx::query(&read_sql);
        for count in in_key_order(counts) {
            read = read.bind(count.key).bind(count.user_id);
        }
        let rows = read.fetch_all(&mut *tx).await.map_err(Error::from_sqlx)?;
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
            tx.rollback().await.map_err(Error::from_sqlx)?;
            return Ok(ThrottleUpdate {
                before,
                ..ThrottleUpdate::default()
            });
        };
        let write_sql = throttle_write_sql(counts.len(), true);
        let mut write = sqlx::query(&write_sql);
        for (count, state) in counts.iter().zip(&after) {
            write = write
                .bind(count.key)
                .bind(i64::from(state.failures))
                .bind(to_millis(state.last_failure))
                .bind(to_millis(state.locked_until))
                .bind(count.user_id);
        }
        write.execute(&mut *tx).await.map_err(Error::from_sqlx)?;
        // The user, in the transaction: all or nothing, as on SQLite.
        let user = match read_user {
            Some(key) => find_user(&mut *tx, key).await?,
            None => None,
        };
        let done = ThrottleUpdate {
            before,
            after: Some(after),
            user,
        };
        tx.commit().await.map_err(Error::from_sqlx)?;
        Ok(done)
    }

    async fn settle_success(
        &self,
        clear: &[&str],
        give_back: &[&str],
        read: Option<&str>,
    ) -> Result<Option<ThrottleState>, Error> {
        // Not waited for on disk, as update_throttles.
        let mut tx = self
            .pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await
            .map_err(Error::from_sqlx)?;
        let writes = [
            (
                clear,
                "UPDATE throttle SET failures = 0, last_failure = 0, locked_until = 0 \
                 WHERE throttle_key = ANY($1)",
            ),
            (
                give_back,
                "UPDATE throttle SET failures = GREATEST(failures - 1, 0) \
                 WHERE throttle_key = ANY($1)",
            ),
        ];
        for (keys, sql) in writes {
            if !keys.is_empty() {
                sqlx::query(sql)
                    .bind(keys)
                    .execute(&mut *tx)
                    .await
                    .map_err(Error::from_sqlx)?;
            }
        }
        let state = match read {
            Some(key) => find_throttle(&mut *tx, key).await?,
            None => None,
        };
        tx.commit().await.map_err(Error::from_sqlx)?;
        Ok(state)
    }

    async fn purge_throttle(&self, horizon: SystemTime) -> Result<(), Error> {
        sqlx::query("DELETE FROM throttle WHERE last_failure < $1 AND locked_until < $1")
            .bind(to_millis(horizon))
            .execute(&self.pool)
            .await
            .map_err(Error::from_sqlx)?;
        Ok(())
    }

    async fn change_password(&self, change: &PasswordChange<'_>) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await.map_err(Error::from_sqlx)?;
        let swapped = sqlx::query(
            "UPDATE users SET hash = $1, changed_at = $2 \
             WHERE id = $3 AND hash = $4 AND NOT disabled",
        )
        .bind(change.new_hash)
        .bind(to_millis(change.audit.at))
        .bind(change.user_id)
        .bind(change.expected_hash)
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
        if let (Some(id), Some(digest)) = (change.keep_credential, change.renew_digest) {
            sqlx::query("UPDATE credentials SET digest = $1 WHERE id = $2")
                .bind(digest)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(Error::from_sqlx)?;
        }
        sqlx::query("DELETE FROM throttle WHERE throttle_key = $1")
            .bind(change.throttle_key)
            .execute(&mut *tx)
            .await
            .map_err(Error::from_sqlx)?;
        insert_audit(&mut tx, &change.audit).await?;
        tx.commit().await.map_err(Error::from_sqlx)?;
        Ok(true)
    }

    async fn audit(&self, event: &AuditEvent<'_>) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await.map_err(Error::from_sqlx)?;
        insert_audit(&mut conn, event).await
    }
}

/// The user under `username_key`, read through `executor`: the pool, or a transaction.
async fn find_user<'e, 'q: 'e>(
    executor: impl PgExecutor<'e>,
    username_key: &'q str,
) -> Result<Option<UserRecord>, Error> {
    sqlx::query(
        "SELECT id, username, hash, disabled, changed_at FROM users WHERE username_key = $1",
    )
    .bind(username_key)
    .fetch_optional(executor)
    .await
    .map_err(Error::from_sqlx)?
    .map(|row| user_record(&row))
    .transpose()
}

/// The count under `key`, read through `executor`: the pool, or a transaction.
async fn find_throttle<'e, 'q: 'e>(
    executor: impl PgExecutor<'e>,
    key: &'q str,
) -> Result<Option<ThrottleState>, Error> {
    sqlx::query("SELECT failures, last_failure, locked_until FROM throttle WHERE throttle_key = $1")
        .bind(key)
        .fetch_optional(executor)
        .await
        .map_err(Error::from_sqlx)?
        .map(|row| throttle_state(&row))
        .transpose()
}

fn user_record(row: &PgRow) -> Result<UserRecord, Error> {
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

fn throttle_state(row: &PgRow) -> Result<ThrottleState, Error> {
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

async fn insert_audit(conn: &mut PgConnection, event: &AuditEvent<'_>) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO audit_events (at, user_id, username, action, outcome, client_address) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(to_millis(event.at))
    .bind(event.user_id)
    .bind(event.username)
    .bind(event.action.as_str())
    .bind(event.outcome.as_str())
    .bind(event.client.map(|address| address.to_string()))
    .execute(conn)
    .await
    .map_err(Error::from_sqlx)?;
    Ok(())
}

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
