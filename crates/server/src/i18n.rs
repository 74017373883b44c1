//! Localized messages (SPEC §7): Fluent catalogs for the six languages, with numbers and
//! times formatted for the caller's culture and time zone through ICU4X data.
//!
//! The catalogs live in `locales/xx.ftl`, one file per language, embedded in the binary and
//! parsed once by [`Catalog::load`]. Every message has a stable resource id such as
//! `SR_OLD_PASSWORD_MISMATCH`; `en.ftl` is the reference, and a unit test fails when another
//! language lacks an id or uses different variables.
//!
//! Two things are deliberately kept apart:
//! - the *language* picks the catalog and the plural rules (`1 Sekunde`, `2 Sekunden`);
//! - the *culture* (`SO-Culture`, defaulting to the language) formats numbers and times
//!   (`65.536`, `26.11.2026, 17:05`). `en` text with `de` numbers is a valid combination.
//!
//! Texts are plain: no Unicode bidi isolation marks (they would end up in JSON, XML and
//! HTTP headers) and no HTML escaping (the pages escape what they embed).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::types::FluentNumberOptions;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use icu::datetime::DateTimeFormatter;
use icu::datetime::fieldsets::zone::LocalizedOffsetLong;
use icu::datetime::fieldsets::{Combo, YMD, YMDT};
use icu::datetime::input::{Date, DateTime, Time, ZonedDateTime};
use icu::datetime::options::YearStyle;
use icu::decimal::DecimalFormatter;
use icu::decimal::input::Decimal;
use icu::locale::Locale;
use icu::locale::subtags::language;
use icu::time::zone::UtcOffset;
use jiff::tz::TimeZone;
use jiff::{RoundMode, Timestamp, TimestampRound, Unit};
use unic_langid::LanguageIdentifier;

/// A message argument, named by the message's Fluent variable (`$min` is `("min", ..)`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// Text shown as is, e.g. a media type or a user name.
    Str(String),
    /// A count: formatted by the culture (`de`: `65.536`) and driving plural selection by
    /// the language (`1 second`, `2 seconds`).
    Number(i64),
    /// A moment: shown as local date and time in the caller's time zone, by the culture.
    Time(Timestamp),
}

/// The embedded catalogs, in the order of [`Catalog::LANGUAGES`].
const SOURCES: [(&str, &str); 6] = [
    ("en", include_str!("../locales/en.ftl")),
    ("sv", include_str!("../locales/sv.ftl")),
    ("no", include_str!("../locales/no.ftl")),
    ("da", include_str!("../locales/da.ftl")),
    ("de", include_str!("../locales/de.ftl")),
    ("nl", include_str!("../locales/nl.ftl")),
];

