use std::borrow::Cow;

use jiff::tz::{self, TimeZone};

use crate::header;

/// The time zone messages are written in (SPEC §7).
#[derive(Debug, Clone)]
pub struct TimeZoneChoice {
    /// The zone, from jiff's bundled copy of the IANA database.
    pub zone: TimeZone,
    /// The IANA name in its canonical spelling (`Europe/Oslo`), or `UTC`: borrowed for UTC,
    /// the choice of every request that names no zone, so that choice allocates nothing.
    pub name: Cow<'static, str>,
    /// Whether a time should be written with its UTC offset (`, includeTZOffset`).
    pub include_offset: bool,
}

impl TimeZoneChoice {
    fn utc(include_offset: bool) -> TimeZoneChoice {
        TimeZoneChoice {
            zone: TimeZone::UTC,
            name: Cow::Borrowed("UTC"),
            include_offset,
        }
    }
}

/// SuperOffice location codes (`SoTimeZoneLocationCode`) and numeric ids (`SoTimeZoneId`),
/// with the IANA zone each stands for.
///
/// The codes of SPEC §7, plus the three US states whose zones are unambiguous and commonly
/// used (California, Illinois, Washington). Of the numeric ids only the two SPEC §7 names
/// are listed: `1` and `261`; the others cannot be checked here, so they fall to UTC like
/// any unknown value rather than risk a wrong hour.
const CODES: &[(&str, &str)] = &[
    ("1", "UTC"),
    ("261", "Europe/Oslo"),
    ("NO", "Europe/Oslo"),
    ("SE", "Europe/Stockholm"),
    ("DK", "Europe/Copenhagen"),
    ("DE", "Europe/Berlin"),
    ("NL", "Europe/Amsterdam"),
    ("FI", "Europe/Helsinki"),
    ("GB", "Europe/London"),
    ("US-NY", "America/New_York"),
    ("US-CA", "America/Los_Angeles"),
    ("US-IL", "America/Chicago"),
    ("US-WA", "America/Los_Angeles"),
];

/// The suffix that asks for the UTC offset to be written.
const INCLUDE_OFFSET: &str = "includeTZOffset";

/// Reads `SO-TimeZone` (SPEC §7).
///
/// Accepts, case-insensitively: an IANA name (`Europe/Oslo`, `america/new_york`), `UTC`, a
/// SuperOffice location code or id:
///
/// | value | zone |
/// |---|---|
/// | `1` | UTC |
/// | `261`, `NO` | Europe/Oslo |
/// | `SE` | Europe/Stockholm |
/// | `DK` | Europe/Copenhagen |
/// | `DE` | Europe/Berlin |
/// | `NL` | Europe/Amsterdam |
/// | `FI` | Europe/Helsinki |
/// | `GB` | Europe/London |
/// | `US-NY` | America/New_York |
/// | `US-CA`, `US-WA` | America/Los_Angeles |
/// | `US-IL` | America/Chicago |
///
/// An optional suffix `, includeTZOffset` (any case, any spaces) sets
/// [`include_offset`](TimeZoneChoice::include_offset). Anything else, or no header, is UTC;
/// the suffix still counts then.
///
/// # Examples
///
/// ```
/// use agentgate_negotiation::time_zone;
///
/// let oslo = time_zone(Some("NO, includeTZOffset"));
/// assert_eq!(oslo.name, "Europe/Oslo");
/// assert!(oslo.include_offset);
/// assert_eq!(time_zone(Some("america/new_york")).name, "America/New_York");
/// assert_eq!(time_zone(Some("Mars/Olympus_Mons")).name, "UTC");
/// assert_eq!(time_zone(None).name, "UTC");
/// ```
pub fn time_zone(so_time_zone: Option<&str>) -> TimeZoneChoice {
    let Some(value) = so_time_zone else {
        return TimeZoneChoice::utc(false);
    };
    let (name, include_offset) = match value.rsplit_once(',') {
        Some((name, suffix)) if header::trim_ows(suffix).eq_ignore_ascii_case(INCLUDE_OFFSET) => {
            (name, true)
        }
        _ => (value, false),
    };
    let name = header::trim_ows(name);
    let name = CODES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(name))
        .map_or(name, |&(_, iana)| iana);
    if name.eq_ignore_ascii_case("UTC") {
        return TimeZoneChoice::utc(include_offset);
    }
    if !is_iana_name(name) {
        return TimeZoneChoice::utc(include_offset);
    }
    match tz::db().get(name) {
        // `iana_name` is `None` for jiff's `Etc/Unknown`, which is no zone to write times in.
        Ok(zone) => match zone.iana_name().map(str::to_owned) {
            Some(name) => TimeZoneChoice {
                zone,
                name: Cow::Owned(name),
                include_offset,
            },
            None => TimeZoneChoice::utc(include_offset),
        },
        Err(_) => TimeZoneChoice::utc(include_offset),
    }
}

