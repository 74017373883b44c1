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
mod tests;
