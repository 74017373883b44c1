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

impl Policy {
    /// Checks a new password, in the order length, unchanged, strength.
    ///
    /// `new` and `old` are compared after NFKC normalisation; `username` is one of zxcvbn's
    /// user inputs, so a password built from it scores low. Pass `None` as `old` when there is
    /// none (a new user).
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
        let new = normalize(new);
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
        if old.is_some_and(|old| normalize(old) == new) {
            return Err(PolicyViolation::Unchanged);
        }
        if self.min_score > 0 {
            let user = normalize(username);
            let score = u8::from(zxcvbn::zxcvbn(&new, &[&user, username]).score());
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
    fn common_passwords_are_too_weak() {
        let policy = Policy::default();
        assert!(matches!(
            policy.check("password1", None, "u"),
            Err(PolicyViolation::TooWeak { min: 2, .. })
        ));
    }
}
