//! The `agentgate` binary (SPEC §8). Exit codes: 0 done, 2 usage, 1 anything else with a
//! one-line message on stderr.

/// mimalloc instead of the C library's allocator (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    agentgate_server::cli::main()
}
