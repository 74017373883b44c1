//! Rates every line of stdin (`username TAB password`) RUNS times (default 50) with the
//! unpatched zxcvbn 3.1.1, the username as the user inputs the way agentgate's policy passes
//! it, and prints `username TAB password TAB fewest guesses TAB most guesses TAB scores seen`.
//! Upstream is not deterministic: the order it visits its dictionaries and l33t readings in
//! follows `HashMap`s' random seeds, and for a few passwords the guesses vary between calls.
use std::io::BufRead;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map_or(50, |a| a.parse().expect("RUNS is a number"));
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is UTF-8");
        let (user, password) = line.split_once('\t').expect("username TAB password");
        let (mut fewest, mut most, mut scores) = (u64::MAX, 0u64, [false; 5]);
        for _ in 0..runs {
            let rated = zxcvbn::zxcvbn(password, &[user, user]);
            fewest = fewest.min(rated.guesses());
            most = most.max(rated.guesses());
            scores[usize::from(u8::from(rated.score()))] = true;
        }
        let seen: String = (0..5).filter(|&s| scores[s]).map(|s| s.to_string()).collect();
        println!("{user}\t{password}\t{fewest}\t{most}\t{seen}");
    }
}
