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
    /// Wrong old passwords in `change_password`, per user and credential (SPEC §4): 5
    /// within 15 minutes, then a wait of a minute doubling up to an hour.
    pub throttle: ThrottleConfig,
    /// Wrong passwords at Basic and login, per username, known or not (SPEC §5): 10 within
    /// 15 minutes, then password checks for that name wait a minute, doubling up to 15
    /// minutes. Tickets, tokens and sessions are never counted or held up by it.
    pub guessing: ThrottleConfig,
    /// Failed password checks per client address (SPEC §5): beyond 20 within 15 minutes,
    /// every password check from that address takes the next slot 2 s after the one before
    /// and waits for it; a slot more than 30 s away is refused.
    pub address: SpacingConfig,
    /// The longest lifetime `issue_ticket` and `issue_token` accept: 30 days (SPEC §8).
    pub max_credential_ttl: Duration,
    /// How often the kinds of stored hashes (their Argon2 parameters) are read again, so the
    /// padding of password checks keeps up with hashes other instances or the command line
    /// wrote: 5 minutes.
    pub hash_kinds_refresh: Duration,
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
    /// Whether every commit is on disk before it returns: SQLite `synchronous=FULL`,
    /// PostgreSQL `synchronous_commit=on` (the default). Turned off, SQLite runs
    /// `synchronous=NORMAL` (in WAL mode still consistent after any crash, but a power cut
    /// may lose the last commits) and PostgreSQL `synchronous_commit=off`; transactions stay
    /// atomic and isolated either way. Local users need it on: a changed password is only
    /// reported once its hash is durable (SPEC §4). A store that keeps only throttle counts,
    /// audit events and the XSRF secret (upstream mode, SPEC §10) may turn it off: each of its
    /// checks commits several times, and a flush per commit is most of what they cost.
    pub durable_commits: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hash: HashParams::default(),
            policy: Policy::default(),
            throttle: ThrottleConfig::default(),
            guessing: ThrottleConfig::GUESSING,
            address: SpacingConfig::default(),
            max_credential_ttl: Duration::from_secs(30 * 86_400),
            hash_kinds_refresh: Duration::from_secs(5 * 60),
            hashing_threads: std::thread::available_parallelism().map_or(1, usize::from),
            hashing_queue: 64,
            ticket_ttl: Duration::from_secs(8 * 3600),
            token_ttl: Duration::from_secs(3600),
            session_ttl: Duration::from_secs(8 * 3600),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            durable_commits: true,
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

