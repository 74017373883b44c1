//! What the command line accepts (SPEC §8). The option structs are read twice: by clap from
//! flags and `AGENTGATE_*` variables, and by serde from the TOML file, whose keys are the
//! long option names. Each default is written once, here, or taken from the library type
//! that owns it (`Settings`, `agentgate_accounts::Config`); `--help` shows it.

use std::path::PathBuf;

use agentgate_accounts::Config as AccountsConfig;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use super::cidr::{self, Cidr};
use super::values::{HumanDuration, UpstreamUrl, parse_ttl};
use crate::state::Settings;

/// The store when none is named.
pub(crate) const DEFAULT_DATABASE: &str = "sqlite://agentgate.db";

/// agentgate serves SuperOffice's password change, `POST /api/v1/Agents/User/ChangeOwnPassword`,
/// to JSON, XML, SOAP and browser clients alike, from a user store of its own.
///
/// Try it: `agentgate demo`. Run it: `agentgate user add NAME`, then `agentgate serve`.
#[derive(Debug, Parser)]
#[command(name = "agentgate", version)]
#[command(
    after_help = "Every serve option also reads an AGENTGATE_* variable and a key of the \
    --config file: see `agentgate serve --help`."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOptions,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every subcommand takes, before or after its own arguments.
#[derive(Debug, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct GlobalOptions {
    /// The user store: sqlite://FILE (created on first use) or postgres://...
    #[arg(long, global = true, env = "AGENTGATE_DATABASE", value_name = "URL",
          default_value = DEFAULT_DATABASE)]
    pub(crate) database: String,
    /// A TOML file whose keys are the long option names (`strict-accept = true`).
    #[arg(long, global = true, env = "AGENTGATE_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub(crate) config: Option<PathBuf>,
    /// Upstream mode: stand in front of this NetServer WebAPI base URL
    /// (https://crm.example.com/SuperOffice) instead of keeping users; `user`, `ticket` and
    /// `token` then refuse to run.
    #[arg(long, global = true, env = "AGENTGATE_UPSTREAM", value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) upstream: Option<UpstreamUrl>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the gateway.
    Serve(ServeOptions),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Session tickets (`SOTicket 7T:...`).
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Access tokens (`Bearer 8A:...`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Serve an in-memory store with a demo user and print example curl lines.
    Demo(ServeOptions),
}

