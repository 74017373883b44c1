//! Reading the envelope: SOAP 1.1 §4 on top of the crate's hardened XML reader.

use super::{ENVELOPE_NAMESPACE, Error, NEXT_ACTOR, Request, SOAP12_NAMESPACE, namespace};
use crate::Limits;
use crate::error::line_column;
use crate::xml::reader::{self, Element, Item, Namespace, Reader, is_xml_space};

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Envelope,
    Header,
    Body,
    Credentials,
    TimeZone,
    Operation,
    /// An element whose text is the value of a field.
    Field(Field),
    /// Anything we skip over: unknown headers, unknown children, trailing envelope elements.
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    OldPassword,
    NewPassword,
    Ticket,
    ApplicationToken,
    TimeZoneId,
    TimeZoneLocationCode,
}

/// What can be wrong with a field's element.
#[derive(Debug, Clone, Copy)]
enum Misuse {
    Repeated,
    HoldsElements,
    NilWithText,
}

impl Field {
    /// The fixed message for a misuse of this field's element.
    fn problem(self, misuse: Misuse) -> &'static str {
        macro_rules! problem {
            ($name:literal) => {
                match misuse {
                    Misuse::Repeated => concat!("the element ", $name, " appears more than once"),
                    Misuse::HoldsElements => {
                        concat!("the element ", $name, " must hold text only, not elements")
                    }
                    Misuse::NilWithText => concat!("the element ", $name, " is nil but holds text"),
                }
            };
        }
        match self {
            Field::OldPassword => problem!("OldPassword"),
            Field::NewPassword => problem!("NewPassword"),
            Field::Ticket => problem!("Ticket"),
            Field::ApplicationToken => problem!("ApplicationToken"),
            Field::TimeZoneId => problem!("SoTimeZoneId"),
            Field::TimeZoneLocationCode => problem!("SoTimeZoneLocationCode"),
        }
    }
}

/// What the attributes of an element say.
#[derive(Default)]
struct Attributes {
    nil: bool,
    must_understand: bool,
    /// Whether the entry is for us: no `actor`, or the "next" actor (SOAP 1.1 §4.2.2).
    for_us: bool,
}

impl Attributes {
    /// `nil` under any prefix (as the XML format reads `i:nil`), and SOAP 1.1's
    /// `mustUnderstand` and `actor` in the envelope namespace.
    fn of(element: &Element<'_>) -> Attributes {
        let mut found = Attributes {
            for_us: true,
            ..Attributes::default()
        };
        for attribute in element.attributes() {
            let value = attribute.value.trim_ascii();
            let in_envelope_ns = attribute.namespace == Some(ENVELOPE_NAMESPACE.as_bytes());
            match attribute.local {
                b"nil" => found.nil = value == b"true" || value == b"1",
                b"mustUnderstand" if in_envelope_ns => {
                    found.must_understand = value == b"1" || value == b"true";
                }
                b"actor" if in_envelope_ns => found.for_us = value == NEXT_ACTOR.as_bytes(),
                _ => {}
            }
        }
        found
    }
}

/// The text of the field being read.
struct Capture {
    field: Field,
    value: String,
    nil: bool,
}

/// `None`: not seen; `Some(None)`: nil; `Some(Some(text))`: its text.
type Slot = Option<Option<String>>;

/// Reads a `ChangeOwnPassword` envelope from decoded text (see [`super::decode_request`]).
pub(super) fn decode(text: &str, version: u8, limits: &Limits) -> Result<Request, Error> {
    let text = reader::prepare(text)?;
    let mut reader = Reader::new(&text, limits);
    let mut parser = Parser::new(&text, version);
    while let Some(item) = reader.next()? {
        match item {
            Item::Start(element) => parser.start(&element)?,
            Item::End { at, .. } => parser.end(at)?,
            Item::Text { text, at, .. } => parser.text(&text, at)?,
        }
    }
    Ok(parser.finish())
}