/// An escalating wait after repeated failures; never a permanent lock.
///
/// Once `max_failures` failures fall within `window` of each other, the caller waits
/// `first_delay`, doubled for each further failure, at most `max_delay`. The count starts
/// over when `window` passes without a failure after the last wait ended.
///
/// A check takes its place in the count before its outcome is known (see
/// [`Attempt`](crate::Attempt)): the place that reaches `max_failures` starts the wait at
/// once, so checks running in parallel get no more tries than checks one after another.
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
    /// The default for guessed passwords per username (SPEC §5): after 10 wrong within 15
    /// minutes, a minute doubling up to 15 minutes.
    pub const GUESSING: ThrottleConfig = ThrottleConfig {
        max_failures: 10,
        window: Duration::from_secs(15 * 60),
        first_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(15 * 60),
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

    /// Takes a place in the count at `now`: the state to store, or, while a wait runs, the
    /// moment it ends. The place that reaches `max_failures` starts the wait at once.
    ///
    /// The window is measured from the later of the last failure and the end of the last
    /// wait, so a wait longer than the window does not wipe the count and the doubling goes
    /// on up to `max_delay`.
    pub(crate) fn take(
        &self,
        state: &ThrottleState,
        now: SystemTime,
    ) -> Result<ThrottleState, SystemTime> {
        if state.locked_until > now {
            return Err(state.locked_until);
        }
        let failures = if self.is_remembered(state, now) {
            state.failures.saturating_add(1)
        } else {
            1
        };
        let locked_until = match self.delay_after(failures) {
            Some(delay) => now.checked_add(delay).unwrap_or(now),
            None => SystemTime::UNIX_EPOCH,
        };
        Ok(ThrottleState {
            failures,
            last_failure: now,
            locked_until,
        })
    }

    /// Gives back a place `taken` earlier: one failure less, and the wait it started undone.
    /// (A place is only taken while no wait runs, so before it there was none.)
    pub(crate) fn give_back(&self, state: &ThrottleState, taken: &ThrottleState) -> ThrottleState {
        let started_the_wait =
            taken.locked_until > SystemTime::UNIX_EPOCH && state.locked_until == taken.locked_until;
        ThrottleState {
            failures: state.failures.saturating_sub(1),
            last_failure: state.last_failure,
            locked_until: if started_the_wait {
                SystemTime::UNIX_EPOCH
            } else {
                state.locked_until
            },
        }
    }

    /// The wait running at `now`, if any: how long, and until when.
    pub(crate) fn wait(state: &ThrottleState, now: SystemTime) -> Option<(Duration, SystemTime)> {
        let left = state.locked_until.duration_since(now).ok()?;
        (!left.is_zero()).then_some((left, state.locked_until))
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

/// Spacing of password checks from one client address (SPEC §5).
///
/// Up to `free_failures` failed checks within `window` cost nothing. Beyond, every check from
/// the address, right or wrong (a fast answer would tell a right password), takes the next
/// free slot, `spacing` after the one before, shared by all instances through the store, and
/// waits for it; a slot more than `horizon` away is refused. Parallel connections get no
/// faster for it: spraying slows to one guess per `spacing`, and an office behind the address
/// keeps working, a little slower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpacingConfig {
    /// Failed checks within `window` before checks are spaced.
    pub free_failures: u32,
    /// How long failures are remembered.
    pub window: Duration,
    /// The time between two slots.
    pub spacing: Duration,
    /// The farthest slot handed out; a check that would wait longer is refused.
    pub horizon: Duration,
}

impl Default for SpacingConfig {
    fn default() -> SpacingConfig {
        SpacingConfig {
            free_failures: 20,
            window: Duration::from_secs(15 * 60),
            spacing: Duration::from_secs(2),
            horizon: Duration::from_secs(30),
        }
    }
}

/// What a check from an address gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Under the limit: go ahead.
    Free,
    /// Wait until then.
    At(SystemTime),
}

impl SpacingConfig {
    /// Takes a place in the address's count at `now`, with a slot once the count is beyond
    /// `free_failures`: the state to store and the slot, or how long to wait before a slot
    /// within `horizon` is free.
    pub(crate) fn take(
        &self,
        state: &ThrottleState,
        now: SystemTime,
    ) -> Result<(ThrottleState, Slot), Duration> {
        let remembered = now
            .duration_since(state.last_failure)
            .map_or(true, |quiet| quiet <= self.window);
        let failures = if remembered { state.failures } else { 0 };
        if failures < self.free_failures {
            let state = ThrottleState {
                failures: failures + 1,
                last_failure: now,
                locked_until: state.locked_until,
            };
            return Ok((state, Slot::Free));
        }
        let slot = state
            .locked_until
            .checked_add(self.spacing)
            .unwrap_or(now)
            .max(now);
        let ahead = slot.duration_since(now).unwrap_or_default();
        if ahead > self.horizon {
            return Err(ahead - self.horizon);
        }
        let state = ThrottleState {
            failures: failures.saturating_add(1),
            last_failure: now,
            locked_until: slot,
        };
        Ok((state, Slot::At(slot)))
    }

