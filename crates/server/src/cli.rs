//! The `agentgate` command line (SPEC §8): options from flags, `AGENTGATE_*` variables and a
//! TOML file, in that order of precedence.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::{App, HttpServer, middleware, web};
use agentgate_accounts::{Accounts, Config as AccountsConfig};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::state::{AppState, Settings};

mod limits;
mod tls;

const DEFAULT_DATABASE: &str = "sqlite://agentgate.db";
const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// agentgate: SuperOffice's ChangeOwnPassword as a content-negotiating HTTP gateway.
#[derive(Debug, Parser)]
#[command(name = "agentgate", version, about, long_about = None)]
pub struct Cli {
    /// The user store: sqlite://FILE (created on first use) or postgres://...
    #[arg(long, global = true, env = "AGENTGATE_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// A TOML file whose keys are the long option names (`strict-accept = true`).
    #[arg(long, global = true, env = "AGENTGATE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gateway.
    Serve(ServeArgs),
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
    Demo(ServeArgs),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is prompted for without echo, or read from stdin.
    Add {
        /// The user name (compared case-insensitively).
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
enum TicketCommand {
    /// Issue a session ticket and print it alone on stdout.
    Issue {
        /// The user name.
        username: String,
        /// Lifetime: 30s, 15m, 8h, 2d.
        #[arg(long, value_parser = parse_duration, default_value = "8h")]
        ttl: Duration,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue an access token and print it alone on stdout.
    Issue {
        /// The user name.
        username: String,
        /// Lifetime: 30s, 15m, 1h, 2d.
        #[arg(long, value_parser = parse_duration, default_value = "1h")]
        ttl: Duration,
    },
    /// Revoke a ticket or token.
    Revoke {
        /// The ticket (7T:...) or token (8A:...); read from stdin when `-`.
        token: String,
    },
}

/// `serve` options. Every one is optional here so that the file can fill what flags and
/// variables leave open; defaults come last.
#[derive(Debug, Args, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "AGENTGATE_BIND", value_name = "ADDR")]
    bind: Option<String>,
    /// Answer 406 when nothing in Accept/Accept-Charset fits (else Web API 2's fallback).
    #[arg(long, env = "AGENTGATE_STRICT_ACCEPT", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    strict_accept: Option<bool>,
    /// Behave as SuperOffice Online: the User agent is off unless --enable-user-agent.
    #[arg(long, env = "AGENTGATE_ONLINE", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    online: Option<bool>,
    /// Turn the User agent on in Online mode.
    #[arg(long, env = "AGENTGATE_ENABLE_USER_AGENT", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    enable_user_agent: Option<bool>,
    /// Largest request body in bytes [default: 65536].
    #[arg(long, env = "AGENTGATE_BODY_LIMIT", value_name = "BYTES")]
    body_limit: Option<usize>,
    /// Argon2id memory in KiB [default: 19456].
    #[arg(long, env = "AGENTGATE_ARGON2_MEMORY_KIB", value_name = "KIB")]
    argon2_memory_kib: Option<u32>,
    /// Argon2id iterations [default: 2].
    #[arg(long, env = "AGENTGATE_ARGON2_ITERATIONS", value_name = "N")]
    argon2_iterations: Option<u32>,
    /// Shortest accepted new password in code points [default: 8].
    #[arg(long, env = "AGENTGATE_MIN_PASSWORD_LENGTH", value_name = "N")]
    min_password_length: Option<usize>,
    /// Language for callers that ask for none we have: en, sv, no, da, de, nl [default: en].
    #[arg(long, env = "AGENTGATE_DEFAULT_LANGUAGE", value_name = "LANG")]
    default_language: Option<String>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "AGENTGATE_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<String>,
    /// Hashing threads [default: the number of cores].
    #[arg(long, env = "AGENTGATE_HASHING_THREADS", value_name = "N")]
    hashing_threads: Option<usize>,
    /// Hashing jobs that may wait before requests get 503 [default: 64].
    #[arg(long, env = "AGENTGATE_HASHING_QUEUE", value_name = "N")]
    hashing_queue: Option<usize>,
    /// HTTP worker threads [default: the number of cores].
    #[arg(long, env = "AGENTGATE_WORKERS", value_name = "N")]
    workers: Option<usize>,
    /// Connections in the user store's pool (SQLite uses at most 5) [default: 10].
    #[arg(long, env = "AGENTGATE_POOL_SIZE", value_name = "N")]
    pool_size: Option<u32>,
    /// How long a request waits for a store connection before it gets 503 [default: 3s].
    #[arg(long, env = "AGENTGATE_STORE_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    store_timeout: Option<Duration>,
    /// Public base URL behind a proxy, for addresses the gateway writes (WSDL).
    #[arg(long, env = "AGENTGATE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// PEM certificate chain, leaf first; serve HTTPS (needs --tls-key) and mark cookies Secure.
    #[arg(long, env = "AGENTGATE_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "AGENTGATE_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Time a client has to send a request's headers, and idle time between keep-alive
    /// requests [default: 10s].
    #[arg(long, env = "AGENTGATE_HEADER_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    header_timeout: Option<Duration>,
    /// Time from a request's headers until the answer is ready, body upload included; slower
    /// requests get 408 and the connection is closed [default: 30s].
    #[arg(long, env = "AGENTGATE_REQUEST_TIMEOUT", value_parser = parse_duration, value_name = "DURATION")]
    request_timeout: Option<Duration>,
    /// Open connections allowed from one client address; more get 503 and are closed
    /// [default: 64; 0 turns the limit off].
    #[arg(long, env = "AGENTGATE_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N")]
    max_connections_per_address: Option<usize>,
    /// Wrong old passwords of one user, within --throttle-window, after which that user's
    /// changes wait (429) [default: 5].
    #[arg(long, env = "AGENTGATE_THROTTLE_FAILURES", value_name = "N")]
    throttle_failures: Option<u32>,
    /// How long wrong old passwords are remembered [default: 15m].
    #[arg(long, env = "AGENTGATE_THROTTLE_WINDOW", value_parser = parse_duration, value_name = "DURATION")]
    throttle_window: Option<Duration>,
    /// The first wait; it doubles with each further wrong old password [default: 1m].
    #[arg(long, env = "AGENTGATE_THROTTLE_WAIT", value_parser = parse_duration, value_name = "DURATION")]
    throttle_wait: Option<Duration>,
    /// The longest wait [default: 1h].
    #[arg(long, env = "AGENTGATE_THROTTLE_MAX_WAIT", value_parser = parse_duration, value_name = "DURATION")]
    throttle_max_wait: Option<Duration>,
}

/// The TOML file: the same long option names as keys.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileConfig {
    database: Option<String>,
    bind: Option<String>,
    strict_accept: Option<bool>,
    online: Option<bool>,
    enable_user_agent: Option<bool>,
    body_limit: Option<usize>,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    min_password_length: Option<usize>,
    default_language: Option<String>,
    log_format: Option<String>,
    hashing_threads: Option<usize>,
    hashing_queue: Option<usize>,
    workers: Option<usize>,
    pool_size: Option<u32>,
    #[serde(default, deserialize_with = "file_duration")]
    store_timeout: Option<Duration>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default, deserialize_with = "file_duration")]
    header_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "file_duration")]
    request_timeout: Option<Duration>,
    max_connections_per_address: Option<usize>,
    throttle_failures: Option<u32>,
    #[serde(default, deserialize_with = "file_duration")]
    throttle_window: Option<Duration>,
    #[serde(default, deserialize_with = "file_duration")]
    throttle_wait: Option<Duration>,
    #[serde(default, deserialize_with = "file_duration")]
    throttle_max_wait: Option<Duration>,
}

