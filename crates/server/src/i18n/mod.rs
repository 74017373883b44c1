//! Localized messages (SPEC §7): Fluent catalogs for the six languages, with numbers and
//! times formatted for the caller's culture and time zone through ICU4X data ([`format`]).
//!
//! The catalogs live in `locales/xx.ftl`, one file per language, embedded in the binary and
//! parsed once by [`Catalog::load`]. Every message has a stable resource id such as
//! `SR_OLD_PASSWORD_MISMATCH`, named in code by a [`Message`]; `en.ftl` is the reference,
//! and a unit test fails when a language lacks a message or uses different variables.
//!
//! Two things are deliberately kept apart:
//! - the *language* picks the catalog and the plural rules (`1 Sekunde`, `2 Sekunden`);
//! - the *culture* (`SO-Culture`, defaulting to the language) formats numbers and times
//!   (`65.536`, `26.11.2026, 17:05`). `en` text with `de` numbers is a valid combination.
//!
//! Texts are plain: no Unicode bidi isolation marks (they would end up in JSON, XML and
//! HTTP headers) and no HTML escaping (the page templates escape what they embed).
//!
//! Messages without arguments (most of them: every page label, most refusals) are
//! formatted once, when the catalog loads; answering with one costs no Fluent work.

use std::borrow::Cow;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use unic_langid::LanguageIdentifier;

mod format;

/// A message argument, named by the message's Fluent variable (`$min` is `("min", ..)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// Text shown as is, e.g. a user name. Never text from the request (SPEC §2).
    Str(String),
    /// A count: formatted by the culture (`de`: `65.536`) and driving plural selection by
    /// the language (`1 second`, `2 seconds`).
    Number(i64),
    /// A moment: shown as local date and time in the caller's time zone, by the culture.
    Time(Timestamp),
}

/// Declares [`Message`]: one variant per resource id of the catalogs.
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident = $id:literal,)*) => {
        /// A message of the catalogs, by its resource id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Message {
            $($(#[$doc])* $name,)*
        }

        impl Message {
            /// Every message, in declaration order (the index of the plain-text cache).
            pub(crate) const ALL: &[Message] = &[$(Message::$name,)*];

            /// The resource id, as the `.ftl` files and untranslated answers write it.
            pub(crate) const fn id(self) -> &'static str {
                match self {
                    $(Message::$name => $id,)*
                }
            }
        }
    };
}

