//! Guessing limits taken atomically (SPEC §4, §5, §10): the change throttle, the per-user
//! guessing limit and the per-address spacing, one mechanism for all three.
//!
//! See [`Attempt`] for how a check takes and settles its places.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::accounts::{Identity, Via, username_key};
use crate::config::Slot;
use crate::store::{Store as _, ThrottleCount, ThrottleState, ThrottleUpdate, UserRecord};
use crate::{Accounts, Error, SpacingConfig, ThrottleConfig};

/// Which limit made a caller wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Wrong old passwords, per user and credential (SPEC §4).
    Change,
    /// Wrong passwords at Basic and login, per username (SPEC §5).
    Guessing,
    /// Failed password checks from one client address, whose next slot is too far (SPEC §5).
    Address,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Change => "change",
            Limit::Guessing => "guessing",
            Limit::Address => "address",
        })
    }
}

/// Whose change throttle count a change attempt takes its place in: one user and one
/// credential (SPEC §4), so wrong old passwords sent with a stolen ticket do not make the
/// owner's other credentials wait. Basic counts as one credential per user.
///
/// # Examples
///
/// ```
/// use agentgate_accounts::ChangeKey;
///
/// // Upstream mode: no local user, keyed by what the caller sent.
/// let by_name = ChangeKey::username("Alice");
/// assert_eq!(by_name, ChangeKey::username("ALICE"));
/// assert_ne!(ChangeKey::credential("7T:one"), ChangeKey::credential("7T:two"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChangeKey {
    key: String,
    user_id: Option<i64>,
}

impl ChangeKey {
    /// The key of a local identity: its user and the ticket, token or session it came from,
    /// or "password" for Basic.
    pub fn of(identity: &Identity) -> ChangeKey {
        match (identity.via, identity.credential_id()) {
            (Via::Password, _) | (_, None) => ChangeKey::password(identity.user_id),
            (via, Some(id)) => ChangeKey {
                key: format!("change:{}:{}:{id}", identity.user_id, via.as_str()),
                user_id: Some(identity.user_id),
            },
        }
    }

    /// The key of `Basic` changes of user `user_id`.
    pub(crate) fn password(user_id: i64) -> ChangeKey {
        ChangeKey {
            key: format!("change:{user_id}:password"),
            user_id: Some(user_id),
        }
    }

    /// Upstream mode, `Basic` or the browser form: one count per username, compared as
    /// usernames are (NFKC, case-insensitive).
    pub fn username(username: &str) -> ChangeKey {
        ChangeKey {
            key: format!("change:name:{}", username_key(username)),
            user_id: None,
        }
    }

