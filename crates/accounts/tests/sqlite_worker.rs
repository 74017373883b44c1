//! The patched sqlx-sqlite connection thread (`vendor/sqlx-sqlite/PATCHED.md`): a command's
//! results go out in bursts, so a command of several statements wakes its task once, and
//! the results, their order and the errors stay those of upstream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};
use sqlx::{Connection as _, Either, Executor as _, Row as _, SqliteConnection};

/// Counts the wake-ups of the future it wraps.
struct CountWakes<F> {
    inner: Pin<Box<F>>,
    wakes: Arc<Counter>,
}

struct Counter {
    wakes: AtomicUsize,
    waker: std::sync::Mutex<Option<Waker>>,
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().as_ref() {
            waker.wake_by_ref();
        }
    }
}

impl<F: Future> Future for CountWakes<F> {
    type Output = (F::Output, usize);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        *self.wakes.waker.lock().unwrap() = Some(cx.waker().clone());
        let waker = Waker::from(Arc::clone(&self.wakes));
        match self.inner.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(out) => Poll::Ready((out, self.wakes.wakes.load(Ordering::SeqCst))),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn count_wakes<F: Future>(inner: F) -> CountWakes<F> {
    CountWakes {
        inner: Box::pin(inner),
        wakes: Arc::new(Counter {
            wakes: AtomicUsize::new(0),
            waker: std::sync::Mutex::new(None),
        }),
    }
}

async fn memory() -> SqliteConnection {
    SqliteConnection::connect("sqlite::memory:").await.unwrap()
}

/// A statement that takes SQLite some milliseconds: the sum of 1..=n, counted row by row.
fn slow_sum(n: u32) -> String {
    format!(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) \
         SELECT sum(i) AS s FROM c"
    )
}

#[tokio::test]
async fn a_command_of_slow_statements_wakes_its_task_once() {
    let mut conn = memory().await;
    let n = 400_000_u32;
    let sql = vec![slow_sum(n); 5].join("; ");
    let expected = i64::from(n) * (i64::from(n) + 1) / 2;
    // Upstream sends each statement's row and result as they come, milliseconds apart from
    // the next statement's, to a task parked in between: five wake-ups every time
    // (measured). Here the first send of the burst wakes the task and the rest are usually
    // queued by the time it runs; usually, not always: on a loaded machine the woken task
    // can preempt the connection's thread in the middle of the burst, take one result,
    // park, and be woken by the next (PATCHED.md). So the fewest of several commands.
    let mut fewest = usize::MAX;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let (rows, wakes) = count_wakes(sqlx::query(&sql).fetch_all(&mut conn)).await;
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 5);
        for row in &rows {
            assert_eq!(row.get::<i64, _>("s"), expected);
        }
        assert!(
            started.elapsed() > Duration::from_millis(5),
            "the statements must be slow enough for upstream's sends to be apart"
        );
        fewest = fewest.min(wakes);
    }
    assert!(
        fewest <= 2,
        "{fewest} wake-ups at the fewest for one command of five statements"
    );
}

#[tokio::test]
async fn results_and_rows_keep_their_order_across_statements() {
    let mut conn = memory().await;
    let sql = "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2); \
               SELECT x FROM t ORDER BY x; SELECT 3 AS x";
    let items: Vec<_> = conn.fetch_many(sql).try_collect().await.unwrap();
    let seen: Vec<String> = items
        .iter()
        .map(|item| match item {
            Either::Left(done) => format!("done {}", done.rows_affected()),
            Either::Right(row) => format!("row {}", row.get::<i64, _>("x")),
        })
        .collect();
    // A SELECT reports the connection's last change count, as SQLite's `sqlite3_changes` does.
    assert_eq!(
        seen,
        [
            "done 0", "done 2", "row 1", "row 2", "done 2", "row 3", "done 2"
        ]
    );
}

#[tokio::test]
async fn a_stream_longer_than_the_channel_arrives_whole_and_in_order() {
    let mut conn = memory().await;
    // 5,000 rows through a channel of 50 (sqlx's default `row_channel_size`).
    let sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) \
               SELECT i FROM c";
    let rows: Vec<i64> = conn
        .fetch(sql)
        .map_ok(|row| row.get::<i64, _>("i"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows, (1..=5000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn a_failing_statement_ends_the_command_with_its_error() {
    let mut conn = memory().await;
    let sql = "CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1); \
               INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)";
    let mut items = conn.fetch_many(sql);
    let mut done = Vec::new();
    let error = loop {
        match items.next().await {
            Some(Ok(Either::Left(result))) => done.push(result.rows_affected()),
            Some(Ok(Either::Right(_))) => panic!("no statement here returns rows"),
            Some(Err(error)) => break error,
            None => panic!("the duplicate must fail the command"),
        }
    };
    assert_eq!(done, [0, 1], "the statements before the failing one report");
    assert!(error.to_string().contains("UNIQUE"), "{error}");
    assert!(items.next().await.is_none(), "nothing after the error");
    drop(items);
    // The statement after the failing one never ran, and the connection carries on.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_stream_dropped_early_leaves_the_connection_usable() {
    let mut conn = memory().await;
    let sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c \
               WHERE i < 1000000) SELECT i FROM c";
    let first: Vec<i64> = conn
        .fetch(sql)
        .take(5)
        .map_ok(|row| row.get::<i64, _>("i"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first, [1, 2, 3, 4, 5]);
    let answer: i64 = tokio::time::timeout(
        Duration::from_secs(30),
        sqlx::query_scalar("SELECT 42").fetch_one(&mut conn),
    )
    .await
    .expect("the connection thread stops a command whose reader is gone")
    .unwrap();
    assert_eq!(answer, 42);
}
