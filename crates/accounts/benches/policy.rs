//! The password policy's check of a new password, as a change runs it: with zxcvbn (the
//! default, score at least 2) against the same check without the strength rule (length,
//! NFKC, unchanged), the baseline, in the same run. A change also costs two Argon2id hashes
//! of about 7 to 9 ms each (docs/PERFORMANCE.md), against which both are small, but every
//! millisecond off the hashing threads' cores counts against the ceiling.
//!
//! `cargo bench -p agentgate-accounts --bench policy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use agentgate_accounts::Policy;
use criterion::{Criterion, criterion_main};

/// `scripts/bench`'s passwords (`change.lua`'s rotation), and two of other shapes.
const PASSWORDS: [(&str, &str); 4] = [
    ("bench", "Vq7!u1-mauve-otter-13"),
    ("words", "correct horse battery staple"),
    ("short", "Tr0ub4dor&3xyz"),
    ("longest", LONGEST),
];

/// The longest password the default policy accepts (128 characters), with every one of
/// zxcvbn's ambiguous l33t characters: the dearest check a client can ask for.
const LONGEST: &str = "P4$$w0rd!|7+1@3%5{9(8<6[2-correct-h0r5e-b4tt3ry-st4pl3-1|7+!@$\
                       -Tr0ub4d0r&3-m4uv3-0tt3r-qw3rty-dr4g0n-l3tm31n-m0nk3y-f00tb4ll-xyz";

fn policy(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy");
    let strength = Policy::default();
    let baseline = Policy {
        min_score: 0,
        ..Policy::default()
    };
    for (name, password) in PASSWORDS {
        let old = "Vq7!u1-mauve-otter-12";
        group.bench_function(format!("{name}/without strength (baseline)"), |b| {
            b.iter(|| baseline.check(black_box(password), Some(old), "u1"))
        });
        group.bench_function(format!("{name}/with zxcvbn"), |b| {
            b.iter(|| strength.check(black_box(password), Some(old), "u1"))
        });
    }
    group.finish();
}

fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    policy(&mut criterion);
}

criterion_main!(benches);
