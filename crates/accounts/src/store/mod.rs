//! Where accounts live: the [`Store`] trait and its SQLite and PostgreSQL implementations.
//!
//! Everything that matters (users, hashes, credential digests, throttle counts, audit
//! events, the server secret) is in the store, so several instances on one PostgreSQL answer
//! alike. The policy decisions are made by [`Accounts`](crate::Accounts); a store only keeps
//! data and the atomicity each method promises.
//!
//! Each backend is one module of ordinary methods with its SQL written out
//! ([`sqlite`](SqliteStore), [`postgres`](PgStore)); the schema comes from embedded
//! migrations (`migrations/sqlite`, `migrations/postgres`) run by `sqlx::migrate!`.

use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Error, PolicyViolation, UserSummary};

mod migrate;
mod postgres;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A persistent home for accounts.
///
/// Every method is one round of work against the store, and each documents what it does
/// atomically. Errors mean the same everywhere:
///
/// * [`Error::Unavailable`]: the store could not be reached in time (no connection from the
///   pool within the acquire timeout, a refused or broken connection). Nothing was changed,
///   or, for a transaction that failed on commit, nothing that can be observed.
/// * [`Error::Store`]: the store answered with some other error.
///
/// Times are stored with millisecond precision. Methods that take `now` use it as given
/// rather than reading a clock, so callers decide what time it is.
///
/// Credentials are passed as their SHA-256 digests; a store never sees a secret in clear,
/// and must never log what it is given.
pub trait Store: Send + Sync + 'static {
    /// Brings the schema up to date with the embedded migrations (`sqlx::migrate!`), each in
    /// its own transaction together with its record in `_sqlx_migrations`. A database
    /// created before those (its record in `schema_migrations`, version 1) is taken over as
    /// it is. Safe to run from several instances at once and again on every start.
    ///
    /// # Errors
    ///
    /// As described on the trait; a failed migration leaves the previous ones applied.
    fn migrate(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// A cheap round trip, proving the store is reachable.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn ping(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// The server secret: stores `candidate` if there is none yet, then returns the stored
    /// one. Instances racing here all end up with the same secret.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn server_secret(
        &self,
        candidate: &[u8],
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;

    /// Adds a user and returns its id. Ids are never reused.
    ///
    /// # Errors
    ///
    /// [`Error::UserExists`] when `user.username_key` is taken; otherwise as on the trait.
    fn insert_user(&self, user: &NewUser<'_>) -> impl Future<Output = Result<i64, Error>> + Send;

    /// The user whose key (lowercase name) is `username_key`.
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown user is `Ok(None)`.
    fn user_by_key(
        &self,
        username_key: &str,
    ) -> impl Future<Output = Result<Option<UserRecord>, Error>> + Send;

    /// The user with this id.
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown user is `Ok(None)`.
    fn user_by_id(&self, id: i64)
    -> impl Future<Output = Result<Option<UserRecord>, Error>> + Send;

    /// All users, ordered by key.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn list_users(&self) -> impl Future<Output = Result<Vec<UserSummary>, Error>> + Send;

    /// The distinct hash kinds in use: each stored PHC string up to its salt
    /// (`$argon2id$v=19$m=19456,t=2,p=1`), once.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn hash_kinds(&self) -> impl Future<Output = Result<Vec<String>, Error>> + Send;

    /// Sets or clears the disabled flag; `Ok(false)` when there is no such user.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn set_disabled(
        &self,
        username_key: &str,
        disabled: bool,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Removes a user with, atomically, its credentials and the throttle counts that belong
    /// to it (`user_id`); `Ok(false)` when there is no such user. Audit events stay.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn remove_user(&self, username_key: &str) -> impl Future<Output = Result<bool, Error>> + Send;

    /// An operator sets a password, in one transaction: the user's hash is replaced whatever
    /// it was, every credential of the user is deleted, the throttle counts that belong to the
    /// user and the one under `reset.guess_key` are deleted, `reset.audit` is recorded.
    /// `Ok(false)` when there is no such user, and nothing was written.
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was changed.
    fn reset_password(
        &self,
        reset: &PasswordReset<'_>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Replaces a user's hash with `new_hash` only if it still is `expected_hash` (a
    /// compare-and-swap; the password stays the same, only its hash's cost changes).
    /// `Ok(false)` when it was not.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn rehash(
        &self,
        user_id: i64,
        expected_hash: &str,
        new_hash: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Stores a ticket, token or session digest. May drop the user's expired credentials in
    /// passing.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn insert_credential(
        &self,
        credential: &NewCredential<'_>,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// The credential of this kind and digest that has not expired at `now`, with its user
    /// (disabled or not).
    ///
    /// # Errors
    ///
    /// As described on the trait; an unknown, expired or revoked credential is `Ok(None)`.
    fn find_credential(
        &self,
        kind: CredentialKind,
        digest: &[u8],
        now: SystemTime,
    ) -> impl Future<Output = Result<Option<CredentialMatch>, Error>> + Send;

    /// Revokes the credential of this kind and digest; `Ok(false)` when there was none.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn delete_credential(
        &self,
        kind: CredentialKind,
        digest: &[u8],
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// The count under `key`, if any.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn throttle_state(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ThrottleState>, Error>> + Send;

    /// Reads the counts under `counts`' keys ([`ThrottleState::NONE`] for one there is
    /// none of), calls `update` with them in that order and stores what it returns, one
    /// state per count (nothing when it returns `None`), each with its `user_id` as the
    /// count's owner. Returns the states read and the states written. Keys must differ.
    ///
    /// Atomic, in one transaction whatever the number of counts: the rows are held from the
    /// read until the commit (PostgreSQL locks them, in the order of their keys; SQLite
    /// holds the database's write lock), so updates under one key from any number of tasks
    /// and instances queue, and each sees the one before it. This is what lets a check take
    /// its places in its counts before it compares a hash, all or none of them. One read and
    /// one write statement for all the counts: a password check takes and settles its
    /// user's and its address's places in one transaction each.
    ///
    /// When it writes, it also reads the user under the username key `read_user`, in the
    /// same transaction after the write: a password check reads its user with the places
    /// it takes, one round trip fewer where the read rides with the write's command
    /// (SQLite).
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was written.
    fn update_throttles<F>(
        &self,
        counts: &[ThrottleCount<'_>],
        update: F,
        read_user: Option<&str>,
    ) -> impl Future<Output = Result<ThrottleUpdate, Error>> + Send
    where
        F: FnOnce(&[ThrottleState]) -> Option<Vec<ThrottleState>> + Send;

    /// A check's success, in one transaction without a read first: the counts under
    /// `clear` written as [`ThrottleState::NONE`], those under `give_back` one failure less
    /// (not below none; their times unchanged: an address's place given back, as
    /// `SpacingConfig::give_back` does); and, with `read`, the count under that key read
    /// after. The same writes as [`update_throttles`](Store::update_throttles) with those
    /// rules makes, in one round trip where it takes two (SQLite). A key there is no count
    /// of is left alone.
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was written.
    fn settle_success(
        &self,
        clear: &[&str],
        give_back: &[&str],
        read: Option<&str>,
    ) -> impl Future<Output = Result<Option<ThrottleState>, Error>> + Send;

    /// Forgets every count whose last failure and wait both ended before `horizon`.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn purge_throttle(&self, horizon: SystemTime)
    -> impl Future<Output = Result<(), Error>> + Send;

    /// The password change, in one transaction: replaces the user's hash only if it still is
    /// `change.expected_hash` and the user is not disabled (a compare-and-swap), then deletes
    /// every credential of the user except `change.keep_credential`, deletes the throttle
    /// count under `change.throttle_key` and records `change.audit`.
    ///
    /// Returns `Ok(true)` once all of it is committed (durably, on SQLite with
    /// `synchronous=FULL`), `Ok(false)` when the compare failed (a concurrent change won) and
    /// nothing was written. Of several concurrent calls expecting the same hash, at most one
    /// returns `Ok(true)`.
    ///
    /// # Errors
    ///
    /// As described on the trait; on error nothing was changed.
    fn change_password(
        &self,
        change: &PasswordChange<'_>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Appends an audit event.
    ///
    /// # Errors
    ///
    /// As described on the trait.
    fn audit(&self, event: &AuditEvent<'_>) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A user to add.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// The name as given.
    pub username: &'a str,
    /// The unique key: the name, NFKC-normalised and lowercased.
    pub username_key: &'a str,
    /// The PHC string of the password.
    pub hash: &'a str,
    /// When the user was added; also its first `changed_at`.
    pub at: SystemTime,
}

/// A stored user.
#[derive(Clone)]
pub struct UserRecord {
    /// The id, never reused.
    pub id: i64,
    /// The name as given.
    pub username: String,
    /// The PHC string of the password.
    pub hash: String,
    /// A disabled user cannot authenticate.
    pub disabled: bool,
    /// When the password was last set.
    pub changed_at: SystemTime,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("changed_at", &self.changed_at)
            .finish()
    }
}

/// The three kinds of bearer credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// `7T:` session tickets (`SOTicket`).
    Ticket,
    /// `8A:` access tokens (`Bearer`).
    Token,
    /// Browser session cookies.
    Session,
}

impl CredentialKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Ticket => "ticket",
            CredentialKind::Token => "token",
            CredentialKind::Session => "session",
        }
    }
}

/// A credential to store.
#[derive(Debug, Clone, Copy)]
pub struct NewCredential<'a> {
    /// The owner.
    pub user_id: i64,
    /// Ticket, token or session.
    pub kind: CredentialKind,
    /// SHA-256 of the credential.
    pub digest: &'a [u8],
    /// When it was issued.
    pub created_at: SystemTime,
    /// When it stops working.
    pub expires_at: SystemTime,
}