struct Parser<'t> {
    text: &'t str,
    version: u8,
    service_namespace: String,
    stack: Vec<Frame>,
    header_seen: bool,
    body_seen: bool,
    operation_seen: bool,
    credentials_seen: bool,
    application_token_seen: bool,
    time_zone_seen: bool,
    capture: Option<Capture>,
    old_password: Slot,
    new_password: Slot,
    ticket: Slot,
    application_token: Slot,
    time_zone_id: Slot,
    time_zone_code: Slot,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str, version: u8) -> Self {
        Parser {
            text,
            version,
            service_namespace: namespace(version),
            stack: Vec::new(),
            header_seen: false,
            body_seen: false,
            operation_seen: false,
            credentials_seen: false,
            application_token_seen: false,
            time_zone_seen: false,
            capture: None,
            old_password: None,
            new_password: None,
            ticket: None,
            application_token: None,
            time_zone_id: None,
            time_zone_code: None,
        }
    }

    fn finish(self) -> Request {
        let trimmed = |slot: Slot| {
            slot.flatten()
                .map(|v| v.trim_matches(is_xml_space).to_owned())
                .filter(|v| !v.is_empty())
        };
        let time_zone_id = trimmed(self.time_zone_id).filter(|id| id != "0");
        Request {
            version: self.version,
            old_password: self.old_password.flatten(),
            new_password: self.new_password.flatten(),
            ticket: trimmed(self.ticket),
            application_token: trimmed(self.application_token),
            time_zone: trimmed(self.time_zone_code).or(time_zone_id),
        }
    }

    fn envelope(&self, offset: usize, problem: &'static str) -> Error {
        let (line, column) = line_column(self.text.as_bytes(), offset);
        Error::Envelope {
            problem,
            line,
            column,
        }
    }

    fn start(&mut self, element: &Element<'_>) -> Result<(), Error> {
        let at = element.at;
        let namespace = match element.namespace() {
            Namespace::Bound(namespace) => Some(namespace),
            Namespace::Unbound => None,
            Namespace::Undeclared => {
                return Err(
                    reader::syntax(self.text, at, "a namespace prefix is not declared").into(),
                );
            }
        };
        let local = element.local_name();
        let attributes = Attributes::of(element);
        let in_envelope_ns = namespace == Some(ENVELOPE_NAMESPACE.as_bytes());
        let frame = match self.stack.last().copied() {
            None => {
                if namespace == Some(SOAP12_NAMESPACE.as_bytes()) {
                    return Err(Error::Soap12);
                }
                if !(in_envelope_ns && local == b"Envelope") {
                    return Err(self.envelope(
                        at,
                        "the root element is not the SOAP 1.1 Envelope in http://schemas.xmlsoap.org/soap/envelope/",
                    ));
                }
                Frame::Envelope
            }
            Some(Frame::Envelope) if in_envelope_ns && local == b"Header" => {
                if self.header_seen || self.body_seen {
                    return Err(self.envelope(at, "the Header must come once, before the Body"));
                }
                self.header_seen = true;
                Frame::Header
            }
            Some(Frame::Envelope) if in_envelope_ns && local == b"Body" => {
                if self.body_seen {
                    return Err(self.envelope(at, "a second Body"));
                }
                self.body_seen = true;
                Frame::Body
            }
            // SOAP 1.1 §4.1.2 lets more elements follow the Body; none concern us.
            Some(Frame::Envelope) => Frame::Ignored,
            Some(Frame::Header) => self.header_entry(local, &attributes, at)?,
            Some(Frame::Credentials) if local == b"Ticket" => {
                self.field(Field::Ticket, &attributes, at)?
            }
            Some(Frame::TimeZone) if local == b"SoTimeZoneId" => {
                self.field(Field::TimeZoneId, &attributes, at)?
            }
            Some(Frame::TimeZone) if local == b"SoTimeZoneLocationCode" => {
                self.field(Field::TimeZoneLocationCode, &attributes, at)?
            }
            Some(Frame::Body) => {
                if self.operation_seen {
                    return Err(self.envelope(at, "the Body holds more than one element"));
                }
                self.operation_seen = true;
                let known_namespace =
                    namespace.is_none_or(|ns| ns == self.service_namespace.as_bytes());
                if !(known_namespace && local == b"ChangeOwnPassword") {
                    let (line, column) = line_column(self.text.as_bytes(), at);
                    return Err(Error::UnknownOperation { line, column });
                }
                Frame::Operation
            }
            Some(Frame::Operation) if local.eq_ignore_ascii_case(b"OldPassword") => {
                self.field(Field::OldPassword, &attributes, at)?
            }
            Some(Frame::Operation) if local.eq_ignore_ascii_case(b"NewPassword") => {
                self.field(Field::NewPassword, &attributes, at)?
            }
            Some(Frame::Field(field)) => {
                return Err(self.envelope(at, field.problem(Misuse::HoldsElements)));
            }
            Some(Frame::Credentials | Frame::TimeZone | Frame::Operation | Frame::Ignored) => {
                Frame::Ignored
            }
        };
        self.stack.push(frame);
        Ok(())
    }

    /// A child of `Header`: one of ours, or an unknown one that may demand understanding.
    fn header_entry(
        &mut self,
        local: &[u8],
        attributes: &Attributes,
        at: usize,
    ) -> Result<Frame, Error> {
        let (seen, frame, repeated) = match local {
            b"Credentials" => (
                &mut self.credentials_seen,
                Frame::Credentials,
                "the header Credentials appears more than once",
            ),
            b"ApplicationToken" => (
                &mut self.application_token_seen,
                Frame::Field(Field::ApplicationToken),
                "the header ApplicationToken appears more than once",
            ),
            b"TimeZone" => (
                &mut self.time_zone_seen,
                Frame::TimeZone,
                "the header TimeZone appears more than once",
            ),
            _ => {
                if attributes.must_understand && attributes.for_us {
                    let (line, column) = line_column(self.text.as_bytes(), at);
                    return Err(Error::MustUnderstand { line, column });
                }
                return Ok(Frame::Ignored);
            }
        };
        if !attributes.for_us {
            return Ok(Frame::Ignored);
        }
        if *seen {
            return Err(self.envelope(at, repeated));
        }
        *seen = true;
        match frame {
            Frame::Field(field) => self.field(field, attributes, at),
            frame => Ok(frame),
        }
    }

    fn field(&mut self, field: Field, attributes: &Attributes, at: usize) -> Result<Frame, Error> {
        let seen = self.slot(field).is_some();
        if seen {
            return Err(self.envelope(at, field.problem(Misuse::Repeated)));
        }
        self.capture = Some(Capture {
            field,
            value: String::new(),
            nil: attributes.nil,
        });
        Ok(Frame::Field(field))
    }

    fn slot(&mut self, field: Field) -> &mut Slot {
        match field {
            Field::OldPassword => &mut self.old_password,
            Field::NewPassword => &mut self.new_password,
            Field::Ticket => &mut self.ticket,
            Field::ApplicationToken => &mut self.application_token,
            Field::TimeZoneId => &mut self.time_zone_id,
            Field::TimeZoneLocationCode => &mut self.time_zone_code,
        }
    }

    fn end(&mut self, at: usize) -> Result<(), Error> {
        match self.stack.last() {
            Some(Frame::Envelope) if !self.body_seen => {
                return Err(self.envelope(at, "the Envelope has no Body"));
            }
            Some(Frame::Body) if !self.operation_seen => {
                return Err(self.envelope(at, "the Body holds no operation"));
            }
            _ => {}
        }
        if let Some(Frame::Field(_)) = self.stack.last()
            && let Some(capture) = self.capture.take()
        {
            let value = if capture.nil {
                if !capture.value.trim_matches(is_xml_space).is_empty() {
                    return Err(self.envelope(at, capture.field.problem(Misuse::NilWithText)));
                }
                None
            } else {
                Some(capture.value)
            };
            *self.slot(capture.field) = Some(value);
        }
        self.stack.pop();
        Ok(())
    }

    fn text(&mut self, text: &str, at: usize) -> Result<(), Error> {
        // The reader gives no text outside the root, so the stack is not empty here.
        match self.stack.last() {
            Some(Frame::Field(_)) => {
                if let Some(capture) = &mut self.capture {
                    capture.value.push_str(text);
                }
            }
            None | Some(Frame::Ignored) => {}
            Some(
                Frame::Envelope
                | Frame::Header
                | Frame::Body
                | Frame::Credentials
                | Frame::TimeZone
                | Frame::Operation,
            ) => {
                if !text.trim_matches(is_xml_space).is_empty() {
                    return Err(self.envelope(at, "text where only elements belong"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
            r#"<ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services84"/>"#.to_owned(),
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
}
