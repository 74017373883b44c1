//! The zxcvbn agentgate builds with (`vendor/zxcvbn`: 3.1.1 with its six dictionaries in one
//! map, `PATCHED.md`) rates passwords as the published, unpatched 3.1.1 does. The fixture
//! holds what upstream gave each of its passwords over 50 calls, the username as the user
//! inputs the way the policy passes it (`scripts/zxcvbn-fixture/record`): the fewest and
//! most guesses, and the scores seen. Upstream is not deterministic (the order it visits
//! its dictionaries and l33t readings in follows `HashMap` seeds), and for 5 of the 4,080
//! passwords its guesses vary from call to call, never its score.

use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("../../../fixtures/zxcvbn-upstream-3.1.1.tsv");

#[test]
fn every_password_is_rated_as_upstream_rates_it() {
    let mut checked = 0;
    let mut scores = BTreeMap::new();
    let mut differing = Vec::new();
    for line in FIXTURE.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [user, password, fewest, most, seen] = fields[..] else {
            panic!("a fixture line has five fields: {line:?}");
        };
        let fewest: u64 = fewest.parse().expect("fewest guesses");
        let most: u64 = most.parse().expect("most guesses");
        let rated = zxcvbn::zxcvbn(password, &[user, user]);
        let (guesses, score) = (rated.guesses(), u8::from(rated.score()));
        if !(fewest..=most).contains(&guesses) || !seen.contains(char::from(b'0' + score)) {
            differing.push(format!(
                "{user:?} {password:?}: upstream {fewest} to {most} guesses, scores {seen}; \
                 here {guesses}, score {score}"
            ));
        }
        *scores.entry(score).or_insert(0) += 1;
        checked += 1;
    }
    assert!(
        differing.is_empty(),
        "{} of {checked} rated differently:\n{}",
        differing.len(),
        differing.join("\n")
    );
    assert_eq!(checked, 4080, "the whole fixture was read");
    // Every score is in the fixture, the strong ones as well as the weak.
    assert_eq!(scores.len(), 5, "scores: {scores:?}");
}
