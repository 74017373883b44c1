//! Argon2id hashes per second with every core busy, at the parameters agentgate uses by
//! default (OWASP: m=19456 KiB, t=2, p=1). A password change costs at least two of them
//! (verify the old password, hash the new one), so changes/s <= hashes/s / 2.
//!
//! `agentgate-argon2-ceiling [SECONDS] [THREADS] [MEMORY_KIB] [ITERATIONS]` prints one JSON
//! line: `{"implementation": ..., "threads": .., "hashes_per_second": .., "ms_per_hash": ..}`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let seconds: f64 = arg(1, 10.0);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads: usize = arg(2, cores);
    let memory_kib: u32 = arg(3, 19456);
    let iterations: u32 = arg(4, 2);
    let params = Params::new(memory_kib, iterations, 1, Some(32)).expect("Argon2 parameters");

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|n| {
            let (stop, done, start, params) = (
                Arc::clone(&stop),
                Arc::clone(&done),
                Arc::clone(&start),
                params.clone(),
            );
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                // One block buffer per thread, reused, as a pool thread would.
                let mut memory = vec![argon2::Block::default(); memory_kib as usize];
                let salt = [n as u8; 16];
                let mut out = [0u8; 32];
                let mut i = 0u64;
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    argon2
                        .hash_password_into_with_memory(
                            format!("password-{n}-{i}").as_bytes(),
                            &salt,
                            &mut out,
                            &mut memory,
                        )
                        .expect("hash");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    // Hashes finished after `stop` are counted over the time they actually took.
    let elapsed = began.elapsed().as_secs_f64();
    let hashes = done.load(Ordering::Relaxed) as f64;
    let per_second = hashes / elapsed;
    println!(
        "{{\"implementation\": \"RustCrypto argon2 0.5.3\", \"threads\": {threads}, \"memory_kib\": {memory_kib}, \"iterations\": {iterations}, \"hashes_per_second\": {per_second:.3}, \"ms_per_hash\": {:.3}}}",
        1000.0 * threads as f64 / per_second
    );
}
