//! Which names a new user may have: RFC 8265 §3.3, the UsernameCaseMapped profile of PRECIS
//! (RFC 8264), checked by `precis-profiles`, plus what Basic authentication needs (RFC 7617
//! §2: no colon).
//!
//! Only new names are checked. Existing users are looked up as before, by their key (NFKC,
//! then lowercase), so a name that an older version accepted keeps working.

use std::fmt;

use precis_profiles::UsernameCaseMapped;
use precis_profiles::precis_core::profile::Profile as _;
use precis_profiles::precis_core::{self, CodepointInfo, DerivedPropertyValue};

/// The longest name, in code points.
pub(crate) const MAX_LENGTH: usize = 128;

/// Why a username was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsernameProblem {
    /// The name is empty.
    Empty,
    /// The name has more than `max` code points.
    TooLong {
        /// The most code points a name may have.
        max: usize,
    },
    /// A code point the profile refuses, at `position` (counted in code points from 0).
    Refused {
        /// The code point.
        code_point: char,
        /// Where it is in the name, counted in code points from 0.
        position: usize,
        /// What kind of code point it is.
        kind: RefusedKind,
    },
    /// Right-to-left letters in an order the bidi rule of RFC 5893 §2 refuses, which could
    /// show the name as another.
    Directionality,
}

/// What kind of code point a name may not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusedKind {
    /// A space or another white space: RFC 8265 names carry none.
    Space,
    /// A control character.
    Control,
    /// An invisible format character: zero-width ones, bidi controls, the soft hyphen.
    Format,
    /// `:`, which ends the user-id in Basic authentication (RFC 7617 §2).
    Colon,
    /// Unassigned in the Unicode version PRECIS derives its tables from.
    Unassigned,
    /// Allowed only in contexts (RFC 5892 Appendix A) that do not hold here.
    Context,
    /// Anything else the profile refuses: symbols, punctuation beyond ASCII, compatibility
    /// forms.
    Other,
}

impl fmt::Display for UsernameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsernameProblem::Empty => f.write_str("the name is empty"),
            UsernameProblem::TooLong { max } => {
                write!(f, "the name is longer than {max} characters")
            }
            UsernameProblem::Refused {
                code_point,
                position,
                kind,
            } => {
                let what = match kind {
                    RefusedKind::Space => "a space",
                    RefusedKind::Control => "a control character",
                    RefusedKind::Format => {
                        "an invisible format character (zero-width or bidi control)"
                    }
                    RefusedKind::Colon => "a colon, which Basic authentication cannot carry",
                    RefusedKind::Unassigned => "an unassigned code point",
                    RefusedKind::Context => "a joiner or mark out of its allowed context",
                    RefusedKind::Other => "a character RFC 8265 usernames may not hold",
                };
                write!(
                    f,
                    "character {} (U+{:04X}) is {what}",
                    position + 1,
                    u32::from(*code_point)
                )
            }
            UsernameProblem::Directionality => f.write_str(
                "right-to-left and left-to-right text are mixed in a way that could show the name as another",
            ),
        }
    }
}

/// Checks a new name against RFC 8265's UsernameCaseMapped profile and RFC 7617.
pub(crate) fn check(username: &str) -> Result<(), UsernameProblem> {
    if username.is_empty() {
        return Err(UsernameProblem::Empty);
    }
    if username.chars().count() > MAX_LENGTH {
        return Err(UsernameProblem::TooLong { max: MAX_LENGTH });
    }
    // Spaces, controls and format characters first, with a name for each: the profile would
    // refuse them too, but only as "disallowed".
    for (position, c) in username.chars().enumerate() {
        let kind = if c.is_control() {
            RefusedKind::Control
        } else if c.is_whitespace() {
            RefusedKind::Space
        } else if is_format(c) {
            RefusedKind::Format
        } else if c == ':' {
            RefusedKind::Colon
        } else {
            continue;
        };
        return Err(UsernameProblem::Refused {
            code_point: c,
            position,
            kind,
        });
    }
    match UsernameCaseMapped::new().enforce(username) {
        Ok(_) => Ok(()),
        Err(precis_core::Error::BadCodepoint(info)) => Err(refused(username, &info)),
        Err(precis_core::Error::Unexpected(
            precis_core::UnexpectedError::ContextRuleNotApplicable(info)
            | precis_core::UnexpectedError::MissingContextRule(info),
        )) => Err(refused(username, &info)),
        Err(precis_core::Error::Invalid) if has_right_to_left(username) => {
            Err(UsernameProblem::Directionality)
        }
        // Empty after case mapping and normalisation, which no name of a code point does.
        Err(_) => Err(UsernameProblem::Empty),
    }
}