    /// Upstream mode, a ticket or token: one count per credential, kept under the SHA-256
    /// digest of its text as sent (prefix included); the credential itself is never stored.
    pub fn credential(credential: &str) -> ChangeKey {
        let digest = Sha256::digest(credential.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        ChangeKey {
            key: format!("change:digest:{hex}"),
            user_id: None,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.key
    }
}

/// A check that holds its places in the counts it is subject to, until it is settled.
///
/// Made by [`Accounts::begin_password_check`] and [`Accounts::begin_change`].
/// A check first takes its place in each count it is subject to, all in one row-locking
/// transaction in the store ([`Store::update_throttles`](crate::store::Store::update_throttles)),
/// before any hash is compared; a count whose wait runs refuses its place, and the check
/// takes none and is refused without hashing. Then the check runs, and its [`Attempt`] is
/// settled, its places again in one transaction:
///
/// | settled with | the places | when |
/// |---|---|---|
/// | [`succeeded`](Attempt::succeeded) | the user's and credential's counts are cleared; the address's place is given back | right password, change made, upstream `true` |
/// | [`failed`](Attempt::failed) | kept: the place was a failure | wrong password, upstream 401 or `false` |
/// | [`give_back`](Attempt::give_back) | released, and a wait the place started undone | nothing was learnt: hashing queue full, store down, a policy refusal, upstream 400, 403, 429, 502, 504 |
///
/// Since the place that reaches a count's limit starts the wait at once, checks sent in
/// parallel get no more tries than checks sent one after another: 60 wrong old passwords
/// sent at once with one ticket are 5 comparisons and 55 refusals.
///
/// The same API serves upstream mode, where no local user exists: counts are keyed by what
/// the caller presented ([`ChangeKey::username`], [`ChangeKey::credential`], the username of
/// [`Accounts::begin_password_check`]).
///
/// An attempt dropped unsettled keeps its places, as a failure would: a caller that goes
/// away cannot take back a guess whose answer it may have seen.
#[must_use = "settle an attempt with succeeded, failed or give_back; dropped, it counts as failed"]
pub struct Attempt {
    accounts: Accounts,
    places: Vec<Place>,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("places", &self.places.len())
            .finish_non_exhaustive()
    }
}

struct Place {
    key: String,
    user_id: Option<i64>,
    rule: Rule,
    taken: ThrottleState,
}

#[derive(Clone, Copy)]
enum Rule {
    /// A user's or credential's count: cleared by a success.
    Escalating(ThrottleConfig),
    /// An address's count: a success gives its place back, no more.
    Spaced(SpacingConfig),
}

impl Attempt {
    /// The check succeeded (right password, change made, upstream `true`): the user's and
    /// credential's counts are cleared, the address's place is given back.
    ///
    /// # Errors
    ///
    /// The store's errors; the places are then kept.
    pub async fn succeeded(self) -> Result<(), Error> {
        self.settle_success(None).await?;
        Ok(())
    }

    /// As [`succeeded`](Attempt::succeeded), and reads whether changes under `key` wait,
    /// in the same transaction: a `Basic` change's check of SPEC §4 without a round trip
    /// of its own.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Change`] while changes under `key` wait (the
    /// check's places are settled all the same); the store's errors (the places are kept).
    pub(crate) async fn succeeded_then_change_wait(self, key: &ChangeKey) -> Result<(), Error> {
        let count = self.settle_success(Some(&key.key)).await?;
        waiting(count, self.accounts.now(), Limit::Change)
    }

    /// A success's writes, without reading the counts first (one round trip, not two):
    /// a user's or credential's count cleared, an address's one failure less (what
    /// [`SpacingConfig::give_back`] makes of any state); and the count under `read`, read
    /// after.
    async fn settle_success(&self, read: Option<&str>) -> Result<Option<ThrottleState>, Error> {
        if self.places.is_empty() && read.is_none() {
            return Ok(None);
        }
        let (mut clear, mut give_back) = (Vec::new(), Vec::new());
        for place in &self.places {
            match place.rule {
                Rule::Escalating(_) => clear.push(place.key.as_str()),
                Rule::Spaced(_) => give_back.push(place.key.as_str()),
            }
        }
        with_store!(self.accounts, s => s.settle_success(&clear, &give_back, read).await)
    }

    /// The check failed (wrong password, upstream 401 or `false`): every place is kept.
    pub fn failed(self) {}

    /// Nothing was learnt (the hashing queue was full, the store went away, the policy
    /// refused the new password, upstream 400, 403, 429, 502 or 504): every place is
    /// released, and a wait one of them started is undone.
    ///
    /// # Errors
    ///
    /// The store's errors; the places are then kept.
    pub async fn give_back(self) -> Result<(), Error> {
        self.settle(|place, state| match place.rule {
            Rule::Escalating(rule) => rule.give_back(state, &place.taken),
            Rule::Spaced(rule) => rule.give_back(state),
        })
        .await
    }

