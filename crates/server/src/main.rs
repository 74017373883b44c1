//! The `agentgate` binary (SPEC §8). Exit codes: 0 done, 2 usage, 1 anything else with a
//! one-line message on stderr.

fn main() -> std::process::ExitCode {
    agentgate_server::cli::main()
}