fn refused(username: &str, info: &CodepointInfo) -> UsernameProblem {
    let code_point = char::from_u32(info.cp).unwrap_or(char::REPLACEMENT_CHARACTER);
    // The profile counts positions in code points of the prepared string, which width
    // mapping may have changed; find the code point in the name as given.
    let position = username
        .chars()
        .position(|c| c == code_point)
        .unwrap_or(info.position);
    let kind = match info.property {
        DerivedPropertyValue::Unassigned => RefusedKind::Unassigned,
        DerivedPropertyValue::ContextJ | DerivedPropertyValue::ContextO => RefusedKind::Context,
        _ => RefusedKind::Other,
    };
    UsernameProblem::Refused {
        code_point,
        position,
        kind,
    }
}

fn has_right_to_left(username: &str) -> bool {
    username.chars().any(|c| {
        matches!(u32::from(c), 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
    })
}

/// General category Cf (format), as of Unicode 15.1: invisible characters that change how
/// text around them shows.
fn is_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> Option<RefusedKind> {
        match check(name) {
            Err(UsernameProblem::Refused { kind, .. }) => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "alice",
            "Alice",
            "åsa.öberg",
            "bob_smith-2",
            "Ünal",
            "ЮЛИЯ",
            "ΣΟΦΙΑ",
            "a@b.example",
        ] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn look_alike_and_invisible_code_points_are_refused_with_a_reason() {
        let table = [
            ("ali\u{200B}ce", RefusedKind::Format, 3),
            ("\u{202E}ecila", RefusedKind::Format, 0),
            ("alice\u{2066}", RefusedKind::Format, 5),
            (" alice", RefusedKind::Space, 0),
            ("alice smith", RefusedKind::Space, 5),
            ("alice\u{00A0}", RefusedKind::Space, 5),
            ("a\nb", RefusedKind::Control, 1),
            ("a\u{7F}b", RefusedKind::Control, 1),
            ("bob:x", RefusedKind::Colon, 3),
            ("bob\u{2603}", RefusedKind::Other, 3),
            ("x\u{0378}", RefusedKind::Unassigned, 1),
        ];
        for (name, expected, position) in table {
            match check(name) {
                Err(UsernameProblem::Refused {
                    kind, position: at, ..
                }) => assert_eq!((kind, at), (expected, position), "{name:?}"),
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert_eq!(kind("a\u{1F600}"), Some(RefusedKind::Other), "a symbol");
        // A Syriac letter of Unicode 10: newer than the tables PRECIS derives from (6.3).
        assert_eq!(kind("a\u{0860}"), Some(RefusedKind::Unassigned));
        let message = check("ali\u{200B}ce").unwrap_err().to_string();
        assert_eq!(
            message,
            "character 4 (U+200B) is an invisible format character (zero-width or bidi control)"
        );
    }

    #[test]
    fn empty_and_long_names_are_refused() {
        assert_eq!(check(""), Err(UsernameProblem::Empty));
        assert_eq!(check(&"x".repeat(MAX_LENGTH)), Ok(()));
        assert_eq!(
            check(&"x".repeat(MAX_LENGTH + 1)),
            Err(UsernameProblem::TooLong { max: MAX_LENGTH })
        );
    }

    #[test]
    fn mixed_directions_that_could_mislead_are_refused() {
        // A right-to-left label ending in a left-to-right letter breaks the bidi rule.
        assert_eq!(check("\u{05D0}a"), Err(UsernameProblem::Directionality));
        assert_eq!(check("\u{05D0}\u{05D1}"), Ok(()));
    }
}