/// Durations in the file are written as on the command line: `header-timeout = "10s"`.
fn file_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A failure with a one-line message; the binary prints it and exits 1.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure(message.into())
}

/// `n`, unless it is zero: that is refused as "OPTION must be at least 1".
fn at_least_one<T: PartialEq + Default>(n: T, option: &str) -> Result<T, Failure> {
    if n == T::default() {
        Err(fail(format!("{option} must be at least 1")))
    } else {
        Ok(n)
    }
}

/// Durations as `30s`, `15m`, `8h`, `2d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 30s, 15m or 8h"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("'{text}' is not a duration like 30s, 15m or 8h")),
    };
    if secs == 0 {
        return Err("a duration must be longer than zero".to_owned());
    }
    Ok(Duration::from_secs(secs))
}

fn load_file(path: Option<&Path>) -> Result<FileConfig, Failure> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let first = e.message().lines().next().unwrap_or("invalid");
        // Name the key: the message alone says "invalid type: string ..." without it.
        let key = e
            .span()
            .and_then(|span| text[..span.start].rsplit('\n').next())
            .map(|line| line.split('=').next().unwrap_or("").trim())
            .filter(|key| !key.is_empty() && !first.contains(key));
        match key {
            Some(key) => fail(format!("config file {}: {key}: {first}", path.display())),
            None => fail(format!("config file {}: {first}", path.display())),
        }
    })
}