messages! {
    // ChangeOwnPassword outcomes (SPEC §4)
    /// `$`: none.
    OldPasswordMismatch = "SR_OLD_PASSWORD_MISMATCH",
    /// `$min`.
    PasswordTooShort = "SR_PASSWORD_TOO_SHORT",
    /// `$max`.
    PasswordTooLong = "SR_PASSWORD_TOO_LONG",
    PasswordTooWeak = "SR_PASSWORD_TOO_WEAK",
    PasswordUnchanged = "SR_PASSWORD_UNCHANGED",
    PasswordChanged = "SR_PASSWORD_CHANGED",
    /// The upstream NetServer said `false` and gives no reason (SPEC §10).
    UpstreamRefused = "SR_UPSTREAM_REFUSED",
    /// `$until`.
    Throttled = "SR_THROTTLED",
    // Authentication and authorization (SPEC §4, §5)
    Unauthorized = "SR_UNAUTHORIZED",
    XsrfInvalid = "SR_XSRF_INVALID",
    PartnerAppForbidden = "SR_PARTNER_APP_FORBIDDEN",
    OnlineForbidden = "SR_ONLINE_FORBIDDEN",
    /// The upstream answered 403 (SPEC §10).
    Forbidden = "SR_FORBIDDEN",
    // Request and response negotiation (SPEC §1-§3)
    UnsupportedMediaType = "SR_UNSUPPORTED_MEDIA_TYPE",
    UnsupportedCharset = "SR_UNSUPPORTED_CHARSET",
    MissingContentType = "SR_MISSING_CONTENT_TYPE",
    EmptyBody = "SR_EMPTY_BODY",
    BadRequest = "SR_BAD_REQUEST",
    PatchTestFailed = "SR_PATCH_TEST_FAILED",
    /// `$limit`.
    PayloadTooLarge = "SR_PAYLOAD_TOO_LARGE",
    NotAcceptable = "SR_NOT_ACCEPTABLE",
    MethodNotAllowed = "SR_METHOD_NOT_ALLOWED",
    NotFound = "SR_NOT_FOUND",
    InvalidSelect = "SR_INVALID_SELECT",
    // Server state (SPEC §4, §10)
    /// `$seconds`.
    Busy = "SR_BUSY",
    StoreUnavailable = "SR_STORE_UNAVAILABLE",
    InternalError = "SR_INTERNAL_ERROR",
    BadGateway = "SR_BAD_GATEWAY",
    GatewayTimeout = "SR_GATEWAY_TIMEOUT",
    // Browser pages (SPEC §6)
    PageLoginTitle = "SR_PAGE_LOGIN_TITLE",
    PageUsername = "SR_PAGE_USERNAME",
    PagePassword = "SR_PAGE_PASSWORD",
    PageLogIn = "SR_PAGE_LOG_IN",
    /// The same text for an unknown user and a wrong password.
    PageLoginFailed = "SR_PAGE_LOGIN_FAILED",
    PageLogOut = "SR_PAGE_LOG_OUT",
    PageChangeTitle = "SR_PAGE_CHANGE_TITLE",
    /// `$username`.
    PageSignedInAs = "SR_PAGE_SIGNED_IN_AS",
    PageCurrentPassword = "SR_PAGE_CURRENT_PASSWORD",
    PageNewPassword = "SR_PAGE_NEW_PASSWORD",
    PageChangeButton = "SR_PAGE_CHANGE_BUTTON",
    /// `$min`, `$max`.
    PagePolicy = "SR_PAGE_POLICY",
    PageTryAgain = "SR_PAGE_TRY_AGAIN",
    PageBack = "SR_PAGE_BACK",
    PageResultTitle = "SR_PAGE_RESULT_TITLE",
    // SOAP faults (SPEC §9)
    SoapBadEnvelope = "SR_SOAP_BAD_ENVELOPE",
    SoapActionMismatch = "SR_SOAP_ACTION_MISMATCH",
    SoapUnknownOperation = "SR_SOAP_UNKNOWN_OPERATION",
    SoapMustUnderstand = "SR_SOAP_MUST_UNDERSTAND",
}

/// The embedded catalogs, in the order of [`Catalog::LANGUAGES`].
const SOURCES: [(&str, &str); 6] = [
    ("en", include_str!("../../locales/en.ftl")),
    ("sv", include_str!("../../locales/sv.ftl")),
    ("no", include_str!("../../locales/no.ftl")),
    ("da", include_str!("../../locales/da.ftl")),
    ("de", include_str!("../../locales/de.ftl")),
    ("nl", include_str!("../../locales/nl.ftl")),
];

/// All message catalogs, parsed once at startup and shared read-only by every worker.
///
/// `Send + Sync`: the bundles use Fluent's concurrent memoizer.
pub(crate) struct Catalog {
    /// `(language, bundle)` in the order of [`Catalog::LANGUAGES`].
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
    /// Per bundle, per [`Message::ALL`] index: the text formatted without arguments, where
    /// that formats cleanly (the message has no variables).
    plain: Vec<Vec<Option<String>>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let languages: Vec<&str> = self.bundles.iter().map(|(lang, _)| *lang).collect();
        f.debug_struct("Catalog")
            .field("languages", &languages)
            .finish()
    }
}

/// Where a message is read: its language, the culture for numbers and times, and the time
/// zone for times (SPEC §7).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Locale<'a> {
    /// One of [`Catalog::LANGUAGES`]; `None` means untranslated (`SO-Language: x` or `*`)
    /// and gives the id in brackets, `[SR_OLD_PASSWORD_MISMATCH]`. A language without a
    /// catalog is answered in English.
    pub(crate) language: Option<&'a str>,
    /// A BCP 47 tag (`en-US`, `de`, `sv-SE`, `nb-NO`; `_` is read as `-`) that formats
    /// [`Arg::Number`] and [`Arg::Time`]; `None` or an unparsable tag means the language's
    /// own culture (`no` formats as `nb`).
    pub(crate) culture: Option<&'a str>,
    /// The zone local times are given in.
    pub(crate) zone: &'a TimeZone,
    /// Whether a time carries its UTC offset.
    pub(crate) include_offset: bool,
}

