//! Round trips: any two passwords, written by encoders of this test's own (not the crate's), in
//! every request format and every charset, decode back exactly; and the crate's error
//! documents read back, by serde_json and quick-xml, to what was written.
//!
//! XML 1.0 cannot carry most C0 controls, U+FFFE or U+FFFF at all (not even as character
//! references), so the XML cases draw from the characters XML allows; the other formats take
//! any Unicode string.

use agentgate_codec::{
    ChangeOwnPasswordRequest, Charset, ErrorDocument, Limits, RequestType, ResponseType, decode,
    encode_error,
};
use proptest::prelude::*;

/// Characters that stress the escaping of every format, mixed into arbitrary ones.
const AWKWARD: &[char] = &[
    '<', '&', '>', '"', '\'', '+', '%', '=', ' ', '\\', '/', ';', '#', '\r', '\n', '\t', '\u{0}',
    '\u{1}', '\u{7F}', '\u{85}', '\u{A0}', 'é', 'ß', 'İ', '\u{FEFF}', '\u{FFFD}', '😀', '𝄞', ']',
    '[', '{', '}', ':', ',',
];

fn password() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![any::<char>(), prop::sample::select(AWKWARD)],
        0..24,
    )
    .prop_map(String::from_iter)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn xml_password() -> impl Strategy<Value = String> {
    password().prop_map(|p| p.chars().filter(|&c| is_xml_char(c)).collect())
}

/// How a name is spelled: every format matches names ignoring case.
fn spell(name: &str, case: u8) -> String {
    match case % 3 {
        0 => name.to_owned(),
        1 => name.to_ascii_lowercase(),
        _ => name.to_ascii_uppercase(),
    }
}

// ---- independent encoders -------------------------------------------------------------------