/// Everything a command needs, merged: flag, then variable (both by clap), then file,
/// then default.
struct Resolved {
    database: String,
    bind: String,
    settings: Settings,
    accounts: AccountsConfig,
    log_json: bool,
    workers: Option<usize>,
    /// Certificate and key files when serving HTTPS.
    tls: Option<(PathBuf, PathBuf)>,
    header_timeout: Duration,
    request_timeout: Duration,
    max_connections_per_address: usize,
}

fn resolve(
    database: Option<String>,
    serve: ServeArgs,
    file: FileConfig,
) -> Result<Resolved, Failure> {
    let mut accounts = AccountsConfig::default();
    if let Some(m) = serve.argon2_memory_kib.or(file.argon2_memory_kib) {
        if m < 8 {
            return Err(fail("--argon2-memory-kib must be at least 8"));
        }
        accounts.hash.memory_kib = m;
    }
    if let Some(t) = serve.argon2_iterations.or(file.argon2_iterations) {
        accounts.hash.iterations = at_least_one(t, "--argon2-iterations")?;
    }
    if let Some(n) = serve.min_password_length.or(file.min_password_length) {
        if n == 0 || n > accounts.policy.max_length {
            return Err(fail(format!(
                "--min-password-length must be between 1 and {}",
                accounts.policy.max_length
            )));
        }
        accounts.policy.min_length = n;
    }
    if let Some(n) = serve.hashing_threads.or(file.hashing_threads) {
        accounts.hashing_threads = at_least_one(n, "--hashing-threads")?;
    }
    if let Some(n) = serve.hashing_queue.or(file.hashing_queue) {
        accounts.hashing_queue = n;
    }
    if let Some(n) = serve.pool_size.or(file.pool_size) {
        accounts.max_connections = at_least_one(n, "--pool-size")?;
    }
    if let Some(t) = serve.store_timeout.or(file.store_timeout) {
        accounts.acquire_timeout = t;
    }
    // SPEC §4: wrong old passwords per user; the defaults are the SPEC's.
    if let Some(n) = serve.throttle_failures.or(file.throttle_failures) {
        accounts.throttle.max_failures = at_least_one(n, "--throttle-failures")?;
    }
    if let Some(t) = serve.throttle_window.or(file.throttle_window) {
        accounts.throttle.window = t;
    }
    if let Some(t) = serve.throttle_wait.or(file.throttle_wait) {
        accounts.throttle.first_delay = t;
    }
    if let Some(t) = serve.throttle_max_wait.or(file.throttle_max_wait) {
        accounts.throttle.max_delay = t;
    }
    if accounts.throttle.max_delay < accounts.throttle.first_delay {
        return Err(fail(
            "--throttle-max-wait must not be shorter than --throttle-wait",
        ));
    }
    let language = serve
        .default_language
        .or(file.default_language)
        .unwrap_or_else(|| "en".to_owned());
    let default_language = crate::i18n::Catalog::LANGUAGES
        .iter()
        .copied()
        .find(|l| l.eq_ignore_ascii_case(&language))
        .ok_or_else(|| {
            fail(format!(
                "--default-language must be one of en, sv, no, da, de, nl (got '{language}')"
            ))
        })?;
    let body_limit = at_least_one(
        serve.body_limit.or(file.body_limit).unwrap_or(64 * 1024),
        "--body-limit",
    )?;
    let log_json = match serve.log_format.or(file.log_format).as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(fail(format!(
                "--log-format must be text or json (got '{other}')"
            )));
        }
    };
    let bind = serve
        .bind
        .or(file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let workers = serve
        .workers
        .or(file.workers)
        .map(|n| at_least_one(n, "--workers"))
        .transpose()?;
    let tls = match (
        serve.tls_cert.or(file.tls_cert),
        serve.tls_key.or(file.tls_key),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(fail("--tls-cert needs --tls-key")),
        (None, Some(_)) => return Err(fail("--tls-key needs --tls-cert")),
    };
    Ok(Resolved {
        database: database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
        bind,
        settings: Settings {
            strict_accept: serve.strict_accept.or(file.strict_accept).unwrap_or(false),
            online: serve.online.or(file.online).unwrap_or(false),
            enable_user_agent: serve
                .enable_user_agent
                .or(file.enable_user_agent)
                .unwrap_or(false),
            body_limit,
            default_language,
            secure_cookies: tls.is_some(),
            public_url: serve.public_url.or(file.public_url),
        },
        accounts,
        log_json,
        workers,
        tls,
        header_timeout: serve
            .header_timeout
            .or(file.header_timeout)
            .unwrap_or(Duration::from_secs(10)),
        request_timeout: serve
            .request_timeout
            .or(file.request_timeout)
            .unwrap_or(Duration::from_secs(30)),
        max_connections_per_address: serve
            .max_connections_per_address
            .or(file.max_connections_per_address)
            .unwrap_or(64),
    })
}