/// A live credential and its user.
#[derive(Debug, Clone)]
pub struct CredentialMatch {
    /// The credential's id.
    pub credential_id: i64,
    /// Its owner.
    pub user: UserRecord,
}

/// A count of failures under one key, with the wait it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Places held in the current window: failures, and checks not settled yet.
    pub failures: u32,
    /// When the latest place was taken.
    pub last_failure: SystemTime,
    /// Until when the caller has to wait (for a spaced count: the latest slot handed out);
    /// the epoch when not at all.
    pub locked_until: SystemTime,
}

impl ThrottleState {
    /// No history.
    pub const NONE: ThrottleState = ThrottleState {
        failures: 0,
        last_failure: UNIX_EPOCH,
        locked_until: UNIX_EPOCH,
    };
}

/// One count of [`Store::update_throttles`]: its key, and the user it belongs to, if any
/// (removed with the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleCount<'a> {
    /// The count's key.
    pub key: &'a str,
    /// The user it belongs to.
    pub user_id: Option<i64>,
}

/// What [`Store::update_throttles`] read, and what it wrote.
#[derive(Clone, Default)]
pub struct ThrottleUpdate {
    /// The counts' states before.
    pub before: Vec<ThrottleState>,
    /// The states written, `None` when nothing was.
    pub after: Option<Vec<ThrottleState>>,
    /// The user under `read_user`, when it was asked for, exists and the update wrote.
    pub user: Option<UserRecord>,
}

