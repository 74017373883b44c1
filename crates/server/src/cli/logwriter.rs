//! Log lines go to stderr from a thread of their own, in batches: a request's line is
//! formatted on its worker and appended to one shared buffer, and the writes happen
//! elsewhere.
//!
//! The writer thread is woken when a line comes to an empty queue while it sleeps, then
//! lingers [`LINGER`] and writes everything queued in one `write`; lines queued while it
//! lingers or writes wake nobody. `tracing-appender`'s writer, used before, sent every line
//! as an allocation of its own through a channel, and its thread took them one at a time
//! and freed them: per logged 401 its thread cost 0.8 to 1.3 us against 0.33 to 0.42 here
//! (`per_401.sh`, docs/PERFORMANCE.md). The queue is bounded in lines; a line that finds
//! it full is dropped and counted, so a flood cannot grow memory through the log nor slow
//! requests down to the speed of stderr.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer gathers lines after a wake-up before it writes them: the most a line
/// waits in the queue while the writer keeps up.
pub(crate) const LINGER: Duration = Duration::from_millis(10);

/// The queue's handle for the log formatter ([`MakeWriter`]); cheap to clone.
#[derive(Clone)]
pub(crate) struct LogQueue {
    shared: Arc<Shared>,
}

/// Stops the writer thread when dropped, after it has written every queued line.
pub(crate) struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    capacity: usize,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    lines: usize,
    /// The writer waits for a line (not lingering): the next line must wake it.
    asleep: bool,
    closed: bool,
}

impl LogQueue {
    /// A queue of at most `capacity` lines, written to `out` by a thread named `name`.
    pub(crate) fn start(
        capacity: usize,
        name: &str,
        out: impl Write + Send + 'static,
    ) -> std::io::Result<(LogQueue, LogGuard)> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            capacity,
            dropped: AtomicU64::new(0),
        });
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || writer.write_until_closed(out))?;
        Ok((
            LogQueue {
                shared: Arc::clone(&shared),
            },
            LogGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }

    /// Lines dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves whole lines behind: go on with them.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues one formatted line (the formatter writes each whole, in one call).
    fn push(&self, line: &[u8]) {
        let mut queue = self.lock();
        if queue.closed || queue.lines >= self.capacity {
            drop(queue);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        queue.bytes.extend_from_slice(line);
        queue.lines += 1;
        let wake = queue.asleep;
        queue.asleep = false;
        drop(queue);
        if wake {
            self.wake.notify_one();
        }
    }

    fn write_until_closed(&self, mut out: impl Write) {
        let mut batch = Vec::new();
        loop {
            let mut queue = self.lock();
            while queue.lines == 0 && !queue.closed {
                queue.asleep = true;
                queue = self
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if !queue.closed {
                // Gather what comes in meanwhile; a close cuts the wait short.
                queue = self
                    .wake
                    .wait_timeout(queue, LINGER)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut batch, &mut queue.bytes);
            queue.lines = 0;
            let closed = queue.closed;
            drop(queue);
            // Nowhere to report a failed write to but the log itself: the line is lost.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            // Closed: nothing was queued after the swap (a closed queue takes no line).
            if closed {
                return;
            }
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the formatter writes one line to.
pub(crate) struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.shared.push(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogQueue {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// An output the test can read while the writer thread holds it.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut out = self.0.lock().unwrap();
            out.0.extend_from_slice(bytes);
            out.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn line(queue: &LogQueue, text: &str) {
        queue.make_writer().write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn every_line_is_written_in_order_and_all_before_the_guard_is_gone() {
        let out = Output::default();
        let (queue, guard) = LogQueue::start(100_000, "test-log", out.clone()).unwrap();
        let expected: String = (0..50_000).map(|n| format!("line {n}\n")).collect();
        for n in 0..50_000 {
            line(&queue, &format!("line {n}\n"));
        }
        drop(guard);
        let written = out.0.lock().unwrap();
        assert_eq!(String::from_utf8_lossy(&written.0), expected);
        assert_eq!(queue.dropped(), 0);
        // Batches, not a write a line: what came in while the writer lingered went together.
        assert!(written.1 < 1_000, "{} writes for 50,000 lines", written.1);
    }

    #[test]
    fn a_line_is_written_soon_while_the_queue_is_quiet() {
        let out = Output::default();
        let (queue, _guard) = LogQueue::start(16, "test-log", out.clone()).unwrap();
        for n in 0..3 {
            let started = Instant::now();
            line(&queue, &format!("quiet {n}\n"));
            while !String::from_utf8_lossy(&out.0.lock().unwrap().0).contains(&format!("quiet {n}"))
            {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "line {n} not written"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_lines_rather_than_grow() {
        // An output that blocks until told: the writer thread is stuck in its first write.
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        struct Blocked(Arc<(Mutex<bool>, Condvar)>, Output);
        impl Write for Blocked {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                let (open, cv) = &*self.0;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = cv.wait(open).unwrap();
                }
                self.1.write(bytes)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Output::default();
        let (queue, guard) =
            LogQueue::start(10, "test-log", Blocked(Arc::clone(&gate), out.clone())).unwrap();
        line(&queue, "first\n");
        // Wait until the writer took the first line and is stuck writing it.
        let started = Instant::now();
        while queue.shared.lock().lines != 0 {
            assert!(started.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(1));
        }
        for n in 0..25 {
            line(&queue, &format!("more {n}\n"));
        }
        assert_eq!(queue.dropped(), 15, "ten queued, the rest dropped");
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        drop(guard);
        let written = String::from_utf8(out.0.lock().unwrap().0.clone()).unwrap();
        let expected: String = std::iter::once("first\n".to_owned())
            .chain((0..10).map(|n| format!("more {n}\n")))
            .collect();
        assert_eq!(written, expected);
    }
}
