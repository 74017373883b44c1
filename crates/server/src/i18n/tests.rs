//! The catalogs checked against each other, and formatting through them.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use fluent_syntax::ast;

use super::*;

impl Catalog {
    /// [`Catalog::text`] with the locale's parts spelled out.
    fn text_at(
        &self,
        language: Option<&str>,
        culture: Option<&str>,
        zone: &TimeZone,
        include_offset: bool,
        id: &str,
        args: &[(&str, Arg)],
    ) -> String {
        self.text(&locale(language, culture, zone, include_offset), id, args)
    }
}

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
    let mut problems: Vec<String> = Message::ALL
        .iter()
        .map(|m| m.id())
        .filter(|id| !english.contains_key(*id))
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
        problems.contains(&r#"xx: SR_PASSWORD_TOO_SHORT uses {"max"}, English {"min"}"#.to_owned()),
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
        catalog.text_at(
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

fn locale<'a>(
    language: Option<&'a str>,
    culture: Option<&'a str>,
    zone: &'a TimeZone,
    include_offset: bool,
) -> Locale<'a> {
    Locale {
        language,
        culture,
        zone,
        include_offset,
    }
}

fn text(lang: Option<&str>, id: &str, args: &[(&str, Arg)]) -> String {
    Catalog::load().text(&locale(lang, None, &TimeZone::UTC, false), id, args)
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
        let args: Vec<(&str, Arg)> = variables.iter().map(|v| (v.as_str(), sample(v))).collect();
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
            let via_message = catalog.text_at(Some(lang), None, &TimeZone::UTC, false, &id, &args);
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
    let message = |lang, id| catalog.text_at(Some(lang), None, &TimeZone::UTC, false, id, &[]);
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
        catalog.text_at(Some("de"), None, &TimeZone::UTC, false, id, args)
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
        "SR_PAGE_SIGNED_IN_AS",
        &[("username", Arg::Str("alice".into()))],
    );
    assert_eq!(got, "Signed in as alice");
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
        let got = catalog.text_at(Some(lang), culture, &zone, offset, "SR_THROTTLED", &args);
        let want = template(lang).replace("{}", local);
        assert_eq!(got, want, "{lang} {culture:?} {zone:?} {offset}");
    }
}

#[test]
fn number_arguments_follow_the_culture_not_the_language() {
    let catalog = Catalog::load();
    let limit = [("limit", Arg::Number(65536))];
    let message = |lang, culture| {
        catalog.text_at(
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
        catalog.text_at(
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

#[test]
fn messages_without_arguments_come_from_the_cache_as_formatted() {
    let catalog = Catalog::load();
    let utc = TimeZone::UTC;
    for lang in Catalog::LANGUAGES {
        let at = locale(Some(lang), None, &utc, false);
        for &message in Message::ALL {
            let typed = catalog.message(&at, message, &[]);
            assert_eq!(
                typed,
                catalog.text(&at, message.id(), &[]),
                "{lang} {message:?}"
            );
            let has_variables = !english()[message.id()].is_empty();
            assert_eq!(
                matches!(typed, Cow::Borrowed(_)),
                !has_variables,
                "{lang} {message:?}"
            );
        }
    }
    let untranslated = locale(None, None, &utc, false);
    assert_eq!(
        catalog.message(&untranslated, Message::PageBack, &[]),
        "[SR_PAGE_BACK]"
    );
}

#[test]
fn message_ids_are_unique_and_follow_the_naming() {
    let ids: HashSet<&str> = Message::ALL.iter().map(|m| m.id()).collect();
    assert_eq!(ids.len(), Message::ALL.len());
    for (i, m) in Message::ALL.iter().enumerate() {
        assert_eq!(*m as usize, i, "{m:?}");
        assert!(m.id().starts_with("SR_"), "{m:?}");
    }
}
