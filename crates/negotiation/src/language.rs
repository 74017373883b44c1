use crate::header;

/// A language decision (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Language {
    /// One of the supported tags, spelled as the `supported` list spells it.
    Tag(&'static str),
    /// `*` or `x`: no translation; messages come as their resource ids in brackets.
    Untranslated,
}

/// The outcome of [`language`]: the language and whether the request chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageChoice {
    /// The language to answer in.
    pub language: Language,
    /// `true` when `SO-Language` or `Accept-Language` chose it, `false` for the default.
    pub explicit: bool,
}

impl LanguageChoice {
    /// The value for `Content-Language`: the tag, `None` when untranslated.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_negotiation::{Language, LanguageChoice};
    ///
    /// let swedish = LanguageChoice { language: Language::Tag("sv"), explicit: true };
    /// assert_eq!(swedish.content_language(), Some("sv"));
    /// let ids = LanguageChoice { language: Language::Untranslated, explicit: true };
    /// assert_eq!(ids.content_language(), None);
    /// ```
    pub fn content_language(&self) -> Option<&'static str> {
        match self.language {
            Language::Tag(tag) => Some(tag),
            Language::Untranslated => None,
        }
    }
}

/// Chooses the message language from `SO-Language` and `Accept-Language` (SPEC §7).
///
/// `SO-Language` overrides: when it is present and not blank, `Accept-Language` is not
/// consulted, even if nothing in `SO-Language` matches. Either header is a list of language
/// ranges with q-values (RFC 9110 §12.5.4), ranked highest q first, ties in header order;
/// q=0 ranges and unparseable items are skipped. Each range is looked up as RFC 4647 §3.4
/// does, case-insensitively: `en-US` tries `en-us`, then `en`; `nb` and `nn` (Bokmål and
/// Nynorsk) find `no`. The range `*` or `x` means no translation. The first range in that
/// order that finds something decides; when none does, the answer is `default`, not
/// explicit.
///
/// `default` should be one of `supported`; it is returned as given either way.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{Language, language};
///
/// const SUPPORTED: &[&str] = &["en", "sv", "no", "da", "de", "nl"];
///
/// let choice = language(None, Some("nb-NO, en;q=0.5"), SUPPORTED, "en");
/// assert_eq!(choice.language, Language::Tag("no"));
/// assert!(choice.explicit);
/// // SO-Language wins.
/// let choice = language(Some("de"), Some("sv"), SUPPORTED, "en");
/// assert_eq!(choice.content_language(), Some("de"));
/// // `x`: resource ids.
/// assert_eq!(language(Some("x"), None, SUPPORTED, "en").language, Language::Untranslated);
/// // Nothing matches: the default, not explicit.
/// let choice = language(None, Some("fr-FR"), SUPPORTED, "en");
/// assert_eq!((choice.language, choice.explicit), (Language::Tag("en"), false));
/// ```
pub fn language(
    so_language: Option<&str>,
    accept_language: Option<&str>,
    supported: &[&'static str],
    default: &'static str,
) -> LanguageChoice {
    let ranges = match so_language {
        Some(so_language) if !header::trim_ows(so_language).is_empty() => so_language,
        _ => accept_language.unwrap_or(""),
    };
    // Taking the first of the highest q is the stable sort of the ranking without sorting.
    let mut best: Option<(u16, Language)> = None;
    for item in header::items(ranges).flatten() {
        if item.q == 0 || best.as_ref().is_some_and(|&(q, _)| item.q <= q) {
            continue;
        }
        if let Some(language) = lookup(item.value, supported) {
            best = Some((item.q, language));
        }
    }
    match best {
        Some((_, language)) => LanguageChoice {
            language,
            explicit: true,
        },
        None => LanguageChoice {
            language: Language::Tag(default),
            explicit: false,
        },
    }
}

/// RFC 4647 §3.4 lookup of one language range: the range, then ever shorter prefixes of it.
fn lookup(range: &str, supported: &[&'static str]) -> Option<Language> {
    if range == "*" || range.eq_ignore_ascii_case("x") {
        return Some(Language::Untranslated);
    }
    if !is_language_range(range) {
        return None;
    }
    let mut prefix = range;
    loop {
        if let Some(tag) = find(prefix, supported) {
            return Some(Language::Tag(tag));
        }
        prefix = &prefix[..prefix.rfind('-')?];
        // RFC 4647 §3.4: a singleton left at the end (`en-x` of `en-x-twain`) goes too.
        if let Some(cut) = prefix.rfind('-').filter(|&cut| cut + 2 == prefix.len()) {
            prefix = &prefix[..cut];
        }
    }
}

/// Finds `tag` among `supported`, then by its macrolanguage: `nb` and `nn` are `no`.
fn find(tag: &str, supported: &[&'static str]) -> Option<&'static str> {
    let find = |tag: &str| {
        supported
            .iter()
            .copied()
            .find(|s| s.eq_ignore_ascii_case(tag))
    };
    find(tag).or_else(|| {
        let norwegian = tag.eq_ignore_ascii_case("nb") || tag.eq_ignore_ascii_case("nn");
        norwegian.then(|| find("no")).flatten()
    })
}

/// `language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*"` (RFC 4647 §2.1); `*` is handled
/// before this is asked.
fn is_language_range(range: &str) -> bool {
    let mut subtags = range.split('-');
    let primary = subtags.next().unwrap_or("");
    let fits =
        |s: &str, f: fn(&u8) -> bool| (1..=8).contains(&s.len()) && s.as_bytes().iter().all(f);
    fits(primary, u8::is_ascii_alphabetic) && subtags.all(|s| fits(s, u8::is_ascii_alphanumeric))
}

/// The culture for number and date formatting in messages, from `SO-Culture` (SPEC §7).
///
/// `None` when the request set no language (the choice is not explicit: the culture is then
/// ignored) or asked for none (untranslated). Otherwise `SO-Culture` when it is a
/// well-formed BCP 47 tag (RFC 5646 §2.1; `_` is read as `-`, as .NET and Java write
/// cultures), in canonical case: `en-us` becomes `en-US`, `zh-hant-tw` becomes `zh-Hant-TW`.
/// A missing or malformed `SO-Culture` falls back to the language's tag.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::{Language, LanguageChoice, culture};
///
/// let chosen = LanguageChoice { language: Language::Tag("en"), explicit: true };
/// assert_eq!(culture(Some("en-us"), &chosen).as_deref(), Some("en-US"));
/// assert_eq!(culture(None, &chosen).as_deref(), Some("en"));
/// assert_eq!(culture(Some("not a culture"), &chosen).as_deref(), Some("en"));
/// let default = LanguageChoice { language: Language::Tag("en"), explicit: false };
/// assert_eq!(culture(Some("de-DE"), &default), None);
/// ```
pub fn culture(so_culture: Option<&str>, choice: &LanguageChoice) -> Option<String> {
    let Language::Tag(tag) = choice.language else {
        return None;
    };
    if !choice.explicit {
        return None;
    }
    so_culture
        .and_then(|culture| canonical_tag(header::trim_ows(culture)))
        .or_else(|| Some(tag.to_owned()))
}

/// Checks a BCP 47 `langtag` (RFC 5646 §2.1, without the grandfathered tags) and writes it
/// in the canonical case of RFC 5646 §2.1.1.
fn canonical_tag(tag: &str) -> Option<String> {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Stage {
        Language,
        Script,
        Region,
        Variant,
        /// After a singleton; `bool`: whether the extension has a subtag yet.
        Extension(bool),
        /// After `x`; `bool`: whether the private use has a subtag yet.
        Private(bool),
    }
    // Longer than any real culture: refuse before doing work for it.
    if tag.len() > 64 {
        return None;
    }
    let mut out = String::with_capacity(tag.len());
    let mut subtags = tag.split(['-', '_']);
    let language = subtags.next()?;
    if !(2..=8).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    out.push_str(&language.to_ascii_lowercase());
    let mut stage = Stage::Language;
    let mut extlangs = 0;
    for subtag in subtags {
        let len = subtag.len();
        let alpha = subtag.bytes().all(|b| b.is_ascii_alphabetic());
        let digits = subtag.bytes().all(|b| b.is_ascii_digit());
        let alphanum = subtag.bytes().all(|b| b.is_ascii_alphanumeric());
        out.push('-');
        match stage {
            Stage::Private(_) if (1..=8).contains(&len) && alphanum => stage = Stage::Private(true),
            Stage::Private(_) => return None,
            _ if len == 1 && alphanum => {
                if stage == Stage::Extension(false) {
                    return None;
                }
                let private = subtag.eq_ignore_ascii_case("x");
                stage = if private {
                    Stage::Private(false)
                } else {
                    Stage::Extension(false)
                };
            }
            Stage::Extension(_) if (2..=8).contains(&len) && alphanum => {
                stage = Stage::Extension(true)
            }
            Stage::Extension(_) => return None,
            Stage::Language if len == 3 && alpha && language.len() <= 3 && extlangs < 3 => {
                extlangs += 1
            }
            Stage::Language if len == 4 && alpha => {
                stage = Stage::Script;
                out.push_str(&subtag[..1].to_ascii_uppercase());
                out.push_str(&subtag[1..].to_ascii_lowercase());
                continue;
            }
            Stage::Language | Stage::Script if (len == 2 && alpha) || (len == 3 && digits) => {
                stage = Stage::Region;
                out.push_str(&subtag.to_ascii_uppercase());
                continue;
            }
            _ if stage <= Stage::Variant
                && alphanum
                && ((5..=8).contains(&len)
                    || (len == 4 && subtag.as_bytes()[0].is_ascii_digit())) =>
            {
                stage = Stage::Variant;
            }
            _ => return None,
        }
        out.push_str(&subtag.to_ascii_lowercase());
    }
    match stage {
        Stage::Extension(false) | Stage::Private(false) => None,
        _ => Some(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORTED: &[&str] = &["en", "sv", "no", "da", "de", "nl"];

    fn choose(so_language: Option<&str>, accept_language: Option<&str>) -> (Language, bool) {
        let choice = language(so_language, accept_language, SUPPORTED, "en");
        (choice.language, choice.explicit)
    }

    #[test]
    fn accept_language_table() {
        use Language::{Tag, Untranslated};
        let cases = [
            (None, (Tag("en"), false)),
            (Some(""), (Tag("en"), false)),
            (Some("sv"), (Tag("sv"), true)),
            (Some("SV"), (Tag("sv"), true)),
            (Some("en-US,en;q=0.9"), (Tag("en"), true)),
            (
                Some("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7"),
                (Tag("sv"), true),
            ),
            (Some("nb"), (Tag("no"), true)),
            (Some("nn-NO"), (Tag("no"), true)),
            (Some("nb-NO"), (Tag("no"), true)),
            (Some("no-NO"), (Tag("no"), true)),
            (Some("NB-no"), (Tag("no"), true)),
            (Some("de-CH-1901"), (Tag("de"), true)),
            (Some("de-x-private"), (Tag("de"), true)),
            (Some("x"), (Untranslated, true)),
            (Some("X"), (Untranslated, true)),
            (Some("*"), (Untranslated, true)),
            (Some("fr"), (Tag("en"), false)),
            (Some("fr-FR, fr;q=0.9"), (Tag("en"), false)),
            (Some("fr, da;q=0.1"), (Tag("da"), true)),
            (Some("fr, *;q=0.5, de;q=0.4"), (Untranslated, true)),
            (Some("fr, de;q=0.6, *;q=0.5"), (Tag("de"), true)),
            (Some("de;q=0.5, sv"), (Tag("sv"), true)),
            (Some("de;q=0.5, sv;q=0.5"), (Tag("de"), true)),
            (Some("sv;q=0, de;q=0.1"), (Tag("de"), true)),
            (Some("sv;q=0"), (Tag("en"), false)),
            (Some("sv;q=abc, de;q=0.1"), (Tag("de"), true)),
            (Some("sv;q=1.5, de;q=0.1"), (Tag("de"), true)),
            (Some("sv;q=0.1234, de;q=0.1"), (Tag("de"), true)),
            (
                Some("s_v, sv-, toolonglanguage, de;q=0.1"),
                (Tag("de"), true),
            ),
            (Some("x-klingon"), (Tag("en"), false)),
        ];
        for (accept_language, expected) in cases {
            assert_eq!(
                choose(None, accept_language),
                expected,
                "Accept-Language: {accept_language:?}"
            );
            // SO-Language reads the same way.
            if accept_language.is_some_and(|header| !header.is_empty()) {
                assert_eq!(
                    choose(accept_language, None),
                    expected,
                    "SO-Language: {accept_language:?}"
                );
            }
        }
    }

    #[test]
    fn so_language_beats_accept_language() {
        use Language::{Tag, Untranslated};
        let cases = [
            (Some("de"), Some("sv"), (Tag("de"), true)),
            (Some("x"), Some("sv"), (Untranslated, true)),
            (Some("sv"), Some("*"), (Tag("sv"), true)),
            // Present but matching nothing: Accept-Language is still not consulted.
            (Some("fr"), Some("sv"), (Tag("en"), false)),
            // Blank: as if absent.
            (Some(" "), Some("sv"), (Tag("sv"), true)),
            (Some(""), Some("sv"), (Tag("sv"), true)),
            (None, Some("sv"), (Tag("sv"), true)),
        ];
        for (so_language, accept_language, expected) in cases {
            assert_eq!(
                choose(so_language, accept_language),
                expected,
                "{so_language:?} {accept_language:?}"
            );
        }
    }

    #[test]
    fn the_default_and_supported_spelling_are_kept() {
        let choice = language(None, Some("fr"), &["EN", "sv"], "sv");
        assert_eq!(
            choice,
            LanguageChoice {
                language: Language::Tag("sv"),
                explicit: false
            }
        );
        let choice = language(None, Some("en-gb"), &["EN", "sv"], "sv");
        assert_eq!(
            choice,
            LanguageChoice {
                language: Language::Tag("EN"),
                explicit: true
            }
        );
        // `nb` is found as itself when supported, before `no`.
        let choice = language(None, Some("nb-NO"), &["no", "nb"], "no");
        assert_eq!(choice.content_language(), Some("nb"));
        // Without `no` supported, `nb` has nowhere to go.
        let choice = language(None, Some("nb"), &["en"], "en");
        assert!(!choice.explicit);
    }

    #[test]
    fn culture_table() {
        let english = LanguageChoice {
            language: Language::Tag("en"),
            explicit: true,
        };
        let default = LanguageChoice {
            language: Language::Tag("en"),
            explicit: false,
        };
        let untranslated = LanguageChoice {
            language: Language::Untranslated,
            explicit: true,
        };
        let cases = [
            (Some("en-US"), &english, Some("en-US")),
            (Some("EN-us"), &english, Some("en-US")),
            (Some("en_US"), &english, Some("en-US")),
            (Some(" sv-SE "), &english, Some("sv-SE")),
            (Some("de"), &english, Some("de")),
            (Some("zh-hant-tw"), &english, Some("zh-Hant-TW")),
            (Some("es-419"), &english, Some("es-419")),
            (Some("de-CH-1901"), &english, Some("de-CH-1901")),
            (Some("sl-rozaj-biske"), &english, Some("sl-rozaj-biske")),
            (
                Some("en-US-u-ca-gregory"),
                &english,
                Some("en-US-u-ca-gregory"),
            ),
            (Some("en-x-Twain"), &english, Some("en-x-twain")),
            (Some("zh-yue-HK"), &english, Some("zh-yue-HK")),
            (None, &english, Some("en")),
            (Some(""), &english, Some("en")),
            (Some("e"), &english, Some("en")),
            (Some("en-"), &english, Some("en")),
            (Some("en--US"), &english, Some("en")),
            (Some("en-US-u"), &english, Some("en")),
            (Some("en-x"), &english, Some("en")),
            (Some("en-u-x-a"), &english, Some("en")),
            (Some("en-US-US"), &english, Some("en")),
            (Some("en-Latn-Latn"), &english, Some("en")),
            (Some("123"), &english, Some("en")),
            (Some("*"), &english, Some("en")),
            (Some("en US"), &english, Some("en")),
            (Some("de-DE"), &default, None),
            (None, &default, None),
            (Some("de-DE"), &untranslated, None),
        ];
        for (so_culture, choice, expected) in cases {
            assert_eq!(
                culture(so_culture, choice).as_deref(),
                expected,
                "{so_culture:?} {choice:?}"
            );
        }
    }
}
