//! [`Accounts`]: the facade the server talks to.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::hashing::HashPool;
use crate::policy::normalize;
use crate::secret::{self, ServerSecret, constant_time_eq};
use crate::store::{
    AuditEvent, CredentialKind, NewCredential, NewUser, PasswordChange, PgStore, SqliteStore,
    Store, ThrottleState,
};
use crate::{Config, Error, Policy, PolicyViolation};

/// Users, their passwords and credentials, on one store.
///
/// Cheap to clone: clones share the store's pool, the hashing threads and the server secret.
/// Every state that matters lives in the store, so several `Accounts` (in one process or in
/// several instances on one PostgreSQL) agree.
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    backend: Backend,
    hasher: HashPool,
    secret: ServerSecret,
    /// Verified against for unknown and disabled users, so they cost what a known one does.
    dummy_hash: String,
}

enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs `$body` with `$store` bound to whichever store the backend holds.
macro_rules! with_store {
    ($accounts:expr, $store:ident => $body:expr) => {
        match &$accounts.inner.backend {
            Backend::Sqlite($store) => $body,
            Backend::Postgres($store) => $body,
        }
    };
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

/// Who is calling, as far as throttling and auditing care.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The peer address, when known.
    pub address: Option<IpAddr>,
}

/// How an [`Identity`] was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    credential_id: Option<i64>,
    verified: Option<Verified>,
}

#[derive(Clone)]
struct Verified {
    /// The PHC string the password matched.
    hash: String,
    /// The NFKC form of the password.
    password: String,
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

/// A session opened by [`Accounts::login`].
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
    Changed,
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
    /// Opens the store at `database_url`, migrating it, and starts the hashing threads.
    ///
    /// * `sqlite://path/to/file.db`: the file and its schema are created on first use; WAL
    ///   with `synchronous=FULL`, so a committed change is durable.
    /// * `sqlite::memory:`: a private in-memory database in one connection, for demos.
    /// * `postgres://...` (or `postgresql://`): a shared database.
    ///
    /// The server secret that signs XSRF tokens is created on first use and kept in the
    /// store, so instances on one database accept each other's tokens.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDatabaseUrl`] for another scheme or an unparsable URL,
    /// [`Error::Unavailable`] when the store cannot be reached within
    /// `config.acquire_timeout`, [`Error::Store`] when a migration fails, [`Error::Hash`]
    /// for invalid Argon2 parameters.
    pub async fn open(database_url: &str, config: Config) -> Result<Accounts, Error> {
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
        Ok(Accounts {
            inner: Arc::new(Inner {
                config,
                backend,
                hasher,
                secret: ServerSecret::new(key),
                dummy_hash,
            }),
        })
    }