/// The most log lines waiting for the writer thread; past it, lines are dropped and counted
/// (`agentgate_log_lines_dropped_total`) rather than held: a flood cannot grow memory through
/// the log, nor slow requests down to the speed of stderr.
const LOG_LINES_QUEUED: usize = 16 * 1024;

/// Logs go to stderr from a thread of their own, in batches: a request's line is formatted on
/// its worker and handed over, and the write system calls happen elsewhere. Keep the guard
/// until the end: dropping it writes what is still queued.
fn init_logging(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_LINES_QUEUED)
        .lossy(true)
        .thread_name("agentgate-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    crate::metrics::count_dropped_log_lines(writer.error_counter());
    // Colours only for a terminal: a log file or journald gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    guard
}

async fn open(resolved: &Resolved) -> Result<Accounts, Failure> {
    Accounts::open(&resolved.database, resolved.accounts.clone())
        .await
        .map_err(|e| {
            fail(format!(
                "cannot open the user store {}: {}",
                redact_url(&resolved.database),
                redact_password(&resolved.database, &with_causes(&e))
            ))
        })
}

/// An error and its causes, `outer: inner: innermost`, so an operator sees what the driver
/// said ("database is locked", "connection refused"), not only "unavailable".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `text` with the URL's password, should a driver message ever quote it, replaced by `***`.
fn redact_password(url: &str, text: &str) -> String {
    match split_userinfo(url).and_then(|(_, userinfo, _)| userinfo.split_once(':')) {
        Some((_, password)) if !password.is_empty() => text.replace(password, "***"),
        _ => text.to_owned(),
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match split_userinfo(url) {
        Some((head, userinfo, tail)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{head}{user}:***{tail}")
        }
        None => url.to_owned(),
    }
}

/// `scheme://user:password@host/...` as `("scheme://", "user:password", "@host/...")`; `None`
/// when the URL has no user information.
fn split_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let start = url.find("://")? + 3;
    let at = url.rfind('@').filter(|&at| at >= start)?;
    Some((&url[..start], &url[start..at], &url[at..]))
}

/// Runs the parsed command line. `Ok(())` is exit 0; a [`Failure`] is exit 1.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let file = load_file(cli.config.as_deref())?;
    let mut command = cli.command;
    let serve = match &mut command {
        Command::Serve(args) | Command::Demo(args) => std::mem::take(args),
        // `user add` hashes with the configured Argon2 parameters, so the variables count
        // for the other subcommands too (their flags belong to `serve` alone).
        _ => serve_args_from_env()?,
    };
    let is_demo = matches!(command, Command::Demo(_));
    let database = if is_demo {
        Some("sqlite::memory:".to_owned())
    } else {
        cli.database
    };
    let resolved = resolve(database, serve, file)?;
    actix_web::rt::System::new().block_on(async move {
        match command {
            Command::Serve(_) => serve_forever(resolved, None).await,
            Command::Demo(_) => demo(resolved).await,
            Command::User(cmd) => user(&resolved, cmd).await,
            Command::Ticket(TicketCommand::Issue { username, ttl }) => {
                let accounts = open(&resolved).await?;
                let ticket = accounts
                    .issue_ticket(&username, Some(ttl))
                    .await
                    .map_err(|e| fail(format!("cannot issue a ticket for '{username}': {e}")))?;
                println!("{ticket}");
                Ok(())
            }
            Command::Token(TokenCommand::Issue { username, ttl }) => {
                let accounts = open(&resolved).await?;
                let token = accounts
                    .issue_token(&username, Some(ttl))
                    .await
                    .map_err(|e| fail(format!("cannot issue a token for '{username}': {e}")))?;
                println!("{token}");
                Ok(())
            }
            Command::Token(TokenCommand::Revoke { token }) => {
                let token = if token == "-" {
                    read_stdin_line()?
                } else {
                    token
                };
                let accounts = open(&resolved).await?;
                match accounts.revoke_token(&token).await {
                    Ok(true) => {
                        eprintln!("revoked");
                        Ok(())
                    }
                    Ok(false) => Err(fail("no such ticket or token")),
                    Err(e) => Err(fail(format!("cannot revoke: {e}"))),
                }
            }
        }
    })
}

