//! The password policy of SPEC §4 and the normal form passwords are hashed in.

use unicode_normalization::UnicodeNormalization;

use crate::Policy;

/// Why the policy refused a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Fewer code points than the policy's minimum (after NFKC).
    TooShort {
        /// The policy's minimum.
        min: usize,
    },
    /// More code points than the policy's maximum (after NFKC).
    TooLong {
        /// The policy's maximum.
        max: usize,
    },
    /// zxcvbn scores it below the policy's minimum, the username counting as a known input.
    TooWeak {
        /// The password's score, 0 to 4.
        score: u8,
        /// The policy's minimum.
        min: u8,
    },
    /// Equal to the old password (after NFKC).
    Unchanged,
}

impl PolicyViolation {
    /// The reason code the server sends in `X-Reason`.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::PolicyViolation;
    ///
    /// assert_eq!(PolicyViolation::TooShort { min: 8 }.reason(), "password-too-short");
    /// assert_eq!(PolicyViolation::Unchanged.reason(), "password-unchanged");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            PolicyViolation::TooShort { .. } => "password-too-short",
            PolicyViolation::TooLong { .. } => "password-too-long",
            PolicyViolation::TooWeak { .. } => "password-too-weak",
            PolicyViolation::Unchanged => "password-unchanged",
        }
    }
}

/// The code points of a new password that zxcvbn rates: its first 32 (after NFKC).
///
/// zxcvbn's work grows with the square of the length it rates and exponentially with the
/// kinds of l33t characters in it (`4@8({[<369!1|0$5+7%2`), every combination of their
/// readings matched against every dictionary: over the 128 code points the policy allows,
/// a password of them took zxcvbn 3.1.1 1.26 s of one core (and 0.96 s at 100, where zxcvbn
/// stops reading), the known zxcvbn denial of service. Over 32 the worst found takes 80 to
/// 100 ms, the cost of a few Argon2 hashes; random passwords of 32 take 0.5 to 1.6 ms
/// (release build, a 2-core Xeon VM, issue 17). A password up to 32 code points is rated
/// whole, as before; a longer one by its first 32, which a strong password's are in
/// practice (words, random characters), while a weak one stays weak at its start.
pub const STRENGTH_WINDOW: usize = 32;

impl Policy {
    /// Checks a new password, in the order length, unchanged, strength.
    ///
    /// `new` and `old` are compared after NFKC normalisation; `username` is one of zxcvbn's
    /// user inputs, so a password built from it scores low. Pass `None` as `old` when there is
    /// none (a new user). Strength is rated on the first [`STRENGTH_WINDOW`] code points;
    /// even so, a check can take tens of milliseconds: run it where a request may wait that
    /// long (the hashing threads), not on an async worker.
    ///
    /// # Errors
    ///
    /// The first rule the password breaks.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_accounts::{Policy, PolicyViolation};
    ///
    /// let policy = Policy::default();
    /// assert_eq!(policy.check("short", None, "alice"), Err(PolicyViolation::TooShort { min: 8 }));
    /// assert_eq!(
    ///     policy.check("correct horse battery", Some("correct horse battery"), "alice"),
    ///     Err(PolicyViolation::Unchanged),
    /// );
    /// assert!(policy.check("correct horse battery", Some("old secret"), "alice").is_ok());
    /// ```
    pub fn check(
        &self,
        new: &str,
        old: Option<&str>,
        username: &str,
    ) -> Result<(), PolicyViolation> {
        let old = old.map(normalize);
        self.check_normalized(&normalize(new), old.as_deref(), username)
    }

    /// [`check`](Policy::check) of a `new` and `old` password already in NFKC, as the
    /// hashing threads get them.
    pub(crate) fn check_normalized(
        &self,
        new: &str,
        old: Option<&str>,
        username: &str,
    ) -> Result<(), PolicyViolation> {
        let length = new.chars().count();
        if length < self.min_length {
            return Err(PolicyViolation::TooShort {
                min: self.min_length,
            });
        }
        if length > self.max_length {
            return Err(PolicyViolation::TooLong {
                max: self.max_length,
            });
        }
        if old == Some(new) {
            return Err(PolicyViolation::Unchanged);
        }
        if self.min_score > 0 {
            let user = normalize(username);
            let rated = match new.char_indices().nth(STRENGTH_WINDOW) {
                Some((end, _)) => &new[..end],
                None => new,
            };
            let score = u8::from(zxcvbn::zxcvbn(rated, &[&user, username]).score());
            if score < self.min_score {
                return Err(PolicyViolation::TooWeak {
                    score,
                    min: self.min_score,
                });
            }
        }
        Ok(())
    }
}

