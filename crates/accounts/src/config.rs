//! Tunables: hashing cost, password policy, throttling, lifetimes and the pool.

use std::time::{Duration, SystemTime};

use crate::store::ThrottleState;

/// Everything [`Accounts`](crate::Accounts) can be tuned with.
///
/// The defaults follow SPEC §4: OWASP's Argon2id parameters, passwords of 8 to 128 code points
/// with a zxcvbn score of at least 2, five wrong old passwords within 15 minutes before a wait
/// of a minute that doubles up to an hour.
///
/// # Examples
///
/// ```
/// use agentgate_accounts::{Config, HashParams};
///
/// let config = Config {
///     hash: HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 },
///     ..Config::default()
/// };
/// assert_eq!(config.policy.min_length, 8);
/// assert_eq!(config.throttle.max_failures, 5);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The Argon2id cost of every new hash.
    pub hash: HashParams,
    /// What a new password must satisfy.
    pub policy: Policy,
    /// Wrong old passwords in `change_password`, per user.
    pub throttle: ThrottleConfig,
    /// Failed authentications (Basic, login, tickets, tokens, sessions), per client address
    /// and per username. These only slow a caller down, they never refuse the right password.
    pub auth_throttle: ThrottleConfig,
    /// Threads that compute Argon2 hashes; the async workers never do.
    pub hashing_threads: usize,
    /// Hashing jobs that may wait beyond the running ones; when full, the call fails with
    /// [`Error::Busy`](crate::Error::Busy).
    pub hashing_queue: usize,
    /// Default lifetime of a `7T:` ticket.
    pub ticket_ttl: Duration,
    /// Default lifetime of an `8A:` token.
    pub token_ttl: Duration,
    /// Lifetime of a browser session.
    pub session_ttl: Duration,
    /// Connections in the store's pool. SQLite uses `min(max_connections, 5)`, and exactly one
    /// for `sqlite::memory:`.
    pub max_connections: u32,
    /// How long a call waits for a connection before failing with
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    pub acquire_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hash: HashParams::default(),
            policy: Policy::default(),
            throttle: ThrottleConfig::default(),
            auth_throttle: ThrottleConfig::AUTHENTICATION,
            hashing_threads: std::thread::available_parallelism().map_or(1, usize::from),
            hashing_queue: 64,
            ticket_ttl: Duration::from_secs(8 * 3600),
            token_ttl: Duration::from_secs(3600),
            session_ttl: Duration::from_secs(8 * 3600),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Argon2id cost parameters (RFC 9106 §3.1).
///
/// The default is OWASP's recommendation: 19 MiB, two passes, one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory size `m` in KiB; at least `8 * parallelism`.
    pub memory_kib: u32,
    /// Number of passes `t`; at least 1.
    pub iterations: u32,
    /// Degree of parallelism `p`; at least 1.
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> HashParams {
        HashParams {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// What a new password must satisfy (SPEC §4).
///
/// Lengths count Unicode code points after NFKC normalisation, the form that is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Fewest code points.
    pub min_length: usize,
    /// Most code points.
    pub max_length: usize,
    /// Lowest acceptable zxcvbn score, 0 to 4.
    pub min_score: u8,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            min_length: 8,
            max_length: 128,
            min_score: 2,
        }
    }
}

/// An escalating delay after repeated failures; never a permanent lock.
///
/// Once `max_failures` failures fall within `window` of each other, the caller waits
/// `first_delay`, doubled for each further failure, at most `max_delay`. The count starts
/// over when `window` passes without a failure after the last wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures tolerated before the first delay.
    pub max_failures: u32,
    /// How long failures are remembered.
    pub window: Duration,
    /// The first delay.
    pub first_delay: Duration,
    /// The cap on the delay.
    pub max_delay: Duration,
}

impl ThrottleConfig {
    /// The default for failed authentications: after 5 failures within 15 minutes, 250 ms
    /// doubling up to 2 s. Short enough that nobody is locked out.
    pub const AUTHENTICATION: ThrottleConfig = ThrottleConfig {
        max_failures: 5,
        window: Duration::from_secs(15 * 60),
        first_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(2),
    };

