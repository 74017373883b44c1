//! The SOAP envelope (SPEC §9) from the outside: every version's request, reply, refusal and
//! fault fixture in `fixtures/soap-*.xml`, and a round trip of any two passwords through
//! envelopes written by this test's own encoder (not the crate's), in every charset.

use agentgate_codec::soap::{self, Error, ExceptionInfo, FaultCode, Request};
use agentgate_codec::{Charset, Limits};
use proptest::prelude::*;
use quick_xml::events::Event;

const OLD: &str = "sint";
const NEW: &str = "Tr0ub4dour&3-horse";
const TICKET: &str = "7T:Zm9yLXRoZS1maXh0dXJlcy1vbmx5";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

fn decode(body: &[u8], version: u8) -> Result<Request, Error> {
    soap::decode_request(body, None, version, &Limits::default())
}

#[test]
fn every_version_s_request_fixture_decodes_to_the_passwords_and_ticket() {
    // (version, time zone, application token): 88 as WCF writes it, 87 as PHP's SoapClient,
    // 86 as zeep, 85 as SuperOffice's documentation (pretty-printed, CDATA, an ignorable
    // unknown header), 84 with a mustUnderstand Credentials header and a character reference,
    // 75 as the documentation's 7.5 sample (with an application token), 73 as PHP's
    // SoapClient sends it from the served 7.3 WSDL (an empty application token).
    let cases = [
        (88, Some("261"), None),
        (87, None, None),
        (86, None, None),
        (85, Some("NO"), None),
        (84, None, None),
        (75, None, Some("1234567-1234-9876")),
        (73, None, None),
    ];
    for (version, time_zone, application_token) in cases {
        let name = format!("soap-{version}-request.xml");
        let request = decode(&fixture(&name), version).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = Request {
            version,
            old_password: Some(OLD.into()),
            new_password: Some(NEW.into()),
            ticket: Some(TICKET.into()),
            application_token: application_token.map(Into::into),
            time_zone: time_zone.map(Into::into),
        };
        assert_eq!(request, expected, "{name}");
    }
}

#[test]
fn a_request_fixture_is_an_unknown_operation_at_another_version_s_endpoint() {
    for (version, other) in [(88, 84), (84, 85), (86, 87), (75, 73), (73, 88)] {
        let name = format!("soap-{version}-request.xml");
        match decode(&fixture(&name), other) {
            Err(error @ Error::UnknownOperation { .. }) => {
                // Placed, not named: the element's name is the request's text.
                assert!(error.to_string().contains("at line"), "{error}");
                assert!(!error.to_string().contains("Services"), "{error}");
            }
            result => panic!("{name} at {other}: {result:?}"),
        }
    }
}

#[test]
fn every_version_s_reply_fixture_is_what_the_encoder_writes() {
    for version in soap::VERSIONS {
        let name = format!("soap-{version}-reply.xml");
        assert_eq!(
            soap::encode_response(version, None),
            fixture(&name),
            "{name}"
        );
    }
}

#[test]
fn every_version_s_refusal_fixture_is_what_the_encoder_writes() {
    let refusals = [
        (
            88,
            "The current password is not correct.",
            "old-password-mismatch",
        ),
        (
            87,
            "The new password must be at least 8 characters long.",
            "password-too-short",
        ),
        (
            86,
            "Authorization has been denied for this request.",
            "Unauthorized",
        ),
        (
            85,
            "User management is not allowed for partner apps.",
            "PartnerAppForbidden",
        ),
        (84, "The request is invalid.", "BadRequest"),
        (
            75,
            "The current password is not correct.",
            "old-password-mismatch",
        ),
        (73, "The request is invalid.", "BadRequest"),
    ];
    for (version, message, exception_type) in refusals {
        let info = ExceptionInfo {
            message,
            friendly_text: message,
            exception_type,
        };
        let name = format!("soap-{version}-refusal.xml");
        assert_eq!(
            soap::encode_response(version, Some(&info)),
            fixture(&name),
            "{name}"
        );
    }
}