/// The read of [`Store::update_throttles`] for `n` counts, bound as (key, user id) each: a
/// write first (a row that exists is written unchanged), which locks the rows until commit.
pub(crate) fn throttle_read_sql(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("(${}, 0, 0, 0, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    format!(
        "INSERT INTO throttle (throttle_key, failures, last_failure, locked_until, user_id) \
         VALUES {} ON CONFLICT (throttle_key) DO UPDATE SET failures = throttle.failures \
         RETURNING throttle_key, failures, last_failure, locked_until",
        rows.join(", ")
    )
}

/// The write of [`Store::update_throttles`] for `n` counts, bound as (key, failures, last
/// failure, locked until, user id) each. `typed` casts the parameters for PostgreSQL, which
/// cannot infer types inside `VALUES`.
pub(crate) fn throttle_write_sql(n: usize, typed: bool) -> String {
    let (text, int) = if typed {
        ("::text", "::bigint")
    } else {
        ("", "")
    };
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let p = 5 * i;
            format!(
                "(${}{text}, ${}{int}, ${}{int}, ${}{int}, ${}{int})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            )
        })
        .collect();
    format!(
        "WITH v (k, f, l, u, o) AS (VALUES {}) \
         UPDATE throttle SET failures = v.f, last_failure = v.l, locked_until = v.u, \
         user_id = COALESCE(v.o, throttle.user_id) FROM v WHERE throttle.throttle_key = v.k",
        rows.join(", ")
    )
}

/// `counts` in the order of their keys: the order rows are locked in, the same in every
/// transaction, so two never wait on each other.
pub(crate) fn in_key_order<'a>(counts: &[ThrottleCount<'a>]) -> Vec<ThrottleCount<'a>> {
    let mut ordered = counts.to_vec();
    ordered.sort_by_key(|count| count.key);
    ordered
}

/// The states read, in the order of `counts`, from the (key, state) pairs the read returned.
pub(crate) fn in_count_order(
    counts: &[ThrottleCount<'_>],
    read: &[(String, ThrottleState)],
) -> Result<Vec<ThrottleState>, Error> {
    counts
        .iter()
        .map(|count| {
            read.iter()
                .find(|(key, _)| key == count.key)
                .map(|(_, state)| *state)
                .ok_or_else(|| Error::from_sqlx(sqlx::Error::RowNotFound))
        })
        .collect()
}

/// What an audit event records as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// `user-add`: an operator added a user.
    UserAdd,
    /// `user-disable`: an operator disabled or enabled a user.
    UserDisable,
    /// `user-remove`: an operator removed a user.
    UserRemove,
    /// `user-passwd`: an operator set a user's password.
    UserPasswd,
    /// `ticket-issue`: a ticket was issued.
    TicketIssue,
    /// `token-issue`: a token was issued.
    TokenIssue,
    /// `login`: a browser login.
    Login,
    /// `change-password`: a user changed (or tried to change) its own password.
    ChangePassword,
}

