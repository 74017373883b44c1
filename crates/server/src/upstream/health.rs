//! Whether the upstream can be reached (SPEC §10): a TCP connect every 2 s in the background;
//! `/healthz` is 200 while one succeeded within the last 10 s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often the probe connects.
pub(crate) const INTERVAL: Duration = Duration::from_secs(2);
/// How long a successful connect counts.
pub(crate) const FRESH: Duration = Duration::from_secs(10);

/// The time of the last successful connect, as milliseconds since `epoch` plus one (0: never).
#[derive(Debug)]
pub(crate) struct Health {
    epoch: Instant,
    last_ok: AtomicU64,
}

impl Health {
    pub(crate) fn new() -> Health {
        Health {
            epoch: Instant::now(),
            last_ok: AtomicU64::new(0),
        }
    }

    fn record_ok(&self) {
        let millis = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_ok.store(millis + 1, Ordering::Relaxed);
    }

    /// Whether a connect succeeded within [`FRESH`].
    pub(crate) fn is_fresh(&self) -> bool {
        match self.last_ok.load(Ordering::Relaxed) {
            0 => false,
            stamp => {
                let at = self.epoch + Duration::from_millis(stamp - 1);
                at.elapsed() <= FRESH
            }
        }
    }
}

/// Connects to `host:port` every [`INTERVAL`] until `health` is dropped. Each try resolves
/// the name again (a NetServer behind DNS may move) and may take at most the interval.
pub(crate) async fn probe(health: Weak<Health>, host: String, port: u16) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(health) = health.upgrade() else {
            return;
        };
        let connect = tokio::net::TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(INTERVAL, connect).await {
            Ok(Ok(_stream)) => health.record_ok(),
            Ok(Err(e)) => tracing::debug!(error = %e, "upstream health probe: no connection"),
            Err(_) => tracing::debug!("upstream health probe: connect timed out"),
        }
        drop::<Arc<Health>>(health);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_stale_until_a_connect_succeeds() {
        let health = Health::new();
        assert!(!health.is_fresh());
        health.record_ok();
        assert!(health.is_fresh());
    }

    #[tokio::test]
    async fn the_probe_records_a_listening_port_and_stops_with_its_owner() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let health = Arc::new(Health::new());
        let task = tokio::spawn(probe(Arc::downgrade(&health), "127.0.0.1".into(), port));
        // The first tick is immediate.
        for _ in 0..200 {
            if health.is_fresh() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(health.is_fresh());
        drop(health);
        tokio::time::timeout(INTERVAL * 2, task)
            .await
            .expect("the probe stops once its owner is gone")
            .unwrap();
    }
}