/// Whether `name` can be an IANA zone name: `Area/Location` style characters only, so no
/// path tricks (`..`, a leading `/`) ever reach a database lookup.
fn is_iana_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('/')
        && !name
            .split('/')
            .any(|part| part.is_empty() || part.starts_with('.'))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_table() {
        let cases = [
            (None, "UTC", false),
            (Some(""), "UTC", false),
            (Some("Europe/Oslo"), "Europe/Oslo", false),
            (Some("europe/oslo"), "Europe/Oslo", false),
            (Some(" Europe/Oslo "), "Europe/Oslo", false),
            (Some("UTC"), "UTC", false),
            (Some("utc"), "UTC", false),
            (Some("NO"), "Europe/Oslo", false),
            (Some("no"), "Europe/Oslo", false),
            (Some("SE"), "Europe/Stockholm", false),
            (Some("DK"), "Europe/Copenhagen", false),
            (Some("DE"), "Europe/Berlin", false),
            (Some("NL"), "Europe/Amsterdam", false),
            (Some("FI"), "Europe/Helsinki", false),
            (Some("GB"), "Europe/London", false),
            (Some("US-NY"), "America/New_York", false),
            (Some("US-CA"), "America/Los_Angeles", false),
            (Some("US-IL"), "America/Chicago", false),
            (Some("261"), "Europe/Oslo", false),
            (Some("1"), "UTC", false),
            (Some("US-NY, includeTZOffset"), "America/New_York", true),
            (Some("US-NY,includetzoffset"), "America/New_York", true),
            (Some("Europe/Oslo ,\tINCLUDETZOFFSET "), "Europe/Oslo", true),
            (Some("UTC, includeTZOffset"), "UTC", true),
            (Some("garbage, includeTZOffset"), "UTC", true),
            (Some("garbage"), "UTC", false),
            (Some("Europe/Oslo, somethingElse"), "UTC", false),
            (Some("Etc/Unknown"), "UTC", false),
            (Some("../../etc/passwd"), "UTC", false),
            (Some("/usr/share/zoneinfo/Europe/Oslo"), "UTC", false),
            (Some("Europe//Oslo"), "UTC", false),
            (Some("262"), "UTC", false),
            (Some("+01:00"), "UTC", false),
            (Some(", includeTZOffset"), "UTC", true),
        ];
        for (header, name, include_offset) in cases {
            let choice = time_zone(header);
            assert_eq!(
                (&*choice.name, choice.include_offset),
                (name, include_offset),
                "{header:?}"
            );
            assert_eq!(choice.zone.iana_name(), Some(name), "{header:?}");
        }
    }

    #[test]
    fn every_code_names_a_zone_in_the_database() {
        for &(code, iana) in CODES {
            assert_eq!(time_zone(Some(code)).name, iana, "{code}");
        }
    }

    #[test]
    fn the_zone_gives_local_time() {
        let instant: jiff::Timestamp = "2025-07-01T12:00:00Z".parse().unwrap();
        let oslo = time_zone(Some("NO")).zone;
        assert_eq!(oslo.to_offset(instant), jiff::tz::offset(2));
        let new_york = time_zone(Some("US-NY")).zone;
        assert_eq!(new_york.to_offset(instant), jiff::tz::offset(-4));
    }
}
