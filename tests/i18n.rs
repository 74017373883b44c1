//! Black-box tests of localized messages (SPEC §7, issue 5): the same error in every
//! language, and the 429 "try again after" in the caller's time zone and culture.

use std::time::{Duration, SystemTime};

use agentgate_blackbox::{ENDPOINT, Server, basic, client, language_and_message};
use jiff::tz::TimeZone;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

const OLD: &str = "sint-occaecat-42";

fn unauthorized(server: &Server, headers: &[(&str, &str)]) -> (Option<String>, String) {
    let mut rb = client().post(server.url(ENDPOINT));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    language_and_message(r)
}

#[test]
fn the_same_error_reads_differently_in_each_of_the_six_languages() {
    let server = Server::start(&[]);
    let mut seen = std::collections::HashSet::new();
    for lang in ["en", "sv", "no", "da", "de", "nl"] {
        let (content_language, message) = unauthorized(&server, &[("SO-Language", lang)]);
        assert_eq!(content_language.as_deref(), Some(lang));
        assert!(!message.starts_with('['), "{lang}: {message}");
        assert!(
            seen.insert(message.clone()),
            "{lang} repeats another language: {message}"
        );
    }
    let (lang, _) = unauthorized(&server, &[("Accept-Language", "nb")]);
    assert_eq!(lang.as_deref(), Some("no"), "nb is answered as no");
    let (lang, _) = unauthorized(
        &server,
        &[
            ("Accept-Language", "de-AT, sv;q=0.5"),
            ("SO-Language", "nl"),
        ],
    );
    assert_eq!(
        lang.as_deref(),
        Some("nl"),
        "SO-Language beats Accept-Language"
    );
    for untranslated in ["x", "*"] {
        let (lang, message) = unauthorized(&server, &[("SO-Language", untranslated)]);
        assert_eq!((lang, message.as_str()), (None, "[SR_UNAUTHORIZED]"));
    }
    let (lang, _) = unauthorized(&server, &[("Accept-Language", "fr-FR")]);
    assert_eq!(lang.as_deref(), Some("en"), "the default language");
    let other = Server::start(&["--default-language", "da"]);
    let (lang, _) = unauthorized(&other, &[("Accept-Language", "fr-FR")]);
    assert_eq!(lang.as_deref(), Some("da"), "a configured default language");
}

/// Throttles a fresh user and returns the 429's message, with the window in which the
/// server's "next allowed try" must lie.
fn throttled_message(
    server: &Server,
    user: &str,
    headers: &[(&str, &str)],
) -> (String, SystemTime, SystemTime) {
    server.add_user(user, OLD);
    let send = |old: &str, extra: &[(&str, &str)]| {
        let mut rb = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, basic(user, OLD))
            .header(CONTENT_TYPE, "application/json")
            .body(
                serde_json::json!({ "OldPassword": old, "NewPassword": "whatever-else-1" })
                    .to_string(),
            );
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        rb.send().unwrap()
    };
    for i in 0..5 {
        assert_eq!(send(&format!("wrong-{i}"), &[]).status().as_u16(), 200);
    }
    let before = SystemTime::now();
    let r = send(OLD, headers);
    let after = SystemTime::now();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    // The lock started at the fifth wrong answer, before `before`; Retry-After is rounded up.
    let earliest = before + Duration::from_secs(retry) - Duration::from_secs(3);
    let latest = after + Duration::from_secs(retry) + Duration::from_secs(1);
    (
        doc["Message"].as_str().unwrap().to_owned(),
        earliest,
        latest,
    )
}

/// The German local times (`26.11.2026, 17:05`) the message may name: the next whole minute
/// after any instant in the window.
fn candidates(zone: &str, earliest: SystemTime, latest: SystemTime, offset: bool) -> Vec<String> {
    let tz = TimeZone::get(zone).unwrap();
    let mut out = Vec::new();
    let mut t = earliest;
    while t <= latest {
        let ts = jiff::Timestamp::try_from(t).unwrap();
        let secs = ts.as_second();
        let up = if secs % 60 == 0 && ts.subsec_nanosecond() == 0 {
            secs
        } else {
            (secs / 60 + 1) * 60
        };
        let zoned = jiff::Timestamp::from_second(up)
            .unwrap()
            .to_zoned(tz.clone());
        let mut text = zoned.strftime("%d.%m.%Y, %H:%M").to_string();
        if offset {
            let o = zoned.offset().seconds();
            let sign = if o < 0 { '-' } else { '+' };
            text.push_str(&format!(
                " GMT{sign}{:02}:{:02}",
                o.abs() / 3600,
                o.abs() % 3600 / 60
            ));
        }
        if !out.contains(&text) {
            out.push(text);
        }
        t += Duration::from_millis(500);
    }
    out
}

#[test]
fn the_429_names_the_next_try_in_the_callers_time_zone() {
    let server = Server::start(&[]);
    for (i, (header, zone, offset)) in [
        ("Europe/Oslo", "Europe/Oslo", false),
        ("UTC", "UTC", false),
        ("US-NY", "America/New_York", false),
        ("NO, includeTZOffset", "Europe/Oslo", true),
    ]
    .into_iter()
    .enumerate()
    {
        let (message, earliest, latest) = throttled_message(
            &server,
            &format!("zone{i}"),
            &[("SO-Language", "de"), ("SO-TimeZone", header)],
        );
        let expected = candidates(zone, earliest, latest, offset);
        assert!(
            expected
                .iter()
                .any(|e| message.contains(&format!("ab {e} erneut"))),
            "{header}: {message:?} names none of {expected:?}"
        );
    }
}

#[test]
fn the_culture_formats_the_time_and_defaults_to_the_language() {
    let server = Server::start(&[]);
    let (sv, ..) = throttled_message(
        &server,
        "culture0",
        &[("SO-Language", "sv"), ("SO-TimeZone", "UTC")],
    );
    assert!(
        sv.chars().any(|c| c == '-') && sv.contains("efter 20"),
        "Swedish dates are ISO-like: {sv}"
    );
    let (en_us, ..) = throttled_message(
        &server,
        "culture1",
        &[
            ("SO-Language", "en"),
            ("SO-Culture", "en-US"),
            ("SO-TimeZone", "UTC"),
        ],
    );
    assert!(
        en_us.contains("AM") || en_us.contains("PM"),
        "en-US uses a 12-hour clock: {en_us}"
    );
    assert!(en_us.contains('/'), "en-US writes month/day/year: {en_us}");
}
