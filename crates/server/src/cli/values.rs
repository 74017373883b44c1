//! Option values that are more than a number or a string: durations as people write them
//! (`30s`, `15m`, `8h`, `30d`) and the upstream's base URL. Each reads the same from a flag, a
//! variable (through [`FromStr`], which clap uses) and the TOML file (through serde, as the
//! same text), and writes itself back in that form, so `--help` shows defaults as they are
//! typed.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use actix_web::http::Uri;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written `30s`, `15m`, `8h` or `30d` (a bare number is seconds), never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HumanDuration(pub(crate) Duration);

/// Durations as `30s`, `15m`, `8h`, `30d` (a bare number is seconds).
///
/// # Errors
///
/// A message for text that is not such a duration, or is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let not_a_duration = || format!("'{text}' is not a duration like 30s, 15m, 8h or 30d");
    let n: u64 = number.parse().map_err(|_| not_a_duration())?;
    let unit_secs = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(not_a_duration()),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(not_a_duration)?;
    if secs == 0 {
        return Err("a duration must be longer than zero".to_owned());
    }
    Ok(Duration::from_secs(secs))
}

/// The longest lifetime `ticket issue` and `token issue` give (SPEC §8).
pub(crate) const MAX_TTL: Duration = Duration::from_secs(30 * 86_400);

/// A ticket's or token's `--ttl`: a duration of at most 30 days.
pub(crate) fn parse_ttl(text: &str) -> Result<HumanDuration, String> {
    let ttl = parse_duration(text)?;
    if ttl > MAX_TTL {
        return Err(format!(
            "'{text}' is longer than the most a lifetime may be, 30d"
        ));
    }
    Ok(HumanDuration(ttl))
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        parse_duration(text).map(HumanDuration)
    }
}

impl fmt::Display for HumanDuration {
    /// The largest unit that divides the duration exactly: `90s`, `15m`, `1h`, `30d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match [(86_400, 'd'), (3600, 'h'), (60, 'm')]
            .into_iter()
            .find(|(unit, _)| secs.is_multiple_of(*unit))
        {
            Some((unit, suffix)) if secs > 0 => write!(f, "{}{suffix}", secs / unit),
            _ => write!(f, "{secs}s"),
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The base URL of the NetServer WebAPI agentgate stands in front of in upstream mode
/// (SPEC §10): `http` or `https`, a host, an optional port and path; no user information,
/// query or fragment. Kept without a trailing slash, so `{base}/api/v1/...` is the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpstreamUrl(String);

impl UpstreamUrl {
    /// The base, without a trailing slash: `https://crm.example.com/SuperOffice`.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the upstream is reached over TLS.
    pub(crate) fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl FromStr for UpstreamUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let example = "like https://crm.example.com/SuperOffice";
        if !text.contains("://") {
            return Err(format!("'{text}' is not an absolute URL {example}"));
        }
        if text.contains('#') {
            return Err(format!(
                "'{text}' has a fragment: give the base only, {example}"
            ));
        }
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("'{text}' is not a URL {example} ({e})"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            Some(other) => {
                return Err(format!(
                    "'{text}': the scheme must be http or https, not {other}"
                ));
            }
            None => return Err(format!("'{text}' is not an absolute URL {example}")),
        }
        let Some(authority) = uri.authority() else {
            return Err(format!("'{text}' names no host; write a URL {example}"));
        };
        if authority.as_str().contains('@') {
            return Err(format!(
                "'{text}' carries user information: the upstream gets each caller's own credentials, so the URL holds none"
            ));
        }
        if authority.host().is_empty() {
            return Err(format!("'{text}' names no host; write a URL {example}"));
        }
        // `Uri` keeps a port it cannot read as a number it would use (`:99999`).
        let after_host = authority
            .as_str()
            .rsplit_once(']')
            .map_or(authority.as_str(), |(_, p)| p);
        if let Some((_, port)) = after_host.rsplit_once(':')
            && !matches!(port.parse::<u16>(), Ok(1..))
        {
            return Err(format!(
                "'{text}' is not a URL {example}: the port is 1 to 65535"
            ));
        }
        if uri.query().is_some() {
            return Err(format!(
                "'{text}' has a query: give the base only, {example}"
            ));
        }
        let base = text.trim_end_matches('/');
        Ok(UpstreamUrl(base.to_owned()))
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for UpstreamUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UpstreamUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_spec_writes_them() {
        for (text, secs) in [
            ("30s", 30),
            ("15m", 900),
            ("8h", 28_800),
            ("2d", 172_800),
            ("30d", 2_592_000),
            ("45", 45),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        for text in ["8 hours", "0s", "h", "", "-1s", "99999999999999999999d"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn durations_are_written_in_the_largest_exact_unit() {
        for (secs, text) in [
            (90, "90s"),
            (900, "15m"),
            (3600, "1h"),
            (86_400 * 30, "30d"),
        ] {
            let d = HumanDuration(Duration::from_secs(secs));
            assert_eq!(d.to_string(), text);
            assert_eq!(text.parse::<HumanDuration>(), Ok(d));
        }
    }

    #[test]
    fn a_lifetime_is_at_most_thirty_days() {
        assert_eq!(parse_ttl("30d"), Ok(HumanDuration(MAX_TTL)));
        assert_eq!(parse_ttl("720h"), Ok(HumanDuration(MAX_TTL)));
        let err = parse_ttl("100000000h").unwrap_err();
        assert!(err.contains("30d"), "{err}");
        assert!(parse_ttl("721h").is_err());
    }

    #[test]
    fn upstream_urls_are_http_bases_without_query() {
        for (text, base) in [
            (
                "https://crm.example.com/SuperOffice/",
                "https://crm.example.com/SuperOffice",
            ),
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("http://[::1]:8081/base", "http://[::1]:8081/base"),
        ] {
            assert_eq!(text.parse::<UpstreamUrl>().unwrap().as_str(), base);
        }
        for (text, says) in [
            ("ftp://crm.example.com", "http or https"),
            ("crm.example.com/SuperOffice", "absolute"),
            ("/SuperOffice", "absolute"),
            ("https://crm.example.com/x?a=1", "query"),
            ("https://crm.example.com/x#top", "fragment"),
            ("https://user:pw@crm.example.com", "user information"),
            ("https://crm.example.com:99999", "not a URL"),
            ("http://", "not a URL"),
        ] {
            let err = text.parse::<UpstreamUrl>().unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
