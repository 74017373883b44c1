//! `application/xml` and `text/xml` (SPEC §2), read with the crate's one hardened XML reader
//! ([`reader`], which the SOAP envelope shares).
//!
//! One root element of any name and namespace; its direct children `OldPassword` and
//! `NewPassword` by local name, ignoring case, in any order. Nothing is bound to a schema, so
//! the DataContract form (`xmlns`, `xmlns:i`, `i:nil`) and plain XML read the same.

pub(crate) mod reader;

use crate::json::{NEW_PASSWORD, OLD_PASSWORD, Property};
use crate::{ChangeOwnPasswordRequest, Error, Limits};

pub(crate) use reader::is_xml_char;
use reader::{Element, Item, Reader, is_xml_space};

/// Decodes an XML request from its decoded text.
///
/// # Errors
///
/// Those of the [`reader`] ([`Error::Syntax`], [`Error::Doctype`], [`Error::TooDeep`],
/// [`Error::TooManyAttributes`], [`Error::DuplicateAttribute`]); [`Error::Shape`] (an element
/// inside a password, text in a nil element), [`Error::Duplicate`], [`Error::Missing`].
pub(crate) fn decode(text: &str, limits: &Limits) -> Result<ChangeOwnPasswordRequest, Error> {
    let text = reader::prepare(text)?;
    let mut reader = Reader::new(&text, limits);
    let mut capture: Option<Capture> = None;
    // `None`: not seen; `Some(None)`: nil.
    let mut old: Option<Option<String>> = None;
    let mut new: Option<Option<String>> = None;
    while let Some(item) = reader.next()? {
        match item {
            Item::Start(element) if element.depth == 2 => {
                let property =
                    std::str::from_utf8(element.local_name()).map_or(Property::Other, Property::of);
                let (seen, property) = match property {
                    Property::Old => (old.is_some(), OLD_PASSWORD),
                    Property::New => (new.is_some(), NEW_PASSWORD),
                    Property::Other => continue,
                };
                if seen {
                    return Err(Error::Duplicate { property });
                }
                capture = Some(Capture {
                    property,
                    value: String::new(),
                    nil: is_nil(&element),
                });
            }
            Item::Start(element) if element.depth == 3 => {
                if let Some(capture) = &capture {
                    return Err(Error::Shape {
                        detail: if capture.property == OLD_PASSWORD {
                            "the element OldPassword must hold text only, not elements"
                        } else {
                            "the element NewPassword must hold text only, not elements"
                        },
                    });
                }
            }
            Item::Start(_) => {}
            Item::Text { text, depth: 2, .. } => {
                if let Some(capture) = &mut capture {
                    capture.value.push_str(&text);
                }
            }
            Item::Text { .. } => {}
            Item::End { depth: 2, .. } => {
                let Some(capture) = capture.take() else {
                    continue;
                };
                let value = if capture.nil {
                    if !capture.value.trim_matches(is_xml_space).is_empty() {
                        return Err(Error::Shape {
                            detail: if capture.property == OLD_PASSWORD {
                                "the element OldPassword is nil but holds text"
                            } else {
                                "the element NewPassword is nil but holds text"
                            },
                        });
                    }
                    None
                } else {
                    Some(capture.value)
                };
                if capture.property == OLD_PASSWORD {
                    old = Some(value);
                } else {
                    new = Some(value);
                }
            }
            Item::End { .. } => {}
        }
    }
    let take = |field: Option<Option<String>>, property| {
        field.flatten().ok_or(Error::Missing { property })
    };
    Ok(ChangeOwnPasswordRequest {
        old_password: take(old, OLD_PASSWORD)?,
        new_password: take(new, NEW_PASSWORD)?,
        xsrf_token: None,
    })
}

/// The text of a password element being read.
struct Capture {
    /// `OldPassword` or `NewPassword`.
    property: &'static str,
    value: String,
    nil: bool,
}

/// Whether the element carries `nil="true"` (or `"1"`) under any prefix, as
/// DataContractSerializer writes `i:nil="true"` with `xmlns:i` the XMLSchema-instance
/// namespace.
pub(crate) fn is_nil(element: &Element<'_>) -> bool {
    element.attributes().any(|attribute| {
        let value = attribute.value.trim_ascii();
        attribute.local == b"nil" && (value == b"true" || value == b"1")
    })
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
