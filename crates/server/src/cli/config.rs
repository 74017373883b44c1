//! Configuration in one place: flag, then `AGENTGATE_*` variable (both read by clap), then
//! the TOML file (`--config`), then the default (clap's, from the option's declaration).
//!
//! The file is layered under what clap parsed key by key, by asking clap where each value
//! came from, so no option is listed here: a new option in `args.rs` is a flag, a variable
//! and a file key at once. What is left below turns the options into the settings of the
//! server, the accounts and the listener, checking what a parser cannot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentgate_accounts::Config as AccountsConfig;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::args::{GlobalOptions, LogFormat, ServeOptions};
use super::values::UpstreamUrl;
use super::{Failure, fail};
use crate::state::{Settings, UpstreamSettings};

/// The TOML file, parsed but not yet checked against the options.
pub(crate) struct File {
    path: PathBuf,
    table: toml::Table,
}

impl File {
    /// Reads `path`; no path is an empty file.
    pub(crate) fn load(path: Option<&Path>) -> Result<File, Failure> {
        let Some(path) = path else {
            return Ok(File {
                path: PathBuf::new(),
                table: toml::Table::new(),
            });
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read config file {}: {e}", path.display())))?;
        let table = text.parse::<toml::Table>().map_err(|e| {
            let first = e.message().lines().next().unwrap_or("invalid TOML");
            fail(format!("config file {}: {first}", path.display()))
        })?;
        let file = File {
            path: path.to_owned(),
            table,
        };
        file.refuse_unknown_keys()?;
        Ok(file)
    }

    /// Every key must be a long option name of `serve` or of every subcommand.
    fn refuse_unknown_keys(&self) -> Result<(), Failure> {
        let known: BTreeSet<String> = long_names::<GlobalOptions>()
            .chain(long_names::<ServeOptions>())
            .filter(|name| name != "config")
            .collect();
        for key in self.table.keys() {
            if !known.contains(key) {
                let hint = match key.replace('_', "-") {
                    dashed if known.contains(&dashed) => format!(" (did you mean {dashed}?)"),
                    _ => {
                        " (keys are the long option names, as `agentgate serve --help` lists them)"
                            .to_owned()
                    }
                };
                return Err(self.error(key, &format!("unknown key{hint}")));
            }
        }
        Ok(())
    }

    fn error(&self, key: &str, message: &str) -> Failure {
        fail(format!(
            "config file {}: {key}: {message}",
            self.path.display()
        ))
    }

    /// `parsed` with each value that came from neither a flag nor a variable replaced by
    /// the file's, where the file has one.
    pub(crate) fn layer<T>(&self, parsed: &T, matches: &ArgMatches) -> Result<T, Failure>
    where
        T: Args + Serialize + DeserializeOwned,
    {
        let mut merged = toml::Table::try_from(parsed)
            .map_err(|e| fail(format!("cannot represent the options: {e}")))?;
        let given = given_on_the_command_line_or_environment(matches);
        for name in long_names::<T>() {
            if given.contains(&name) {
                continue;
            }
            if let Some(value) = self.table.get(&name) {
                merged.insert(name, value.clone());
            }
        }
        serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().to_string();
            let message = message.lines().next().unwrap_or("invalid value");
            self.error(&key, message)
        })
    }

    /// Whether the file sets `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }
}

/// The long names (and so the TOML keys) of an option struct's arguments.
fn long_names<T: Args>() -> impl Iterator<Item = String> {
    T::augment_args(clap::Command::new("agentgate"))
        .get_arguments()
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .collect::<Vec<_>>()
        .into_iter()
}