#[test]
fn fault_fixtures_are_what_the_encoder_writes() {
    let cases = [
        (
            "soap-fault-client.xml",
            FaultCode::Client,
            "The SOAPAction header does not match the operation.",
        ),
        (
            "soap-fault-must-understand.xml",
            FaultCode::MustUnderstand,
            "A header is required to be understood but is not supported.",
        ),
        (
            "soap-fault-server.xml",
            FaultCode::Server,
            "An internal error occurred. Nothing was changed.",
        ),
    ];
    for (name, code, faultstring) in cases {
        assert_eq!(
            soap::encode_fault(code, faultstring, Some("en")),
            fixture(name),
            "{name}"
        );
    }
}

#[test]
fn the_soap_1_2_fixture_is_refused_as_such() {
    assert!(matches!(
        decode(&fixture("soap-12-envelope.xml"), 88),
        Err(Error::Soap12)
    ));
}

#[test]
fn the_wsdl_fixtures_are_what_the_encoder_writes() {
    // 8.x declares the ExtraInfo reply header, 7.x does not (SPEC §9).
    for version in [88, 75] {
        let address = format!("http://127.0.0.1:8080/Remote/Services{version}/User.svc");
        assert_eq!(
            soap::wsdl(version, &address),
            fixture_text(&format!("soap-{version}-wsdl.xml")),
            "{version}"
        );
    }
}

#[test]
fn replies_read_back_with_a_plain_xml_reader() {
    let info = ExceptionInfo {
        message: "a < b & c",
        friendly_text: "x",
        exception_type: "BadRequest",
    };
    let texts = texts_of(&soap::encode_response(86, Some(&info)));
    assert_eq!(
        texts,
        [
            ("Message".to_owned(), "a < b & c".to_owned()),
            ("FriendlyText".to_owned(), "x".to_owned()),
            ("ExceptionType".to_owned(), "BadRequest".to_owned()),
            ("Succeeded".to_owned(), "false".to_owned()),
            ("Response".to_owned(), "false".to_owned()),
        ]
    );
    let texts = texts_of(&soap::encode_response(86, None));
    assert_eq!(
        texts,
        [
            ("Succeeded".to_owned(), "true".to_owned()),
            ("Response".to_owned(), "true".to_owned())
        ]
    );
}

/// (local name, unescaped text) of every element holding text, in document order.
fn texts_of(xml: &[u8]) -> Vec<(String, String)> {
    let xml = std::str::from_utf8(xml).unwrap();
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut found = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                open.push(String::from_utf8(e.local_name().as_ref().to_vec()).unwrap());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let c = match r.as_ref() {
                    b"amp" => '&',
                    b"lt" => '<',
                    b"gt" => '>',
                    b"quot" => '"',
                    b"apos" => '\'',
                    _ => r.resolve_char_ref().unwrap().unwrap(),
                };
                text.push(c);
            }
            Event::End(_) => {
                let name = open.pop().unwrap();
                if !text.is_empty() {
                    found.push((name, std::mem::take(&mut text)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    found
}

// ---- round trip -----------------------------------------------------------------------------

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Characters that stress escaping, mixed into arbitrary ones XML can carry.
const AWKWARD: &[char] = &[
    '<', '&', '>', '"', '\'', ']', ' ', '\r', '\n', '\t', 'é', '\u{FEFF}', '\u{FFFD}', '😀',
];

fn password() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>().prop_filter("XML 1.0 Char", |&c| is_xml_char(c)),
            prop::sample::select(AWKWARD)
        ],
        0..24,
    )
    .prop_map(String::from_iter)
}

/// How this test writes a password: escaped with entity or character references, or in
/// CDATA sections where that is possible.
#[derive(Debug, Clone, Copy)]
enum Style {
    Entities,
    CharacterReferences,
    Cdata,
}

fn write_text(text: &str, style: Style) -> String {
    // CDATA cannot hold `]]>`, and a carriage return in it would be read as a line feed.
    let style = match style {
        Style::Cdata if text.contains("]]>") || text.contains('\r') => Style::Entities,
        style => style,
    };
    let mut out = String::new();
    match style {
        Style::Cdata => {
            out.push_str("<![CDATA[");
            out.push_str(text);
            out.push_str("]]>");
        }
        Style::Entities | Style::CharacterReferences => {
            for c in text.chars() {
                let entity = match (style, c) {
                    (Style::Entities, '&') => Some("&amp;".to_owned()),
                    (Style::Entities, '<') => Some("&lt;".to_owned()),
                    (Style::Entities, '>') => Some("&gt;".to_owned()),
                    (_, '&' | '<' | '>' | '\r') => Some(format!("&#{};", u32::from(c))),
                    (Style::CharacterReferences, c) if !c.is_ascii() => {
                        Some(format!("&#x{:X};", u32::from(c)))
                    }
                    _ => None,
                };
                match entity {
                    Some(e) => out.push_str(&e),
                    None => out.push(c),
                }
            }
        }
    }
    out
}

