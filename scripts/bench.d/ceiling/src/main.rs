//! Argon2id hashes per second with every core busy, at the parameters agentgate uses by
//! default (OWASP: m=19456 KiB, t=2, p=1). A password change costs at least two of them
//! (verify the old password, hash the new one), so changes/s <= hashes/s / 2.
//!
//! ```text
//! agentgate-argon2-ceiling [SECONDS] [THREADS] [MEMORY_KIB] [ITERATIONS] [ENGINE]
//! ```
//!
//! Defaults: 10 s, one thread per core, 19456 KiB, 2 passes, `rustcrypto-0.5`; an empty
//! argument or `-` takes the default (`agentgate-argon2-ceiling 10 - - - argon2-rust`).
//! ENGINE is one of:
//!
//! - `rustcrypto-0.5`: RustCrypto `argon2` 0.5.3, `hash_password_into_with_memory` with one
//!   block buffer per thread, reused;
//! - `rustcrypto-0.6`: RustCrypto `argon2` 0.6.0, the same;
//! - `argon2-rust`: `argon2-rust` 1.1.0 (a port of the C reference, SIMD chosen at run time),
//!   one-shot `Argon2::hash_into`, which allocates its memory on every hash;
//! - `argon2-rust-arena`: the same crate, one `Hasher` per thread (`Argon2::hasher`, its arena
//!   reserved before the clock starts), `Hasher::hash_into`.
//!
//! Every thread hashes in a loop for SECONDS. Before that, the engine's tag for a fixed input
//! is checked against RustCrypto 0.5.3's, so that every engine computes the same function.
//! Prints one JSON line: `{"engine": .., "implementation": .., "threads": .., "memory_kib": ..,
//! "iterations": .., "hashes_per_second": .., "ms_per_hash": ..}` (`ms_per_hash` is the time one
//! thread takes per hash, every core busy), plus `"backend"`, the SIMD backend argon2-rust
//! detected, for the argon2-rust engines.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ENGINES: [&str; 4] = [
    "rustcrypto-0.5",
    "rustcrypto-0.6",
    "argon2-rust",
    "argon2-rust-arena",
];

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// Hashes with a fixed configuration; one per thread, built on that thread.
trait Engine {
    fn hash(&mut self, pwd: &[u8], salt: &[u8], out: &mut [u8; 32]);
}

struct RustCrypto05 {
    argon2: argon2::Argon2<'static>,
    memory: Vec<argon2::Block>,
}

impl RustCrypto05 {
    fn new(memory_kib: u32, iterations: u32) -> Self {
        let params =
            argon2::Params::new(memory_kib, iterations, 1, Some(32)).expect("Argon2 parameters");
        let argon2 =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        // One block buffer per thread, reused, as a pool thread would.
        let memory = vec![argon2::Block::default(); memory_kib as usize];
        Self { argon2, memory }
    }
}

impl Engine for RustCrypto05 {
    fn hash(&mut self, pwd: &[u8], salt: &[u8], out: &mut [u8; 32]) {
        self.argon2
            .hash_password_into_with_memory(pwd, salt, out, &mut self.memory)
            .expect("hash");
    }
}

struct RustCrypto06 {
    argon2: argon2_06::Argon2<'static>,
    memory: Vec<argon2_06::Block>,
}

impl RustCrypto06 {
    fn new(memory_kib: u32, iterations: u32) -> Self {
        let params =
            argon2_06::Params::new(memory_kib, iterations, 1, Some(32)).expect("Argon2 parameters");
        let argon2 = argon2_06::Argon2::new(
            argon2_06::Algorithm::Argon2id,
            argon2_06::Version::V0x13,
            params,
        );
        let memory = vec![argon2_06::Block::default(); memory_kib as usize];
        Self { argon2, memory }
    }
}

impl Engine for RustCrypto06 {
    fn hash(&mut self, pwd: &[u8], salt: &[u8], out: &mut [u8; 32]) {
        self.argon2
            .hash_password_into_with_memory(pwd, salt, out, &mut self.memory)
            .expect("hash");
    }
}

fn argon2_rust(memory_kib: u32, iterations: u32) -> argon2_rust::Argon2 {
    let params = argon2_rust::Params::builder()
        .memory(argon2_rust::params::Memory::kib(memory_kib.into()))
        .passes(iterations)
        .lanes(1)
        .tag_len(argon2_rust::params::TagLen::bytes(32))
        .build()
        .expect("Argon2 parameters");
    argon2_rust::Argon2::new(
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
        params,
    )
}