    /// Writes every place's count as `settled` makes it of the count read, in one
    /// transaction.
    async fn settle(
        &self,
        settled: impl Fn(&Place, &ThrottleState) -> ThrottleState + Copy + Send,
    ) -> Result<(), Error> {
        if self.places.is_empty() {
            return Ok(());
        }
        let counts: Vec<ThrottleCount<'_>> = self.places.iter().map(Place::count).collect();
        let places = &self.places;
        let settle = move |states: &[ThrottleState]| {
            Some(
                places
                    .iter()
                    .zip(states)
                    .map(|(place, state)| settled(place, state))
                    .collect(),
            )
        };
        with_store!(self.accounts, s => s.update_throttles(&counts, settle, None).await)?;
        Ok(())
    }

    /// Gives back after `error` ended the check, and returns `error`: a failure to give back
    /// is logged, not returned in its place.
    pub(crate) async fn give_back_after(self, error: Error) -> Error {
        if let Err(e) = self.give_back().await {
            tracing::warn!(error = %e, "could not give back a throttle place");
        }
        error
    }

    /// The store cleared the counts in the transaction that settled the check (a change).
    pub(crate) fn cleared_by_store(self) {}
}

/// [`Error::Throttled`] under `limit` while the count `state` makes checks wait at `now`.
fn waiting(state: Option<ThrottleState>, now: SystemTime, limit: Limit) -> Result<(), Error> {
    match state.and_then(|state| ThrottleConfig::wait(&state, now)) {
        Some((retry_after, until)) => Err(Error::Throttled {
            limit,
            retry_after,
            until,
        }),
        None => Ok(()),
    }
}

impl Place {
    fn count(&self) -> ThrottleCount<'_> {
        ThrottleCount {
            key: &self.key,
            user_id: self.user_id,
        }
    }
}

impl Accounts {
    /// Takes the places of one password check (`Basic`, a login, the upstream form) before
    /// any hash is compared: one in the guessing count of `username` (known or not: an
    /// unknown name is counted alike, so the limit tells nothing), and, when `address` is
    /// known, one in the address's count, with a slot to wait for once the address is
    /// beyond its free failures (waited for here). Tickets, tokens and sessions never come
    /// here.
    ///
    /// Settle the attempt as the [`Attempt`] table says: [`succeeded`](Attempt::succeeded)
    /// for the right password, [`failed`](Attempt::failed) for a wrong one (or an unknown
    /// user), [`give_back`](Attempt::give_back) when nothing was learnt.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Guessing`] while password checks for `username`
    /// wait (by default after 10 wrong within 15 minutes, a minute doubling to 15), or with
    /// [`Limit::Address`] when the address's next slot is too far away (30 s); nothing was
    /// taken then. The store's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::{Accounts, Config, Error, HashParams, Limit};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let config = Config { hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Config::default() };
    /// let accounts = Accounts::open("sqlite::memory:", config).await?;
    /// // Upstream mode: the upstream answered 401 ten times.
    /// for _ in 0..10 {
    ///     accounts.begin_password_check("alice", None).await?.failed();
    /// }
    /// let refused = accounts.begin_password_check("ALICE", None).await;
    /// assert!(matches!(refused, Err(Error::Throttled { limit: Limit::Guessing, .. })));
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn begin_password_check(
        &self,
        username: &str,
        address: Option<IpAddr>,
    ) -> Result<Attempt, Error> {
        Ok(self.take_password_check(username, address, false).await?.0)
    }