/// The long names of the arguments a flag or a variable set.
fn given_on_the_command_line_or_environment(matches: &ArgMatches) -> BTreeSet<String> {
    matches
        .ids()
        .filter(|id| {
            matches!(
                matches.value_source(id.as_str()),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        })
        .map(|id| id.as_str().replace('_', "-"))
        .collect()
}

/// Where upstream mode was switched on, for the message of a subcommand that refuses it.
pub(crate) fn upstream_source(matches: &ArgMatches, file: &File) -> Option<String> {
    match matches.value_source("upstream") {
        Some(ValueSource::CommandLine) => Some("--upstream".to_owned()),
        Some(ValueSource::EnvVariable) => Some("AGENTGATE_UPSTREAM".to_owned()),
        _ if file.has("upstream") => Some(format!("upstream in {}", file.path.display())),
        _ => None,
    }
}

/// Everything a command needs, checked.
pub(crate) struct Resolved {
    pub(crate) database: String,
    pub(crate) bind: String,
    pub(crate) settings: Settings,
    pub(crate) accounts: AccountsConfig,
    pub(crate) log_json: bool,
    pub(crate) workers: Option<usize>,
    /// Certificate and key files when serving HTTPS.
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    pub(crate) header_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_connections_per_address: usize,
}

/// `n`, unless it is zero: that is refused as "OPTION must be at least 1".
fn at_least_one<T: PartialEq + Default>(n: T, option: &str) -> Result<T, Failure> {
    if n == T::default() {
        Err(fail(format!("{option} must be at least 1")))
    } else {
        Ok(n)
    }
}

/// Checks the options and turns them into the settings of each part.
pub(crate) fn resolve(global: GlobalOptions, serve: ServeOptions) -> Result<Resolved, Failure> {
    let mut accounts = AccountsConfig::default();
    if serve.argon2_memory_kib < 8 {
        return Err(fail("--argon2-memory-kib must be at least 8"));
    }
    accounts.hash.memory_kib = serve.argon2_memory_kib;
    accounts.hash.iterations = at_least_one(serve.argon2_iterations, "--argon2-iterations")?;
    let max_length = accounts.policy.max_length;
    if serve.min_password_length == 0 || serve.min_password_length > max_length {
        return Err(fail(format!(
            "--min-password-length must be between 1 and {max_length}"
        )));
    }
    accounts.policy.min_length = serve.min_password_length;
    if let Some(n) = serve.hashing_threads {
        accounts.hashing_threads = at_least_one(n, "--hashing-threads")?;
    }
    accounts.hashing_queue = serve.hashing_queue;
    accounts.max_connections = at_least_one(serve.pool_size, "--pool-size")?;
    accounts.acquire_timeout = serve.store_timeout.0;
    // SPEC §4: wrong old passwords per user.
    accounts.throttle.max_failures = at_least_one(serve.throttle_failures, "--throttle-failures")?;
    accounts.throttle.window = serve.throttle_window.0;
    accounts.throttle.first_delay = serve.throttle_wait.0;
    accounts.throttle.max_delay = serve.throttle_max_wait.0;
    if accounts.throttle.max_delay < accounts.throttle.first_delay {
        return Err(fail(
            "--throttle-max-wait must not be shorter than --throttle-wait",
        ));
    }
    // SPEC §5: wrong passwords per user name, and failed checks per client address.
    accounts.guessing.max_failures = at_least_one(serve.guess_failures, "--guess-failures")?;
    accounts.guessing.window = serve.guess_window.0;
    accounts.guessing.first_delay = serve.guess_wait.0;
    accounts.guessing.max_delay = serve.guess_max_wait.0;
    if accounts.guessing.max_delay < accounts.guessing.first_delay {
        return Err(fail(
            "--guess-max-wait must not be shorter than --guess-wait",
        ));
    }
    accounts.address.free_failures = serve.address_failures;
    accounts.address.window = serve.address_window.0;
    accounts.address.spacing = serve.address_spacing.0;
    accounts.address.horizon = serve.address_max_wait.0;
    let language = serve.default_language;
    let default_language = crate::i18n::Catalog::LANGUAGES
        .iter()
        .copied()
        .find(|l| l.eq_ignore_ascii_case(&language))
        .ok_or_else(|| {
            fail(format!(
                "--default-language must be one of en, sv, no, da, de, nl (got '{language}')"
            ))
        })?;
    let tls = match (serve.tls_cert, serve.tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err(fail("--tls-cert needs --tls-key")),
        (None, Some(_)) => return Err(fail("--tls-key needs --tls-cert")),
    };
    // Port 0 twice is two free ports, not one address.
    if let Some(metrics) = &serve.metrics_bind
        && *metrics == serve.bind
        && !metrics.ends_with(":0")
    {
        return Err(fail(format!(
            "--metrics-bind {metrics} is the --bind address: give /metrics an address of its own"
        )));
    }
    let upstream = match global.upstream {
        Some(url) => Some(upstream_settings(
            url,
            serve.upstream_timeout.0,
            serve.upstream_connections,
            serve.upstream_ca,
        )?),
        None => None,
    };
    // Upstream mode's store keeps only throttle counts, audit events and the XSRF secret
    // (SPEC §10): no flush per commit (docs/PERFORMANCE.md, the chain).
    accounts.durable_commits = upstream.is_none();
    Ok(Resolved {
        database: global.database,
        bind: serve.bind,
        settings: Settings {
            strict_accept: serve.strict_accept,
            online: serve.online,
            enable_user_agent: serve.enable_user_agent,
            body_limit: at_least_one(serve.body_limit, "--body-limit")?,
            default_language,
            secure_cookies: tls.is_some(),
            public_url: serve.public_url,
            trusted_proxies: serve.trusted_proxies,
            metrics_bind: serve.metrics_bind,
            upstream,
        },
        accounts,
        log_json: serve.log_format == LogFormat::Json,
        workers: serve
            .workers
            .map(|n| at_least_one(n, "--workers"))
            .transpose()?,
        tls,
        header_timeout: serve.header_timeout.0,
        request_timeout: serve.request_timeout.0,
        max_connections_per_address: serve.max_connections_per_address,
    })
}

fn upstream_settings(
    url: UpstreamUrl,
    timeout: Duration,
    connections: usize,
    ca: Option<PathBuf>,
) -> Result<UpstreamSettings, Failure> {
    let connections = at_least_one(connections, "--upstream-connections")?;
    if let Some(ca) = &ca {
        if !url.is_https() {
            return Err(fail(format!(
                "--upstream-ca is for an https upstream; {url} is plain http"
            )));
        }
        check_pem_certificates(ca)?;
    }
    Ok(UpstreamSettings {
        url: url.as_str().to_owned(),
        timeout,
        connections,
        ca,
    })
}

/// The CA file must hold at least one PEM certificate: a typo is a start-up error, not a
/// TLS failure on the first request.
fn check_pem_certificates(path: &Path) -> Result<(), Failure> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(format!("--upstream-ca {}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(fail(format!(
            "--upstream-ca {}: no CERTIFICATE in the file",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::args::{Cli, Command};

    /// `agentgate serve ARGS` with `file` as the TOML file, resolved; variables are not read
    /// (only the `AGENTGATE_*` ones the test process happens to have, and it has none of
    /// these).
    fn serve(args: &[&str], file: &str) -> Result<Resolved, Failure> {
        let dir = std::env::temp_dir().join(format!(
            "agentgate-config-test-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("agentgate.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv = vec!["agentgate", "serve"];
        argv.extend_from_slice(args);
        let matches = Cli::command().try_get_matches_from(&argv).unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let file = File::load(Some(&path));
        let _ = std::fs::remove_dir_all(&dir);
        let file = file?;
        let (_, sub) = matches.subcommand().unwrap();
        let Command::Serve(options) = cli.command else {
            unreachable!()
        };
        let serve = file.layer(&options, sub)?;
        let global = file.layer(&cli.global, sub)?;
        resolve(global, serve)
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let r = serve(
            &["--body-limit", "2048"],
            "strict-accept = true\nbody-limit = 1024\ndefault-language = \"sv\"\ndatabase = \"sqlite://x.db\"",
        )
        .unwrap();
        assert!(r.settings.strict_accept);
        assert_eq!(r.settings.body_limit, 2048);
        assert_eq!(r.settings.default_language, "sv");
        assert_eq!(r.database, "sqlite://x.db");
        let r = serve(
            &["--database", "sqlite://y.db"],
            "database = \"sqlite://x.db\"",
        )
        .unwrap();
        assert_eq!(r.database, "sqlite://y.db");
    }

    #[test]
    fn defaults_are_the_libraries_own() {
        let r = serve(&[], "").unwrap();
        let settings = Settings::default();
        assert_eq!(r.settings.body_limit, settings.body_limit);
        assert_eq!(r.settings.default_language, settings.default_language);
        assert_eq!(r.database, "sqlite://agentgate.db");
        assert_eq!(r.bind, "127.0.0.1:8080");
        let accounts = AccountsConfig::default();
        assert_eq!(r.accounts.hash, accounts.hash);
        assert_eq!(r.accounts.max_connections, accounts.max_connections);
        assert_eq!(r.accounts.acquire_timeout, accounts.acquire_timeout);
        assert_eq!(r.header_timeout, Duration::from_secs(10));
        assert_eq!(r.request_timeout, Duration::from_secs(30));
        assert!(r.settings.trusted_proxies.is_empty());
        assert!(r.settings.upstream.is_none());
        assert!(
            r.accounts.durable_commits,
            "local users: every commit flushed"
        );
        assert!(!r.log_json);
    }

    #[test]
    fn the_store_pool_is_configurable() {
        let r = serve(&[], "pool-size = 3\nstore-timeout = \"1s\"").unwrap();
        assert_eq!(r.accounts.max_connections, 3);
        assert_eq!(r.accounts.acquire_timeout, Duration::from_secs(1));
        let err = serve(&["--pool-size", "0"], "").err().unwrap();
        assert!(err.message.contains("--pool-size"), "{err}");
    }

    #[test]
    fn the_change_throttle_is_configurable_and_defaults_to_the_spec() {
        let r = serve(&[], "").unwrap();
        assert_eq!(r.accounts.throttle.max_failures, 5);
        assert_eq!(r.accounts.throttle.window, Duration::from_secs(15 * 60));
        assert_eq!(r.accounts.throttle.first_delay, Duration::from_secs(60));
        assert_eq!(r.accounts.throttle.max_delay, Duration::from_secs(3600));
        let r = serve(
            &["--throttle-failures", "10"],
            "throttle-failures = 3\nthrottle-window = \"1h\"\nthrottle-wait = \"10s\"\nthrottle-max-wait = \"5m\"",
        )
        .unwrap();
        assert_eq!(r.accounts.throttle.max_failures, 10);
        assert_eq!(r.accounts.throttle.window, Duration::from_secs(3600));
        assert_eq!(r.accounts.throttle.first_delay, Duration::from_secs(10));
        assert_eq!(r.accounts.throttle.max_delay, Duration::from_secs(300));
        for (args, option) in [
            (&["--throttle-failures", "0"], "--throttle-failures"),
            (&["--throttle-max-wait", "30s"], "--throttle-max-wait"),
        ] {
            let err = serve(args, "").err().unwrap();
            assert!(err.message.contains(option), "{err}");
        }
    }

    #[test]
    fn the_guessing_limits_are_configurable_and_default_to_the_spec() {
        let r = serve(&[], "").unwrap();
        assert_eq!(r.accounts.guessing.max_failures, 10);
        assert_eq!(r.accounts.guessing.window, Duration::from_secs(15 * 60));
        assert_eq!(r.accounts.guessing.first_delay, Duration::from_secs(60));
        assert_eq!(r.accounts.guessing.max_delay, Duration::from_secs(15 * 60));
        assert_eq!(r.accounts.address.free_failures, 20);
        assert_eq!(r.accounts.address.window, Duration::from_secs(15 * 60));
        assert_eq!(r.accounts.address.spacing, Duration::from_secs(2));
        assert_eq!(r.accounts.address.horizon, Duration::from_secs(30));
        let r = serve(
            &["--guess-failures", "4", "--address-spacing", "1s"],
            "guess-failures = 3\nguess-wait = \"10s\"\naddress-failures = 50\naddress-max-wait = \"1m\"",
        )
        .unwrap();
        assert_eq!(r.accounts.guessing.max_failures, 4);
        assert_eq!(r.accounts.guessing.first_delay, Duration::from_secs(10));
        assert_eq!(r.accounts.address.free_failures, 50);
        assert_eq!(r.accounts.address.spacing, Duration::from_secs(1));
        assert_eq!(r.accounts.address.horizon, Duration::from_secs(60));
        for (args, option) in [
            (&["--guess-failures", "0"], "--guess-failures"),
            (&["--guess-max-wait", "30s"], "--guess-max-wait"),
        ] {
            let err = serve(args, "").err().unwrap();
            assert!(err.message.contains(option), "{err}");
        }
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_refused_naming_the_key() {
        for (file, says) in [
            (
                "strict_accept = true",
                "strict_accept: unknown key (did you mean strict-accept?)",
            ),
            ("colour = true", "colour: unknown key"),
            ("config = \"other.toml\"", "config: unknown key"),
            ("body-limit = \"abc\"", "body-limit: invalid type"),
            (
                "request-timeout = \"soon\"",
                "request-timeout: 'soon' is not a duration",
            ),
            (
                "trusted-proxies = [\"10.0.0.1/8\"]",
                "trusted-proxies: '10.0.0.1/8' has bits set",
            ),
            (
                "upstream = \"ftp://x\"",
                "upstream: 'ftp://x': the scheme must be http or https",
            ),
            ("database = 5", "database: invalid type"),
        ] {
            let err = serve(&[], file).err().unwrap();
            assert!(err.message.contains(says), "{file}: {err}");
            assert_eq!(err.message.lines().count(), 1, "{err}");
        }
        let err = serve(&["--default-language", "fr"], "").err().unwrap();
        assert!(err.message.contains("--default-language"), "{err}");
    }

    #[test]
    fn trusted_proxies_come_from_a_comma_list_or_the_file() {
        let r = serve(&["--trusted-proxies", "10.0.0.0/8,2001:db8::/32"], "").unwrap();
        let nets: Vec<String> = r
            .settings
            .trusted_proxies
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "2001:db8::/32"]);
        let r = serve(&[], "trusted-proxies = [\"127.0.0.1\", \"::1\"]").unwrap();
        assert_eq!(r.settings.trusted_proxies.len(), 2);
        let err = Cli::command()
            .try_get_matches_from(["agentgate", "serve", "--trusted-proxies", "10.0.0.0/33"])
            .unwrap_err();
        assert!(err.to_string().contains("0 to 32"), "{err}");
    }

    #[test]
    fn upstream_settings_are_carried_and_checked() {
        let r = serve(
            &["--upstream", "https://crm.example.com/SuperOffice/"],
            "upstream-timeout = \"5s\"\nupstream-connections = 8",
        )
        .unwrap();
        let upstream = r.settings.upstream.unwrap();
        assert_eq!(upstream.url, "https://crm.example.com/SuperOffice");
        assert_eq!(upstream.timeout, Duration::from_secs(5));
        assert_eq!(upstream.connections, 8);
        assert_eq!(upstream.ca, None);
        assert!(
            !r.accounts.durable_commits,
            "upstream mode keeps no passwords"
        );
        let r = serve(&[], "upstream = \"http://127.0.0.1:9\"").unwrap();
        let upstream = r.settings.upstream.unwrap();
        assert_eq!(upstream.timeout, Duration::from_secs(15));
        assert_eq!(upstream.connections, 64);
        for (args, says) in [
            (
                &["--upstream", "http://h", "--upstream-connections", "0"][..],
                "--upstream-connections must be at least 1",
            ),
            (
                &[
                    "--upstream",
                    "http://h",
                    "--upstream-ca",
                    "/nonexistent.pem",
                ][..],
                "--upstream-ca is for an https upstream",
            ),
            (
                &[
                    "--upstream",
                    "https://h",
                    "--upstream-ca",
                    "/nonexistent.pem",
                ][..],
                "--upstream-ca /nonexistent.pem:",
            ),
        ] {
            let err = serve(args, "").err().unwrap();
            assert!(err.message.contains(says), "{args:?}: {err}");
        }
    }

    #[test]
    fn metrics_need_an_address_of_their_own() {
        let r = serve(&["--metrics-bind", "127.0.0.1:9100"], "").unwrap();
        assert_eq!(r.settings.metrics_bind.as_deref(), Some("127.0.0.1:9100"));
        let err = serve(&["--metrics-bind", "127.0.0.1:8080"], "")
            .err()
            .unwrap();
        assert!(err.message.contains("--metrics-bind"), "{err}");
    }
}
