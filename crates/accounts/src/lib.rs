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
//! `argon2-rust` 1.1 (MIT; a port of the C reference implementation by the author of
//! `@node-rs/argon2`), with its per-thread arena: each hashing thread keeps one `Hasher`, whose
//! memory the engine wipes after every hash, and which picks its SIMD path (AVX-512, AVX2,
//! SSE2) at run time, so one binary runs at full speed on every x86-64 CPU. Outputs are
//! compared in constant time by the engine. Its `parallel` feature is off: the pool already
//! keeps every core busy with one hash per thread.
//!
//! The candidates side by side, Argon2id at the OWASP cost (m=19456 KiB, t=2, p=1) on both
//! cores of the development machine (an AMD EPYC with AVX-512), three runs of
//! `target/ceiling/release/agentgate-argon2-ceiling 3 2 - - ENGINE` (built by
//! `scripts/bench`), hashes per second:
//!
//! | engine | hashes/s | ms a hash, per thread |
//! |---|---|---|
//! | `argon2-rust` 1.1.0 with its per-thread arena (AVX-512), **used** | 240 to 271 | 7.9 |
//! | `argon2-rust` 1.1.0, memory allocated per hash | 208 to 214 | 9.5 |
//! | RustCrypto `argon2` 0.5.3 (used before issue 17), memory kept per thread | 131 to 144 | 14.8 |
//! | RustCrypto `argon2` 0.6.0 | 118 to 141 | 14.8 |
//! | libargon2 (C, through Python's argon2-cffi 25.1.0, one process per core) | 100 to 103 | 19.9 |
//!
//! A password change costs one hash, plus one verification unless the caller authenticated
//! with that very password (Basic).
//!
//! Stored hashes stay interchangeable: every engine writes and reads standard PHC strings.
//! The unit tests check hashes made here with RustCrypto's verifier and RustCrypto's hashes
//! (every variant and version) here, with equal outputs for equal salts; `tests/interop.rs`
//! checks both directions against libargon2; and `scripts/test` runs the engine's tests again
//! under qemu-user on CPUs without AVX-512 and without AVX2, including RFC 9106's Argon2id
//! test vector. A database written by an earlier version needs no migration.

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
pub use policy::{PolicyViolation, STRENGTH_WINDOW};
pub use username::{RefusedKind, UsernameProblem};
