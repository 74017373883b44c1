//! `application/xml` and `text/xml` (SPEC §2), read with quick-xml's pull parser.
//!
//! One root element of any name and namespace; its direct children `OldPassword` and
//! `NewPassword` by local name, ignoring case, in any order. Nothing is bound to a schema, so
//! the DataContract form (`xmlns`, `xmlns:i`, `i:nil`) and plain XML read the same.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::line_column;
use crate::json::{NEW_PASSWORD, OLD_PASSWORD, Property};
use crate::{ChangeOwnPasswordRequest, Error, Limits};

/// Decodes an XML request from its decoded text.
///
/// # Errors
///
/// [`Error::Syntax`] for a document that is not well-formed, [`Error::Doctype`],
/// [`Error::TooDeep`], [`Error::Shape`] (an element inside a password, content in a nil
/// element), [`Error::Duplicate`], [`Error::Missing`].
pub(crate) fn decode(text: &str, limits: &Limits) -> Result<ChangeOwnPasswordRequest, Error> {
    check_chars(text)?;
    let text = normalize_line_ends(text);
    Parser {
        text: &text,
        max_depth: limits.max_depth,
        depth: 0,
        root_seen: false,
        capture: None,
        old: None,
        new: None,
    }
    .run()
}

/// XML 1.0 §2.2: a document holds no C0 control but tab, line feed and carriage return, and
/// neither U+FFFE nor U+FFFF. quick-xml does not check, so this does.
fn check_chars(text: &str) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let bad = bytes.iter().enumerate().position(|(i, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
    });
    match bad {
        Some(offset) => Err(syntax(text, offset, "a character not allowed in XML 1.0")),
        None => Ok(()),
    }
}

/// XML 1.0 §2.11: a parser reads `\r\n` and a lone `\r` as `\n`; `&#xD;` stays a carriage
/// return because references are resolved after this.
fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut normalized = String::with_capacity(text.len());
    let mut lines = text.split('\r');
    normalized.push_str(lines.next().unwrap_or_default());
    for line in lines {
        normalized.push('\n');
        normalized.push_str(line.strip_prefix('\n').unwrap_or(line));
    }
    Cow::Owned(normalized)
}

pub(crate) fn syntax(text: &str, offset: usize, detail: &'static str) -> Error {
    let (line, column) = line_column(text.as_bytes(), offset);
    Error::Syntax {
        format: "XML",
        line,
        column,
        detail,
    }
}

/// What a quick-xml error means, in one of a fixed set of descriptions: its own messages
/// quote tag names, attribute names, entity names and prefixes, all the request's text.
pub(crate) fn describe(error: &quick_xml::Error) -> &'static str {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    use quick_xml::escape::EscapeError;
    use quick_xml::events::attributes::AttrError;
    use quick_xml::name::NamespaceError;
    match error {
        quick_xml::Error::Io(_) => "the document cannot be read",
        quick_xml::Error::Syntax(error) => match error {
            SyntaxError::InvalidBangMarkup => "unknown markup after <!",
            SyntaxError::UnclosedPIOrXmlDecl => {
                "a processing instruction or XML declaration is not closed"
            }
            SyntaxError::UnclosedComment => "a comment is not closed",
            SyntaxError::UnclosedDoctype => "a DOCTYPE is not closed",
            SyntaxError::UnclosedCData => "a CDATA section is not closed",
            SyntaxError::UnclosedTag => "a tag is not closed",
        },
        quick_xml::Error::IllFormed(error) => match error {
            IllFormedError::MissingDeclVersion(_) => {
                "the XML declaration does not start with its version"
            }
            IllFormedError::MissingDoctypeName => "a DOCTYPE without a name",
            IllFormedError::MissingEndTag(_) => "an element is not closed",
            IllFormedError::UnmatchedEndTag(_) => "an end tag without a start tag",
            IllFormedError::MismatchedEndTag { .. } => "an end tag does not match its start tag",
            IllFormedError::DoubleHyphenInComment => "a comment holds `--`",
            IllFormedError::UnclosedReference => "a reference is not closed by `;`",
        },
        quick_xml::Error::InvalidAttr(error) => match error {
            AttrError::ExpectedEq(_) => "an attribute name is not followed by `=`",
            AttrError::ExpectedValue(_) => "an attribute has no value",
            AttrError::UnquotedValue(_) => "an attribute value is not quoted",
            AttrError::ExpectedQuote(..) => "an attribute value is not closed by its quote",
            AttrError::Duplicated(..) => "an attribute appears more than once in an element",
        },
        quick_xml::Error::Encoding(_) => "the text is not valid UTF-8",
        quick_xml::Error::Escape(error) => match error {
            EscapeError::UnrecognizedEntity(..) => "a reference to an undeclared entity",
            EscapeError::UnterminatedEntity(_) => "a reference is not closed by `;`",
            EscapeError::InvalidCharRef(_) => "a character reference is not a number",
        },
        quick_xml::Error::Namespace(error) => match error {
            NamespaceError::UnknownPrefix(_) => "a namespace prefix is not declared",
            NamespaceError::InvalidXmlPrefixBind(_)
            | NamespaceError::InvalidXmlnsPrefixBind(_)
            | NamespaceError::InvalidPrefixForXml(_)
            | NamespaceError::InvalidPrefixForXmlns(_) => {
                "a namespace declaration binds a reserved prefix or namespace"
            }
        },
    }
}