impl AuditAction {
    /// The name stored in the `action` column.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserAdd => "user-add",
            AuditAction::UserDisable => "user-disable",
            AuditAction::UserRemove => "user-remove",
            AuditAction::UserPasswd => "user-passwd",
            AuditAction::TicketIssue => "ticket-issue",
            AuditAction::TokenIssue => "token-issue",
            AuditAction::Login => "login",
            AuditAction::ChangePassword => "change-password",
        }
    }
}

/// How an audited action went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// `added`
    Added,
    /// `disabled`
    Disabled,
    /// `enabled`
    Enabled,
    /// `removed`
    Removed,
    /// `password-set`
    PasswordSet,
    /// `issued`
    Issued,
    /// `session-opened`
    SessionOpened,
    /// `unauthorized`: a wrong password or an unknown user.
    Unauthorized,
    /// `throttled`: refused while a limit made the caller wait.
    Throttled,
    /// `changed`
    Changed,
    /// `old-password-mismatch`
    OldPasswordMismatch,
    /// The policy's reason code, `password-too-short` and so on.
    Refused(PolicyViolation),
    /// `lost-race`: the old password was right, a concurrent change was faster.
    LostRace,
    /// `upstream-refused`: upstream mode, the NetServer answered `false` (SPEC §10).
    UpstreamRefused,
    /// `upstream-no-answer`: upstream mode, no usable answer in time (502, 504): the change
    /// may or may not have been made there.
    UpstreamNoAnswer,
}

impl AuditOutcome {
    /// The name stored in the `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Added => "added",
            AuditOutcome::Disabled => "disabled",
            AuditOutcome::Enabled => "enabled",
            AuditOutcome::Removed => "removed",
            AuditOutcome::PasswordSet => "password-set",
            AuditOutcome::Issued => "issued",
            AuditOutcome::SessionOpened => "session-opened",
            AuditOutcome::Unauthorized => "unauthorized",
            AuditOutcome::Throttled => "throttled",
            AuditOutcome::Changed => "changed",
            AuditOutcome::OldPasswordMismatch => "old-password-mismatch",
            AuditOutcome::Refused(violation) => violation.reason(),
            AuditOutcome::LostRace => "lost-race",
            AuditOutcome::UpstreamRefused => "upstream-refused",
            AuditOutcome::UpstreamNoAnswer => "upstream-no-answer",
        }
    }
}

/// One audit event. Never carries a secret.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    /// When.
    pub at: SystemTime,
    /// Who, when known.
    pub user_id: Option<i64>,
    /// The name the caller gave.
    pub username: &'a str,
    /// What.
    pub action: AuditAction,
    /// How it went.
    pub outcome: AuditOutcome,
    /// From where.
    pub client: Option<IpAddr>,
}

/// What [`Store::change_password`] needs.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// Whose password.
    pub user_id: i64,
    /// The hash the old password was verified against.
    pub expected_hash: &'a str,
    /// The new PHC string.
    pub new_hash: &'a str,
    /// The caller's own ticket, token or session, which stays valid.
    pub keep_credential: Option<i64>,
    /// A new digest for `keep_credential` (a browser session gets a new id with the change).
    pub renew_digest: Option<&'a [u8]>,
    /// The change throttle count to clear: the caller's.
    pub throttle_key: &'a str,
    /// Recorded in the same transaction; its `at` is the new `changed_at`.
    pub audit: AuditEvent<'a>,
}

/// What [`Store::reset_password`] needs.
#[derive(Debug, Clone, Copy)]
pub struct PasswordReset<'a> {
    /// Whose password: the user's key.
    pub username_key: &'a str,
    /// The new PHC string.
    pub new_hash: &'a str,
    /// The guessing count under the user's name, which has no owner.
    pub guess_key: &'a str,
    /// Recorded in the same transaction (its `user_id` filled in); its `at` is the new
    /// `changed_at`.
    pub audit: AuditEvent<'a>,
}

pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// A stored PHC string up to its salt, in SQL both backends read alike: the output and the
/// salt are base64 without padding, so trimming those characters and one `$`, twice, leaves
/// `$argon2id$v=19$m=..,t=..,p=..`.
const HASH_KIND_SQL: &str = "SELECT DISTINCT rtrim(rtrim(rtrim(rtrim(hash, \
     'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), '$'), \
     'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), '$') FROM users";