    /// [`begin_password_check`](Accounts::begin_password_check), and with `read_user` the
    /// user under `username` read in the transaction that took the places (or, when the
    /// address's slot was waited for, after the wait).
    pub(crate) async fn take_password_check(
        &self,
        username: &str,
        address: Option<IpAddr>,
        read_user: bool,
    ) -> Result<(Attempt, Option<UserRecord>), Error> {
        let now = self.now();
        let (guessing, spacing) = (self.config().guessing, self.config().address);
        let guess_key = guess_key(username);
        let address_key = address.map(|address| format!("address:{address}"));
        let mut counts = vec![ThrottleCount {
            key: &guess_key,
            user_id: None,
        }];
        if let Some(key) = &address_key {
            counts.push(ThrottleCount { key, user_id: None });
        }
        let take = |states: &[ThrottleState]| {
            let mut taken = vec![guessing.take(&states[0], now).ok()?];
            if let Some(state) = states.get(1) {
                taken.push(spacing.take(state, now).ok()?.0);
            }
            Some(taken)
        };
        let user_key = read_user.then(|| username_key(username));
        let ThrottleUpdate {
            before,
            after,
            user,
        } = with_store!(self, s => s.update_throttles(&counts, take, user_key.as_deref()).await)?;
        self.purge_now_and_then(now).await;
        // The same decisions the update made, now with the wait or the slot they called for.
        if let Err(until) = guessing.take(&before[0], now) {
            return Err(Error::Throttled {
                limit: Limit::Guessing,
                retry_after: until.duration_since(now).unwrap_or_default(),
                until,
            });
        }
        let slot = match before.get(1).map(|state| spacing.take(state, now)) {
            Some(Err(retry_after)) => {
                return Err(Error::Throttled {
                    limit: Limit::Address,
                    retry_after,
                    until: now + retry_after,
                });
            }
            Some(Ok((_, slot))) => slot,
            None => Slot::Free,
        };
        let Some(taken) = after else {
            return Err(Error::from_sqlx(sqlx::Error::RowNotFound));
        };
        let mut places = vec![Place {
            key: guess_key,
            user_id: None,
            rule: Rule::Escalating(guessing),
            taken: taken[0],
        }];
        if let (Some(key), Some(taken)) = (address_key, taken.get(1)) {
            places.push(Place {
                key,
                user_id: None,
                rule: Rule::Spaced(spacing),
                taken: *taken,
            });
        }
        let attempt = Attempt {
            accounts: self.clone(),
            places,
        };
        let Slot::At(slot) = slot else {
            return Ok((attempt, user));
        };
        self.inner.clock.sleep_until(slot).await;
        // The user as it is after the wait: a password changed meanwhile is not checked.
        let Some(key) = user_key else {
            return Ok((attempt, None));
        };
        match with_store!(self, s => s.user_by_key(&key).await) {
            Ok(user) => Ok((attempt, user)),
            Err(e) => Err(attempt.give_back_after(e).await),
        }
    }

    /// Takes the place of one change attempt in the change throttle count under `key`,
    /// before the old password is compared (or, upstream, before the call).
    /// [`change_password`](Accounts::change_password) does this itself; upstream mode calls
    /// it, then settles the attempt by the upstream's answer:
    /// [`succeeded`](Attempt::succeeded) for `true`, [`failed`](Attempt::failed) for 401 and
    /// `false`, [`give_back`](Attempt::give_back) for 400, 403, 429, 502 and 504.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Change`] while changes under `key` wait (by default
    /// after 5 wrong within 15 minutes, a minute doubling to an hour); nothing was taken
    /// then. The store's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::{Accounts, ChangeKey, Config, Error, HashParams, Limit};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let config = Config { hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Config::default() };
    /// let accounts = Accounts::open("sqlite::memory:", config).await?;
    /// let stolen = ChangeKey::credential("7T:stolen");
    /// for _ in 0..5 {
    ///     accounts.begin_change(&stolen).await?.failed(); // upstream said false
    /// }
    /// assert!(matches!(accounts.change_wait(&stolen).await, Err(Error::Throttled { limit: Limit::Change, .. })));
    /// // The owner's other credential is another count.
    /// let owner = ChangeKey::credential("7T:owner");
    /// accounts.change_wait(&owner).await?;
    /// accounts.begin_change(&owner).await?.succeeded().await?;
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn begin_change(&self, key: &ChangeKey) -> Result<Attempt, Error> {
        let now = self.now();
        let rule = self.config().throttle;
        let counts = [ThrottleCount {
            key: &key.key,
            user_id: key.user_id,
        }];
        let take = |states: &[ThrottleState]| Some(vec![rule.take(&states[0], now).ok()?]);
        let ThrottleUpdate { before, after, .. } =
            with_store!(self, s => s.update_throttles(&counts, take, None).await)?;
        self.purge_now_and_then(now).await;
        let Some(taken) = after else {
            let until = before[0].locked_until;
            return Err(Error::Throttled {
                limit: Limit::Change,
                retry_after: until.duration_since(now).unwrap_or_default(),
                until,
            });
        };
        Ok(Attempt {
            accounts: self.clone(),
            places: vec![Place {
                key: key.key.clone(),
                user_id: key.user_id,
                rule: Rule::Escalating(rule),
                taken: taken[0],
            }],
        })
    }

