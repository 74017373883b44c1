//! The `agentgate` binary: parses the command line and runs it (SPEC §8). Exit codes:
//! 0 done, 2 usage, 1 anything else with a one-line message on stderr.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match agentgate_server::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // clap exits 0 for --help/--version and 2 for usage errors.
        Err(e) => e.exit(),
    };
    match agentgate_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("agentgate: {failure}");
            std::process::ExitCode::from(1)
        }
    }
}
