//! The one error type of this crate.

use std::time::{Duration, SystemTime};

use crate::{Limit, PolicyViolation, UsernameProblem};

/// Why an accounts operation failed.
///
/// Expected outcomes of a password change (a wrong old password, a refused new one, a
/// throttled user) are not errors: they are [`ChangeOutcome`](crate::ChangeOutcome)s.
///
/// Not `#[non_exhaustive]`, on purpose: the server turns it into its API error with one
/// exhaustive `match`, so a new variant is a compile error there rather than a silent 500.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Occurs when credentials do not hold: a wrong password, an unknown or disabled user, an
    /// unknown, expired or revoked ticket, token or session. Deliberately says no more.
    #[error("invalid credentials")]
    Unauthorized,
    /// Occurs when an administrative operation names a user that does not exist.
    #[error("no such user")]
    UnknownUser,
    /// Occurs when adding a user whose name, compared case-insensitively, is taken.
    #[error("a user with this name exists")]
    UserExists,
    /// Occurs when adding a user whose name RFC 8265's UsernameCaseMapped profile refuses
    /// (spaces, controls, invisible format characters, unassigned code points and the
    /// like), or one holding a colon (RFC 7617 §2), or longer than 128 code points.
    #[error("invalid username: {0}")]
    InvalidUsername(UsernameProblem),
    /// Occurs when issuing a ticket or token for a disabled user.
    #[error("the user is disabled")]
    UserDisabled,
    /// Occurs when a ticket or token is asked for with a lifetime over `max`.
    #[error("the lifetime is longer than the longest allowed, {} days", .max.as_secs() / 86_400)]
    TtlTooLong {
        /// The longest lifetime allowed.
        max: Duration,
    },
    /// Occurs when a limit makes the caller wait: password checks for a username after too
    /// many wrong ones, changes with a credential after too many wrong old passwords, or a
    /// client address whose next slot is too far away (SPEC §4, §5). Nothing was checked.
    #[error("too many attempts ({limit}), retry after {retry_after:?}")]
    Throttled {
        /// Which limit.
        limit: Limit,
        /// How long from now.
        retry_after: Duration,
        /// Until when.
        until: SystemTime,
    },
    /// Occurs when adding a user whose password the policy refuses.
    #[error("password refused: {}", .0.reason())]
    Policy(PolicyViolation),
    /// Occurs when the hashing queue is full; nothing was changed. Try again after
    /// `retry_after`.
    #[error("hashing queue full, retry after {retry_after:?}")]
    Busy {
        /// A hint for the `Retry-After` header.
        retry_after: Duration,
    },
    /// Occurs when the store cannot be reached in time: a refused or broken connection, a
    /// pool timeout, a database shutting down or locked. Nothing was changed.
    #[error("user store unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Occurs when the store answers with an error that is not about reaching it.
    #[error("user store error")]
    Store(#[source] sqlx::Error),
    /// Occurs when `Accounts::open` gets a URL that is neither `sqlite:` nor `postgres:`, or
    /// one the driver cannot parse.
    #[error("invalid database URL: {0}")]
    InvalidDatabaseUrl(String),
    /// Occurs when Argon2 parameters are invalid or a stored hash is not a PHC string.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl Error {
    /// Sorts a driver error into [`Error::Unavailable`] or [`Error::Store`].
    pub(crate) fn from_sqlx(error: sqlx::Error) -> Error {
        if is_unavailable(&error) {
            Error::Unavailable(error)
        } else {
            Error::Store(error)
        }
    }
}

impl Error {
    /// SQLite's `SQLITE_BUSY` or `SQLITE_LOCKED`: another connection holds the lock this one
    /// needs, and SQLite did not (or could not) wait for it.
    pub(crate) fn is_sqlite_busy(&self) -> bool {
        match self {
            Error::Unavailable(sqlx::Error::Database(db))
            | Error::Store(sqlx::Error::Database(db)) => sqlite_busy(&**db) == Some(true),
            _ => false,
        }
    }
}

/// For a SQLite error, whether it is `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6); `None` for
/// another database's error. sqlx turns extended codes on, so `SQLITE_BUSY_SNAPSHOT` arrives
/// as 517, whose low byte is the primary code.
fn sqlite_busy(db: &dyn sqlx::error::DatabaseError) -> Option<bool> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code = db.code()?.parse::<i32>().ok()?;
    Some(matches!(code & 0xff, 5 | 6))
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => sqlite_busy(&**db).unwrap_or_else(|| {
            // SQLite above: busy or locked after the busy timeout, every extended variant.
            // PostgreSQL: class 08 (connection exception), 57P01-57P03 (shutdown, cannot
            // connect now), 53300 (too many connections).
            let code = db.code().unwrap_or_default();
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            Error::from_sqlx(sqlx::Error::Io(io)),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            Error::from_sqlx(sqlx::Error::PoolTimedOut),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            Error::from_sqlx(sqlx::Error::RowNotFound),
            Error::Store(_)
        ));
    }
}
