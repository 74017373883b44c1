//! [`Accounts`]: the facade the server talks to.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SystemClock};
use crate::hashing::HashPool;
use crate::limits::ChangeKey;
use crate::policy::normalize;
use crate::secret::{self, ServerSecret, constant_time_eq};
use crate::store::{
    AuditAction, AuditEvent, AuditOutcome, CredentialKind, PasswordChange, PgStore, SqliteStore,
    Store, from_millis, to_millis,
};
use crate::{Config, Error, Policy, PolicyViolation};

/// Users, their passwords and credentials, on one store.
///
/// Cheap to clone: clones share the store's pool, the hashing threads and the server secret.
/// Every state that matters lives in the store, so several `Accounts` (in one process or in
/// several instances on one PostgreSQL) agree.
#[derive(Clone)]
pub struct Accounts {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: Config,
    pub(crate) backend: Backend,
    pub(crate) hasher: HashPool,
    pub(crate) secret: ServerSecret,
    pub(crate) clock: Arc<dyn Clock>,
    /// Checked against for unknown and disabled users, so they cost what a known one does.
    dummy_hash: String,
}

pub(crate) enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// What a caller presents to prove who it is (SPEC §5).
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// `Authorization: Basic` (RFC 7617 §2): the username is matched case-insensitively, the
    /// password after NFKC normalisation.
    Basic {
        /// The user-id.
        username: &'a str,
        /// The password, as sent.
        password: &'a str,
    },
    /// `SOTicket 7T:...`: the ticket as issued (the `7T:` prefix may be left out).
    Ticket(&'a str),
    /// `Bearer 8A:...`: the token as issued (the `8A:` prefix may be left out).
    Token(&'a str),
    /// The value of the browser session cookie.
    Session(&'a str),
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::Ticket(_) => f.write_str("Ticket(<redacted>)"),
            Credential::Token(_) => f.write_str("Token(<redacted>)"),
            Credential::Session(_) => f.write_str("Session(<redacted>)"),
        }
    }
}

/// How an [`Identity`] was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Via {
    /// A username and password (Basic, or a login that has not become a session yet).
    Password,
    /// A `7T:` ticket.
    Ticket,
    /// An `8A:` token.
    Token,
    /// A browser session cookie.
    Session,
}

impl Via {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Via::Password => "password",
            Via::Ticket => "ticket",
            Via::Token => "token",
            Via::Session => "session",
        }
    }
}

/// An authenticated user.
///
/// Carries, privately, what `change_password` needs: which ticket, token or session it came
/// from (that one survives the change) and, after a password check, the password and the
/// hash it matched, so the same password is not verified twice. `Debug` shows neither.
#[derive(Clone)]
pub struct Identity {
    /// The user's id in the store.
    pub user_id: i64,
    /// The user's name as stored.
    pub username: String,
    /// How the user authenticated.
    pub via: Via,
    pub(crate) credential_id: Option<i64>,
    pub(crate) verified: Option<Verified>,
}

#[derive(Clone)]
pub(crate) struct Verified {
    /// The PHC string the password matched.
    pub(crate) hash: String,
    /// The NFKC form of the password.
    pub(crate) password: String,
    /// Whether the change throttle's wait was read with the check (SPEC §4's 429, by
    /// [`authenticate_for_change`](Accounts::authenticate_for_change)): the request's change
    /// does not read it again.
    pub(crate) change_wait_read: bool,
}

impl Identity {
    /// The ticket, token or session this identity came from.
    pub(crate) fn credential_id(&self) -> Option<i64> {
        self.credential_id
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

/// A session opened by [`Accounts::login`], or renewed by a password change made with it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The value of the session cookie. Only its digest is stored.
    pub cookie: String,
    /// The XSRF token bound to it (see [`Accounts::xsrf_token`]).
    pub xsrf_token: String,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("cookie", &"<redacted>")
            .field("xsrf_token", &"<redacted>")
            .finish()
    }
}