/// The `serve` options as the `AGENTGATE_*` variables set them, without any flag.
fn serve_args_from_env() -> Result<ServeArgs, Failure> {
    #[derive(Parser)]
    struct EnvOnly {
        #[command(flatten)]
        serve: ServeArgs,
    }
    EnvOnly::try_parse_from(["agentgate"])
        .map(|e| e.serve)
        .map_err(|e| {
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid environment variable");
            fail(line.trim_start_matches("error: ").to_owned())
        })
}

fn read_stdin_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(format!("cannot read standard input: {e}")))?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(line.to_owned())
}

fn prompt_password() -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(fail("no terminal to prompt on: use --password-stdin"));
    }
    let first = rpassword::prompt_password("New password: ")
        .map_err(|e| fail(format!("cannot read the password: {e}")))?;
    let second = rpassword::prompt_password("Repeat it: ")
        .map_err(|e| fail(format!("cannot read the password: {e}")))?;
    if first != second {
        return Err(fail("the two passwords differ"));
    }
    Ok(first)
}

async fn user(resolved: &Resolved, cmd: UserCommand) -> Result<(), Failure> {
    match cmd {
        UserCommand::Add {
            username,
            password_stdin,
        } => {
            let password = if password_stdin {
                read_stdin_line()?
            } else {
                prompt_password()?
            };
            let accounts = open(resolved).await?;
            accounts
                .add_user(&username, &password)
                .await
                .map_err(|e| fail(format!("cannot add user '{username}': {e}")))?;
            eprintln!("added user '{username}'");
            Ok(())
        }
        UserCommand::List => {
            let accounts = open(resolved).await?;
            let users = accounts
                .list_users()
                .await
                .map_err(|e| fail(format!("cannot list users: {e}")))?;
            let mut out = std::io::stdout().lock();
            for u in users {
                let _ = writeln!(
                    out,
                    "{}\t{}",
                    u.username,
                    if u.disabled { "disabled" } else { "enabled" }
                );
            }
            Ok(())
        }
        UserCommand::Disable { username } => {
            let accounts = open(resolved).await?;
            accounts
                .set_disabled(&username, true)
                .await
                .map_err(|e| fail(format!("cannot disable '{username}': {e}")))
        }
        UserCommand::Enable { username } => {
            let accounts = open(resolved).await?;
            accounts
                .set_disabled(&username, false)
                .await
                .map_err(|e| fail(format!("cannot enable '{username}': {e}")))
        }
        UserCommand::Remove { username } => {
            let accounts = open(resolved).await?;
            accounts
                .remove_user(&username)
                .await
                .map_err(|e| fail(format!("cannot remove '{username}': {e}")))
        }
    }
}

const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "correct-horse-battery";

