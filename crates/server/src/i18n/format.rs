//! Numbers and times for a culture, through ICU4X's compiled CLDR data (SPEC §7).
//!
//! The culture (`SO-Culture`, defaulting to the language) decides how a number or a moment
//! is written; the language only picks the catalog and its plural rules.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use fluent_bundle::FluentValue;
use fluent_bundle::types::FluentNumberOptions;
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

thread_local! {
    /// The culture of the message being formatted on this thread. Fluent's formatter hook is
    /// a plain `fn` installed once per bundle, but the culture changes with every request,
    /// so [`Catalog::message`] hands it over here for the duration of one formatting call.
    static NUMBER_CULTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets [`NUMBER_CULTURE`] and restores the previous value when dropped.
pub(super) struct NumberCulture(Option<String>);

impl NumberCulture {
    pub(super) fn enter(culture: &str) -> NumberCulture {
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
pub(super) fn format_fluent_number<M>(value: &FluentValue<'_>, _: &M) -> Option<String> {
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
pub(super) fn parse_culture(tag: &str) -> Option<Locale> {
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
pub(super) fn format_time(
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
pub(super) fn format_number(culture: &str, n: i64) -> String {
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
    use super::*;

    fn oslo() -> TimeZone {
        TimeZone::get("Europe/Oslo").unwrap()
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
}