/// How a password change ended, when it ended normally (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The new hash is committed, every other credential of the user revoked, the event
    /// audited.
    Changed {
        /// When the change was made with a browser session: the same session under a new id
        /// (SPEC §6), whose cookie and XSRF token replace the old ones, which no longer work.
        session: Option<NewSession>,
    },
    /// The old password was wrong (this counts toward throttling), or a concurrent change
    /// won (this does not).
    OldPasswordMismatch,
    /// The policy refused the new password.
    Refused(PolicyViolation),
    /// Too many wrong old passwords: no change is accepted before `until`, not even with the
    /// right one.
    Throttled {
        /// How long from now.
        retry_after: Duration,
        /// Until when.
        until: SystemTime,
    },
}

/// One user, as `agentgate user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The name as given when the user was added.
    pub username: String,
    /// A disabled user cannot authenticate.
    pub disabled: bool,
    /// When the password was last set.
    pub changed_at: SystemTime,
}

/// Connects to a SQLite file, migrates it and reads the server secret. Processes that open a
/// new file at the same moment (two `agentgate user add` in a script, a server starting
/// beside one) contend for SQLite's locks while the file is created and switched to WAL, and
/// SQLite may answer `SQLITE_BUSY` at once rather than wait (when waiting could deadlock).
/// Setup is idempotent, so it is tried again, within `acquire_timeout`.
async fn open_sqlite(url: &str, config: &Config) -> Result<(Backend, Vec<u8>), Error> {
    let deadline = std::time::Instant::now() + config.acquire_timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let attempt = async {
            let store = SqliteStore::connect(url, config).await?;
            store.migrate().await?;
            let key = store.server_secret(&secret::new_key()).await?;
            Ok::<_, Error>((Backend::Sqlite(store), key))
        };
        match attempt.await {
            Err(e) if e.is_sqlite_busy() && std::time::Instant::now() + pause < deadline => {
                tracing::debug!(error = %e, "SQLite busy while opening; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            result => return result,
        }
    }
}

impl Accounts {
    /// Opens the store at `database_url`, migrating it, and starts the hashing threads, on
    /// the system clock. See [`open_with_clock`](Accounts::open_with_clock).
    ///
    /// # Errors
    ///
    /// As [`open_with_clock`](Accounts::open_with_clock).
    pub async fn open(database_url: &str, config: Config) -> Result<Accounts, Error> {
        Accounts::open_with_clock(database_url, config, Arc::new(SystemClock)).await
    }

    /// Opens the store at `database_url`, migrating it, and starts the hashing threads;
    /// every time stored or compared (expiry, throttle counts, slots, audit events) comes
    /// from `clock`.
    ///
    /// * `sqlite://path/to/file.db`: the file and its schema are created on first use; WAL
    ///   with `synchronous=FULL`, so a committed change is durable (the throttle counts are
    ///   written with `synchronous=NORMAL`, and flushed by the next commit that is).
    /// * `sqlite::memory:`: a private in-memory database in one connection, for demos.
    /// * `postgres://...` (or `postgresql://`): a shared database.
    ///
    /// The server secret that signs XSRF tokens is created on first use and kept in the
    /// store, so instances on one database accept each other's tokens. The kinds of stored
    /// hashes are read and measured, so password checks can be padded to the dearest (see
    /// [`authenticate`](Accounts::authenticate)), and read again every
    /// `config.hash_kinds_refresh` while the `Accounts` lives.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDatabaseUrl`] for another scheme or an unparsable URL,
    /// [`Error::Unavailable`] when the store cannot be reached within
    /// `config.acquire_timeout`, [`Error::Store`] when a migration fails, [`Error::Hash`]
    /// for invalid Argon2 parameters.
    pub async fn open_with_clock(
        database_url: &str,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Accounts, Error> {
        // First, so invalid Argon2 parameters are refused before a database is created.
        let hasher = HashPool::new(config.hash, config.hashing_threads, config.hashing_queue)?;
        let (backend, key) = if database_url.starts_with("sqlite:") {
            open_sqlite(database_url, &config).await?
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            let store = PgStore::connect(database_url, &config).await?;
            store.migrate().await?;
            let key = store.server_secret(&secret::new_key()).await?;
            (Backend::Postgres(store), key)
        } else {
            let scheme = database_url.split(':').next().unwrap_or_default();
            return Err(Error::InvalidDatabaseUrl(format!(
                "unsupported scheme {scheme:?}: expected sqlite: or postgres:"
            )));
        };
        let dummy_hash = hasher.hash(secret::random_credential("")).await?;
        let accounts = Accounts {
            inner: Arc::new(Inner {
                config,
                backend,
                hasher,
                secret: ServerSecret::new(key),
                clock,
                dummy_hash,
            }),
        };
        accounts.refresh_hash_kinds().await?;
        accounts.keep_hash_kinds_fresh();
        Ok(accounts)
    }

    /// Reads the kinds of stored hashes and measures the new ones.
    async fn refresh_hash_kinds(&self) -> Result<(), Error> {
        let kinds = with_store!(self, s => s.hash_kinds().await)?;
        self.inner.hasher.use_kinds(kinds).await
    }

    /// Refreshes the kinds of stored hashes now and then, until the last clone is dropped.
    fn keep_hash_kinds_fresh(&self) {
        let every = self.config().hash_kinds_refresh;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let accounts = Accounts { inner };
                if let Err(e) = accounts.refresh_hash_kinds().await {
                    tracing::warn!(error = %e, "could not read the kinds of stored hashes");
                }
            }
        });
    }

    /// The configuration this was opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The password policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.config.policy
    }

    /// The clock's time, to the millisecond the store keeps, so a state written and read
    /// back compares equal to the one computed.
    pub(crate) fn now(&self) -> SystemTime {
        from_millis(to_millis(self.inner.clock.now()))
    }

    /// The longest of the recent verification times of the dearest kind of hash in use:
    /// about the longest a password check takes now (see
    /// [`authenticate`](Accounts::authenticate)).
    pub fn password_check_time(&self) -> Duration {
        self.inner.hasher.padding_target()
    }

    /// Checks a credential; `address` is the client's, as the server derives it.
    ///
    /// A password (Basic) is checked under the limits of SPEC §5, taken before any hash is
    /// compared (see [`begin_password_check`](Accounts::begin_password_check)): after 10
    /// wrong for one name within 15 minutes, checks for that name wait
    /// ([`Error::Throttled`]); beyond 20 failed checks from one address, checks from there are
    /// spaced 2 s apart. A right password clears the name's count; a stored hash of another
    /// cost than the configured one is then re-hashed.
    ///
    /// Bad credentials, unknown and disabled users all give [`Error::Unauthorized`] after the
    /// same time: an unknown user's password is checked against a dummy hash of the dearest
    /// kind of stored hash, and a check of a cheaper hash is padded to a recent time of that
    /// kind, so neither the answer nor its time tells whether a user exists, whatever Argon2
    /// parameters the stored hashes carry.
    ///
    /// Tickets, tokens and sessions are looked up by digest, at once: they are never
    /// throttled (256 random bits are not guessed).
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`], [`Error::Throttled`], [`Error::Busy`] when the hashing queue
    /// is full, and the store's errors.
    pub async fn authenticate(
        &self,
        credential: Credential<'_>,
        address: Option<IpAddr>,
    ) -> Result<Identity, Error> {
        match credential {
            Credential::Basic { username, password } => {
                self.check_password(username, password, address, None, false)
                    .await
            }
            Credential::Ticket(ticket) => {
                let ticket = with_prefix(TICKET_PREFIX, ticket);
                self.check_bearer(CredentialKind::Ticket, &ticket).await
            }
            Credential::Token(token) => {
                let token = with_prefix(TOKEN_PREFIX, token);
                self.check_bearer(CredentialKind::Token, &token).await
            }
            Credential::Session(cookie) => self.check_bearer(CredentialKind::Session, cookie).await,
        }
    }

    /// [`authenticate`](Accounts::authenticate), then whether this identity's changes wait
    /// ([`change_wait`](Accounts::change_wait) of [`ChangeKey::of`] it): the order of SPEC
    /// §4, where the change throttle's 429 comes after the credentials and before the body
    /// is read. For `Basic`, the wait is read in the transaction that settles the password
    /// check, not in a round trip of its own.
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Accounts::authenticate), and [`Error::Throttled`] with
    /// [`Limit::Change`](crate::Limit::Change) while the identity's changes wait.
    pub async fn authenticate_for_change(
        &self,
        credential: Credential<'_>,
        address: Option<IpAddr>,
    ) -> Result<Identity, Error> {
        if let Credential::Basic { username, password } = credential {
            return self
                .check_password(username, password, address, None, true)
                .await;
        }
        let identity = self.authenticate(credential, address).await?;
        self.change_wait(&ChangeKey::of(&identity)).await?;
        Ok(identity)
    }

    /// Changes the password of `identity`'s user (SPEC §4), in this order:
    ///
    /// 1. The attempt takes its place in the change throttle count of this user and
    ///    credential ([`ChangeKey::of`]), atomically in the store, before any hashing. While
    ///    that count's wait runs: [`ChangeOutcome::Throttled`], even with the right old
    ///    password. Other credentials of the user have counts of their own, so a stolen
    ///    ticket cannot make the owner wait. When `identity` came from a password check with
    ///    this very old password, nothing is compared and no place is taken (the check was
    ///    counted under the guessing limits); the wait still holds, read here unless
    ///    [`authenticate_for_change`](Accounts::authenticate_for_change) read it with that
    ///    check: an identity it gave is for the one change of its request, whose 429 it
    ///    decided before the body was read.
    /// 2. The old password (NFKC) is verified, unless `identity` came from a password check
    ///    with this very password ("verify once, not twice"). A wrong one is
    ///    [`ChangeOutcome::OldPasswordMismatch`] and keeps its place: by default the fifth
    ///    within 15 minutes starts a minute's wait, each further one doubles it, up to an
    ///    hour. Parallel attempts get no more comparisons than serial ones.
    /// 3. The policy: length, unchanged, strength ([`ChangeOutcome::Refused`]; the place is
    ///    given back, the old password was right).
    /// 4. The new password is hashed with the configured cost, so a hash with weaker
    ///    parameters is upgraded. Steps 3 and 4 are one job of the hashing threads: the
    ///    strength check can take tens of milliseconds, which no async worker waits for.
    /// 5. One transaction: the new hash replaces the verified one only if that is still
    ///    stored (else a concurrent change won: `OldPasswordMismatch`, the place given
    ///    back), every other ticket, token and session of the user is revoked (`identity`'s
    ///    own stays; a session stays under a new id), the count is cleared, an audit event
    ///    written.
    ///    [`ChangeOutcome::Changed`] only after the commit.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the user has been removed or disabled since
    /// `identity` was made, [`Error::Busy`] when the hashing queue is full (nothing was
    /// changed), and the store's errors (nothing was changed); the place is given back.
    pub async fn change_password(
        &self,
        identity: &Identity,
        old_password: &str,
        new_password: &str,
        address: Option<IpAddr>,
    ) -> Result<ChangeOutcome, Error> {
        let key = ChangeKey::of(identity);
        let old = normalize(old_password);
        let verified = identity
            .verified
            .as_ref()
            .filter(|verified| constant_time_eq(&verified.password, &old));
        let begun = match verified {
            Some(verified) if verified.change_wait_read => Ok(self.no_places()),
            Some(_) => self.begin_verified_change(&key).await,
            None => self.begin_change(&key).await,
        };
        let attempt = match begun {
            Ok(attempt) => attempt,
            Err(Error::Throttled {
                retry_after, until, ..
            }) => {
                self.change_audit(identity, AuditOutcome::Throttled, address)
                    .await?;
                return Ok(ChangeOutcome::Throttled { retry_after, until });
            }
            Err(e) => return Err(e),
        };

        let verified_hash = match verified {
            Some(verified) => verified.hash.clone(),
            None => {
                let user = match with_store!(self, s => s.user_by_id(identity.user_id).await) {
                    Ok(Some(user)) if !user.disabled => user,
                    Ok(_) => return Err(attempt.give_back_after(Error::Unauthorized).await),
                    Err(e) => return Err(attempt.give_back_after(e).await),
                };
                match self
                    .inner
                    .hasher
                    .verify(old.clone(), user.hash.clone())
                    .await
                {
                    Ok(true) => user.hash,
                    Ok(false) => {
                        attempt.failed();
                        self.change_audit(identity, AuditOutcome::OldPasswordMismatch, address)
                            .await?;
                        return Ok(ChangeOutcome::OldPasswordMismatch);
                    }
                    Err(e) => return Err(attempt.give_back_after(e).await),
                }
            }
        };

        let checked = self
            .hash_new_password(new_password, Some(&old), &identity.username)
            .await;
        let new_hash = match checked {
            Ok(Ok(hash)) => hash,
            Ok(Err(violation)) => {
                attempt.give_back().await?;
                self.change_audit(identity, AuditOutcome::Refused(violation), address)
                    .await?;
                return Ok(ChangeOutcome::Refused(violation));
            }
            Err(e) => return Err(attempt.give_back_after(e).await),
        };
        // A session that changes the password stays open under a new id (SPEC §6): whoever
        // learnt the old id before the change learns nothing that still works.
        let renewed = (identity.via == Via::Session).then(|| secret::random_credential(""));
        let renewed_digest = renewed.as_deref().map(secret::digest);
        let change = PasswordChange {
            user_id: identity.user_id,
            expected_hash: &verified_hash,
            new_hash: &new_hash,
            keep_credential: identity.credential_id,
            renew_digest: renewed_digest.as_ref().map(|d| d.as_slice()),
            throttle_key: key.as_str(),
            audit: self.change_event(identity, AuditOutcome::Changed, address),
        };
        match with_store!(self, s => s.change_password(&change).await) {
            Ok(true) => {
                attempt.cleared_by_store();
                let session = renewed.map(|cookie| NewSession {
                    xsrf_token: self.xsrf_token(&cookie),
                    cookie,
                });
                Ok(ChangeOutcome::Changed { session })
            }
            Ok(false) => {
                // Not counted: the old password was right, another change was faster.
                attempt.give_back().await?;
                self.change_audit(identity, AuditOutcome::LostRace, address)
                    .await?;
                Ok(ChangeOutcome::OldPasswordMismatch)
            }
            Err(e) => Err(attempt.give_back_after(e).await),
        }
    }

    /// Records what a password change made upstream came to (SPEC §10): the store keeps
    /// the audit trail in upstream mode too. There is no local user, so the event names the
    /// user the caller gave (`Basic`, the browser form), or nobody (empty) for a ticket or
    /// token, whose owner only the upstream knows.
    ///
    /// # Errors
    ///
    /// The store's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::store::AuditOutcome;
    /// # use agentgate_accounts::{Accounts, Config};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let accounts = Accounts::open("sqlite::memory:", Config::default()).await?;
    /// let client = Some("192.0.2.7".parse().unwrap());
    /// accounts.audit_upstream_change("alice", AuditOutcome::Changed, client).await?;
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn audit_upstream_change(
        &self,
        username: &str,
        outcome: AuditOutcome,
        address: Option<IpAddr>,
    ) -> Result<(), Error> {
        self.audit(AuditEvent {
            at: self.now(),
            user_id: None,
            username,
            action: AuditAction::ChangePassword,
            outcome,
            client: address,
        })
        .await
    }

    /// Whether the store answers a trivial query within the acquire timeout.
    pub async fn healthy(&self) -> bool {
        let timeout = self.config().acquire_timeout;
        let ping = async { with_store!(self, s => s.ping().await) };
        matches!(tokio::time::timeout(timeout, ping).await, Ok(Ok(())))
    }

    /// Hashing jobs waiting or running, for `/metrics`.
    pub fn hashing_queue_depth(&self) -> usize {
        self.inner.hasher.depth()
    }

    /// Hashing jobs (hashes and verifications, dummy ones included) accepted since
    /// [`open`](Accounts::open), for `/metrics`.
    pub fn hashing_jobs(&self) -> usize {
        self.inner.hasher.jobs()
    }

    /// Time hashing jobs spent queued before a thread took them, summed since
    /// [`open`](Accounts::open); with [`hashing_jobs`](Accounts::hashing_jobs), the mean wait.
    pub fn hashing_wait(&self) -> std::time::Duration {
        self.inner.hasher.waited()
    }

    /// A password check (Basic, login) under the limits of SPEC §5; with `change_wait`, as
    /// [`authenticate_for_change`](Accounts::authenticate_for_change) checks.
    pub(crate) async fn check_password(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
        audited_as: Option<AuditAction>,
        change_wait: bool,
    ) -> Result<Identity, Error> {
        let audit = |outcome, user_id| {
            audited_as.map(|action| AuditEvent {
                at: self.now(),
                user_id,
                username,
                action,
                outcome,
                client: address,
            })
        };
        // The user is read in the transaction that takes the places: one round trip.
        let (attempt, user) = match self.take_password_check(username, address, true).await {
            Ok(taken) => taken,
            Err(e @ Error::Throttled { .. }) => {
                if let Some(event) = audit(AuditOutcome::Throttled, None) {
                    self.audit(event).await?;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };

        let password = normalize(password);
        let user_id = user.as_ref().map(|user| user.id);
        let user = user.filter(|user| !user.disabled);
        let hasher = &self.inner.hasher;
        let checked = match &user {
            Some(user) => hasher.check(password.clone(), user.hash.clone()).await,
            None => {
                let fallback = &self.inner.dummy_hash;
                hasher.check_unknown(password.clone(), fallback).await
            }
        };
        let matched = match checked {
            Ok(matched) => matched && user.is_some(),
            Err(e) => return Err(attempt.give_back_after(e).await),
        };
        let Some(user) = user.filter(|_| matched) else {
            attempt.failed();
            if let Some(event) = audit(AuditOutcome::Unauthorized, user_id) {
                self.audit(event).await?;
            }
            return Err(Error::Unauthorized);
        };
        let waits = if change_wait {
            let key = ChangeKey::password(user.id);
            attempt.succeeded_then_change_wait(&key).await
        } else {
            attempt.succeeded().await
        };
        // A right password is a right password, changes waiting or not: the hash is
        // upgraded all the same.
        let waits = match waits {
            Ok(()) => None,
            Err(e @ Error::Throttled { .. }) => Some(e),
            Err(e) => return Err(e),
        };
        let hash = self.rehash_if_needed(&user.hash, user.id, &password).await;
        if let Some(e) = waits {
            return Err(e);
        }
        Ok(Identity {
            user_id: user.id,
            username: user.username,
            via: Via::Password,
            credential_id: None,
            verified: Some(Verified {
                hash,
                password,
                change_wait_read: change_wait,
            }),
        })
    }

    /// A new password checked against the policy and, if it passes, hashed at the configured
    /// cost: both in one job of the hashing threads, where the strength check's tens of
    /// milliseconds at worst hold up no other request (see [`Policy::check`]). `old` is in
    /// NFKC already; the new password is normalised here, once, for both.
    ///
    /// [`Policy::check`]: crate::Policy::check
    pub(crate) async fn hash_new_password(
        &self,
        new_password: &str,
        old: Option<&str>,
        username: &str,
    ) -> Result<Result<String, PolicyViolation>, Error> {
        let policy = self.policy().clone();
        let old = old.map(str::to_owned);
        let username = username.to_owned();
        self.inner
            .hasher
            .hash_if(normalize(new_password), move |new| {
                policy.check_normalized(new, old.as_deref(), &username)
            })
            .await
    }

    /// After a right password: a stored hash of another cost than the configured one is
    /// replaced by one of the configured cost (if it is still the stored one). Returns the
    /// hash stored now. A failure leaves the old hash, which still verifies.
    async fn rehash_if_needed(&self, stored: &str, user_id: i64, password: &str) -> String {
        if !self.inner.hasher.needs_rehash(stored) {
            return stored.to_owned();
        }
        let rehashed = async {
            let new_hash = self.inner.hasher.hash(password.to_owned()).await?;
            let swapped = with_store!(self, s => s.rehash(user_id, stored, &new_hash).await)?;
            Ok::<_, Error>(swapped.then_some(new_hash))
        };
        match rehashed.await {
            Ok(Some(new_hash)) => new_hash,
            Ok(None) => stored.to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "could not re-hash a password at the configured cost");
                stored.to_owned()
            }
        }
    }

    fn change_event<'a>(
        &self,
        identity: &'a Identity,
        outcome: AuditOutcome,
        address: Option<IpAddr>,
    ) -> AuditEvent<'a> {
        AuditEvent {
            at: self.now(),
            user_id: Some(identity.user_id),
            username: &identity.username,
            action: AuditAction::ChangePassword,
            outcome,
            client: address,
        }
    }

    async fn change_audit(
        &self,
        identity: &Identity,
        outcome: AuditOutcome,
        address: Option<IpAddr>,
    ) -> Result<(), Error> {
        self.audit(self.change_event(identity, outcome, address))
            .await
    }

    pub(crate) async fn audit(&self, event: AuditEvent<'_>) -> Result<(), Error> {
        with_store!(self, s => s.audit(&event).await)
    }
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match self.inner.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("Accounts")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

use crate::credentials::{TICKET_PREFIX, TOKEN_PREFIX};

/// The unique key of a username: NFKC, then Unicode lowercase.
pub(crate) fn username_key(username: &str) -> String {
    normalize(username).to_lowercase()
}

fn with_prefix(prefix: &str, credential: &str) -> String {
    if credential.starts_with(prefix) {
        credential.to_owned()
    } else {
        format!("{prefix}{credential}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_keys_ignore_case_and_width() {
        assert_eq!(username_key("Åsa"), username_key("åSA"));
        assert_eq!(username_key("ＡＬＩＣＥ"), "alice");
    }

    #[test]
    fn prefixes_may_be_left_out() {
        assert_eq!(with_prefix("7T:", "abc"), "7T:abc");
        assert_eq!(with_prefix("7T:", "7T:abc"), "7T:abc");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let identity = Identity {
            user_id: 1,
            username: "alice".into(),
            via: Via::Password,
            credential_id: None,
            verified: Some(Verified {
                hash: "$argon2id$secret-hash".into(),
                password: "hunter22".into(),
                change_wait_read: false,
            }),
        };
        let shown = format!("{identity:?}");
        assert!(
            shown.contains("alice") && !shown.contains("hunter22") && !shown.contains("argon2id"),
            "{shown}"
        );
        let session = NewSession {
            cookie: "c00kie".into(),
            xsrf_token: "t0ken".into(),
        };
        let shown = format!("{session:?}");
        assert!(
            !shown.contains("c00kie") && !shown.contains("t0ken"),
            "{shown}"
        );
        let basic = Credential::Basic {
            username: "alice",
            password: "hunter22",
        };
        assert!(!format!("{basic:?}").contains("hunter22"));
        assert!(!format!("{:?}", Credential::Ticket("7T:abc")).contains("abc"));
    }
}