async fn demo(resolved: Resolved) -> Result<(), Failure> {
    let accounts = open(&resolved).await?;
    accounts
        .add_user(DEMO_USER, DEMO_PASSWORD)
        .await
        .map_err(|e| fail(format!("cannot create the demo user: {e}")))?;
    let ticket = accounts
        .issue_ticket(DEMO_USER, None)
        .await
        .map_err(|e| fail(format!("cannot issue the demo ticket: {e}")))?;
    let base = format!("http://{}", resolved.bind);
    let path = "/api/v1/Agents/User/ChangeOwnPassword";
    println!(
        "agentgate demo: an in-memory store with user '{DEMO_USER}', password '{DEMO_PASSWORD}'."
    );
    println!("Nothing is kept when it stops. Each line below changes the password, in a");
    println!("different format, from the one the line before set; run them in order:\n");
    let url = format!("{base}{path}");
    for line in demo_curl_lines(&url) {
        println!("{line}\n");
    }
    println!(
        "With a session ticket (SOTicket) and an XML answer, a wrong old password gives false:"
    );
    println!(
        "curl -i -H 'Authorization: SOTicket {ticket}' -H 'Content-Type: text/xml' -H 'Accept: application/xml' \\\n  -d '<request><OldPassword>wrong</OldPassword><NewPassword>x</NewPassword></request>' {url}\n"
    );
    println!("Or open {base}/login in a browser.\n");
    serve_forever(resolved, Some(accounts)).await
}

/// One curl line per request format, each changing the demo password from the previous
/// line's to the next, so they can be run in order.
fn demo_curl_lines(url: &str) -> Vec<String> {
    let chain = [
        DEMO_PASSWORD,
        "purple-monkey-dishwasher",
        "xml-walrus-tangerine-7",
        "form-otter-lantern-42",
        "patch-heron-velvet-9",
        "merge-badger-quartz-3",
    ];
    let bodies = [
        (
            "application/json",
            format!(
                r#"{{"OldPassword":"{}","NewPassword":"{}"}}"#,
                chain[0], chain[1]
            ),
        ),
        (
            "text/xml",
            format!(
                r#"<ChangeOwnPasswordRequest xmlns="http://schemas.datacontract.org/2004/07/SuperOffice.WebApi"><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></ChangeOwnPasswordRequest>"#,
                chain[1], chain[2]
            ),
        ),
        (
            "application/x-www-form-urlencoded",
            format!("OldPassword={}&NewPassword={}", chain[2], chain[3]),
        ),
        (
            "application/json-patch+json",
            format!(
                r#"[{{"op":"replace","path":"/OldPassword","value":"{}"}},{{"op":"replace","path":"/NewPassword","value":"{}"}}]"#,
                chain[3], chain[4]
            ),
        ),
        (
            "application/merge-patch+json",
            format!(
                r#"{{"OldPassword":"{}","NewPassword":"{}"}}"#,
                chain[4], chain[5]
            ),
        ),
    ];
    bodies
        .iter()
        .enumerate()
        .map(|(i, (media, body))| {
            format!(
                "curl -i -u {DEMO_USER}:{} -H 'Content-Type: {media}' \\\n  -d '{body}' {url}",
                chain[i]
            )
        })
        .collect()
}

