//! Users, passwords and credentials for agentgate: everything `ChangeOwnPassword` needs
//! behind the HTTP layer.
//!
//! [`Accounts`] is the one entry point. It keeps users in a [`store`] (an SQLite file by
//! default, PostgreSQL for several instances) and offers:
//!
//! * users with case-insensitively unique names and Argon2id password hashes (PHC strings,
//!   OWASP parameters by default, NFKC-normalised passwords);
//! * authentication by password (Basic), `7T:` ticket, `8A:` token or browser session; an
//!   unknown user answered as a known one with a wrong password, in the same time, whatever
//!   Argon2 parameters the stored hashes carry (every password check is padded to the
//!   dearest kind in use); a hash of another cost re-hashed on the next right password;
//! * guessing limits taken atomically in the store before any hash is compared ([`Attempt`]):
//!   per username for password checks, per client address (checks spaced once an address
//!   has failed too often), per user and credential for the change; usable without local
//!   users, for the upstream mode;
//! * tickets, tokens and sessions of 256 random bits, stored only as SHA-256 digests, expiring
//!   and revocable; XSRF tokens signed with a server secret kept in the store;
//! * the password change of SPEC §4: the change throttle (escalating, shared by all
//!   instances through the store), the [`Policy`], and one transaction that swaps the hash
//!   only if it is still the verified one and revokes the user's other credentials;
//! * usernames checked against RFC 8265's UsernameCaseMapped profile when added;
//! * audit events (who, what, when, from where, outcome; never a secret).
//!
//! Argon2 runs on a bounded pool of dedicated threads, never on the async workers; a full
//! queue is [`Error::Busy`] at once rather than a growing backlog.
//!
//! You will notably *not* find here: HTTP (status codes, headers, cookies' attributes),
//! messages or their translations, content negotiation, or parsing of `Authorization`
//! headers. Those are the server's; this crate answers with [`ChangeOutcome`]s and [`Error`]s
//! and leaves their presentation to it.
//!
//! # Example
//!
//! ```
//! use agentgate_accounts::{Accounts, ChangeOutcome, Config, Credential, HashParams, Via};
//! use agentgate_accounts::PolicyViolation;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Cheap hashing for the example; the default is OWASP's 19 MiB, t=2.
//! let config = Config {
//!     hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 },
//!     ..Config::default()
//! };
//! let accounts = Accounts::open("sqlite::memory:", config).await?;
//! accounts.add_user("Alice", "correct horse battery staple").await?;
//!
//! let ticket = accounts.issue_ticket("alice", None).await?;
//! assert!(ticket.starts_with("7T:"));
//! let client = Some("192.0.2.7".parse().unwrap()); // the caller's address
//! let alice = accounts.authenticate(Credential::Ticket(&ticket), client).await?;
//! assert_eq!((alice.username.as_str(), alice.via), ("Alice", Via::Ticket));
//!
//! let outcome = accounts.change_password(&alice, "wrong", "Tr0ub4dor&3 kettle", client).await?;
//! assert_eq!(outcome, ChangeOutcome::OldPasswordMismatch);
//! let outcome = accounts.change_password(&alice, "correct horse battery staple", "short", client).await?;
//! assert_eq!(outcome, ChangeOutcome::Refused(PolicyViolation::TooShort { min: 8 }));
//! let outcome = accounts
//!     .change_password(&alice, "correct horse battery staple", "Tr0ub4dor&3 kettle", client)
//!     .await?;
//! assert_eq!(outcome, ChangeOutcome::Changed { session: None });
//!
//! let basic = Credential::Basic { username: "ALICE", password: "Tr0ub4dor&3 kettle" };
//! assert_eq!(accounts.authenticate(basic, client).await?.via, Via::Password);
//! # Ok::<_, agentgate_accounts::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Choice of Argon2 implementation
//!
//! RustCrypto's `argon2` 0.5 (pure Rust; outputs compared in constant time by
//! `password-hash`). Measured on the development machine (2 shared cores of a Xeon at
//! 2.5 GHz), release build, OWASP parameters (m=19456 KiB, t=2, p=1): about 45 ms a hash and
//! 38 ms a verification at best, 55 to 68 ms while the machine ran other builds (load average
//! 8). Reproduce with
//! `AGENTGATE_MEASURE=1 cargo test --release -p agentgate-accounts --lib -- --nocapture owasp`.
//! A password change costs one hash, plus one verification unless the caller authenticated
//! with that very password (Basic).
//!
//! The SIMD port `argon2-rust`, reported about twice as fast in issue 4, was not evaluated:
//! it is not in the workspace's dependency set. Both write standard PHC strings; the test
//! suite checks ours against a freshly built `argon2::Argon2::default()` and verifies (then
//! upgrades) a foreign, weaker PHC string, which is what keeps stored hashes portable.

/// Runs `$body` with `$store` bound to whichever [`store::Store`] the accounts' backend
/// holds: the one place that dispatches between SQLite and PostgreSQL.
macro_rules! with_store {
    ($accounts:expr, $store:ident => $body:expr) => {
        match &$accounts.inner.backend {
            $crate::accounts::Backend::Sqlite($store) => $body,
            $crate::accounts::Backend::Postgres($store) => $body,
        }
    };
}

mod accounts;
mod clock;
mod config;
mod credentials;
mod error;
mod hashing;
mod limits;
mod policy;
mod secret;
pub mod store;
mod username;
mod users;

pub use accounts::{Accounts, ChangeOutcome, Credential, Identity, NewSession, UserSummary, Via};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, HashParams, Policy, SpacingConfig, ThrottleConfig};
pub use error::Error;
pub use limits::{Attempt, ChangeKey, Limit};
pub use policy::PolicyViolation;
pub use username::{RefusedKind, UsernameProblem};
