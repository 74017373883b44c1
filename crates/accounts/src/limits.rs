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
use crate::store::{Store as _, ThrottleState};
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
        let credential = match (identity.via, identity.credential_id()) {
            (Via::Password, _) | (_, None) => "password".to_owned(),
            (via, Some(id)) => format!("{}:{id}", via.as_str()),
        };
        ChangeKey {
            key: format!("change:{}:{credential}", identity.user_id),
            user_id: Some(identity.user_id),
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
/// A check first takes its place in each count it is subject to, in one row-locking
/// transaction in the store ([`Store::update_throttle`](crate::store::Store::update_throttle)),
/// before any hash is compared; a count whose wait runs refuses the place, and the check is
/// refused without hashing. Then the check runs, and its [`Attempt`] is settled:
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
    /// The store's errors; the places not yet settled are then kept.
    pub async fn succeeded(self) -> Result<(), Error> {
        for place in &self.places {
            match place.rule {
                Rule::Escalating(_) => {
                    with_store!(self.accounts, s => s.clear_throttle(&place.key).await)?;
                }
                Rule::Spaced(_) => self.accounts.give_back_place(place).await?,
            }
        }
        Ok(())
    }

    /// The check failed (wrong password, upstream 401 or `false`): every place is kept.
    pub fn failed(self) {}

    /// Nothing was learnt (the hashing queue was full, the store went away, the policy
    /// refused the new password, upstream 400, 403, 429, 502 or 504): every place is
    /// released, and a wait one of them started is undone.
    ///
    /// # Errors
    ///
    /// The store's errors; the places not yet released are then kept.
    pub async fn give_back(self) -> Result<(), Error> {
        for place in &self.places {
            self.accounts.give_back_place(place).await?;
        }
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
        let now = self.now();
        let guess = self
            .take_escalating(
                guess_key(username),
                None,
                self.config().guessing,
                Limit::Guessing,
                now,
            )
            .await?;
        let mut attempt = Attempt {
            accounts: self.clone(),
            places: vec![guess],
        };
        let Some(address) = address else {
            return Ok(attempt);
        };
        match self.take_slot(address, now).await {
            Ok((place, slot)) => {
                attempt.places.push(place);
                if let Slot::At(slot) = slot {
                    self.inner.clock.sleep_until(slot).await;
                }
                Ok(attempt)
            }
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
        let place = self
            .take_escalating(
                key.key.clone(),
                key.user_id,
                self.config().throttle,
                Limit::Change,
                now,
            )
            .await?;
        Ok(Attempt {
            accounts: self.clone(),
            places: vec![place],
        })
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
        match state.and_then(|state| ThrottleConfig::wait(&state, now)) {
            Some((retry_after, until)) => Err(Error::Throttled {
                limit,
                retry_after,
                until,
            }),
            None => Ok(()),
        }
    }

    async fn take_escalating(
        &self,
        key: String,
        user_id: Option<i64>,
        rule: ThrottleConfig,
        limit: Limit,
        now: SystemTime,
    ) -> Result<Place, Error> {
        let (before, after) = with_store!(self, s => {
            s.update_throttle(&key, user_id, |state| rule.take(state, now).ok()).await
        })?;
        self.purge_now_and_then(now).await;
        match after {
            Some(taken) => Ok(Place {
                key,
                user_id,
                rule: Rule::Escalating(rule),
                taken,
            }),
            None => {
                let until = before.locked_until;
                Err(Error::Throttled {
                    limit,
                    retry_after: until.duration_since(now).unwrap_or_default(),
                    until,
                })
            }
        }
    }

    async fn take_slot(&self, address: IpAddr, now: SystemTime) -> Result<(Place, Slot), Error> {
        let rule = self.config().address;
        let key = format!("address:{address}");
        let (before, after) = with_store!(self, s => {
            s.update_throttle(&key, None, |state| rule.take(state, now).ok().map(|(state, _)| state)).await
        })?;
        // The same decision the update made, now with the slot or the wait it called for.
        match (after, rule.take(&before, now)) {
            (Some(taken), Ok((_, slot))) => Ok((
                Place {
                    key,
                    user_id: None,
                    rule: Rule::Spaced(rule),
                    taken,
                },
                slot,
            )),
            (_, decided) => {
                let retry_after = decided.err().unwrap_or(rule.spacing);
                Err(Error::Throttled {
                    limit: Limit::Address,
                    retry_after,
                    until: now + retry_after,
                })
            }
        }
    }

    async fn give_back_place(&self, place: &Place) -> Result<(), Error> {
        with_store!(self, s => {
            s.update_throttle(&place.key, place.user_id, |state| {
                Some(match place.rule {
                    Rule::Escalating(rule) => rule.give_back(state, &place.taken),
                    Rule::Spaced(rule) => rule.give_back(state),
                })
            })
            .await
        })?;
        Ok(())
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
