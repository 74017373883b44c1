//! The SQLite store's connections: at most `max` open, each lent to one caller at a time.
//!
//! Not sqlx's `Pool`, which pings every connection it takes back (`PoolConnection`'s drop
//! spawns `return_to_pool`, whose ping is a command to the connection's thread and back).
//! That is a round trip per store call, about a third of a password change's wake-ups of
//! the SQLite threads and the HTTP workers, each preempting a hashing thread on a busy
//! machine (docs/PERFORMANCE.md). A SQLite connection needs no such check: it is a thread in
//! this process, not a socket that can go stale, and it runs its commands in the order they
//! were sent, so a rollback a cancelled call left behind runs before the next borrower's
//! first command.
//!
//! Writers take turns in the process before they take a connection: SQLite lets one
//! connection write at a time, and a writer that finds the lock taken sleeps and tries again
//! (1, 2, 5, 10 ms and longer), each try a lock call and a read of the log's header. Under a
//! change load that was about six sleeps a change (`strace`). Queued on a semaphore instead,
//! the next writer starts when the last one is through. Other processes on the same file
//! still meet at SQLite's lock, with its busy timeout.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::Error;

/// Connections to one database, opened when first needed and kept open.
pub(crate) struct Connections {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    /// One permit, shared by every `Connections` of the same file: the turn to write.
    write_turns: Arc<Semaphore>,
    acquire_timeout: Duration,
}

impl Connections {
    /// Opens the first connection (so a file that cannot be opened is an error here) and
    /// allows up to `max` (at least one). `write_turns` (one permit) is shared with every
    /// other `Connections` to the same file.
    pub(crate) async fn open(
        options: SqliteConnectOptions,
        max: usize,
        acquire_timeout: Duration,
        write_turns: Arc<Semaphore>,
    ) -> Result<Connections, Error> {
        let first = options.connect().await.map_err(Error::from_sqlx)?;
        Ok(Connections {
            options,
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(max.max(1)),
            write_turns,
            acquire_timeout,
        })
    }

    /// As [`acquire`](Connections::acquire), for a caller that writes: after the turn to
    /// write, which the lease keeps until dropped. The turn comes first, so a caller waiting
    /// for it holds no connection.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Connections::acquire), the wait for the turn counted in the timeout.
    pub(crate) async fn acquire_to_write(&self) -> Result<Lease<'_>, Error> {
        self.within_timeout(async {
            let turn = self
                .write_turns
                .acquire()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            let mut lease = self.lease().await?;
            lease.turn = Some(turn);
            Ok(lease)
        })
        .await
    }

    /// A connection for the caller alone until the [`Lease`] is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when none is free within the acquire timeout, or a new one
    /// cannot be opened.
    pub(crate) async fn acquire(&self) -> Result<Lease<'_>, Error> {
        self.within_timeout(self.lease()).await
    }

    async fn lease(&self) -> Result<Lease<'_>, sqlx::Error> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.options.connect().await?,
        };
        Ok(Lease {
            connection: Some(connection),
            connections: self,
            in_transaction: false,
            _permit: permit,
            turn: None,
        })
    }

    /// `lease`, or [`Error::Unavailable`] when it takes longer than the acquire timeout.
    async fn within_timeout<'a>(
        &self,
        lease: impl Future<Output = Result<Lease<'a>, sqlx::Error>>,
    ) -> Result<Lease<'a>, Error> {
        match tokio::time::timeout(self.acquire_timeout, lease).await {
            Ok(lease) => lease.map_err(Error::from_sqlx),
            Err(_) => Err(Error::from_sqlx(sqlx::Error::PoolTimedOut)),
        }
    }
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// One connection, lent; it goes back to the idle ones when dropped, or is closed if it may
/// be inside a transaction (see [`Lease::set_in_transaction`]).
pub(crate) struct Lease<'a> {
    connection: Option<SqliteConnection>,
    connections: &'a Connections,
    in_transaction: bool,
    _permit: SemaphorePermit<'a>,
    /// The turn to write, for a lease from [`Connections::acquire_to_write`]; given up after
    /// the connection is back (fields drop after [`Drop::drop`]).
    turn: Option<SemaphorePermit<'a>>,
}

impl Lease<'_> {
    /// Marks the connection as inside a transaction sqlx does not know of (a `BEGIN` sent
    /// with a statement, to save a round trip), from before its `BEGIN` is sent until its
    /// `COMMIT` or `ROLLBACK` is through. Dropped while marked (a cancelled call, an error),
    /// the lease closes the connection instead of lending it again: closing rolls back.
    pub(crate) fn set_in_transaction(&mut self, open: bool) {
        self.in_transaction = open;
    }
}