    /// A change that compares no password takes no place in the change throttle count
    /// under `key`: its old password is the one its caller's own password check verified
    /// (`Basic`), under the guessing limits. It still waits while that count's wait runs.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Change`] while changes under `key` wait; the
    /// store's errors.
    pub(crate) async fn begin_verified_change(&self, key: &ChangeKey) -> Result<Attempt, Error> {
        self.change_wait(key).await?;
        Ok(self.no_places())
    }

    /// An attempt that holds no place: a change whose wait was read with its password check.
    pub(crate) fn no_places(&self) -> Attempt {
        Attempt {
            accounts: self.clone(),
            places: Vec::new(),
        }
    }

    /// Whether a change under `key` would have to wait now, without taking a place: for the
    /// order of checks of SPEC §4, where the change throttle's wait (429) comes after the
    /// credentials and before the body is read. [`ChangeKey::of`] gives an identity's key.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Change`] while changes under `key` wait; the
    /// store's errors.
    pub async fn change_wait(&self, key: &ChangeKey) -> Result<(), Error> {
        self.wait(&key.key, Limit::Change).await
    }

    /// Whether password checks for `username` would have to wait now, without taking a
    /// place: upstream mode (SPEC §10) tells a guessing wait (429) before the body is read,
    /// and takes the place with [`begin_password_check`](Accounts::begin_password_check)
    /// only right before the call, once the body and the XSRF token hold.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] with [`Limit::Guessing`] while password checks for `username`
    /// wait; the store's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::{Accounts, Config, Error, HashParams, Limit};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let config = Config { hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Config::default() };
    /// let accounts = Accounts::open("sqlite::memory:", config).await?;
    /// accounts.password_check_wait("alice").await?;
    /// for _ in 0..10 {
    ///     accounts.begin_password_check("alice", None).await?.failed();
    /// }
    /// let waiting = accounts.password_check_wait("Alice").await;
    /// assert!(matches!(waiting, Err(Error::Throttled { limit: Limit::Guessing, .. })));
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn password_check_wait(&self, username: &str) -> Result<(), Error> {
        self.wait(&guess_key(username), Limit::Guessing).await
    }

    async fn wait(&self, key: &str, limit: Limit) -> Result<(), Error> {
        let now = self.now();
        let state = with_store!(self, s => s.throttle_state(key).await)?;
        waiting(state, now, limit)
    }

    /// Now and then, forgets counts nobody can still be waiting on.
    async fn purge_now_and_then(&self, now: SystemTime) {
        if rand::random::<u8>() >= 8 {
            return;
        }
        let config = self.config();
        let horizon = [
            config.throttle.window + config.throttle.max_delay,
            config.guessing.window + config.guessing.max_delay,
            config.address.window + config.address.horizon,
            Duration::from_secs(86_400),
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        let cutoff = now.checked_sub(horizon).unwrap_or(SystemTime::UNIX_EPOCH);
        if let Err(e) = with_store!(self, s => s.purge_throttle(cutoff).await) {
            tracing::debug!(error = %e, "could not purge old throttle counts");
        }
    }
}

/// The guessing count of a username, known or not.
pub(crate) fn guess_key(username: &str) -> String {
    format!("guess:{}", username_key(username))
}