    /// The configuration this was opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The password policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.config.policy
    }

    /// Adds a user with a password the policy accepts.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUsername`], [`Error::Policy`], [`Error::UserExists`] (names are
    /// compared after NFKC and lowercasing), [`Error::Busy`], and the store's errors.
    pub async fn add_user(&self, username: &str, password: &str) -> Result<(), Error> {
        if !valid_username(username) {
            return Err(Error::InvalidUsername);
        }
        self.policy()
            .check(password, None, username)
            .map_err(Error::Policy)?;
        let key = username_key(username);
        let hash = self.inner.hasher.hash(normalize(password)).await?;
        let at = SystemTime::now();
        let new = NewUser {
            username,
            username_key: &key,
            hash: &hash,
            at,
        };
        let user_id = with_store!(self, s => s.insert_user(&new).await)?;
        self.audit(
            at,
            Some(user_id),
            username,
            "user-add",
            "added",
            &Client::default(),
        )
        .await
    }

    /// All users, by name.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, Error> {
        with_store!(self, s => s.list_users().await)
    }

    /// Disables (or enables again) a user. A disabled user's credentials stop working; they
    /// work again when it is enabled, unless they expired meanwhile.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), Error> {
        let key = username_key(username);
        if !with_store!(self, s => s.set_disabled(&key, disabled).await)? {
            return Err(Error::UnknownUser);
        }
        let outcome = if disabled { "disabled" } else { "enabled" };
        self.audit(
            SystemTime::now(),
            None,
            username,
            "user-disable",
            outcome,
            &Client::default(),
        )
        .await
    }

    /// Removes a user with its tickets, tokens and sessions.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn remove_user(&self, username: &str) -> Result<(), Error> {
        let key = username_key(username);
        if !with_store!(self, s => s.remove_user(&key).await)? {
            return Err(Error::UnknownUser);
        }
        self.audit(
            SystemTime::now(),
            None,
            username,
            "user-remove",
            "removed",
            &Client::default(),
        )
        .await
    }

    /// Issues a `7T:` ticket for `SOTicket` authentication, valid for `ttl` or the configured
    /// `ticket_ttl`. Only its SHA-256 digest is stored.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn issue_ticket(
        &self,
        username: &str,
        ttl: Option<Duration>,
    ) -> Result<String, Error> {
        let ttl = ttl.unwrap_or(self.config().ticket_ttl);
        self.issue(CredentialKind::Ticket, TICKET_PREFIX, username, ttl)
            .await
    }

    /// Issues an `8A:` token for `Bearer` authentication, valid for `ttl` or the configured
    /// `token_ttl`. Only its SHA-256 digest is stored.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn issue_token(
        &self,
        username: &str,
        ttl: Option<Duration>,
    ) -> Result<String, Error> {
        let ttl = ttl.unwrap_or(self.config().token_ttl);
        self.issue(CredentialKind::Token, TOKEN_PREFIX, username, ttl)
            .await
    }

    async fn issue(
        &self,
        kind: CredentialKind,
        prefix: &str,
        username: &str,
        ttl: Duration,
    ) -> Result<String, Error> {
        let user = with_store!(self, s => s.user_by_key(&username_key(username)).await)?
            .ok_or(Error::UnknownUser)?;
        let credential = secret::random_credential(prefix);
        let now = SystemTime::now();
        self.store_credential(user.id, kind, &credential, now, ttl)
            .await?;
        let action = match kind {
            CredentialKind::Ticket => "ticket-issue",
            CredentialKind::Token => "token-issue",
            CredentialKind::Session => "login",
        };
        self.audit(
            now,
            Some(user.id),
            &user.username,
            action,
            "issued",
            &Client::default(),
        )
        .await?;
        Ok(credential)
    }

    async fn store_credential(
        &self,
        user_id: i64,
        kind: CredentialKind,
        credential: &str,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), Error> {
        let digest = secret::digest(credential);
        let new = NewCredential {
            user_id,
            kind,
            digest: &digest,
            created_at: now,
            expires_at: now
                .checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400)),
        };
        with_store!(self, s => s.insert_credential(&new).await)
    }

    /// Revokes a ticket (`7T:`) or token (`8A:`); `Ok(false)` when there was no such one.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, Error> {
        let kind = if token.starts_with(TICKET_PREFIX) {
            CredentialKind::Ticket
        } else if token.starts_with(TOKEN_PREFIX) {
            CredentialKind::Token
        } else {
            return Ok(false);
        };
        let digest = secret::digest(token);
        with_store!(self, s => s.delete_credential(kind, &digest).await)
    }

    /// Checks a credential.
    ///
    /// Bad credentials, unknown and disabled users all give [`Error::Unauthorized`] after the
    /// same work: an unknown user's password is verified against a dummy hash made at startup
    /// with the configured cost. Failures are counted per client address and per username in
    /// the store; once they pile up (by default 5 within 15 minutes), every password attempt
    /// from that address or for that name waits a little before it is checked (250 ms
    /// doubling up to 2 s), but the right password is never refused, so a stranger cannot lock
    /// a user out. A ticket, token or session is looked up first and only a failed one waits
    /// (before it is refused): a valid one is answered at once, so colleagues behind the same
    /// NAT address as someone guessing are not slowed down.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`], [`Error::Busy`] when the hashing queue is full, and the
    /// store's errors.
    pub async fn authenticate(
        &self,
        credential: Credential<'_>,
        client: &Client,
    ) -> Result<Identity, Error> {
        match credential {
            Credential::Basic { username, password } => {
                self.check_password(username, password, client, None).await
            }
            Credential::Ticket(ticket) => {
                let ticket = with_prefix(TICKET_PREFIX, ticket);
                self.check_bearer(CredentialKind::Ticket, &ticket, client)
                    .await
            }
            Credential::Token(token) => {
                let token = with_prefix(TOKEN_PREFIX, token);
                self.check_bearer(CredentialKind::Token, &token, client)
                    .await
            }
            Credential::Session(cookie) => {
                self.check_bearer(CredentialKind::Session, cookie, client)
                    .await
            }
        }
    }

    /// Checks a username and password like Basic authentication does, then opens a browser
    /// session valid for `session_ttl`. Only the session's digest is stored.
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Accounts::authenticate).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &Client,
    ) -> Result<NewSession, Error> {
        let identity = self
            .check_password(username, password, client, Some("login"))
            .await?;
        let cookie = secret::random_credential("");
        let now = SystemTime::now();
        let ttl = self.config().session_ttl;
        self.store_credential(identity.user_id, CredentialKind::Session, &cookie, now, ttl)
            .await?;
        self.audit(
            now,
            Some(identity.user_id),
            &identity.username,
            "login",
            "session-opened",
            client,
        )
        .await?;
        Ok(NewSession {
            xsrf_token: self.xsrf_token(&cookie),
            cookie,
        })
    }

    /// Ends a browser session. Ending an unknown one is not an error.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn logout(&self, session_cookie: &str) -> Result<(), Error> {
        let digest = secret::digest(session_cookie);
        with_store!(self, s => s.delete_credential(CredentialKind::Session, &digest).await)?;
        Ok(())
    }

    /// The XSRF token bound to a session: base64url(HMAC-SHA256(server secret, `"xsrf\0"` +
    /// SHA-256(cookie))). Sent in the `XSRF-TOKEN` cookie and echoed back by the page
    /// (signed double-submit); another session's token does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use agentgate_accounts::{Accounts, Config, HashParams};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let config = Config { hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Config::default() };
    /// let accounts = Accounts::open("sqlite::memory:", config).await?;
    /// let token = accounts.xsrf_token("cookie-a");
    /// assert!(accounts.verify_xsrf("cookie-a", &token));
    /// assert!(!accounts.verify_xsrf("cookie-b", &token));
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn xsrf_token(&self, session_cookie: &str) -> String {
        self.inner.secret.xsrf_token(session_cookie)
    }

    /// Checks an XSRF token against the session, in constant time.
    pub fn verify_xsrf(&self, session_cookie: &str, token: &str) -> bool {
        self.inner.secret.verify_xsrf(session_cookie, token)
    }

    /// A token for the login form, before there is a session: a random nonce, `.`, and
    /// HMAC-SHA256(server secret, `"login\0"` + nonce). The server puts it in a cookie and
    /// the form and checks both are equal; this checks it was made here.
    pub fn login_xsrf_token(&self) -> String {
        self.inner.secret.login_xsrf_token()
    }

    /// Checks a login-form token's signature, in constant time.
    pub fn verify_login_xsrf(&self, token: &str) -> bool {
        self.inner.secret.verify_login_xsrf(token)
    }

    /// Changes the password of `identity`'s user (SPEC §4), in this order:
    ///
    /// 1. While the user is throttled: [`ChangeOutcome::Throttled`], before any hashing, even
    ///    with the right old password.
    /// 2. The old password (NFKC) is verified, unless `identity` came from a password check
    ///    with this very password ("verify once, not twice"). A wrong one is
    ///    [`ChangeOutcome::OldPasswordMismatch`] and counts toward throttling, atomically in
    ///    the store; by default the fifth within 15 minutes costs a minute's wait, each
    ///    further one doubles it, up to an hour.
    /// 3. The policy: length, unchanged, strength ([`ChangeOutcome::Refused`]).
    /// 4. The new password is hashed with the configured cost, so a hash with weaker
    ///    parameters is upgraded.
    /// 5. One transaction: the new hash replaces the verified one only if that is still
    ///    stored (else a concurrent change won: `OldPasswordMismatch`), every other ticket,
    ///    token and session of the user is revoked (`identity`'s own stays), the throttle is
    ///    reset, an audit event written. [`ChangeOutcome::Changed`] only after the commit.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the user has been removed or disabled since
    /// `identity` was made, [`Error::Busy`] when the hashing queue is full (nothing was
    /// changed), and the store's errors (nothing was changed).
    pub async fn change_password(
        &self,
        identity: &Identity,
        old_password: &str,
        new_password: &str,
        client: &Client,
    ) -> Result<ChangeOutcome, Error> {
        let now = SystemTime::now();
        let throttle_key = change_throttle_key(identity.user_id);
        let state = with_store!(self, s => s.throttle_state(&throttle_key).await)?;
        let waiting = state.and_then(|state| {
            let retry_after = state.locked_until.duration_since(now).ok()?;
            (!retry_after.is_zero()).then_some((retry_after, state.locked_until))
        });
        if let Some((retry_after, until)) = waiting {
            self.change_audit(identity, now, "throttled", client)
                .await?;
            return Ok(ChangeOutcome::Throttled { retry_after, until });
        }

        let old = normalize(old_password);
        let verified_hash = match &identity.verified {
            Some(verified) if constant_time_eq(&verified.password, &old) => verified.hash.clone(),
            _ => {
                let user = with_store!(self, s => s.user_by_id(identity.user_id).await)?
                    .filter(|user| !user.disabled)
                    .ok_or(Error::Unauthorized)?;
                if !self
                    .inner
                    .hasher
                    .verify(old.clone(), user.hash.clone())
                    .await?
                {
                    let audit = self.change_event(identity, now, "old-password-mismatch", client);
                    let rule = self.config().throttle;
                    with_store!(self, s => s.record_failure(&throttle_key, &rule, now, Some(&audit)).await)?;
                    return Ok(ChangeOutcome::OldPasswordMismatch);
                }
                user.hash
            }
        };

        if let Err(violation) = self
            .policy()
            .check(new_password, Some(&old), &identity.username)
        {
            self.change_audit(identity, now, violation.reason(), client)
                .await?;
            return Ok(ChangeOutcome::Refused(violation));
        }

        let new_hash = self.inner.hasher.hash(normalize(new_password)).await?;
        let at = SystemTime::now();
        let change = PasswordChange {
            user_id: identity.user_id,
            expected_hash: &verified_hash,
            new_hash: &new_hash,
            keep_credential: identity.credential_id,
            throttle_key: &throttle_key,
            audit: self.change_event(identity, at, "changed", client),
        };
        if with_store!(self, s => s.change_password(&change).await)? {
            Ok(ChangeOutcome::Changed)
        } else {
            // Not counted: the old password was right, another change was faster.
            self.change_audit(identity, at, "lost-race", client).await?;
            Ok(ChangeOutcome::OldPasswordMismatch)
        }
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

    async fn check_password(
        &self,
        username: &str,
        password: &str,
        client: &Client,
        audited_as: Option<&str>,
    ) -> Result<Identity, Error> {
        let now = SystemTime::now();
        let key = username_key(username);
        let user_key = format!("auth-user:{key}");
        let address_key = client
            .address
            .map(|address| format!("auth-address:{address}"));
        let user_history = self
            .slow_down(address_key.as_deref(), Some(&user_key), now)
            .await?;

        let password = normalize(password);
        let user = with_store!(self, s => s.user_by_key(&key).await)?;
        let user_id = user.as_ref().map(|user| user.id);
        match user {
            Some(user) if !user.disabled => {
                if self
                    .inner
                    .hasher
                    .verify(password.clone(), user.hash.clone())
                    .await?
                {
                    if user_history {
                        with_store!(self, s => s.reset_throttle(&user_key).await)?;
                    }
                    return Ok(Identity {
                        user_id: user.id,
                        username: user.username,
                        via: Via::Password,
                        credential_id: None,
                        verified: Some(Verified {
                            hash: user.hash,
                            password,
                        }),
                    });
                }
            }
            _ => {
                self.inner
                    .hasher
                    .verify(password, self.inner.dummy_hash.clone())
                    .await?;
            }
        }

        let rule = self.config().auth_throttle;
        let audit = audited_as.map(|action| AuditEvent {
            at: now,
            user_id,
            username,
            action,
            outcome: "unauthorized",
            client: client.address,
        });
        with_store!(self, s => s.record_failure(&user_key, &rule, now, audit.as_ref()).await)?;
        if let Some(address_key) = &address_key {
            with_store!(self, s => s.record_failure(address_key, &rule, now, None).await)?;
        }
        Err(Error::Unauthorized)
    }

    async fn check_bearer(
        &self,
        kind: CredentialKind,
        credential: &str,
        client: &Client,
    ) -> Result<Identity, Error> {
        let now = SystemTime::now();
        let digest = secret::digest(credential);
        let found = with_store!(self, s => s.find_credential(kind, &digest, now).await)?;
        match found {
            Some(found) if !found.user.disabled => Ok(Identity {
                user_id: found.user.id,
                username: found.user.username,
                via: match kind {
                    CredentialKind::Ticket => Via::Ticket,
                    CredentialKind::Token => Via::Token,
                    CredentialKind::Session => Via::Session,
                },
                credential_id: Some(found.credential_id),
                verified: None,
            }),
            _ => {
                // A failure waits what its address's history calls for, then counts. (A
                // valid credential above is not slowed: it is 200 either way, so a fast answer
                // tells a guesser nothing the answer itself does not.)
                let address_key = client
                    .address
                    .map(|address| format!("auth-address:{address}"));
                self.slow_down(address_key.as_deref(), None, now).await?;
                if let Some(address_key) = &address_key {
                    let rule = self.config().auth_throttle;
                    with_store!(self, s => s.record_failure(address_key, &rule, now, None).await)?;
                }
                Err(Error::Unauthorized)
            }
        }
    }

    /// Waits what the failure histories under these keys call for; returns whether the
    /// user key has a history (which a success then clears).
    async fn slow_down(
        &self,
        address_key: Option<&str>,
        user_key: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, Error> {
        let rule = self.config().auth_throttle;
        let mut delay = Duration::ZERO;
        let mut user_history = false;
        for (key, is_user) in [(address_key, false), (user_key, true)] {
            let Some(key) = key else { continue };
            let state = with_store!(self, s => s.throttle_state(key).await)?;
            if let Some(state) = state {
                user_history |= is_user && state != ThrottleState::NONE;
                delay = delay.max(rule.pending_delay(&state, now).unwrap_or_default());
            }
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok(user_history)
    }

    fn change_event<'a>(
        &self,
        identity: &'a Identity,
        at: SystemTime,
        outcome: &'a str,
        client: &Client,
    ) -> AuditEvent<'a> {
        AuditEvent {
            at,
            user_id: Some(identity.user_id),
            username: &identity.username,
            action: "change-password",
            outcome,
            client: client.address,
        }
    }

    async fn change_audit(
        &self,
        identity: &Identity,
        at: SystemTime,
        outcome: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let event = self.change_event(identity, at, outcome, client);
        with_store!(self, s => s.audit(&event).await)
    }

    async fn audit(
        &self,
        at: SystemTime,
        user_id: Option<i64>,
        username: &str,
        action: &str,
        outcome: &str,
        client: &Client,
    ) -> Result<(), Error> {
        let event = AuditEvent {
            at,
            user_id,
            username,
            action,
            outcome,
            client: client.address,
        };
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

const TICKET_PREFIX: &str = "7T:";
const TOKEN_PREFIX: &str = "8A:";

/// The throttle key of wrong old passwords for one user.
pub(crate) fn change_throttle_key(user_id: i64) -> String {
    format!("change:{user_id}")
}

/// The unique key of a username: NFKC, then Unicode lowercase.
pub(crate) fn username_key(username: &str) -> String {
    normalize(username).to_lowercase()
}

fn valid_username(username: &str) -> bool {
    let length = username.chars().count();
    (1..=128).contains(&length) && !username.chars().any(|c| c == ':' || c.is_control())
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
    fn usernames_with_colons_or_controls_are_invalid() {
        assert!(valid_username("alice"));
        assert!(valid_username("Åsa Öberg"));
        assert!(!valid_username(""));
        assert!(!valid_username("a:b"));
        assert!(!valid_username("a\nb"));
        assert!(!valid_username(&"x".repeat(129)));
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