impl Catalog {
    /// The languages with a catalog, as `SO-Language` and `Content-Language` name them
    /// (`nb` and `nn` are mapped to `no` by the negotiation).
    pub(crate) const LANGUAGES: [&'static str; 6] = ["en", "sv", "no", "da", "de", "nl"];

    /// Parses the embedded catalogs.
    ///
    /// # Panics
    ///
    /// Only when an embedded `.ftl` file is broken, which a unit test rules out.
    pub(crate) fn load() -> Catalog {
        Catalog::from_sources(&SOURCES)
    }

    fn from_sources(sources: &[(&'static str, &str)]) -> Catalog {
        let bundles: Vec<_> = sources
            .iter()
            .map(|&(lang, source)| (lang, parse_bundle(lang, source)))
            .collect();
        let no_args = FluentArgs::new();
        let plain = bundles
            .iter()
            .map(|(_, bundle)| {
                Message::ALL
                    .iter()
                    .map(|m| format_message(bundle, m.id(), &no_args).ok())
                    .collect()
            })
            .collect();
        Catalog { bundles, plain }
    }

    /// The text of `message` where `locale` reads it.
    ///
    /// A message missing from the language, or one that does not format cleanly (an
    /// argument the message needs was not given), falls back to English, then to the
    /// bracketed id. Never panics.
    pub(crate) fn message(
        &self,
        locale: &Locale<'_>,
        message: Message,
        args: &[(&str, Arg)],
    ) -> Cow<'_, str> {
        if args.is_empty() {
            let Some(lang) = locale.language else {
                return Cow::Owned(bracketed(message.id()));
            };
            // `Message::ALL` is in declaration order (a test checks), so this is its index.
            let index = message as usize;
            let plain = self
                .language_then_english(lang)
                .find_map(|(i, _)| self.plain[i][index].as_deref());
            if let Some(text) = plain {
                return Cow::Borrowed(text);
            }
        }
        Cow::Owned(self.text(locale, message.id(), args))
    }

    /// The bundles to try for `lang`: its own, then English; with their indices.
    fn language_then_english(
        &self,
        lang: &str,
    ) -> impl Iterator<Item = (usize, &FluentBundle<FluentResource>)> {
        let index = |l: &str| self.bundles.iter().position(|(b, _)| *b == l);
        let own = index(lang);
        let english = index("en").filter(|&en| Some(en) != own);
        own.into_iter()
            .chain(english)
            .map(|i| (i, &self.bundles[i].1))
    }

    /// Formats resource `id` with its arguments, by the fallback of [`Catalog::message`].
    fn text(&self, locale: &Locale<'_>, id: &str, args: &[(&str, Arg)]) -> String {
        let Some(lang) = locale.language else {
            return bracketed(id);
        };
        let culture = locale
            .culture
            .filter(|tag| format::parse_culture(tag).is_some())
            .unwrap_or(lang);
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, arg) in args {
            let value = match arg {
                Arg::Str(text) => FluentValue::from(text.as_str()),
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Time(at) => FluentValue::from(format::format_time(
                    culture,
                    locale.zone,
                    locale.include_offset,
                    *at,
                )),
            };
            fluent_args.set(*name, value);
        }

        let _culture = format::NumberCulture::enter(culture);
        for (i, bundle) in self.language_then_english(lang) {
            match format_message(bundle, id, &fluent_args) {
                Ok(text) => return text,
                Err(problem) => {
                    let language = self.bundles[i].0;
                    tracing::warn!(language, id, problem, "message falls back");
                }
            }
        }
        bracketed(id)
    }
}

fn bracketed(id: &str) -> String {
    format!("[{id}]")
}

fn parse_bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let langid: LanguageIdentifier = lang
        .parse()
        .unwrap_or_else(|e| panic!("language {lang:?} is not a language identifier: {e}"));
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("locales/{lang}.ftl does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // Isolation marks (U+2068, U+2069) around every placeable are meant for mixed-direction
    // UI text; in JSON, XML and HTTP headers they are only invisible noise.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(format::format_fluent_number));
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{lang}.ftl has duplicate ids: {errors:?}"));
    bundle
}

/// Formats `id` from one bundle, or says why it cannot.
fn format_message(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: &FluentArgs<'_>,
) -> Result<String, String> {
    let message = bundle.get_message(id).ok_or("no such message")?;
    let pattern = message.value().ok_or("message without a value")?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if errors.is_empty() {
        Ok(text.into_owned())
    } else {
        Err(format!("{errors:?}"))
    }
}

#[cfg(test)]
mod tests;