/// All message catalogs, parsed once at startup and shared read-only by every worker.
///
/// `Send + Sync`: the bundles use Fluent's concurrent memoizer.
pub(crate) struct Catalog {
    /// `(language, bundle)` in the order of [`Catalog::LANGUAGES`].
    bundles: Vec<(&'static str, FluentBundle<FluentResource>)>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let languages: Vec<&str> = self.bundles.iter().map(|(lang, _)| *lang).collect();
        f.debug_struct("Catalog")
            .field("languages", &languages)
            .finish()
    }
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
        let bundles = sources
            .iter()
            .map(|&(lang, source)| (lang, parse_bundle(lang, source)))
            .collect();
        Catalog { bundles }
    }

    /// The text of message `id`.
    ///
    /// - `lang`: one of [`Catalog::LANGUAGES`]; `None` means untranslated (`SO-Language: x`
    ///   or `*`) and gives the id in brackets, `[SR_OLD_PASSWORD_MISMATCH]`. A language
    ///   without a catalog is answered in English.
    /// - `culture`: a BCP 47 tag (`en-US`, `de`, `sv-SE`, `nb-NO`; `_` is read as `-`) that
    ///   formats [`Arg::Number`] and [`Arg::Time`]; `None` or an unparsable tag means the
    ///   language's own culture (`no` formats as `nb`).
    /// - `zone`, `include_offset`: see [`format_time`].
    ///
    /// A message missing from `lang`, or one that does not format cleanly (an argument the
    /// message needs was not given), falls back to English, then to the bracketed id.
    /// Never panics.
    pub(crate) fn message(
        &self,
        lang: Option<&str>,
        culture: Option<&str>,
        zone: &TimeZone,
        include_offset: bool,
        id: &str,
        args: &[(&str, Arg)],
    ) -> String {
        let Some(lang) = lang else {
            return bracketed(id);
        };
        let culture = culture
            .filter(|tag| parse_culture(tag).is_some())
            .unwrap_or(lang);
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, arg) in args {
            let value = match arg {
                Arg::Str(text) => FluentValue::from(text.as_str()),
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Time(at) => FluentValue::from(format_time(culture, zone, include_offset, *at)),
            };
            fluent_args.set(*name, value);
        }

        let _culture = NumberCulture::enter(culture);
        let fallback = if lang == "en" {
            None
        } else {
            self.bundle("en")
        };
        for (l, bundle) in self.bundle(lang).into_iter().chain(fallback) {
            match format_message(bundle, id, &fluent_args) {
                Ok(text) => return text,
                Err(problem) => tracing::warn!(language = l, id, problem, "message falls back"),
            }
        }
        bracketed(id)
    }

    fn bundle(&self, lang: &str) -> Option<(&'static str, &FluentBundle<FluentResource>)> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(l, bundle)| (*l, bundle))
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
    bundle.set_formatter(Some(format_fluent_number));
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

thread_local! {
    /// The culture of the message being formatted on this thread. Fluent's formatter hook is
    /// a plain `fn` installed once per bundle, but the culture changes with every request,
    /// so [`Catalog::message`] hands it over here for the duration of one formatting call.
    static NUMBER_CULTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets [`NUMBER_CULTURE`] and restores the previous value when dropped.
struct NumberCulture(Option<String>);

impl NumberCulture {
    fn enter(culture: &str) -> NumberCulture {
        NumberCulture(NUMBER_CULTURE.replace(Some(culture.to_owned())))
    }
}

impl Drop for NumberCulture {
    fn drop(&mut self) {
        NUMBER_CULTURE.set(self.0.take());
    }
}

/// Fluent's formatter hook. Numbers stay numbers inside Fluent, so `{ $seconds -> [one] .. }`
/// selects by the language's plural rules; only their display is taken over, by ICU for the
/// culture of the current message. Anything else keeps Fluent's own formatting.
fn format_fluent_number<M>(value: &FluentValue<'_>, _: &M) -> Option<String> {
    // i64 values from `Arg::Number` are exact in an f64 up to 2^53; beyond that, or with a
    // fraction or options from the message itself, Fluent knows best.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let FluentValue::Number(number) = value else {
        return None;
    };
    if number.options != FluentNumberOptions::default()
        || number.value.fract() != 0.0
        || number.value.abs() > EXACT
    {
        return None;
    }
    let n = number.value as i64;
    NUMBER_CULTURE
        .with_borrow(|culture| culture.as_deref().map(|culture| format_number(culture, n)))
}

/// Reads a culture tag leniently: surrounding space is ignored, `_` is read as `-`
/// (`en_US`), and `no` means Norwegian Bokmål, as CLDR keeps its data under `nb`.
fn parse_culture(tag: &str) -> Option<Locale> {
    let tag = tag.trim().replace('_', "-");
    let mut locale = Locale::try_from_str(&tag).ok()?;
    if locale.id.language == language!("no") {
        locale.id.language = language!("nb");
    }
    Some(locale)
}

/// A moment as local date and time for a culture, e.g. `de` → `26.11.2026, 17:05`,
/// `en-US` → `11/26/2026, 5:05 PM` (ICU puts U+202F NARROW NO-BREAK SPACE before `PM`),
/// `sv` → `2026-11-26 17:05`, `nb` → `26.11.2026, 17:05`.
///
/// - The pattern is CLDR's short date with the full year, and hours and minutes, in the
///   culture's own calendar; nothing is hand-written.
/// - Minutes are the precision, and seconds round *up*: "try again after 17:06" must not
///   name a moment before the one meant (17:05:30).
/// - `zone` gives the local time; with `include_offset`, the UTC offset of that moment
///   follows in CLDR's localized long form: `GMT+01:00`, `GMT+00:00` (`fr`: `UTC+01:00`).
/// - An unparsable `culture` formats with CLDR's root data (`2026-11-26 17:05`).
pub(crate) fn format_time(
    culture: &str,
    zone: &TimeZone,
    include_offset: bool,
    at: Timestamp,
) -> String {
    let locale = parse_culture(culture).unwrap_or(Locale::UNKNOWN);
    let at = at
        .round(
            TimestampRound::new()
                .smallest(Unit::Minute)
                .mode(RoundMode::Ceil),
        )
        .unwrap_or(at);
    try_format_time(&locale, zone, include_offset, at)
        // Cannot happen for a jiff timestamp and compiled data; RFC 3339 beats nothing.
        .unwrap_or_else(|| at.to_zoned(zone.clone()).to_string())
}

fn try_format_time(
    locale: &Locale,
    zone: &TimeZone,
    include_offset: bool,
    at: Timestamp,
) -> Option<String> {
    let local = zone.to_datetime(at);
    let date = Date::try_new_iso(
        local.year().into(),
        u8::try_from(local.month()).ok()?,
        u8::try_from(local.day()).ok()?,
    )
    .ok()?;
    let time = Time::try_new(
        u8::try_from(local.hour()).ok()?,
        u8::try_from(local.minute()).ok()?,
        0,
        0,
    )
    .ok()?;
    let formatters = Formatters::of(locale);
    if include_offset {
        let zone = UtcOffset::try_from_seconds(zone.to_offset(at).seconds()).ok()?;
        let formatter = formatters.time_with_offset(locale)?;
        Some(
            formatter
                .format(&ZonedDateTime { date, time, zone })
                .to_string(),
        )
    } else {
        let formatter = formatters.time(locale)?;
        Some(formatter.format(&DateTime { date, time }).to_string())
    }
}

/// An integer for a culture: `de` 65536 → `65.536`, `en` → `65,536`, `sv` → `65 536`
/// (U+00A0 NO-BREAK SPACE). An unparsable `culture` formats with CLDR's root data
/// (`65,536`).
pub(crate) fn format_number(culture: &str, n: i64) -> String {
    let locale = parse_culture(culture).unwrap_or(Locale::UNKNOWN);
    match Formatters::of(&locale).decimal(&locale) {
        Some(formatter) => formatter.format(&Decimal::from(n)).to_string(),
        None => n.to_string(),
    }
}

/// CLDR's short date with the full year (`11/26/2026`, not `11/26/26`), hours and minutes.
fn date_time_fields() -> YMDT {
    YMD::short().with_year_style(YearStyle::Full).with_time_hm()
}

/// The ICU formatters of one culture, each built on first use. Building one takes 5 to
/// 20 µs, several times the cost of using it, so they are kept per thread: ICU's data
/// handles are not `Sync`, and a worker thread sees the same few cultures again and again.
#[derive(Default)]
struct Formatters {
    decimal: OnceCell<Option<DecimalFormatter>>,
    time: OnceCell<Option<DateTimeFormatter<YMDT>>>,
    time_with_offset: OnceCell<Option<DateTimeFormatter<Combo<YMDT, LocalizedOffsetLong>>>>,
}

/// Cultures cached per thread. `SO-Culture` comes from the client, so the cache is bounded:
/// past this many cultures it starts over rather than growing.
const CACHED_CULTURES: usize = 32;

thread_local! {
    static FORMATTERS: RefCell<HashMap<Locale, Rc<Formatters>>> = RefCell::new(HashMap::new());
}

impl Formatters {
    fn of(locale: &Locale) -> Rc<Formatters> {
        FORMATTERS.with_borrow_mut(|cache| {
            if let Some(formatters) = cache.get(locale) {
                return Rc::clone(formatters);
            }
            if cache.len() >= CACHED_CULTURES {
                cache.clear();
            }
            let formatters = Rc::new(Formatters::default());
            cache.insert(locale.clone(), Rc::clone(&formatters));
            formatters
        })
    }

    // Construction fails only without data, which compiled data always has (falling back
    // to root); the callers then fall back to plain digits or RFC 3339.

    fn decimal(&self, locale: &Locale) -> Option<&DecimalFormatter> {
        self.decimal
            .get_or_init(|| DecimalFormatter::try_new(locale.into(), Default::default()).ok())
            .as_ref()
    }

    fn time(&self, locale: &Locale) -> Option<&DateTimeFormatter<YMDT>> {
        self.time
            .get_or_init(|| DateTimeFormatter::try_new(locale.into(), date_time_fields()).ok())
            .as_ref()
    }

    fn time_with_offset(
        &self,
        locale: &Locale,
    ) -> Option<&DateTimeFormatter<Combo<YMDT, LocalizedOffsetLong>>> {
        self.time_with_offset
            .get_or_init(|| {
                let fields = date_time_fields().with_zone(LocalizedOffsetLong);
                DateTimeFormatter::try_new(locale.into(), fields).ok()
            })
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every id the server uses; `en.ftl` must have each (and the others must match `en`).
    const IDS: &[&str] = &[
        "SR_OLD_PASSWORD_MISMATCH",
        "SR_PASSWORD_TOO_SHORT",
        "SR_PASSWORD_TOO_LONG",
        "SR_PASSWORD_TOO_WEAK",
        "SR_PASSWORD_UNCHANGED",
        "SR_PASSWORD_CHANGED",
        "SR_THROTTLED",
        "SR_UNAUTHORIZED",
        "SR_XSRF_INVALID",
        "SR_PARTNER_APP_FORBIDDEN",
        "SR_ONLINE_FORBIDDEN",
        "SR_UNSUPPORTED_MEDIA_TYPE",
        "SR_UNSUPPORTED_CHARSET",
        "SR_MISSING_CONTENT_TYPE",
        "SR_EMPTY_BODY",
        "SR_BAD_REQUEST",
        "SR_PATCH_TEST_FAILED",
        "SR_PAYLOAD_TOO_LARGE",
        "SR_NOT_ACCEPTABLE",
        "SR_METHOD_NOT_ALLOWED",
        "SR_NOT_FOUND",
        "SR_INVALID_SELECT",
        "SR_BUSY",
        "SR_STORE_UNAVAILABLE",
        "SR_INTERNAL_ERROR",
        "SR_PAGE_LOGIN_TITLE",
        "SR_PAGE_USERNAME",
        "SR_PAGE_PASSWORD",
        "SR_PAGE_LOG_IN",
        "SR_PAGE_LOGIN_FAILED",
        "SR_PAGE_LOG_OUT",
        "SR_PAGE_CHANGE_TITLE",
        "SR_PAGE_SIGNED_IN_AS",
        "SR_PAGE_CURRENT_PASSWORD",
        "SR_PAGE_NEW_PASSWORD",
        "SR_PAGE_CHANGE_BUTTON",
        "SR_PAGE_POLICY",
        "SR_PAGE_TRY_AGAIN",
        "SR_PAGE_BACK",
        "SR_PAGE_RESULT_TITLE",
        "SR_SOAP_BAD_ENVELOPE",
        "SR_SOAP_ACTION_MISMATCH",
        "SR_SOAP_UNKNOWN_OPERATION",
        "SR_SOAP_MUST_UNDERSTAND",
    ];

    type Signatures = BTreeMap<String, BTreeSet<String>>;

    /// Message id → the variables it references, anywhere in value or attributes.
    fn signatures(source: &str) -> Result<Signatures, String> {
        let resource = fluent_syntax::parser::parse(source).map_err(|(_, e)| format!("{e:?}"))?;
        let mut messages = Signatures::new();
        for entry in &resource.body {
            match entry {
                ast::Entry::Message(message) => {
                    let mut variables = BTreeSet::new();
                    let patterns = message.value.iter();
                    for pattern in patterns.chain(message.attributes.iter().map(|a| &a.value)) {
                        pattern_variables(pattern, &mut variables);
                    }
                    let id = message.id.name.to_owned();
                    if messages.insert(id.clone(), variables).is_some() {
                        return Err(format!("{id} is defined twice"));
                    }
                }
                ast::Entry::Junk { content } => return Err(format!("junk: {content}")),
                _ => {}
            }
        }
        Ok(messages)
    }

    fn pattern_variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    pattern_variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                arguments_variables(arguments, out);
            }
            ast::InlineExpression::TermReference { arguments, .. } => {
                if let Some(arguments) = arguments {
                    arguments_variables(arguments, out);
                }
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out);
            }
            ast::InlineExpression::StringLiteral { .. }
            | ast::InlineExpression::NumberLiteral { .. }
            | ast::InlineExpression::MessageReference { .. } => {}
        }
    }

    fn arguments_variables(arguments: &ast::CallArguments<&str>, out: &mut BTreeSet<String>) {
        for positional in &arguments.positional {
            inline_variables(positional, out);
        }
        for named in &arguments.named {
            inline_variables(&named.value, out);
        }
    }

    /// Every way `source` differs from the English `reference`, one line each.
    fn differences(reference: &Signatures, lang: &str, source: &str) -> Vec<String> {
        let messages = match signatures(source) {
            Ok(messages) => messages,
            Err(e) => return vec![format!("{lang}: {e}")],
        };
        let mut problems = Vec::new();
        for (id, variables) in reference {
            match messages.get(id) {
                None => problems.push(format!("{lang}: {id} is missing")),
                Some(own) if own != variables => {
                    problems.push(format!("{lang}: {id} uses {own:?}, English {variables:?}"));
                }
                Some(_) => {}
            }
        }
        for id in messages.keys().filter(|id| !reference.contains_key(*id)) {
            problems.push(format!("{lang}: {id} is not in English"));
        }
        problems
    }

    fn english() -> Signatures {
        signatures(SOURCES[0].1).unwrap()
    }

    #[test]
    fn every_language_has_every_message_with_the_english_variables() {
        let english = english();
        let mut problems: Vec<String> = IDS
            .iter()
            .filter(|id| !english.contains_key(**id))
            .map(|id| format!("en: {id} is missing"))
            .collect();
        for (lang, source) in &SOURCES[1..] {
            problems.extend(differences(&english, lang, source));
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(
            english["SR_PAGE_POLICY"],
            BTreeSet::from(["max".into(), "min".into()])
        );
    }

    #[test]
    fn the_catalog_check_reports_missing_ids_and_other_variables() {
        let english = english();
        let broken = "SR_OLD_PASSWORD_MISMATCH = Fel.\n\
                      SR_PASSWORD_TOO_SHORT = Minst { $max } tecken.\n\
                      SR_EXTRA = Extra.\n";
        let problems = differences(&english, "xx", broken);
        assert!(
            problems.contains(&"xx: SR_BUSY is missing".to_owned()),
            "{problems:#?}"
        );
        assert!(
            problems
                .contains(&r#"xx: SR_PASSWORD_TOO_SHORT uses {"max"}, English {"min"}"#.to_owned()),
            "{problems:#?}"
        );
        assert!(problems.contains(&"xx: SR_EXTRA is not in English".to_owned()));
        assert!(
            !problems
                .iter()
                .any(|p| p.contains("SR_OLD_PASSWORD_MISMATCH"))
        );
        let unparsable = differences(&english, "xx", "SR_BUSY = { $seconds\n");
        assert_eq!(unparsable.len(), 1, "{unparsable:#?}");
        assert!(unparsable[0].starts_with("xx: "), "{unparsable:#?}");
    }

    #[test]
    fn the_catalog_is_shared_across_threads_each_with_its_own_culture() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Catalog>();
        let catalog = Catalog::load();
        let languages: Vec<&str> = catalog.bundles.iter().map(|(l, _)| *l).collect();
        assert_eq!(languages, Catalog::LANGUAGES);
        let limit = |culture| {
            let args = [("limit", Arg::Number(65536))];
            let zone = &TimeZone::UTC;
            catalog.message(
                Some("en"),
                Some(culture),
                zone,
                false,
                "SR_PAYLOAD_TOO_LARGE",
                &args,
            )
        };
        std::thread::scope(|s| {
            let threads: Vec<_> = [("de", "65.536"), ("en", "65,536"), ("sv", "65\u{a0}536")]
                .into_iter()
                .map(|(culture, want)| {
                    s.spawn(move || {
                        for _ in 0..200 {
                            let want = format!("The request body is larger than {want} bytes.");
                            assert_eq!(limit(culture), want);
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
        });
    }

    #[test]
    fn the_formatter_cache_stays_bounded() {
        let cultures = (0..3 * CACHED_CULTURES).map(|i| format!("de-x-c{i}"));
        for culture in cultures {
            assert_eq!(format_number(&culture, 1234), "1.234");
            assert!(FORMATTERS.with_borrow(HashMap::len) <= CACHED_CULTURES);
        }
        assert_eq!(format_number("en", 1234), "1,234");
    }

    fn oslo() -> TimeZone {
        TimeZone::get("Europe/Oslo").unwrap()
    }

    fn text(lang: Option<&str>, id: &str, args: &[(&str, Arg)]) -> String {
        Catalog::load().message(lang, None, &TimeZone::UTC, false, id, args)
    }

    /// Sample arguments for every variable the English catalog uses.
    fn sample(variable: &str) -> Arg {
        match variable {
            "until" => Arg::Time(Timestamp::UNIX_EPOCH),
            "min" | "max" | "limit" | "seconds" => Arg::Number(2),
            _ => Arg::Str("text/x-sample".into()),
        }
    }

    #[test]
    fn every_message_formats_cleanly_in_every_language() {
        let catalog = Catalog::load();
        for (id, variables) in english() {
            let args: Vec<(&str, Arg)> =
                variables.iter().map(|v| (v.as_str(), sample(v))).collect();
            let mut fluent_args = FluentArgs::new();
            for (name, arg) in &args {
                let value = match arg {
                    Arg::Str(s) => FluentValue::from(s.as_str()),
                    Arg::Number(n) => FluentValue::from(*n),
                    Arg::Time(_) => FluentValue::from("1/1/1970, 12:00 AM"),
                };
                fluent_args.set(*name, value);
            }
            for (lang, bundle) in &catalog.bundles {
                let text = format_message(bundle, &id, &fluent_args)
                    .unwrap_or_else(|e| panic!("{lang} {id}: {e}"));
                assert!(
                    !text.contains(['{', '}', '\u{2068}', '\u{2069}']),
                    "{lang} {id}: {text}"
                );
                let via_message =
                    catalog.message(Some(lang), None, &TimeZone::UTC, false, &id, &args);
                assert!(!via_message.starts_with('['), "{lang} {id}: {via_message}");
            }
        }
    }

    #[test]
    fn every_language_translates_the_old_password_mismatch() {
        let expected = [
            ("en", "The current password is not correct."),
            ("sv", "Det nuvarande lösenordet stämmer inte."),
            ("no", "Det nåværende passordet er ikke riktig."),
            ("da", "Den nuværende adgangskode er ikke korrekt."),
            ("de", "Das aktuelle Passwort ist nicht korrekt."),
            ("nl", "Het huidige wachtwoord is niet juist."),
        ];
        let texts: BTreeSet<String> = expected
            .iter()
            .map(|(lang, want)| {
                let got = text(Some(lang), "SR_OLD_PASSWORD_MISMATCH", &[]);
                assert_eq!(got, *want, "{lang}");
                got
            })
            .collect();
        assert_eq!(
            texts.len(),
            Catalog::LANGUAGES.len(),
            "two languages share a text"
        );
    }

    #[test]
    fn no_language_gives_the_bracketed_id() {
        assert_eq!(
            text(None, "SR_OLD_PASSWORD_MISMATCH", &[]),
            "[SR_OLD_PASSWORD_MISMATCH]"
        );
        assert_eq!(
            text(None, "SR_PASSWORD_TOO_SHORT", &[("min", Arg::Number(8))]),
            "[SR_PASSWORD_TOO_SHORT]"
        );
    }

    #[test]
    fn an_unknown_id_gives_the_bracketed_id() {
        assert_eq!(
            text(Some("de"), "SR_NO_SUCH_MESSAGE", &[]),
            "[SR_NO_SUCH_MESSAGE]"
        );
    }

    #[test]
    fn an_unknown_language_is_answered_in_english() {
        assert_eq!(
            text(Some("fr"), "SR_PASSWORD_CHANGED", &[]),
            "Your password has been changed."
        );
    }

    #[test]
    fn a_message_missing_from_a_language_falls_back_to_english() {
        let catalog = Catalog::from_sources(&[
            ("en", "SR_A = In English.\nSR_B = Only English.\n"),
            ("sv", "SR_A = På svenska.\n"),
        ]);
        let message = |lang, id| catalog.message(Some(lang), None, &TimeZone::UTC, false, id, &[]);
        assert_eq!(message("sv", "SR_A"), "På svenska.");
        assert_eq!(message("sv", "SR_B"), "Only English.");
        assert_eq!(message("sv", "SR_C"), "[SR_C]");
    }

    #[test]
    fn a_missing_argument_falls_back_to_english_then_to_the_id() {
        let catalog = Catalog::from_sources(&[
            (
                "en",
                "SR_A = At least { $min } characters.\nSR_B = Plain.\n",
            ),
            (
                "de",
                "SR_A = Mindestens { $mni } Zeichen.\nSR_B = Schlicht { $x }.\n",
            ),
        ]);
        let message = |id, args: &[(&str, Arg)]| {
            catalog.message(Some("de"), None, &TimeZone::UTC, false, id, args)
        };
        assert_eq!(
            message("SR_A", &[("min", Arg::Number(8))]),
            "At least 8 characters."
        );
        assert_eq!(message("SR_B", &[]), "Plain.");
        assert_eq!(message("SR_A", &[]), "[SR_A]");
    }

    #[test]
    fn texts_carry_no_isolation_marks() {
        let got = text(
            Some("en"),
            "SR_METHOD_NOT_ALLOWED",
            &[("method", Arg::Str("PUT".into()))],
        );
        assert_eq!(
            got,
            "The requested resource does not support http method 'PUT'."
        );
    }

    #[test]
    fn the_throttled_message_names_the_local_time_in_the_zone_and_culture() {
        let catalog = Catalog::load();
        let until = Arg::Time("2026-11-26T16:05:00Z".parse().unwrap());
        let template = |lang| match lang {
            "en" => "Too many wrong passwords. Try again after {}.",
            "sv" => "För många felaktiga lösenord. Försök igen efter {}.",
            "no" => "For mange feil passord. Prøv igjen etter {}.",
            "de" => "Zu viele falsche Passwörter. Versuchen Sie es ab {} erneut.",
            _ => unreachable!(),
        };
        #[rustfmt::skip]
        let table = [
            // language, SO-Culture, SO-TimeZone, includeTZOffset, the local time
            ("de", None,          "Europe/Oslo",      false, "26.11.2026, 17:05"),
            ("de", None,          "UTC",              false, "26.11.2026, 16:05"),
            ("de", None,          "America/New_York", false, "26.11.2026, 11:05"),
            ("de", None,          "Europe/Oslo",      true,  "26.11.2026, 17:05 GMT+01:00"),
            ("en", Some("en-US"), "Europe/Oslo",      false, "11/26/2026, 5:05\u{202f}PM"),
            ("en", Some("en-US"), "UTC",              false, "11/26/2026, 4:05\u{202f}PM"),
            ("en", Some("en-US"), "America/New_York", false, "11/26/2026, 11:05\u{202f}AM"),
            ("en", Some("en-US"), "Europe/Oslo",      true,  "11/26/2026, 5:05\u{202f}PM GMT+01:00"),
            ("en", None,          "America/New_York", true,  "11/26/2026, 11:05\u{202f}AM GMT-05:00"),
            ("sv", None,          "Europe/Oslo",      false, "2026-11-26 17:05"),
            ("sv", Some("sv-SE"), "UTC",              false, "2026-11-26 16:05"),
            ("sv", None,          "America/New_York", false, "2026-11-26 11:05"),
            ("sv", None,          "Europe/Oslo",      true,  "2026-11-26 17:05 GMT+01:00"),
            ("no", None,          "Europe/Oslo",      false, "26.11.2026, 17:05"),
            ("no", Some("nb-NO"), "UTC",              false, "26.11.2026, 16:05"),
            ("no", Some("nb"),    "America/New_York", false, "26.11.2026, 11:05"),
            ("no", None,          "Europe/Oslo",      true,  "26.11.2026, 17:05 GMT+01:00"),
            ("en", Some("de"),    "Europe/Oslo",      false, "26.11.2026, 17:05"),
        ];
        for (lang, culture, zone, offset, local) in table {
            let zone = TimeZone::get(zone).unwrap();
            let args = [("until", until.clone())];
            let got = catalog.message(Some(lang), culture, &zone, offset, "SR_THROTTLED", &args);
            let want = template(lang).replace("{}", local);
            assert_eq!(got, want, "{lang} {culture:?} {zone:?} {offset}");
        }
    }

    #[test]
    fn times_are_formatted_by_the_culture() {
        let at: Timestamp = "2026-11-26T16:05:00Z".parse().unwrap();
        let table = [
            ("de", "26.11.2026, 17:05"),
            ("en-US", "11/26/2026, 5:05\u{202f}PM"),
            ("en-GB", "26/11/2026, 17:05"),
            ("sv", "2026-11-26 17:05"),
            ("sv-SE", "2026-11-26 17:05"),
            ("nb", "26.11.2026, 17:05"),
            ("nb-NO", "26.11.2026, 17:05"),
            ("no", "26.11.2026, 17:05"),
            ("da", "26.11.2026, 17.05"),
            ("nl", "26-11-2026, 17:05"),
            ("en_US", "11/26/2026, 5:05\u{202f}PM"),
            ("not a culture!", "2026-11-26 17:05"),
        ];
        for (culture, want) in table {
            assert_eq!(format_time(culture, &oslo(), false, at), want, "{culture}");
        }
        assert_eq!(
            format_time("de", &TimeZone::UTC, true, at),
            "26.11.2026, 16:05 GMT+00:00"
        );
        assert_eq!(
            format_time("fr", &oslo(), true, at),
            "26/11/2026 17:05 UTC+01:00"
        );
        let summer: Timestamp = "2026-07-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            format_time("de", &oslo(), true, summer),
            "01.07.2026, 12:00 GMT+02:00"
        );
    }

    #[test]
    fn seconds_round_up_to_the_next_minute() {
        let at: Timestamp = "2026-11-26T16:05:00.001Z".parse().unwrap();
        assert_eq!(format_time("de", &oslo(), false, at), "26.11.2026, 17:06");
        let at: Timestamp = "2026-12-31T22:59:30Z".parse().unwrap();
        assert_eq!(format_time("de", &oslo(), false, at), "01.01.2027, 00:00");
    }

    #[test]
    fn numbers_are_formatted_by_the_culture() {
        let table = [
            ("de", 1234, "1.234"),
            ("de", 65536, "65.536"),
            ("en", 1234, "1,234"),
            ("en-US", 65536, "65,536"),
            ("sv", 65536, "65\u{a0}536"),
            ("no", 65536, "65\u{a0}536"),
            ("da", 65536, "65.536"),
            ("nl", 65536, "65.536"),
            ("de", 8, "8"),
            ("de", -1234, "-1.234"),
            ("not a culture!", 65536, "65,536"),
        ];
        for (culture, n, want) in table {
            assert_eq!(format_number(culture, n), want, "{culture} {n}");
        }
    }

    #[test]
    fn number_arguments_follow_the_culture_not_the_language() {
        let catalog = Catalog::load();
        let limit = [("limit", Arg::Number(65536))];
        let message = |lang, culture| {
            catalog.message(
                Some(lang),
                culture,
                &TimeZone::UTC,
                false,
                "SR_PAYLOAD_TOO_LARGE",
                &limit,
            )
        };
        assert_eq!(
            message("de", None),
            "Der Inhalt der Anforderung ist größer als 65.536 Byte."
        );
        assert_eq!(
            message("en", None),
            "The request body is larger than 65,536 bytes."
        );
        assert_eq!(
            message("en", Some("de-DE")),
            "The request body is larger than 65.536 bytes."
        );
        assert_eq!(
            message("nl", Some("*")),
            "De inhoud van de aanvraag is groter dan 65.536 bytes."
        );
        assert_eq!(
            message("sv", None),
            "Begärans innehåll är större än 65\u{a0}536 byte."
        );
    }

    #[test]
    fn plurals_follow_the_number_in_every_language() {
        let catalog = Catalog::load();
        let busy = |lang, seconds| {
            catalog.message(
                Some(lang),
                None,
                &TimeZone::UTC,
                false,
                "SR_BUSY",
                &[("seconds", Arg::Number(seconds))],
            )
        };
        assert_eq!(
            busy("en", 1),
            "The server is busy. Please try again in 1 second."
        );
        assert_eq!(
            busy("en", 30),
            "The server is busy. Please try again in 30 seconds."
        );
        assert_eq!(
            busy("de", 1),
            "Der Server ist ausgelastet. Bitte versuchen Sie es in 1 Sekunde erneut."
        );
        assert_eq!(
            busy("nl", 2),
            "De server is bezet. Probeer het over 2 seconden opnieuw."
        );
        for lang in Catalog::LANGUAGES {
            let one = busy(lang, 1);
            assert_ne!(
                one,
                busy(lang, 2).replace('2', "1"),
                "{lang} has no singular"
            );
            assert_eq!(
                busy(lang, 0).replace('0', "1"),
                busy(lang, 2).replace('2', "1"),
                "{lang}"
            );
        }
        assert_eq!(
            busy("de", 1200),
            "Der Server ist ausgelastet. Bitte versuchen Sie es in 1.200 Sekunden erneut."
        );
    }
}