    /// The delay owed after `failures` failures in a row, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use agentgate_accounts::ThrottleConfig;
    ///
    /// let throttle = ThrottleConfig::default();
    /// assert_eq!(throttle.delay_after(4), None);
    /// assert_eq!(throttle.delay_after(5), Some(Duration::from_secs(60)));
    /// assert_eq!(throttle.delay_after(6), Some(Duration::from_secs(120)));
    /// assert_eq!(throttle.delay_after(50), Some(Duration::from_secs(3600)));
    /// ```
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        if failures < self.max_failures.max(1) {
            return None;
        }
        let doublings = (failures - self.max_failures.max(1)).min(63);
        let factor = 1u64 << doublings;
        let nanos = self
            .first_delay
            .as_nanos()
            .saturating_mul(u128::from(factor));
        let delay = u64::try_from(nanos).map_or(Duration::MAX, Duration::from_nanos);
        Some(delay.min(self.max_delay))
    }

    /// The state after one more failure at `now`.
    ///
    /// The window is measured from the later of the last failure and the end of the last
    /// wait, so a wait longer than the window does not wipe the count and the doubling goes
    /// on up to `max_delay`.
    pub(crate) fn after_failure(&self, state: &ThrottleState, now: SystemTime) -> ThrottleState {
        let failures = if self.is_remembered(state, now) {
            state.failures.saturating_add(1)
        } else {
            1
        };
        let locked_until = match self.delay_after(failures) {
            Some(delay) => now.checked_add(delay).unwrap_or(now),
            None => SystemTime::UNIX_EPOCH,
        };
        ThrottleState {
            failures,
            last_failure: now,
            locked_until,
        }
    }

    /// The delay owed now by a caller with this history: none once the window has passed.
    pub(crate) fn pending_delay(&self, state: &ThrottleState, now: SystemTime) -> Option<Duration> {
        if self.is_remembered(state, now) {
            self.delay_after(state.failures)
        } else {
            None
        }
    }

    fn is_remembered(&self, state: &ThrottleState, now: SystemTime) -> bool {
        let quiet_since = state.last_failure.max(state.locked_until);
        now.duration_since(quiet_since)
            .map_or(true, |quiet| quiet <= self.window)
    }
}

impl Default for ThrottleConfig {
    fn default() -> ThrottleConfig {
        ThrottleConfig {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            first_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_delays_stay_short() {
        let t = ThrottleConfig::AUTHENTICATION;
        assert_eq!(t.delay_after(4), None);
        assert_eq!(t.delay_after(5), Some(Duration::from_millis(250)));
        assert_eq!(t.delay_after(6), Some(Duration::from_millis(500)));
        assert_eq!(t.delay_after(8), Some(Duration::from_secs(2)));
        assert_eq!(t.delay_after(u32::MAX), Some(Duration::from_secs(2)));
    }

    #[test]
    fn the_count_starts_over_after_a_quiet_window() {
        let t = ThrottleConfig::default();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut state = ThrottleState {
            failures: 0,
            last_failure: SystemTime::UNIX_EPOCH,
            locked_until: SystemTime::UNIX_EPOCH,
        };
        for n in 0..5 {
            state = t.after_failure(&state, start + Duration::from_secs(n));
        }
        assert_eq!(state.failures, 5);
        assert_eq!(state.locked_until, start + Duration::from_secs(4 + 60));
        // A failure right after the wait doubles it.
        state = t.after_failure(&state, start + Duration::from_secs(70));
        assert_eq!(state.locked_until, start + Duration::from_secs(70 + 120));
        assert_eq!(
            t.pending_delay(&state, start + Duration::from_secs(71)),
            Some(Duration::from_secs(120))
        );
        // Fifteen quiet minutes after the wait ended, it is forgotten.
        let later = start + Duration::from_secs(190 + 15 * 60 + 1);
        assert_eq!(t.pending_delay(&state, later), None);
        assert_eq!(t.after_failure(&state, later).failures, 1);
    }

    #[test]
    fn change_delays_double_up_to_an_hour() {
        let t = ThrottleConfig::default();
        let minutes: Vec<u64> = (5..13)
            .map(|n| t.delay_after(n).unwrap().as_secs() / 60)
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60]);
    }
}
