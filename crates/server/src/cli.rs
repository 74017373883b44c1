//! The `agentgate` command line (SPEC §8).
//!
//! - `args`: what clap accepts; the option structs are also the TOML file's shape.
//! - `config`: flag > `AGENTGATE_*` variable > `--config` file > default, and the checks
//!   that turn options into settings.
//! - `commands`: what each subcommand does; `store`: opening the user store with messages
//!   an operator can act on; `limits` and `tls`: the listener's guards and certificates.

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

mod args;
mod cidr;
mod commands;
mod config;
mod logline;
pub(crate) mod logwriter;
mod store;
mod tls;
mod values;

pub use cidr::Cidr;
pub use values::parse_duration;

use args::{Cli, Command, ServeFromEnv};
use config::{File, resolve, upstream_source};

/// Why a command stopped: a one-line message and the exit code (SPEC §8: 2 usage, 1
/// anything else).
#[derive(Debug)]
pub struct Failure {
    /// The line printed after `agentgate: `.
    pub message: String,
    /// The process's exit code.
    pub code: u8,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failure that exits 1.
fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
    }
}

/// A refusal of what was asked, as a usage error: exit 2.
fn refuse(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 2,
    }
}

/// The binary: parses `std::env::args`, runs the command, prints a failure as one line on
/// stderr and returns its exit code.
pub fn main() -> ExitCode {
    // clap exits 0 for --help/--version and 2 for usage errors.
    let matches = Cli::command().get_matches();
    match run(&matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("agentgate: {failure}");
            ExitCode::from(failure.code)
        }
    }
}

/// The innermost subcommand's matches: global options are propagated down to it.
fn leaf(matches: &ArgMatches) -> &ArgMatches {
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    m
}

/// Runs a parsed command line.
///
/// # Errors
///
/// A [`Failure`] with its message and exit code.
pub fn run(matches: &ArgMatches) -> Result<(), Failure> {
    let cli = Cli::from_arg_matches(matches).map_err(|e| refuse(first_line(&e)))?;
    let file = File::load(cli.global.config.as_deref())?;
    let leaf_matches = leaf(matches);
    let mut global = file.layer(&cli.global, leaf_matches)?;
    let serve = match &cli.command {
        Command::Serve(options) | Command::Demo(options) => {
            let (_, serve_matches) = matches.subcommand().expect("clap requires a subcommand");
            file.layer(options, serve_matches)?
        }
        // `user add` hashes with the configured Argon2 cost, so the variables and the file
        // count for the other subcommands too (their flags belong to `serve` alone).
        _ => {
            let env = ServeFromEnv::command()
                .try_get_matches_from(["agentgate"])
                .map_err(|e| refuse(first_line(&e)))?;
            let parsed =
                ServeFromEnv::from_arg_matches(&env).map_err(|e| refuse(first_line(&e)))?;
            file.layer(&parsed.serve, &env)?
        }
    };
    if let Some(source) = upstream_source(leaf_matches, &file)
        && !matches!(cli.command, Command::Serve(_))
    {
        return Err(refuse(format!(
            "`{}` does not apply in upstream mode (set by {source}): the users, tickets and tokens are the upstream NetServer's",
            cli.command.name()
        )));
    }
    if matches!(cli.command, Command::Demo(_)) {
        global.database = "sqlite::memory:".to_owned();
    }
    let resolved = resolve(global, serve)?;
    actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve(_) => commands::serve::run(resolved).await,
            Command::Demo(_) => commands::demo::run(resolved).await,
            Command::User(cmd) => commands::users::user(&resolved, cmd).await,
            Command::Ticket(cmd) => commands::users::ticket(&resolved, cmd).await,
            Command::Token(cmd) => commands::users::token(&resolved, cmd).await,
        }
    })
}

/// clap's message without its `error: ` prefix and usage lines.
fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_owned()
}