/// An envelope as a hand-written client might send it: any envelope prefix, the operation
/// in a default or prefixed namespace, the passwords in either order, a ticket header.
fn envelope(version: u8, old: &str, new: &str, style: Style, prefixed: bool, swap: bool) -> String {
    let ns = soap::namespace(version);
    let (p, decl) = if prefixed {
        ("u:", format!(r#" xmlns:u="{ns}""#))
    } else {
        ("", format!(r#" xmlns="{ns}""#))
    };
    let old = format!(
        "<{p}OldPassword>{}</{p}OldPassword>",
        write_text(old, style)
    );
    let new = format!(
        "<{p}NewPassword>{}</{p}NewPassword>",
        write_text(new, style)
    );
    let (first, second) = if swap { (new, old) } else { (old, new) };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\">\n <e:Header><Credentials xmlns=\"{ns}\"><Ticket>7T:t</Ticket></Credentials></e:Header>\n <e:Body><{p}ChangeOwnPassword{decl}>{first}{second}</{p}ChangeOwnPassword></e:Body>\n</e:Envelope>\n"
    )
}

/// The text in a charset, the way a client would send it.
fn encode(text: &str, charset: Option<Charset>, bom: bool) -> Vec<u8> {
    let text = if matches!(
        charset,
        Some(Charset::Utf16 | Charset::Utf16Le | Charset::Utf16Be)
    ) {
        text.replace("encoding=\"utf-8\"", "encoding=\"utf-16\"")
    } else {
        text.to_owned()
    };
    let (mut out, mark): (Vec<u8>, &[u8]) = match charset {
        None | Some(Charset::Utf8) => (text.into_bytes(), &[0xEF, 0xBB, 0xBF]),
        Some(Charset::Utf16 | Charset::Utf16Le) => (
            text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            &[0xFF, 0xFE],
        ),
        Some(Charset::Utf16Be) => (
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            &[0xFE, 0xFF],
        ),
    };
    if bom {
        out.splice(0..0, mark.iter().copied());
    }
    out
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Entities),
        Just(Style::CharacterReferences),
        Just(Style::Cdata)
    ]
}

fn charset() -> impl Strategy<Value = Option<Charset>> {
    prop_oneof![
        Just(None),
        Just(Some(Charset::Utf8)),
        Just(Some(Charset::Utf16)),
        Just(Some(Charset::Utf16Le)),
        Just(Some(Charset::Utf16Be)),
    ]
}

proptest! {
    #[test]
    fn any_two_passwords_survive_the_envelope(
        old in password(),
        new in password(),
        version in prop::sample::select(&soap::VERSIONS[..]),
        style in style(),
        prefixed in any::<bool>(),
        swap in any::<bool>(),
        charset in charset(),
        bom in any::<bool>(),
    ) {
        let text = envelope(version, &old, &new, style, prefixed, swap);
        let body = encode(&text, charset, bom);
        // A body without a byte order mark in UTF-16BE needs the header to say so; UTF-16LE
        // is also recognised without one.
        let request = soap::decode_request(&body, charset, version, &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(request.old_password.as_deref(), Some(old.as_str()));
        prop_assert_eq!(request.new_password.as_deref(), Some(new.as_str()));
        prop_assert_eq!(request.ticket.as_deref(), Some("7T:t"));
        prop_assert_eq!(request.application_token, None);
    }

    #[test]
    fn refusal_texts_survive_the_reply(message in password(), exception_type in "[A-Za-z-]{1,30}") {
        let info = ExceptionInfo { message: &message, friendly_text: &message, exception_type: &exception_type };
        let texts = texts_of(&soap::encode_response(88, Some(&info)));
        let get = |name: &str| texts.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone()).unwrap_or_default();
        prop_assert_eq!(get("Message"), message.clone());
        prop_assert_eq!(get("FriendlyText"), message);
        prop_assert_eq!(get("ExceptionType"), exception_type);
    }
}