/// One-shot: the memory is allocated (and wiped, `zeroize-memory`) on every hash.
struct Argon2Rust(argon2_rust::Argon2);

impl Engine for Argon2Rust {
    fn hash(&mut self, pwd: &[u8], salt: &[u8], out: &mut [u8; 32]) {
        self.0.hash_into(pwd, salt, out).expect("hash");
    }
}

/// One arena per thread, kept between hashes.
struct Argon2RustArena(argon2_rust::Hasher);

impl Argon2RustArena {
    fn new(memory_kib: u32, iterations: u32) -> Self {
        let mut hasher = argon2_rust(memory_kib, iterations).hasher();
        hasher.reserve().expect("arena");
        Self(hasher)
    }
}

impl Engine for Argon2RustArena {
    fn hash(&mut self, pwd: &[u8], salt: &[u8], out: &mut [u8; 32]) {
        self.0.hash_into(pwd, salt, out).expect("hash");
    }
}

fn engine(id: &str, memory_kib: u32, iterations: u32) -> Box<dyn Engine> {
    match id {
        "rustcrypto-0.5" => Box::new(RustCrypto05::new(memory_kib, iterations)),
        "rustcrypto-0.6" => Box::new(RustCrypto06::new(memory_kib, iterations)),
        "argon2-rust" => Box::new(Argon2Rust(argon2_rust(memory_kib, iterations))),
        "argon2-rust-arena" => Box::new(Argon2RustArena::new(memory_kib, iterations)),
        _ => unreachable!("checked in main"),
    }
}

fn main() {
    let seconds: f64 = arg(1, 10.0);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads: usize = arg(2, cores);
    let memory_kib: u32 = arg(3, 19456);
    let iterations: u32 = arg(4, 2);
    let id = std::env::args()
        .nth(5)
        .filter(|e| !e.is_empty() && e != "-")
        .unwrap_or_else(|| ENGINES[0].to_string());
    if !ENGINES.contains(&id.as_str()) {
        eprintln!(
            "agentgate-argon2-ceiling [SECONDS] [THREADS] [MEMORY_KIB] [ITERATIONS] [ENGINE]\n\
             unknown engine {id:?}: one of {}",
            ENGINES.join(", ")
        );
        std::process::exit(2);
    }
    let (implementation, backend) = match id.as_str() {
        "rustcrypto-0.5" => ("RustCrypto argon2 0.5.3, per-thread block buffer", None),
        "rustcrypto-0.6" => ("RustCrypto argon2 0.6.0, per-thread block buffer", None),
        "argon2-rust" => (
            "argon2-rust 1.1.0, one-shot",
            Some(argon2_rust::detected_backend()),
        ),
        _ => (
            "argon2-rust 1.1.0, per-thread arena",
            Some(argon2_rust::detected_backend()),
        ),
    };

    // Same function as RustCrypto 0.5.3's, the one the stored hashes were made with.
    let (mut expected, mut got) = ([0u8; 32], [0u8; 32]);
    RustCrypto05::new(memory_kib, iterations).hash(b"password", b"saltsaltsaltsalt", &mut expected);
    engine(&id, memory_kib, iterations).hash(b"password", b"saltsaltsaltsalt", &mut got);
    assert_eq!(got, expected, "{id} disagrees with RustCrypto argon2 0.5.3");

    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|s| {
        for n in 0..threads {
            let (stop, done, start, id) = (&stop, &done, &start, &id);
            s.spawn(move || {
                let mut engine = engine(id, memory_kib, iterations);
                let salt = [n as u8; 16];
                let mut out = [0u8; 32];
                let mut i = 0u64;
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    engine.hash(format!("password-{n}-{i}").as_bytes(), &salt, &mut out);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        start.wait();
        let began = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        // The scope joins every worker before returning: hashes finished after `stop` are
        // counted over the time they actually took.
        began
    })
    .elapsed()
    .as_secs_f64();
    let hashes = done.load(Ordering::Relaxed) as f64;
    let per_second = hashes / elapsed;
    let backend = backend.map_or(String::new(), |b| format!(", \"backend\": \"{b}\""));
    println!(
        "{{\"engine\": \"{id}\", \"implementation\": \"{implementation}\"{backend}, \"threads\": {threads}, \"memory_kib\": {memory_kib}, \"iterations\": {iterations}, \"hashes_per_second\": {per_second:.3}, \"ms_per_hash\": {:.3}}}",
        1000.0 * threads as f64 / per_second
    );
}
