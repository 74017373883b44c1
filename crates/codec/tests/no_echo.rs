//! SPEC §2: no error ever quotes the request's own text. Bodies of every format carry a
//! marker in the places a parser reports (values, names, tags, attributes, entities, prefixes,
//! encoding labels, JSON Patch paths, SOAP headers and operations), around characters that
//! break the syntax there; whatever the decoder refuses, its message must not hold the marker.

use agentgate_codec::soap;
use agentgate_codec::{Limits, RequestType, decode};
use proptest::prelude::*;

/// The secret a client typed into the wrong place. Letters only: a message may hold numbers
/// (positions) and the names the contract fixes, nothing else from the body.
const MARKER: &str = "Zq7SecretMarker";

/// Bodies with `@` where the marker-laden fragment goes.
const TEMPLATES: &[(RequestType, &str)] = &[
    (
        RequestType::Json,
        r#"{"OldPassword":"@","NewPassword":"n"}"#,
    ),
    (RequestType::Json, r#"{"OldPassword":@,"NewPassword":"n"}"#),
    (
        RequestType::Json,
        r#"{"@":1,"@":2,"OldPassword":"o","NewPassword":"n"}"#,
    ),
    (RequestType::Json, r#"{@:"o"}"#),
    (RequestType::Json, "[@]"),
    (RequestType::Json, "@"),
    (
        RequestType::TextJson,
        r#"{"OldPassword":"o","NewPassword":"n"}@"#,
    ),
    (
        RequestType::Xml,
        "<r><OldPassword>@</OldPassword><NewPassword>n</NewPassword></r>",
    ),
    (
        RequestType::Xml,
        "<r><OldPassword>ab</@</OldPassword><NewPassword>n</NewPassword></r>",
    ),
    (RequestType::Xml, "<r><OldPassword>@</r>"),
    (RequestType::Xml, "<@><OldPassword>o</OldPassword></@x>"),
    (
        RequestType::Xml,
        r#"<r @="1" @="2"><OldPassword>o</OldPassword></r>"#,
    ),
    (RequestType::Xml, r#"<r a="@" a="@"/>"#),
    (
        RequestType::Xml,
        r#"<r><OldPassword a=@>o</OldPassword></r>"#,
    ),
    (RequestType::Xml, "<r><OldPassword>&@;</OldPassword></r>"),
    (RequestType::Xml, "<r><OldPassword>&#@;</OldPassword></r>"),
    (
        RequestType::TextXml,
        "<@:r><OldPassword>o</OldPassword></@:r>",
    ),
    (
        RequestType::TextXml,
        r#"<?xml version="1.0" encoding="@"?><r/>"#,
    ),
    (RequestType::TextXml, "<?xml @?><r/>"),
    (RequestType::TextXml, "<!DOCTYPE @><r/>"),
    (RequestType::TextXml, "<r><!-- @ -- --></r>"),
    (RequestType::TextXml, "<r><![CDATA[@</r>"),
    (
        RequestType::FormUrlEncoded,
        "OldPassword=@%FF&NewPassword=n",
    ),
    (
        RequestType::FormUrlEncoded,
        "@=1&@=2&OldPassword=o&NewPassword=n",
    ),
    (RequestType::FormUrlEncoded, "OldPassword=@&oldpassword=@"),
    (RequestType::FormUrlEncoded, "@%zz=1"),
    (
        RequestType::JsonPatch,
        r#"[{"op":"@","path":"/OldPassword","value":"x"}]"#,
    ),
    (
        RequestType::JsonPatch,
        r#"[{"op":"add","path":"/@","value":1},{"op":"test","path":"/@","value":2}]"#,
    ),
    (
        RequestType::JsonPatch,
        r#"[{"op":"test","path":"/OldPassword","value":"@"}]"#,
    ),
    (RequestType::JsonPatch, r#"[{"op":"remove","path":"/@"}]"#),
    (
        RequestType::JsonPatch,
        r#"[{"op":"move","from":"/@","path":"/NewPassword"}]"#,
    ),
    (
        RequestType::JsonPatch,
        r#"[{"op":"add","path":"@","value":1}]"#,
    ),
    (
        RequestType::JsonPatch,
        r#"[{"op":"add","path":"","value":{"@":1,"@":2}}]"#,
    ),
    (
        RequestType::JsonPatch,
        r#"[{"op":"add","path":"","value":{"OldPassword":"@","oldpassword":"@"}}]"#,
    ),
    (RequestType::JsonPatch, r#"[{"op":1,"path":"@"}]"#),
    (RequestType::MergePatch, r#"{"@":1,"@":2}"#),
    (RequestType::MergePatch, r#"{"OldPassword":"@""#),
    (RequestType::MergePatch, r#""@""#),
];

/// SOAP 1.1 envelopes with `@` where the fragment goes.
const ENVELOPES: &[&str] = &[
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88"><OldPassword>@</OldPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><@ xmlns="urn:x"/></s:Body></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword xmlns="@"/></s:Body></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><@ s:mustUnderstand="1"/></s:Header><s:Body/></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><w:X xmlns:w="@" s:mustUnderstand="1"/></s:Header><s:Body/></s:Envelope>"#,
    r#"<@ xmlns="urn:x"><OldPassword>o</OldPassword></@>"#,
    r#"<@:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>@<ChangeOwnPassword/></s:Body></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword><OldPassword>ab</@</OldPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword><OldPassword @="1" @="2">o</OldPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
    r#"<?xml version="1.0" encoding="@"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#,
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword><OldPassword>&@;</OldPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
];

/// The marker between a few characters that matter to some syntax.
fn fragment() -> impl Strategy<Value = String> {
    let around = "[<>/&;=\"'{}\\[\\],:%+#!?a-z -]{0,3}";
    (around, around).prop_map(|(before, after)| format!("{before}{MARKER}{after}"))
}

/// Puts the fragment in, then breaks the body a little more: a syntax character inserted or
/// a byte removed somewhere (possibly inside the marker, which then proves nothing but costs
/// nothing).
fn fill(template: &str, fragment: &str, edit: Option<(usize, char, bool)>) -> String {
    let mut body = template.replace('@', fragment);
    if let Some((at, c, insert)) = edit {
        let at = at % (body.len() + 1);
        if body.is_char_boundary(at) {
            if insert {
                body.insert(at, c);
            } else if at < body.len() {
                body.remove(at);
            }
        }
    }
    body
}

fn edit() -> impl Strategy<Value = Option<(usize, char, bool)>> {
    proptest::option::of((
        any::<usize>(),
        prop::sample::select(&b"<>/&;=\"'{}[],:%"[..]).prop_map(char::from),
        any::<bool>(),
    ))
}

fn assert_no_marker(message: &str, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !message
            .to_ascii_lowercase()
            .contains(&MARKER.to_ascii_lowercase()),
        "the message quotes the body\nbody: {}\nmessage: {}",
        body,
        message
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn no_decode_error_quotes_the_body(
        (media_type, template) in prop::sample::select(TEMPLATES),
        fragment in fragment(),
        edit in edit(),
    ) {
        let body = fill(template, &fragment, edit);
        if let Err(error) = decode(media_type, None, body.as_bytes(), &Limits::default()) {
            assert_no_marker(&error.to_string(), &body)?;
            assert_no_marker(&format!("{error:?}"), &body)?;
        }
    }

    #[test]
    fn no_soap_error_quotes_the_body(
        template in prop::sample::select(ENVELOPES),
        fragment in fragment(),
        edit in edit(),
    ) {
        let body = fill(template, &fragment, edit);
        if let Err(error) = soap::decode_request(body.as_bytes(), None, 88, &Limits::default()) {
            assert_no_marker(&error.to_string(), &body)?;
            assert_no_marker(&format!("{error:?}"), &body)?;
        }
    }
}

#[test]
fn a_password_typed_into_an_end_tag_is_not_quoted() {
    // Issue 21, finding 5: this detail used to quote `</SecretPw9</OldPassword>`.
    let body = "<r><OldPassword>ab</SecretPw9</OldPassword><NewPassword>n</NewPassword></r>";
    let error = decode(RequestType::Xml, None, body.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "XML syntax error at line 1, column 19: an end tag does not match its start tag"
    );
    let envelope = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ChangeOwnPassword>{body}</ChangeOwnPassword></s:Body></s:Envelope>"#
    );
    let error =
        soap::decode_request(envelope.as_bytes(), None, 88, &Limits::default()).unwrap_err();
    assert!(!error.to_string().contains("SecretPw9"), "{error}");
}