async fn serve_forever(resolved: Resolved, accounts: Option<Accounts>) -> Result<(), Failure> {
    let _log = init_logging(resolved.log_json);
    // Read the certificate before opening the store: a bad file is a start-up error.
    let tls = match &resolved.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key).map_err(fail)?),
        None => None,
    };
    let accounts = match accounts {
        Some(a) => a,
        None => open(&resolved).await?,
    };
    let metrics = crate::metrics::install_recorder();
    let state = web::Data::new(AppState::new(accounts, resolved.settings.clone(), metrics));
    let limit = resolved.settings.body_limit;
    let request_timeout = resolved.request_timeout;
    let per_address = limits::PerAddress::new(resolved.max_connections_per_address);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(limit))
            .configure(crate::configure)
            .app_data(limits::RequestTimeout(request_timeout))
            .wrap(middleware::from_fn(limits::deadline))
            .wrap(middleware::from_fn(limits::refuse_excess))
    })
    .on_connect(move |io, ext| per_address.on_connect(io, ext))
    // Headers must arrive within this; it is also the keep-alive idle time.
    .client_request_timeout(resolved.header_timeout)
    .keep_alive(resolved.header_timeout)
    .client_disconnect_timeout(Duration::from_secs(2))
    .max_connection_rate(256)
    .shutdown_timeout(30);
    if let Some(n) = resolved.workers {
        server = server.workers(n);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = match tls {
        Some(config) => server.bind_rustls_0_23(&resolved.bind, config),
        None => server.bind(&resolved.bind),
    }
    .map_err(|e| fail(format!("cannot listen on {}: {e}", resolved.bind)))?;
    for addr in server.addrs() {
        tracing::info!(address = %addr, scheme, database = %redact_url(&resolved.database), "agentgate listening");
        eprintln!("agentgate listening on {scheme}://{addr}");
    }
    let _ = std::io::stderr().flush();
    server
        .run()
        .await
        .map_err(|e| fail(format!("server failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_spec_writes_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("8h"), Ok(Duration::from_secs(28_800)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("8 hours").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig =
            toml::from_str("strict-accept = true\nbody-limit = 1024\ndefault-language = \"sv\"")
                .unwrap();
        let serve = ServeArgs {
            body_limit: Some(2048),
            ..ServeArgs::default()
        };
        let r = resolve(None, serve, file).unwrap();
        assert!(r.settings.strict_accept);
        assert_eq!(r.settings.body_limit, 2048);
        assert_eq!(r.settings.default_language, "sv");
        assert_eq!(r.database, DEFAULT_DATABASE);
    }

    #[test]
    fn the_store_pool_is_configurable() {
        let file: FileConfig = toml::from_str("pool-size = 3\nstore-timeout = \"1s\"").unwrap();
        let r = resolve(None, ServeArgs::default(), file).unwrap();
        assert_eq!(r.accounts.max_connections, 3);
        assert_eq!(r.accounts.acquire_timeout, Duration::from_secs(1));
        let zero = ServeArgs {
            pool_size: Some(0),
            ..ServeArgs::default()
        };
        let err = resolve(None, zero, FileConfig::default()).err().unwrap();
        assert!(err.0.contains("--pool-size"), "{err}");
    }

    #[test]
    fn the_change_throttle_is_configurable_and_defaults_to_the_spec() {
        let r = resolve(None, ServeArgs::default(), FileConfig::default()).unwrap();
        assert_eq!(r.accounts.throttle.max_failures, 5);
        assert_eq!(r.accounts.throttle.window, Duration::from_secs(15 * 60));
        assert_eq!(r.accounts.throttle.first_delay, Duration::from_secs(60));
        assert_eq!(r.accounts.throttle.max_delay, Duration::from_secs(3600));
        let file: FileConfig = toml::from_str(
            "throttle-failures = 3\nthrottle-window = \"1h\"\nthrottle-wait = \"10s\"\nthrottle-max-wait = \"5m\"",
        )
        .unwrap();
        let flags = ServeArgs {
            throttle_failures: Some(10),
            ..ServeArgs::default()
        };
        let r = resolve(None, flags, file).unwrap();
        assert_eq!(r.accounts.throttle.max_failures, 10);
        assert_eq!(r.accounts.throttle.window, Duration::from_secs(3600));
        assert_eq!(r.accounts.throttle.first_delay, Duration::from_secs(10));
        assert_eq!(r.accounts.throttle.max_delay, Duration::from_secs(300));
        for (args, option) in [
            (
                ServeArgs {
                    throttle_failures: Some(0),
                    ..ServeArgs::default()
                },
                "--throttle-failures",
            ),
            (
                ServeArgs {
                    throttle_max_wait: Some(Duration::from_secs(30)),
                    ..ServeArgs::default()
                },
                "--throttle-max-wait",
            ),
        ] {
            let err = resolve(None, args, FileConfig::default()).err().unwrap();
            assert!(err.0.contains(option), "{err}");
        }
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_refused() {
        assert!(toml::from_str::<FileConfig>("strict_accept = true").is_err());
        let bad = ServeArgs {
            default_language: Some("fr".into()),
            ..ServeArgs::default()
        };
        let err = resolve(None, bad, FileConfig::default()).err().unwrap();
        assert!(err.0.contains("--default-language"), "{err}");
    }

    #[test]
    fn database_passwords_are_not_shown() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://agentgate.db"), "sqlite://agentgate.db");
        assert_eq!(
            redact_password("postgres://app:s3cret@db/x", "auth failed for s3cret"),
            "auth failed for ***"
        );
        assert_eq!(redact_password("sqlite://a.db", "locked"), "locked");
    }

    #[test]
    fn store_errors_name_their_cause() {
        #[derive(Debug)]
        struct Inner;
        impl std::fmt::Display for Inner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("database is locked")
            }
        }
        impl std::error::Error for Inner {}
        #[derive(Debug)]
        struct Outer(Inner);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("user store unavailable")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            with_causes(&Outer(Inner)),
            "user store unavailable: database is locked"
        );
    }
}