/// NFKC, the form every password is hashed and compared in (SPEC §4).
pub(crate) fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn length_counts_code_points_after_nfkc() {
        let policy = Policy {
            min_length: 3,
            max_length: 4,
            min_score: 0,
        };
        // U+FB03 (ffi ligature) is one code point that NFKC turns into three.
        assert_eq!(policy.check("\u{FB03}", None, "u"), Ok(()));
        assert_eq!(
            policy.check("\u{FB03}\u{FB03}", None, "u"),
            Err(PolicyViolation::TooLong { max: 4 })
        );
        assert_eq!(policy.check("åäö", None, "u"), Ok(()));
        assert_eq!(
            policy.check("åä", None, "u"),
            Err(PolicyViolation::TooShort { min: 3 })
        );
    }

    #[test]
    fn fullwidth_is_the_same_password() {
        let policy = Policy::default();
        assert_eq!(
            policy.check("ｔｒｏｕｂａｄｏｒ-９３", Some("troubador-93"), "u"),
            Err(PolicyViolation::Unchanged)
        );
    }

    #[test]
    fn the_username_weakens_a_password_built_from_it() {
        let policy = Policy {
            min_score: 3,
            ..Policy::default()
        };
        let password = "Rumpelstiltskin1987";
        assert!(policy.check(password, None, "someone").is_ok());
        assert!(matches!(
            policy.check(password, None, "rumpelstiltskin1987"),
            Err(PolicyViolation::TooWeak { min: 3, .. })
        ));
    }

    #[test]
    fn strength_is_rated_on_the_first_thirty_two_code_points() {
        let policy = Policy::default();
        let weak = "password".repeat(4);
        let strong = "Vq7!u1-mauve-otter-13-gq8#Lz2@Kp";
        assert_eq!(strong.chars().count(), STRENGTH_WINDOW);
        assert!(policy.check(strong, None, "u").is_ok());
        // A weak start stays weak, whatever follows it; a strong start stays strong.
        let weak_start = format!("{weak}{strong}");
        assert!(matches!(
            policy.check(&weak_start, None, "u"),
            Err(PolicyViolation::TooWeak { .. })
        ));
        assert!(policy.check(&format!("{strong}{weak}"), None, "u").is_ok());
    }

    #[test]
    fn the_slowest_password_to_rate_is_rated_in_bounded_time() {
        // Every kind of l33t character zxcvbn reads, to the policy's longest: 0.96 s of
        // zxcvbn 3.1.1 in a release build over what it reads of it (100 code points).
        // Measured in this thread's CPU time where Linux tells it, so that other tests
        // running beside this one do not count: here about 0.13 s, 0.93 s without the window.
        let slow: String = "4@8({[<369!1|0$5+7%2".chars().cycle().take(128).collect();
        let policy = Policy::default();
        zxcvbn::zxcvbn("warm up", &[]);
        let (cpu, wall) = (thread_cpu(), std::time::Instant::now());
        assert!(policy.check(&slow, None, "u").is_ok());
        let took = match (cpu, thread_cpu()) {
            (Some(before), Some(after)) => after - before,
            _ => wall.elapsed(),
        };
        assert!(took < Duration::from_millis(600), "{took:?}");
    }

    /// The CPU time this thread has had (`/proc/thread-self/schedstat`, Linux).
    fn thread_cpu() -> Option<Duration> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let nanos = stat.split_whitespace().next()?.parse().ok()?;
        Some(Duration::from_nanos(nanos))
    }

    #[test]
    fn common_passwords_are_too_weak() {
        let policy = Policy::default();
        assert!(matches!(
            policy.check("password1", None, "u"),
            Err(PolicyViolation::TooWeak { min: 2, .. })
        ));
    }
}