    /// Gives back a place: one failure less; the slot stays spent.
    pub(crate) fn give_back(&self, state: &ThrottleState) -> ThrottleState {
        ThrottleState {
            failures: state.failures.saturating_sub(1),
            ..*state
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: SystemTime = SystemTime::UNIX_EPOCH;

    fn at(seconds: u64) -> SystemTime {
        START + Duration::from_secs(1_000_000 + seconds)
    }

    #[test]
    fn guessing_waits_a_minute_doubling_to_a_quarter_hour() {
        let t = ThrottleConfig::GUESSING;
        assert_eq!(t.delay_after(9), None);
        assert_eq!(t.delay_after(10), Some(Duration::from_secs(60)));
        assert_eq!(t.delay_after(11), Some(Duration::from_secs(120)));
        assert_eq!(t.delay_after(u32::MAX), Some(Duration::from_secs(900)));
    }

    #[test]
    fn the_place_that_reaches_the_limit_starts_the_wait() {
        let t = ThrottleConfig::default();
        let mut state = ThrottleState::NONE;
        for n in 0..4 {
            state = t.take(&state, at(n)).unwrap();
            assert_eq!(state.locked_until, SystemTime::UNIX_EPOCH);
        }
        state = t.take(&state, at(4)).unwrap();
        assert_eq!((state.failures, state.locked_until), (5, at(64)));
        assert_eq!(t.take(&state, at(30)), Err(at(64)));
        assert_eq!(
            ThrottleConfig::wait(&state, at(30)),
            Some((Duration::from_secs(34), at(64)))
        );
        // A place right after the wait doubles it.
        state = t.take(&state, at(70)).unwrap();
        assert_eq!(state.locked_until, at(70 + 120));
        // Fifteen quiet minutes after the wait ended, the count starts over.
        let later = at(190 + 15 * 60 + 1);
        assert_eq!(ThrottleConfig::wait(&state, later), None);
        assert_eq!(t.take(&state, later).unwrap().failures, 1);
    }

    #[test]
    fn giving_back_undoes_the_wait_the_place_started() {
        let t = ThrottleConfig::default();
        let mut state = ThrottleState::NONE;
        for n in 0..4 {
            state = t.take(&state, at(n)).unwrap();
        }
        let taken = t.take(&state, at(4)).unwrap();
        let back = t.give_back(&taken, &taken);
        assert_eq!(
            (back.failures, back.locked_until),
            (4, SystemTime::UNIX_EPOCH)
        );
        assert!(t.take(&back, at(5)).is_ok());
        // A place that started no wait leaves a later one alone.
        let early = t.take(&ThrottleState::NONE, at(0)).unwrap();
        let locked = ThrottleState {
            failures: 5,
            last_failure: at(4),
            locked_until: at(64),
        };
        assert_eq!(t.give_back(&locked, &early).locked_until, at(64));
    }

    #[test]
    fn change_delays_double_up_to_an_hour() {
        let t = ThrottleConfig::default();
        let minutes: Vec<u64> = (5..13)
            .map(|n| t.delay_after(n).unwrap().as_secs() / 60)
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn an_address_is_spaced_beyond_its_free_failures_and_refused_past_the_horizon() {
        let s = SpacingConfig::default();
        let mut state = ThrottleState::NONE;
        for _ in 0..20 {
            let (next, slot) = s.take(&state, at(0)).unwrap();
            assert_eq!(slot, Slot::Free);
            state = next;
        }
        let mut slots = Vec::new();
        loop {
            match s.take(&state, at(0)) {
                Ok((next, Slot::At(slot))) => {
                    slots.push(slot.duration_since(at(0)).unwrap().as_secs());
                    state = next;
                }
                Ok((_, Slot::Free)) => panic!("free beyond the limit"),
                Err(retry_after) => {
                    assert_eq!(retry_after, Duration::from_secs(2));
                    break;
                }
            }
        }
        assert_eq!(slots, (0..=15).map(|n| n * 2).collect::<Vec<_>>());
        // A given-back place keeps its slot spent.
        assert_eq!(s.give_back(&state).locked_until, state.locked_until);
        assert_eq!(s.give_back(&state).failures, state.failures - 1);
        // After a quiet window the address is free again.
        let (_, slot) = s.take(&state, at(31 + 15 * 60)).unwrap();
        assert_eq!(slot, Slot::Free);
    }
}