impl Command {
    /// The subcommand's name as typed, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::User(_) => "user",
            Command::Ticket(_) => "ticket",
            Command::Token(_) => "token",
            Command::Demo(_) => "demo",
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user; the password is prompted for without echo, or read from stdin.
    Add {
        /// The user name (compared case-insensitively).
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password as an operator: every ticket, token and session of the user is
    /// revoked, its throttles cleared, an audit event written. Prompts without echo, or reads
    /// stdin.
    Passwd {
        /// The user name.
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user: every sign-in is refused until enabled again.
    Disable {
        /// The user name.
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user name.
        username: String,
    },
    /// Remove a user with all its tickets, tokens and sessions.
    Remove {
        /// The user name.
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TicketCommand {
    /// Issue a session ticket and print it alone on stdout.
    Issue {
        /// The user name.
        username: String,
        /// Lifetime, at most 30 days: 30s, 15m, 8h, 30d.
        #[arg(long, value_parser = parse_ttl, value_name = "DURATION",
              default_value_t = HumanDuration(AccountsConfig::default().ticket_ttl))]
        ttl: HumanDuration,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue an access token and print it alone on stdout.
    Issue {
        /// The user name.
        username: String,
        /// Lifetime, at most 30 days: 30s, 15m, 1h, 30d.
        #[arg(long, value_parser = parse_ttl, value_name = "DURATION",
              default_value_t = HumanDuration(AccountsConfig::default().token_ttl))]
        ttl: HumanDuration,
    },
    /// Revoke a ticket or token.
    Revoke {
        /// The ticket (7T:...) or token (8A:...); read from stdin when `-`.
        token: String,
    },
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// The `serve` (and `demo`) options. An `Option` here has no default: absent means "not
/// set" (no TLS, no public URL, as many as there are cores).
#[derive(Debug, Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct ServeOptions {
    /// Address to listen on.
    #[arg(
        long,
        env = "AGENTGATE_BIND",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub(crate) bind: String,
    /// Answer 406 when nothing in Accept/Accept-Charset fits (else Web API 2's fallback).
    #[arg(long, env = "AGENTGATE_STRICT_ACCEPT", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true",
          default_value_t = Settings::default().strict_accept)]
    pub(crate) strict_accept: bool,
    /// Behave as SuperOffice Online: the User agent is off unless --enable-user-agent.
    #[arg(long, env = "AGENTGATE_ONLINE", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true",
          default_value_t = Settings::default().online)]
    pub(crate) online: bool,
    /// Turn the User agent on in Online mode.
    #[arg(long, env = "AGENTGATE_ENABLE_USER_AGENT", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true",
          default_value_t = Settings::default().enable_user_agent)]
    pub(crate) enable_user_agent: bool,
    /// Largest request body in bytes.
    #[arg(long, env = "AGENTGATE_BODY_LIMIT", value_name = "BYTES",
          default_value_t = Settings::default().body_limit)]
    pub(crate) body_limit: usize,
    /// Argon2id memory in KiB.
    #[arg(long, env = "AGENTGATE_ARGON2_MEMORY_KIB", value_name = "KIB",
          default_value_t = AccountsConfig::default().hash.memory_kib)]
    pub(crate) argon2_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, env = "AGENTGATE_ARGON2_ITERATIONS", value_name = "N",
          default_value_t = AccountsConfig::default().hash.iterations)]
    pub(crate) argon2_iterations: u32,
    /// Shortest accepted new password in code points.
    #[arg(long, env = "AGENTGATE_MIN_PASSWORD_LENGTH", value_name = "N",
          default_value_t = AccountsConfig::default().policy.min_length)]
    pub(crate) min_password_length: usize,
    /// Language for callers that ask for none we have: en, sv, no, da, de, nl.
    #[arg(long, env = "AGENTGATE_DEFAULT_LANGUAGE", value_name = "LANG",
          default_value = Settings::default().default_language)]
    pub(crate) default_language: String,
    /// Log format.
    #[arg(long, env = "AGENTGATE_LOG_FORMAT", value_name = "FORMAT",
          default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
    /// Hashing threads [default: the number of cores].
    #[arg(long, env = "AGENTGATE_HASHING_THREADS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hashing_threads: Option<usize>,
    /// Hashing jobs that may wait before requests get 503.
    #[arg(long, env = "AGENTGATE_HASHING_QUEUE", value_name = "N",
          default_value_t = AccountsConfig::default().hashing_queue)]
    pub(crate) hashing_queue: usize,
    /// HTTP worker threads [default: the number of cores].
    #[arg(long, env = "AGENTGATE_WORKERS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workers: Option<usize>,
    /// Connections in the user store's pool (SQLite uses at most 5).
    #[arg(long, env = "AGENTGATE_POOL_SIZE", value_name = "N",
          default_value_t = AccountsConfig::default().max_connections)]
    pub(crate) pool_size: u32,
    /// How long a request waits for a store connection before it gets 503.
    #[arg(long, env = "AGENTGATE_STORE_TIMEOUT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().acquire_timeout))]
    pub(crate) store_timeout: HumanDuration,
    /// Public base URL behind a proxy, for addresses the gateway writes (WSDL).
    #[arg(long, env = "AGENTGATE_PUBLIC_URL", value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) public_url: Option<String>,
    /// Networks whose Forwarded and X-Forwarded-* headers are believed, comma-separated
    /// (10.0.0.0/8,::1) [default: none].
    #[arg(
        long,
        env = "AGENTGATE_TRUSTED_PROXIES",
        value_name = "CIDRS",
        value_delimiter = ','
    )]
    #[serde(default, deserialize_with = "cidr::deserialize_list")]
    pub(crate) trusted_proxies: Vec<Cidr>,
    /// Serve /metrics on this address only, not on --bind.
    #[arg(long, env = "AGENTGATE_METRICS_BIND", value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metrics_bind: Option<String>,
    /// PEM certificate chain, leaf first; serve HTTPS (needs --tls-key) and mark cookies Secure.
    #[arg(long, env = "AGENTGATE_TLS_CERT", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "AGENTGATE_TLS_KEY", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Time a client has to send a request's headers, and idle time between keep-alive
    /// requests.
    #[arg(
        long,
        env = "AGENTGATE_HEADER_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s"
    )]
    pub(crate) header_timeout: HumanDuration,
    /// Time from a request's headers until the answer is ready, body upload included; slower
    /// requests get 408 and the connection is closed.
    #[arg(
        long,
        env = "AGENTGATE_REQUEST_TIMEOUT",
        value_name = "DURATION",
        default_value = "30s"
    )]
    pub(crate) request_timeout: HumanDuration,
    /// Open connections allowed from one client address; more get 503 and are closed
    /// (0 turns the limit off).
    #[arg(
        long,
        env = "AGENTGATE_MAX_CONNECTIONS_PER_ADDRESS",
        value_name = "N",
        default_value_t = 64
    )]
    pub(crate) max_connections_per_address: usize,
    /// Wrong old passwords of one user, within --throttle-window, after which that user's
    /// changes wait (429).
    #[arg(long, env = "AGENTGATE_THROTTLE_FAILURES", value_name = "N",
          default_value_t = AccountsConfig::default().throttle.max_failures)]
    pub(crate) throttle_failures: u32,
    /// How long wrong old passwords are remembered.
    #[arg(long, env = "AGENTGATE_THROTTLE_WINDOW", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().throttle.window))]
    pub(crate) throttle_window: HumanDuration,
    /// The first wait; it doubles with each further wrong old password.
    #[arg(long, env = "AGENTGATE_THROTTLE_WAIT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().throttle.first_delay))]
    pub(crate) throttle_wait: HumanDuration,
    /// The longest wait.
    #[arg(long, env = "AGENTGATE_THROTTLE_MAX_WAIT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().throttle.max_delay))]
    pub(crate) throttle_max_wait: HumanDuration,
    /// Wrong passwords for one user name at Basic and /login, within --guess-window, after
    /// which password checks for that name wait (429); tickets, tokens and sessions never do.
    #[arg(long, env = "AGENTGATE_GUESS_FAILURES", value_name = "N",
          default_value_t = AccountsConfig::default().guessing.max_failures)]
    pub(crate) guess_failures: u32,
    /// How long wrong passwords for a user name are remembered.
    #[arg(long, env = "AGENTGATE_GUESS_WINDOW", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().guessing.window))]
    pub(crate) guess_window: HumanDuration,
    /// The first wait of a user name's password checks; it doubles with each further wrong one.
    #[arg(long, env = "AGENTGATE_GUESS_WAIT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().guessing.first_delay))]
    pub(crate) guess_wait: HumanDuration,
    /// The longest wait of a user name's password checks.
    #[arg(long, env = "AGENTGATE_GUESS_MAX_WAIT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().guessing.max_delay))]
    pub(crate) guess_max_wait: HumanDuration,
    /// Failed password checks from one client address, within --address-window, after which
    /// every password check from it is spaced by --address-spacing.
    #[arg(long, env = "AGENTGATE_ADDRESS_FAILURES", value_name = "N",
          default_value_t = AccountsConfig::default().address.free_failures)]
    pub(crate) address_failures: u32,
    /// How long failed password checks from an address are remembered.
    #[arg(long, env = "AGENTGATE_ADDRESS_WINDOW", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().address.window))]
    pub(crate) address_window: HumanDuration,
    /// The time between two password checks from an address past its failures.
    #[arg(long, env = "AGENTGATE_ADDRESS_SPACING", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().address.spacing))]
    pub(crate) address_spacing: HumanDuration,
    /// The longest a spaced check waits for its slot; farther slots are 429.
    #[arg(long, env = "AGENTGATE_ADDRESS_MAX_WAIT", value_name = "DURATION",
          default_value_t = HumanDuration(AccountsConfig::default().address.horizon))]
    pub(crate) address_max_wait: HumanDuration,
    /// Upstream mode: how long the upstream may take to answer before the caller gets 504.
    #[arg(
        long,
        env = "AGENTGATE_UPSTREAM_TIMEOUT",
        value_name = "DURATION",
        default_value = "15s"
    )]
    pub(crate) upstream_timeout: HumanDuration,
    /// Upstream mode: calls in flight at once; the next waits up to 1 s, then gets 503.
    #[arg(
        long,
        env = "AGENTGATE_UPSTREAM_CONNECTIONS",
        value_name = "N",
        default_value_t = 64
    )]
    pub(crate) upstream_connections: usize,
    /// Upstream mode: PEM file of the CA that signed an https upstream's certificate, for a
    /// private CA [default: the system's roots].
    #[arg(long, env = "AGENTGATE_UPSTREAM_CA", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) upstream_ca: Option<PathBuf>,
}

/// The `serve` options as the variables alone set them: `user`, `ticket` and `token` take
/// no `serve` flags but do hash with the configured Argon2 cost.
#[derive(Debug, Parser)]
#[command(name = "agentgate")]
pub(crate) struct ServeFromEnv {
    #[command(flatten)]
    pub(crate) serve: ServeOptions,
}