/// RFC 8259 §7, with a choice to escape everything beyond ASCII as `\u` (surrogate pairs too).
fn json_string(text: &str, ascii_only: bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || (ascii_only && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// XML 1.0 §2.4 with entity and character references, optionally CDATA for the rest.
fn xml_text(text: &str, cdata: bool) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be read as LF (XML 1.0 §2.11).
            '\r' => out.push_str("&#13;"),
            c if cdata && c.is_alphanumeric() => out.push_str(&format!("<![CDATA[{c}]]>")),
            c if !c.is_ascii() && (c as u32).is_multiple_of(2) => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// URL Standard §5.2: unreserved bytes as they are, space as `+`, everything else `%XX`.
fn form_value(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn body(media_type: RequestType, old: &str, new: &str, case: u8, variant: bool) -> String {
    let old_name = spell("OldPassword", case);
    let new_name = spell("NewPassword", case.wrapping_add(1));
    match media_type {
        RequestType::Json | RequestType::TextJson | RequestType::MergePatch => format!(
            "{{ {}: {}, \"Other\": [1, {{\"x\": null}}], {}: {} }}",
            json_string(&old_name, false),
            json_string(old, variant),
            json_string(&new_name, false),
            json_string(new, !variant),
        ),
        RequestType::Xml | RequestType::TextXml => format!(
            "<?xml version=\"1.0\"?>\n<a:Request xmlns:a=\"urn:test\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <a:{new_name}>{}</a:{new_name}>\n  <{old_name}>{}</{old_name}>\n</a:Request>",
            xml_text(new, variant),
            xml_text(old, !variant),
        ),
        RequestType::FormUrlEncoded => format!(
            "{old_name}={}&{new_name}={}&XSRF_TOKEN=t",
            form_value(old),
            form_value(new)
        ),
        RequestType::JsonPatch => {
            let old_path = if variant {
                old_name.clone()
            } else {
                format!("/{old_name}")
            };
            format!(
                "[{{\"op\":\"replace\",\"path\":{},\"value\":{}}},{{\"op\":\"add\",\"path\":\"/{new_name}\",\"value\":{}}},{{\"op\":\"test\",\"path\":\"/NewPassword\",\"value\":{}}}]",
                json_string(&old_path, false),
                json_string(old, false),
                json_string(new, true),
                json_string(new, false),
            )
        }
    }
}

/// The body in a charset, and the `charset` parameter that goes with it.
fn in_charset(text: &str, encoding: u8) -> (Option<Charset>, Vec<u8>) {
    let le = || {
        text.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    let be = || {
        text.encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<u8>>()
    };
    match encoding % 8 {
        0 => (None, text.as_bytes().to_vec()),
        1 => (Some(Charset::Utf8), text.as_bytes().to_vec()),
        2 => (None, [&[0xEF, 0xBB, 0xBF], text.as_bytes()].concat()),
        3 => (Some(Charset::Utf16), le()),
        4 => (Some(Charset::Utf16), [vec![0xFE, 0xFF], be()].concat()),
        5 => (Some(Charset::Utf16Le), [vec![0xFF, 0xFE], le()].concat()),
        6 => (Some(Charset::Utf16Be), be()),
        _ => (None, [vec![0xFF, 0xFE], le()].concat()),
    }
}

fn round_trip(
    media_type: RequestType,
    old: &str,
    new: &str,
    case: u8,
    variant: bool,
    encoding: u8,
) {
    let text = body(media_type, old, new, case, variant);
    let (charset, bytes) = in_charset(&text, encoding);
    let limits = Limits {
        max_bytes: 1 << 20,
        ..Limits::default()
    };
    let request = decode(media_type, charset, &bytes, &limits)
        .unwrap_or_else(|e| panic!("{media_type:?} {charset:?}: {e}\n{text}"));
    let xsrf_token = (media_type == RequestType::FormUrlEncoded).then(|| "t".to_owned());
    assert_eq!(
        request,
        ChangeOwnPasswordRequest {
            old_password: old.into(),
            new_password: new.into(),
            xsrf_token
        },
        "{media_type:?} {charset:?}\n{text}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_round_trips(old in password(), new in password(), case: u8, variant: bool, encoding: u8) {
        round_trip(RequestType::Json, &old, &new, case, variant, encoding);
        round_trip(RequestType::TextJson, &old, &new, case, variant, encoding);
    }

    #[test]
    fn xml_round_trips(old in xml_password(), new in xml_password(), case: u8, variant: bool, encoding: u8) {
        round_trip(RequestType::Xml, &old, &new, case, variant, encoding);
        round_trip(RequestType::TextXml, &old, &new, case, variant, encoding);
    }

    #[test]
    fn form_round_trips(old in password(), new in password(), case: u8, encoding: u8) {
        round_trip(RequestType::FormUrlEncoded, &old, &new, case, false, encoding);
    }

    #[test]
    fn json_patch_round_trips(old in password(), new in password(), case: u8, variant: bool, encoding: u8) {
        round_trip(RequestType::JsonPatch, &old, &new, case, variant, encoding);
    }

    #[test]
    fn merge_patch_round_trips(old in password(), new in password(), case: u8, variant: bool, encoding: u8) {
        round_trip(RequestType::MergePatch, &old, &new, case, variant, encoding);
    }

    /// RFC 6902 §4.6: a `test` right after an `add` of the same value passes; of any other
    /// value it fails, and says which operation did.
    #[test]
    fn a_test_after_add_passes_only_for_the_same_value(value in password(), other in password()) {
        let patch = |tested: &str| format!(
            "[{{\"op\":\"add\",\"path\":\"/OldPassword\",\"value\":{v}}},{{\"op\":\"add\",\"path\":\"/NewPassword\",\"value\":{v}}},{{\"op\":\"test\",\"path\":\"oldpassword\",\"value\":{t}}}]",
            v = json_string(&value, false),
            t = json_string(tested, false),
        );
        let same = decode(RequestType::JsonPatch, None, patch(&value).as_bytes(), &Limits::default());
        prop_assert!(same.is_ok());
        let differing = decode(RequestType::JsonPatch, None, patch(&other).as_bytes(), &Limits::default());
        if other == value {
            prop_assert!(differing.is_ok());
        } else {
            let error = differing.unwrap_err();
            let index = match error {
                agentgate_codec::Error::PatchTestFailed { index, .. } => Some(index),
                _ => None,
            };
            prop_assert_eq!(index, Some(2));
        }
    }

    /// RFC 7396 §2: merging the same patch twice gives what merging it once gives.
    #[test]
    fn merge_patch_is_idempotent_on_the_result(old in password(), new in password()) {
        let once = body(RequestType::MergePatch, &old, &new, 0, false);
        let first = decode(RequestType::MergePatch, None, once.as_bytes(), &Limits::default()).unwrap();
        let twice = format!(
            "{{\"OldPassword\":{},\"NewPassword\":{}}}",
            json_string(&first.old_password, false),
            json_string(&first.new_password, false)
        );
        let second = decode(RequestType::MergePatch, None, twice.as_bytes(), &Limits::default()).unwrap();
        prop_assert_eq!(first, second);
    }

    #[test]
    fn json_error_documents_read_back(message in password(), detail in password(), problem: bool) {
        let document = ErrorDocument { message: &message, message_detail: &detail, error_type: "BadRequest", status: 400 };
        let media_type = if problem { ResponseType::ProblemJson } else { ResponseType::Json };
        let value: serde_json::Value = serde_json::from_slice(&encode_error(media_type, Charset::Utf8, &document)).unwrap();
        if problem {
            let expected = if detail.is_empty() { message.clone() } else { detail.clone() };
            prop_assert_eq!(&value["detail"], &serde_json::Value::String(expected));
            prop_assert_eq!(&value["title"], &serde_json::Value::String(message));
            prop_assert_eq!(&value["status"], &serde_json::json!(400));
        } else {
            prop_assert_eq!(&value["Message"], &serde_json::Value::String(message));
            prop_assert_eq!(&value["MessageDetail"], &serde_json::Value::String(detail));
        }
    }

    #[test]
    fn xml_error_documents_read_back(message in xml_password(), detail in xml_password(), utf16: bool) {
        let document = ErrorDocument { message: &message, message_detail: &detail, error_type: "BadRequest", status: 400 };
        let charset = if utf16 { Charset::Utf16 } else { Charset::Utf8 };
        let bytes = encode_error(ResponseType::Xml, charset, &document);
        let text = if utf16 {
            prop_assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
            let units: Vec<u16> = bytes[2..].chunks(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            String::from_utf16(&units).unwrap()
        } else {
            String::from_utf8(bytes).unwrap()
        };
        prop_assert_eq!(xml_children(&text), vec![message, detail, "BadRequest".to_owned()]);
    }
}

/// The text of each child of the root, read with quick-xml.
fn xml_children(text: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0;
    let mut children = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(_) => {
                depth += 1;
                if depth == 2 {
                    children.push(String::new());
                }
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) => children
                .last_mut()
                .unwrap()
                .push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match &*r {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        other => panic!("entity {other:?}"),
                    },
                };
                children.last_mut().unwrap().push(c);
            }
            Event::Eof => break,
            other => panic!("{other:?}"),
        }
    }
    children
}
