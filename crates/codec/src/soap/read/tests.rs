use super::super::decode_request;
use super::*;
use crate::Charset;

const NS88: &str = "http://www.superoffice.net/ws/crm/NetServer/Services88";

fn envelope(header: &str, body: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn operation(children: &str) -> String {
    format!(r#"<ChangeOwnPassword xmlns="{NS88}">{children}</ChangeOwnPassword>"#)
}

fn decode(body: &str) -> Result<Request, Error> {
    decode_request(body.as_bytes(), None, 88, &Limits::default())
}

fn ok(body: &str) -> Request {
    decode(body).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn err(body: &str) -> Error {
    decode(body).expect_err(body)
}

const PASSWORDS: &str = "<OldPassword>o</OldPassword><NewPassword>n</NewPassword>";

#[test]
fn reads_the_headers_we_know() {
    let header = format!(
        r#"<Credentials xmlns="{NS88}"><Ticket> 7T:abc
        </Ticket></Credentials><TimeZone xmlns="{NS88}"><SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>NO</SoTimeZoneLocationCode></TimeZone>"#
    );
    let request = ok(&envelope(&header, &operation(PASSWORDS)));
    assert_eq!(
        request,
        Request {
            version: 88,
            old_password: Some("o".into()),
            new_password: Some("n".into()),
            ticket: Some("7T:abc".into()),
            application_token: None,
            time_zone: Some("NO".into()),
        }
    );
}

#[test]
fn the_location_code_wins_when_set_and_the_id_otherwise() {
    let cases = [
        (
            "<SoTimeZoneId>261</SoTimeZoneId><SoTimeZoneLocationCode>SE</SoTimeZoneLocationCode>",
            Some("SE"),
        ),
        ("<SoTimeZoneId>261</SoTimeZoneId>", Some("261")),
        (
            "<SoTimeZoneId>261</SoTimeZoneId><SoTimeZoneLocationCode></SoTimeZoneLocationCode>",
            Some("261"),
        ),
        (
            "<SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>SE</SoTimeZoneLocationCode>",
            Some("SE"),
        ),
        ("<SoTimeZoneId>0</SoTimeZoneId>", None),
        (
            r#"<SoTimeZoneLocationCode xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>"#,
            None,
        ),
        ("", None),
    ];
    for (children, expected) in cases {
        let header = format!(r#"<TimeZone xmlns="{NS88}">{children}</TimeZone>"#);
        let request = ok(&envelope(&header, &operation(PASSWORDS)));
        assert_eq!(request.time_zone.as_deref(), expected, "{children}");
    }
}

#[test]
fn application_token_is_its_value_and_nil_or_empty_is_none() {
    let cases = [
        (
            format!(r#"<ApplicationToken xmlns="{NS88}">1234567-1234-9876</ApplicationToken>"#),
            Some("1234567-1234-9876"),
        ),
        (
            format!(r#"<h:ApplicationToken xmlns:h="{NS88}"> tok </h:ApplicationToken>"#),
            Some("tok"),
        ),
        // As PHP's SoapClient and WCF send it on-site.
        (format!(r#"<ApplicationToken xmlns="{NS88}"/>"#), None),
        (
            format!(r#"<ns1:ApplicationToken xmlns:ns1="{NS88}"></ns1:ApplicationToken>"#),
            None,
        ),
        (
            format!(r#"<ApplicationToken xmlns="{NS88}">  </ApplicationToken>"#),
            None,
        ),
        (
            format!(
                r#"<ApplicationToken xmlns="{NS88}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>"#
            ),
            None,
        ),
        (String::new(), None),
    ];
    for (header, token) in cases {
        let request = ok(&envelope(&header, &operation(PASSWORDS)));
        assert_eq!(request.application_token.as_deref(), token, "{header}");
    }
    let twice = format!(
        r#"<ApplicationToken xmlns="{NS88}"/><ApplicationToken xmlns="{NS88}">x</ApplicationToken>"#
    );
    assert_eq!(
        err(&envelope(&twice, &operation(PASSWORDS))).to_string(),
        "not a valid SOAP 1.1 envelope: the header ApplicationToken appears more than once, at line 1, column 157"
    );
}

#[test]
fn passwords_by_local_name_any_case_any_order_nil_or_absent_is_none() {
    let cases = [
        (
            "<NewPassword>n</NewPassword><OldPassword>o</OldPassword>",
            Some("o"),
            Some("n"),
        ),
        (
            "<oldpassword>o</oldpassword><NEWPASSWORD>n</NEWPASSWORD>",
            Some("o"),
            Some("n"),
        ),
        (
            r#"<x:OldPassword xmlns:x="urn:any">o</x:OldPassword>"#,
            Some("o"),
            None,
        ),
        (
            r#"<OldPassword xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/><NewPassword/>"#,
            None,
            Some(""),
        ),
        ("<Other><OldPassword>x</OldPassword></Other>", None, None),
        (
            "<OldPassword>a&amp;b<![CDATA[<c>]]>&#x1F600;\r\nd</OldPassword>",
            Some("a&b<c>😀\nd"),
            None,
        ),
        ("<OldPassword>  </OldPassword>", Some("  "), None),
    ];
    for (children, old, new) in cases {
        let request = ok(&envelope("", &operation(children)));
        assert_eq!(request.old_password.as_deref(), old, "{children}");
        assert_eq!(request.new_password.as_deref(), new, "{children}");
    }
}

#[test]
fn header_is_optional_and_the_operation_may_be_unqualified() {
    let body = format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ChangeOwnPassword>{PASSWORDS}</ChangeOwnPassword></soap:Body></soap:Envelope>"#
    );
    let request = ok(&body);
    assert_eq!(
        (request.old_password.as_deref(), request.ticket),
        (Some("o"), None)
    );
}

#[test]
fn unknown_headers_are_ignored_unless_they_must_be_understood_by_us() {
    let ignored = [
        r#"<w:Security xmlns:w="urn:wss"><w:Token>x</w:Token></w:Security>"#,
        r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="0"/>"#,
        r#"<w:Security xmlns:w="urn:wss" mustUnderstand="1"/>"#,
        r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1" s:actor="urn:someone-else"/>"#,
        r#"<Credentials xmlns="urn:x" s:actor="urn:someone-else"><Ticket>7T:no</Ticket></Credentials>"#,
    ];
    for header in ignored {
        let request = ok(&envelope(header, &operation(PASSWORDS)));
        assert_eq!(request.ticket, None, "{header}");
    }
    let refused = [
        r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1"/>"#,
        r#"<Action s:mustUnderstand="true">x</Action>"#,
        r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1" s:actor="http://schemas.xmlsoap.org/soap/actor/next"/>"#,
    ];
    for header in refused {
        let error = err(&envelope(header, &operation(PASSWORDS)));
        // Placed, not named: the header's name is the request's text.
        assert_eq!(
            error,
            Error::MustUnderstand {
                line: 1,
                column: 75
            },
            "{header}"
        );
        assert_eq!(
            error.to_string(),
            "a header entry marked mustUnderstand is not understood, at line 1, column 75"
        );
    }
    let known = format!(
        r#"<Credentials xmlns="{NS88}" s:mustUnderstand="1"><Ticket>7T:t</Ticket></Credentials>"#
    );
    assert_eq!(
        ok(&envelope(&known, &operation(PASSWORDS)))
            .ticket
            .as_deref(),
        Some("7T:t")
    );
}

#[test]
fn another_operation_or_version_is_unknown() {
    let cases = [
        format!(r#"<ChangePassword xmlns="{NS88}"/>"#),
        r#"<ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services84"/>"#
            .to_owned(),
        "<changeownpassword/>".to_owned(),
    ];
    for body in cases {
        let error = err(&envelope("", &body));
        assert_eq!(
            error,
            Error::UnknownOperation {
                line: 1,
                column: 94
            },
            "{body}"
        );
        assert!(!error.to_string().contains("Services84"), "{error}");
    }
}

#[test]
fn soap_1_2_is_recognised_and_refused() {
    let body = format!(
        r#"<e:Envelope xmlns:e="{SOAP12_NAMESPACE}"><e:Body>{}</e:Body></e:Envelope>"#,
        operation(PASSWORDS)
    );
    assert!(matches!(err(&body), Error::Soap12));
}

#[test]
fn broken_envelopes_say_what_and_where() {
    let cases: Vec<(String, &str)> = vec![
        (
            "<secret><OldPassword>o</OldPassword></secret>".into(),
            "not a valid SOAP 1.1 envelope: the root element is not the SOAP 1.1 Envelope in http://schemas.xmlsoap.org/soap/envelope/, at line 1, column 1",
        ),
        (
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#.into(),
            "not a valid SOAP 1.1 envelope: the Envelope has no Body, at line 1, column 1",
        ),
        (
            envelope("", ""),
            "not a valid SOAP 1.1 envelope: the Body holds no operation, at line 1, column 94",
        ),
        (
            envelope(
                "",
                &format!("{}{}", operation(PASSWORDS), operation(PASSWORDS)),
            ),
            "not a valid SOAP 1.1 envelope: the Body holds more than one element, at line 1, column 252",
        ),
        (
            format!(
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body><s:Header/></s:Envelope>"#,
                operation(PASSWORDS)
            ),
            "not a valid SOAP 1.1 envelope: the Header must come once, before the Body, at line 1, column 240",
        ),
        (
            envelope(
                "",
                &operation("<OldPassword>o</OldPassword><oldPassword>p</oldPassword>"),
            ),
            "not a valid SOAP 1.1 envelope: the element OldPassword appears more than once, at line 1, column 204",
        ),
        (
            envelope("", &operation("<OldPassword><b>secret</b></OldPassword>")),
            "not a valid SOAP 1.1 envelope: the element OldPassword must hold text only, not elements, at line 1, column 189",
        ),
        (
            envelope(
                "",
                &operation(
                    r#"<OldPassword xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true">secret</OldPassword>"#,
                ),
            ),
            "not a valid SOAP 1.1 envelope: the element OldPassword is nil but holds text, at line 1, column 260",
        ),
        (
            envelope("", &operation("secret<OldPassword>o</OldPassword>")),
            "not a valid SOAP 1.1 envelope: text where only elements belong, at line 1, column 176",
        ),
        (
            envelope(
                &format!(r#"<Credentials xmlns="{NS88}"/><Credentials xmlns="{NS88}"/>"#),
                &operation(PASSWORDS),
            ),
            "not a valid SOAP 1.1 envelope: the header Credentials appears more than once, at line 1, column 152",
        ),
    ];
    for (body, message) in cases {
        let error = err(&body);
        assert!(matches!(error, Error::Envelope { .. }), "{body}: {error:?}");
        assert_eq!(error.to_string(), message, "{body}");
        assert!(!error.to_string().contains("secret"));
    }
}

#[test]
fn hardening_is_that_of_the_xml_format() {
    let doctype = format!(
        "<!DOCTYPE s:Envelope [<!ENTITY x \"secret\">]>{}",
        envelope("", &operation("<OldPassword>&x;</OldPassword>"))
    );
    assert!(matches!(
        err(&doctype),
        Error::Xml(crate::Error::Doctype { line: 1, column: 1 })
    ));
    assert!(matches!(
        err(&envelope(
            "",
            &operation("<OldPassword>&secret;</OldPassword>")
        )),
        Error::Xml(crate::Error::Syntax { .. })
    ));
    assert!(matches!(err(""), Error::Xml(crate::Error::Empty)));
    assert!(matches!(
        err(&envelope("", &operation("<OldPassword>o</NewPassword>"))),
        Error::Xml(crate::Error::Syntax { .. })
    ));
    assert!(matches!(
        err(r#"<p:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#),
        Error::Xml(crate::Error::Syntax { .. })
    ));
    assert!(matches!(
        err("<a>\u{1}</a>"),
        Error::Xml(crate::Error::Syntax {
            line: 1,
            column: 4,
            ..
        })
    ));
    let latin1 = format!(
        r#"<?xml version="1.0" encoding="iso-8859-1"?>{}"#,
        envelope("", &operation(PASSWORDS))
    );
    assert_eq!(err(&latin1), Error::Xml(crate::Error::UnsupportedCharset));

    let body = envelope("", &operation(PASSWORDS));
    let small = Limits {
        max_bytes: body.len() - 1,
        ..Limits::default()
    };
    let too_large = decode_request(body.as_bytes(), None, 88, &small).unwrap_err();
    assert_eq!(
        too_large,
        Error::Xml(crate::Error::TooLarge {
            limit: body.len() - 1
        })
    );
    let nested = envelope(
        "",
        &operation(&format!(
            "{}{}{PASSWORDS}",
            "<x>".repeat(40),
            "</x>".repeat(40)
        )),
    );
    assert!(matches!(
        err(&nested),
        Error::Xml(crate::Error::TooDeep { limit: 32, .. })
    ));
}

#[test]
fn reads_utf16_by_bom_header_or_sniffing() {
    let text = envelope("", &operation("<OldPassword>é😀</OldPassword>"));
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let with_bom = [&[0xFF, 0xFE][..], &le].concat();
    for (bytes, charset) in [
        (&le, Some(Charset::Utf16)),
        (&be, Some(Charset::Utf16Be)),
        (&with_bom, None),
        (&le, None),
    ] {
        let request = decode_request(bytes, charset, 88, &Limits::default()).unwrap();
        assert_eq!(request.old_password.as_deref(), Some("é😀"));
    }
}

#[test]
fn attributes_are_limited_in_number_and_distinct_at_any_depth() {
    let many: String = (0..33).map(|i| format!(" a{i}=\"\"")).collect();
    let cases = [
        (
            envelope(
                &format!("<w:X xmlns:w=\"urn:w\"{many}/>"),
                &operation(PASSWORDS),
            ),
            crate::Error::TooManyAttributes {
                limit: 32,
                line: 1,
                column: 75,
            },
        ),
        (
            envelope(
                r#"<w:X xmlns:w="urn:w"><w:Y><w:Z b="1" b="2"/></w:Y></w:X>"#,
                &operation(PASSWORDS),
            ),
            crate::Error::DuplicateAttribute {
                line: 1,
                column: 101,
            },
        ),
        (
            envelope(
                "",
                &operation(r#"<OldPassword i:nil="true" i:nil="true"/>"#),
            ),
            crate::Error::DuplicateAttribute {
                line: 1,
                column: 176,
            },
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(err(&body), Error::Xml(expected), "{body}");
    }
}