impl Deref for Lease<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.connection
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.connection
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if self.in_transaction {
                // Its thread closes it, rolling back, once its last command is through; a
                // writer whose turn comes before that meets SQLite's lock and waits there.
                drop(connection);
                return;
            }
            // Back before the permit is released (fields drop after this), so the next
            // borrower finds it instead of opening another.
            self.connections
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::Connection as _;

    use super::*;

    async fn memory(timeout: Duration) -> Connections {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        Connections::open(options, 1, timeout, Arc::new(Semaphore::new(1)))
            .await
            .unwrap()
    }

    async fn count(connection: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(connection)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_returned_connection_is_lent_again_not_reopened() {
        let connections = memory(Duration::from_secs(5)).await;
        let mut first = connections.acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *first)
            .await
            .unwrap();
        drop(first);
        // A second connection to `:memory:` would be another, empty database.
        let mut second = connections.acquire().await.unwrap();
        assert_eq!(count(&mut second).await, 0);
    }

    #[tokio::test]
    async fn no_more_than_max_are_lent_and_a_wait_ends_unavailable() {
        let connections = memory(Duration::from_millis(100)).await;
        let held = connections.acquire().await.unwrap();
        let waited = connections.acquire().await;
        assert!(
            matches!(waited, Err(Error::Unavailable(_))),
            "{:?}",
            waited.err()
        );
        drop(held);
        assert!(connections.acquire().await.is_ok());
    }

    #[tokio::test]
    async fn writers_take_turns_across_connections_of_one_file_and_readers_do_not() {
        let dir = super::super::test_dir("turns");
        let options = SqliteConnectOptions::new()
            .filename(dir.join("t.db"))
            .create_if_missing(true);
        let turns = Arc::new(Semaphore::new(1));
        let timeout = Duration::from_millis(100);
        let main = Connections::open(options.clone(), 2, timeout, Arc::clone(&turns))
            .await
            .unwrap();
        let counts = Connections::open(options, 2, timeout, turns).await.unwrap();
        let writing = main.acquire_to_write().await.unwrap();
        // The other set's writer waits for the turn, holding no connection, and gives up
        // after the timeout as a wait for a connection does.
        let waited = counts.acquire_to_write().await;
        assert!(
            matches!(waited, Err(Error::Unavailable(_))),
            "{:?}",
            waited.err()
        );
        assert_eq!(counts.permits.available_permits(), 2);
        // Readers do not take turns.
        assert!(counts.acquire().await.is_ok());
        assert!(main.acquire().await.is_ok());
        drop(writing);
        assert!(counts.acquire_to_write().await.is_ok());
    }

    #[tokio::test]
    async fn a_transaction_dropped_unfinished_is_rolled_back_before_the_next_borrower() {
        let connections = memory(Duration::from_secs(5)).await;
        let mut lease = connections.acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *lease)
            .await
            .unwrap();
        let mut tx = lease.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        // A caller cancelled mid-transaction: neither committed nor rolled back.
        drop(tx);
        drop(lease);
        let mut next = connections.acquire().await.unwrap();
        assert_eq!(count(&mut next).await, 0);
        let mut tx = next.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&mut next).await, 1);
    }

    #[tokio::test]
    async fn a_lease_dropped_inside_its_own_transaction_closes_the_connection_which_rolls_back() {
        let dir = super::super::test_dir("lease");
        let options = SqliteConnectOptions::new()
            .filename(dir.join("t.db"))
            .create_if_missing(true);
        let connections = Connections::open(
            options,
            1,
            Duration::from_secs(5),
            Arc::new(Semaphore::new(1)),
        )
        .await
        .unwrap();
        let mut lease = connections.acquire().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *lease)
            .await
            .unwrap();
        lease.set_in_transaction(true);
        sqlx::query("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .execute(&mut *lease)
            .await
            .unwrap();
        // A caller cancelled before its COMMIT: sqlx knows of no transaction to roll back.
        drop(lease);
        // The next borrower gets a new connection, and the write lock once the old one has
        // closed; the insert is gone.
        let mut next = connections.acquire().await.unwrap();
        assert_eq!(count(&mut next).await, 0);
        next.set_in_transaction(true);
        sqlx::query("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT")
            .execute(&mut *next)
            .await
            .unwrap();
        next.set_in_transaction(false);
        drop(next);
        let mut again = connections.acquire().await.unwrap();
        assert_eq!(count(&mut again).await, 1);
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
