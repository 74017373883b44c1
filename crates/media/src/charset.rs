//! The charsets of SPEC §2 and §3, with the one table of their labels.

/// A text encoding agentgate reads and writes (SPEC §2 "Charsets").
///
/// A request may declare any of the four, in its `Content-Type` or its XML declaration. A
/// response is written in [`Charset::Utf8`] or [`Charset::Utf16`]; UTF-16 is written
/// little-endian with a byte order mark (`FF FE`), as .NET writes `utf-16`, and
/// [`Charset::Utf16Be`] big-endian with `FE FF`.
///
/// # Examples
///
/// ```
/// use agentgate_media::Charset;
///
/// assert_eq!(Charset::from_label("UTF-16"), Some(Charset::Utf16));
/// assert_eq!(Charset::Utf16Le.as_str(), "utf-16le");
/// assert_eq!(Charset::from_label("iso-8859-1"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// `utf-8`, the default.
    Utf8,
    /// `utf-16`: a byte order mark decides the byte order; without one it is little-endian.
    Utf16,
    /// `utf-16le`.
    Utf16Le,
    /// `utf-16be`.
    Utf16Be,
}

/// Every label recognised, lower case, with its charset. The one table: the `charset`
/// parameter of `Content-Type`, `Accept-Charset` and an XML declaration's `encoding` all read
/// it, so they cannot disagree about `utf16`.
const LABELS: [(&str, Charset); 8] = [
    ("utf-8", Charset::Utf8),
    ("utf8", Charset::Utf8),
    ("utf-16", Charset::Utf16),
    ("utf16", Charset::Utf16),
    ("utf-16le", Charset::Utf16Le),
    ("utf16le", Charset::Utf16Le),
    ("utf-16be", Charset::Utf16Be),
    ("utf16be", Charset::Utf16Be),
];

impl Charset {
    /// The four charsets.
    pub const ALL: [Charset; 4] = [
        Charset::Utf8,
        Charset::Utf16,
        Charset::Utf16Le,
        Charset::Utf16Be,
    ];

    /// The charset of a label, compared ASCII case-insensitively: `utf-8` (or `utf8`),
    /// `utf-16` (or `utf16`), `utf-16le` (or `utf16le`), `utf-16be` (or `utf16be`).
    /// Surrounding whitespace is ignored; quotes are the caller's to remove.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::Charset;
    ///
    /// assert_eq!(Charset::from_label(" utf8 "), Some(Charset::Utf8));
    /// assert_eq!(Charset::from_label("UTF-16BE"), Some(Charset::Utf16Be));
    /// assert_eq!(Charset::from_label("utf-32"), None);
    /// assert_eq!(Charset::from_label("\"utf-8\""), None);
    /// ```
    pub fn from_label(label: &str) -> Option<Charset> {
        let label = label.trim_matches([' ', '\t', '\r', '\n']);
        LABELS
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(label))
            .map(|&(_, charset)| charset)
    }

    /// The label as written in a `charset` parameter: `utf-8`, `utf-16`, `utf-16le`,
    /// `utf-16be`.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_media::Charset;
    ///
    /// assert_eq!(Charset::Utf8.as_str(), "utf-8");
    /// assert_eq!(Charset::Utf16Be.as_str(), "utf-16be");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Utf16 => "utf-16",
            Charset::Utf16Le => "utf-16le",
            Charset::Utf16Be => "utf-16be",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_both_old_parsers_are_known_in_any_case() {
        let cases = [
            ("utf-8", Some(Charset::Utf8)),
            ("UTF-8", Some(Charset::Utf8)),
            ("utf8", Some(Charset::Utf8)),
            ("Utf8", Some(Charset::Utf8)),
            ("utf-16", Some(Charset::Utf16)),
            ("utf16", Some(Charset::Utf16)),
            ("UTF16", Some(Charset::Utf16)),
            ("Utf-16LE", Some(Charset::Utf16Le)),
            ("utf16le", Some(Charset::Utf16Le)),
            ("utf-16be", Some(Charset::Utf16Be)),
            ("UTF16BE", Some(Charset::Utf16Be)),
            ("\tutf-8\r\n", Some(Charset::Utf8)),
            ("iso-8859-1", None),
            ("koi8-r", None),
            ("utf-32", None),
            ("utf-7", None),
            ("ucs-2", None),
            ("", None),
            ("\"utf-8\"", None),
            ("utf-8 ;", None),
        ];
        for (label, expected) in cases {
            assert_eq!(Charset::from_label(label), expected, "{label:?}");
        }
    }

    #[test]
    fn every_charset_reads_back_from_its_own_label() {
        for charset in Charset::ALL {
            assert_eq!(Charset::from_label(charset.as_str()), Some(charset));
            assert_eq!(
                Charset::from_label(&charset.as_str().to_ascii_uppercase()),
                Some(charset)
            );
        }
    }
}