/// The text of a password element being read.
struct Capture {
    property: Property,
    value: String,
    nil: bool,
}

struct Parser<'t> {
    text: &'t str,
    max_depth: usize,
    depth: usize,
    root_seen: bool,
    capture: Option<Capture>,
    /// `None`: not seen; `Some(None)`: nil.
    old: Option<Option<String>>,
    new: Option<Option<String>>,
}

impl Parser<'_> {
    fn run(mut self) -> Result<ChangeOwnPasswordRequest, Error> {
        let mut reader = Reader::from_str(self.text);
        reader.config_mut().check_comments = true;
        let mut first = true;
        loop {
            let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let offset = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                    return Err(self.reader_error(offset, error));
                }
            };
            match event {
                Event::Decl(_) if first => {}
                Event::Decl(_) => {
                    return Err(self.syntax(at, "the XML declaration must come first"));
                }
                Event::DocType(_) => {
                    let (line, column) = line_column(self.text.as_bytes(), at);
                    return Err(Error::Doctype { line, column });
                }
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(element) => self.start(&element, at)?,
                Event::Empty(element) => {
                    self.start(&element, at)?;
                    self.end()?;
                }
                Event::End(_) => self.end()?,
                Event::Text(text) => {
                    let text = text.decode().map_err(|e| self.reader_error(at, e.into()))?;
                    self.text(&text, at)?;
                }
                Event::CData(cdata) => {
                    let text = cdata
                        .decode()
                        .map_err(|e| self.reader_error(at, e.into()))?;
                    if self.depth == 0 {
                        return Err(self.syntax(at, "CDATA outside the root element"));
                    }
                    self.push(&text);
                }
                Event::GeneralRef(reference) => {
                    if self.depth == 0 {
                        return Err(self.syntax(at, "a reference outside the root element"));
                    }
                    let resolved = self.resolve(&reference, at)?;
                    self.push(resolved.encode_utf8(&mut [0; 4]));
                }
                Event::Eof => break,
            }
            first = false;
        }
        if !self.root_seen {
            return Err(self.syntax(self.text.len(), "no root element"));
        }
        if self.depth > 0 {
            return Err(self.syntax(self.text.len(), "an element is not closed"));
        }
        let take = |field: Option<Option<String>>, property| {
            field.flatten().ok_or(Error::Missing { property })
        };
        Ok(ChangeOwnPasswordRequest {
            old_password: take(self.old, OLD_PASSWORD)?,
            new_password: take(self.new, NEW_PASSWORD)?,
            xsrf_token: None,
        })
    }

    fn syntax(&self, offset: usize, detail: &'static str) -> Error {
        syntax(self.text, offset, detail)
    }

    fn reader_error(&self, offset: usize, error: quick_xml::Error) -> Error {
        let rest = self.text.get(offset..).unwrap_or_default();
        if rest.starts_with("<!ENTITY") || rest.starts_with("<!DOCTYPE") {
            let (line, column) = line_column(self.text.as_bytes(), offset);
            return Error::Doctype { line, column };
        }
        syntax(self.text, offset, describe(&error))
    }

    fn start(&mut self, element: &BytesStart<'_>, at: usize) -> Result<(), Error> {
        if self.depth == 0 && self.root_seen {
            return Err(self.syntax(at, "a second root element"));
        }
        self.depth += 1;
        if self.depth > self.max_depth {
            let (line, column) = line_column(self.text.as_bytes(), at);
            return Err(Error::TooDeep {
                limit: self.max_depth,
                line,
                column,
            });
        }
        match self.depth {
            1 => {
                self.root_seen = true;
                self.is_nil(element, at)?;
            }
            2 => {
                let name = element.local_name();
                let property =
                    std::str::from_utf8(name.as_ref()).map_or(Property::Other, Property::of);
                let nil = self.is_nil(element, at)?;
                let (seen, canonical) = match property {
                    Property::Old => (self.old.is_some(), OLD_PASSWORD),
                    Property::New => (self.new.is_some(), NEW_PASSWORD),
                    Property::Other => return Ok(()),
                };
                if seen {
                    return Err(Error::Duplicate {
                        property: canonical,
                    });
                }
                self.capture = Some(Capture {
                    property,
                    value: String::new(),
                    nil,
                });
            }
            3 => {
                if let Some(capture) = &self.capture {
                    let detail = match capture.property {
                        Property::Old => {
                            "the element OldPassword must hold text only, not elements"
                        }
                        Property::New | Property::Other => {
                            "the element NewPassword must hold text only, not elements"
                        }
                    };
                    return Err(Error::Shape { detail });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        if self.depth == 2
            && let Some(capture) = self.capture.take()
        {
            let value = if capture.nil {
                if !capture.value.trim_matches(is_xml_space).is_empty() {
                    let detail = match capture.property {
                        Property::Old => "the element OldPassword is nil but holds text",
                        Property::New | Property::Other => {
                            "the element NewPassword is nil but holds text"
                        }
                    };
                    return Err(Error::Shape { detail });
                }
                None
            } else {
                Some(capture.value)
            };
            match capture.property {
                Property::Old => self.old = Some(value),
                _ => self.new = Some(value),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn text(&mut self, text: &str, at: usize) -> Result<(), Error> {
        if self.depth == 0 {
            if !text.trim_matches(is_xml_space).is_empty() {
                return Err(self.syntax(at, "text outside the root element"));
            }
            return Ok(());
        }
        self.push(text);
        Ok(())
    }

    /// Adds text to the password being read: only text directly inside its element.
    fn push(&mut self, text: &str) {
        if self.depth == 2
            && let Some(capture) = &mut self.capture
        {
            capture.value.push_str(text);
        }
    }

    /// The five predefined entities (XML 1.0 §4.6) and character references; no other entity
    /// can be declared, since a DOCTYPE is refused.
    fn resolve(
        &self,
        reference: &quick_xml::events::BytesRef<'_>,
        at: usize,
    ) -> Result<char, Error> {
        if reference.is_char_ref() {
            return match reference.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Ok(c),
                _ => Err(self.syntax(
                    at,
                    "a character reference to a character not allowed in XML",
                )),
            };
        }
        match reference.as_ref() {
            b"amp" => Ok('&'),
            b"lt" => Ok('<'),
            b"gt" => Ok('>'),
            b"apos" => Ok('\''),
            b"quot" => Ok('"'),
            _ => Err(self.syntax(at, "a reference to an undeclared entity")),
        }
    }

    /// Whether the element carries `nil="true"` (or `"1"`) under any prefix, as
    /// DataContractSerializer writes `i:nil="true"` with `xmlns:i` the XMLSchema-instance
    /// namespace. Reading every attribute also checks that they are well-formed.
    fn is_nil(&self, element: &BytesStart<'_>, at: usize) -> Result<bool, Error> {
        let mut nil = false;
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| self.reader_error(at, e.into()))?;
            let key = attribute.key;
            let is_declaration = key.as_ref().starts_with(b"xmlns");
            if !is_declaration && key.local_name().as_ref() == b"nil" {
                let value = attribute.value.trim_ascii();
                nil = value == b"true" || value == b"1";
            }
        }
        Ok(nil)
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// XML 1.0 §2.2 `Char`.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATACONTRACT: &str = r#"<ChangeOwnPasswordRequest xmlns="http://schemas.datacontract.org/2004/07/SuperOffice.CRM.Services" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><NewPassword>n</NewPassword><OldPassword>o</OldPassword></ChangeOwnPasswordRequest>"#;

    fn request(old: &str, new: &str) -> ChangeOwnPasswordRequest {
        ChangeOwnPasswordRequest {
            old_password: old.into(),
            new_password: new.into(),
            xsrf_token: None,
        }
    }

    fn ok(body: &str) -> ChangeOwnPasswordRequest {
        decode(body, &Limits::default()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn err(body: &str) -> Error {
        decode(body, &Limits::default()).expect_err(body)
    }

    #[test]
    fn reads_any_root_and_children_by_local_name_in_any_case_and_order() {
        let cases = [
            (DATACONTRACT, ("o", "n")),
            (
                "<request><OldPassword>o</OldPassword><NewPassword>n</NewPassword></request>",
                ("o", "n"),
            ),
            (
                "<r><newpassword>n</newpassword><OLDPASSWORD>o</OLDPASSWORD></r>",
                ("o", "n"),
            ),
            (
                r#"<a:r xmlns:a="urn:x"><a:OldPassword>o</a:OldPassword><b:NewPassword xmlns:b="urn:y">n</b:NewPassword></a:r>"#,
                ("o", "n"),
            ),
            (
                r#"<?xml version="1.0" encoding="utf-8"?><r><OldPassword>o</OldPassword><NewPassword>n</NewPassword></r>"#,
                ("o", "n"),
            ),
            (
                "<!-- c --><?pi x?>\n<r>\n  <Other><OldPassword>x</OldPassword></Other>\n  <OldPassword>o</OldPassword>\n  <NewPassword>n</NewPassword>\n</r>\n<!-- after -->\n",
                ("o", "n"),
            ),
            ("<r><OldPassword/><NewPassword></NewPassword></r>", ("", "")),
        ];
        for (body, (old, new)) in cases {
            assert_eq!(ok(body), request(old, new), "{body}");
        }
    }

    #[test]
    fn decodes_references_cdata_and_keeps_whitespace() {
        let cases = [
            (
                "<r><OldPassword>a&amp;b&lt;c&gt;d&apos;e&quot;f</OldPassword><NewPassword>n</NewPassword></r>",
                "a&b<c>d'e\"f",
            ),
            (
                "<r><OldPassword>&#x1F600;&#233;&#xD;&#9;</OldPassword><NewPassword>n</NewPassword></r>",
                "😀é\r\t",
            ),
            (
                "<r><OldPassword><![CDATA[<&>]]></OldPassword><NewPassword>n</NewPassword></r>",
                "<&>",
            ),
            (
                "<r><OldPassword> a <![CDATA[ b ]]>&amp; c<!-- x --> d </OldPassword><NewPassword>n</NewPassword></r>",
                " a  b & c d ",
            ),
            (
                "<r><OldPassword>  </OldPassword><NewPassword>n</NewPassword></r>",
                "  ",
            ),
            (
                "<r><OldPassword>a\r\nb\rc</OldPassword><NewPassword>n</NewPassword></r>",
                "a\nb\nc",
            ),
        ];
        for (body, old) in cases {
            assert_eq!(ok(body).old_password, old, "{body}");
        }
    }

    #[test]
    fn nil_or_absent_elements_are_missing() {
        let cases = [
            (
                r#"<r xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><OldPassword i:nil="true"/><NewPassword>n</NewPassword></r>"#,
                OLD_PASSWORD,
            ),
            (
                r#"<r xmlns:x="http://www.w3.org/2001/XMLSchema-instance"><OldPassword>o</OldPassword><NewPassword x:nil="1"></NewPassword></r>"#,
                NEW_PASSWORD,
            ),
            ("<r><NewPassword>n</NewPassword></r>", OLD_PASSWORD),
            ("<r><OldPassword>o</OldPassword></r>", NEW_PASSWORD),
            ("<r/>", OLD_PASSWORD),
        ];
        for (body, property) in cases {
            assert!(
                matches!(err(body), Error::Missing { property: p } if p == property),
                "{body}"
            );
        }
        let not_nil =
            r#"<r><OldPassword i:nil="false">o</OldPassword><NewPassword>n</NewPassword></r>"#;
        assert_eq!(ok(not_nil), request("o", "n"));
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let cases: [(&str, &str); 8] = [
            (
                "<r><OldPassword>o</OldPassword><oldpassword>p</oldpassword><NewPassword>n</NewPassword></r>",
                "the property OldPassword appears more than once",
            ),
            (
                r#"<r><NewPassword i:nil="true"/><NewPassword>n</NewPassword><OldPassword>o</OldPassword></r>"#,
                "the property NewPassword appears more than once",
            ),
            (
                "<r><OldPassword><b>secret</b></OldPassword><NewPassword>n</NewPassword></r>",
                "the element OldPassword must hold text only, not elements",
            ),
            (
                r#"<r><OldPassword i:nil="true">secret</OldPassword><NewPassword>n</NewPassword></r>"#,
                "the element OldPassword is nil but holds text",
            ),
            (
                "<!DOCTYPE r [<!ENTITY x \"secret\">]><r><OldPassword>&x;</OldPassword></r>",
                "a DOCTYPE or entity declaration is not allowed, at line 1, column 1",
            ),
            (
                "\n<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>",
                "a DOCTYPE or entity declaration is not allowed, at line 2, column 1",
            ),
            (
                "<!ENTITY x \"y\"><r/>",
                "a DOCTYPE or entity declaration is not allowed, at line 1, column 1",
            ),
            (
                "<r><OldPassword>&secret;</OldPassword></r>",
                "XML syntax error at line 1, column 17: a reference to an undeclared entity",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(err(body).to_string(), message, "{body}");
        }
    }

    #[test]
    fn malformed_documents_are_syntax_errors_with_position() {
        let cases = [
            ("<r><OldPassword>o</NewPassword></r>", 1, 18),
            ("<r><OldPassword>o</OldPassword>", 1, 32),
            ("<r/><r/>", 1, 5),
            ("text<r/>", 1, 1),
            ("<r/>tail", 1, 5),
            ("<r/><![CDATA[x]]>", 1, 5),
            ("", 1, 1),
            ("   ", 1, 4),
            ("<r>\n<OldPassword a=1>o</OldPassword></r>", 2, 1),
            ("<r a=\"1\" a=\"2\"/>", 1, 1),
            ("<r>&#0;</r>", 1, 4),
            ("<r>&#xFFFE;</r>", 1, 4),
            ("<r>\u{1}</r>", 1, 4),
            ("<r>\u{FFFF}</r>", 1, 4),
            ("<r><!-- a -- b --></r>", 1, 11),
            ("<r>x</r><?xml version=\"1.0\"?>", 1, 9),
            ("<r>é<", 1, 5),
            ("<r>&amp</r>", 1, 4),
        ];
        for (body, line, column) in cases {
            match err(body) {
                Error::Syntax {
                    format,
                    line: l,
                    column: c,
                    ..
                } => {
                    assert_eq!((format, l, c), ("XML", line, column), "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn nesting_is_limited_by_max_depth() {
        let nested = |depth: usize| {
            format!(
                "<r><OldPassword>o</OldPassword><NewPassword>n</NewPassword>{}{}</r>",
                "<x>".repeat(depth),
                "</x>".repeat(depth)
            )
        };
        assert!(decode(&nested(31), &Limits::default()).is_ok());
        assert!(decode(&nested(30).replace("<x></x>", "<x/>"), &Limits::default()).is_ok());
        match decode(&nested(32), &Limits::default()) {
            Err(Error::TooDeep {
                limit,
                line,
                column,
            }) => assert_eq!((limit, line, column), (32, 1, 153)),
            other => panic!("{other:?}"),
        }
        let shallow = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert!(decode(&nested(1), &shallow).is_ok());
        assert!(matches!(
            decode(&nested(2), &shallow),
            Err(Error::TooDeep { limit: 2, .. })
        ));
    }

    #[test]
    fn xml_chars_follow_xml_1_0() {
        assert!(is_xml_char('\t') && is_xml_char('a') && is_xml_char('\u{10FFFF}'));
        assert!(!is_xml_char('\u{0}') && !is_xml_char('\u{1F}') && !is_xml_char('\u{FFFE}'));
    }
}
