//! The one hardened XML reader of the crate, under the XML request format and the SOAP
//! envelope alike: quick-xml's namespace-aware pull parser, with what it leaves to its caller.
//!
//! - XML 1.0 only as far as SPEC §2 needs it: §2.2 characters, §2.11 line ends, the five
//!   predefined entities and character references (§4.6), CDATA; one root element.
//! - A DOCTYPE (so any entity declaration) is refused, never expanded.
//! - Elements nest at most [`Limits::max_depth`] levels.
//! - Time linear in the size of the body (SPEC §2): an element has at most
//!   [`Limits::max_attributes`] attributes, and a duplicate attribute is refused at any depth.
//!   quick-xml's own duplicate check compares every attribute with every earlier one, which
//!   made one element of ~9,700 attributes cost ~110 ms; here attributes are counted first and
//!   compared only while there are at most `max_attributes` of them.
//! - Errors are the crate's, with fixed descriptions ([`describe`]): quick-xml's own messages
//!   quote tag and attribute names, which are the request's text.
//!
//! The reader yields [`Item`]s; what they mean is the caller's business.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{NamespaceResolver, ResolveResult};

use crate::error::line_column;
use crate::{Error, Limits};

/// Checks the characters of decoded text (XML 1.0 §2.2: no C0 control but tab, line feed and
/// carriage return, neither U+FFFE nor U+FFFF; quick-xml does not check) and normalizes its
/// line ends (§2.11: `\r\n` and a lone `\r` read as `\n`; `&#xD;` stays a carriage return,
/// as references are resolved later).
///
/// # Errors
///
/// [`Error::Syntax`] at the first character not allowed.
pub(crate) fn prepare(text: &str) -> Result<Cow<'_, str>, Error> {
    let bytes = text.as_bytes();
    let bad = bytes.iter().enumerate().position(|(i, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
    });
    if let Some(offset) = bad {
        return Err(syntax(text, offset, "a character not allowed in XML 1.0"));
    }
    if !text.contains('\r') {
        return Ok(Cow::Borrowed(text));
    }
    let mut normalized = String::with_capacity(text.len());
    let mut lines = text.split('\r');
    normalized.push_str(lines.next().unwrap_or_default());
    for line in lines {
        normalized.push('\n');
        normalized.push_str(line.strip_prefix('\n').unwrap_or(line));
    }
    Ok(Cow::Owned(normalized))
}

/// What the reader found next.
pub(crate) enum Item<'r> {
    /// A start tag, or an empty element (whose [`Item::End`] follows at once).
    Start(Element<'r>),
    /// The end of the element at `depth`.
    End {
        /// 1-based depth of the element that ends; the root is 1.
        depth: usize,
        /// Byte offset of the end tag.
        at: usize,
    },
    /// Character data inside the root: text, a CDATA section or a resolved reference, in
    /// pieces as they come.
    Text {
        /// The characters.
        text: Cow<'r, str>,
        /// 1-based depth of the element it is in.
        depth: usize,
        /// Byte offset where it starts.
        at: usize,
    },
}

/// A start tag whose attributes were found well-formed, few enough and distinct.
pub(crate) struct Element<'r> {
    /// Byte offset of the `<`.
    pub(crate) at: usize,
    /// 1-based depth; the root is 1.
    pub(crate) depth: usize,
    start: &'r BytesStart<'r>,
    resolver: &'r NamespaceResolver,
}

/// The namespace an element's prefix stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace<'r> {
    /// Bound to this URI, by a prefix or the default namespace.
    Bound(&'r [u8]),
    /// No prefix and no default namespace.
    Unbound,
    /// A prefix that no `xmlns:` declaration in scope binds.
    Undeclared,
}

/// An attribute other than a namespace declaration.
pub(crate) struct Attribute<'r> {
    /// Its local name.
    pub(crate) local: &'r [u8],
    /// Its namespace: an unprefixed attribute has none, nor has one whose prefix is not
    /// declared.
    pub(crate) namespace: Option<&'r [u8]>,
    /// Its value as written (references not resolved).
    pub(crate) value: Cow<'r, [u8]>,
}

impl<'r> Element<'r> {
    /// The local name, without prefix.
    pub(crate) fn local_name(&self) -> &'r [u8] {
        self.start.local_name().into_inner()
    }

    /// The namespace of the element's name, resolved on demand: a caller that only reads
    /// local names pays nothing for it.
    pub(crate) fn namespace(&self) -> Namespace<'r> {
        match self.resolver.resolve_element(self.start.name()).0 {
            ResolveResult::Bound(namespace) => Namespace::Bound(namespace.into_inner()),
            ResolveResult::Unbound => Namespace::Unbound,
            ResolveResult::Unknown(_) => Namespace::Undeclared,
        }
    }

    /// The attributes that are not namespace declarations, in document order.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = Attribute<'r>> + 'r {
        let resolver = self.resolver;
        let mut attributes = self.start.attributes();
        // Checked once already, in linear time, when the element was read.
        attributes.with_checks(false);
        attributes
            .filter_map(Result::ok)
            .filter_map(move |attribute| {
                if attribute.key.as_namespace_binding().is_some() {
                    return None;
                }
                let (namespace, local) = resolver.resolve_attribute(attribute.key);
                Some(Attribute {
                    local: local.into_inner(),
                    namespace: match namespace {
                        ResolveResult::Bound(namespace) => Some(namespace.into_inner()),
                        ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
                    },
                    value: attribute.value,
                })
            })
    }
}

/// The reader over one prepared text (see [`prepare`]).
pub(crate) struct Reader<'t> {
    text: &'t str,
    reader: NsReader<&'t [u8]>,
    max_depth: usize,
    max_attributes: usize,
    depth: usize,
    root_seen: bool,
    first: bool,
    /// The start tag last returned, which [`Item::Start`] borrows.
    start: Option<BytesStart<'t>>,
    /// After an empty element: the offset of its end, returned next.
    pending_end: Option<usize>,
    /// A resolved reference, which [`Item::Text`] borrows.
    char_buf: [u8; 4],
}

impl<'t> Reader<'t> {
    pub(crate) fn new(text: &'t str, limits: &Limits) -> Self {
        let mut reader = NsReader::from_str(text);
        reader.config_mut().check_comments = true;
        Reader {
            text,
            reader,
            max_depth: limits.max_depth,
            max_attributes: limits.max_attributes,
            depth: 0,
            root_seen: false,
            first: true,
            start: None,
            pending_end: None,
            char_buf: [0; 4],
        }
    }

    /// The next item; `None` at the end of a well-formed document.
    ///
    /// # Errors
    ///
    /// [`Error::Syntax`] for a document that is not well-formed (also text, CDATA or a
    /// reference outside the root, a second root, no root, an undeclared entity, a character
    /// reference to a character XML does not allow), [`Error::Doctype`], [`Error::TooDeep`],
    /// [`Error::TooManyAttributes`], [`Error::DuplicateAttribute`].
    pub(crate) fn next(&mut self) -> Result<Option<Item<'_>>, Error> {
        if let Some(at) = self.pending_end.take() {
            self.depth -= 1;
            return Ok(Some(Item::End {
                depth: self.depth + 1,
                at,
            }));
        }
        loop {
            let at = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let offset =
                        usize::try_from(self.reader.error_position()).unwrap_or(usize::MAX);
                    return Err(self.reader_error(offset, &error));
                }
            };
            let first = std::mem::replace(&mut self.first, false);
            match event {
                Event::Decl(_) if first => {}
                Event::Decl(_) => {
                    return Err(self.syntax(at, "the XML declaration must come first"));
                }
                Event::DocType(_) => return Err(self.doctype(at)),
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(start) => return self.start(start, at, false),
                Event::Empty(start) => return self.start(start, at, true),
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(Some(Item::End {
                        depth: self.depth + 1,
                        at,
                    }));
                }
                Event::Text(text) => {
                    let text = self.utf8(text.into_inner(), at)?;
                    if self.depth == 0 {
                        if !text.trim_matches(is_xml_space).is_empty() {
                            return Err(self.syntax(at, "text outside the root element"));
                        }
                        continue;
                    }
                    return Ok(Some(Item::Text {
                        text,
                        depth: self.depth,
                        at,
                    }));
                }
                Event::CData(cdata) => {
                    if self.depth == 0 {
                        return Err(self.syntax(at, "CDATA outside the root element"));
                    }
                    let text = self.utf8(cdata.into_inner(), at)?;
                    return Ok(Some(Item::Text {
                        text,
                        depth: self.depth,
                        at,
                    }));
                }
                Event::GeneralRef(reference) => {
                    if self.depth == 0 {
                        return Err(self.syntax(at, "a reference outside the root element"));
                    }
                    let c = self.resolve(&reference, at)?;
                    let text = c.encode_utf8(&mut self.char_buf);
                    return Ok(Some(Item::Text {
                        text: Cow::Borrowed(text),
                        depth: self.depth,
                        at,
                    }));
                }
                Event::Eof => {
                    if !self.root_seen {
                        return Err(self.syntax(self.text.len(), "no root element"));
                    }
                    if self.depth > 0 {
                        return Err(self.syntax(self.text.len(), "an element is not closed"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn start(
        &mut self,
        start: BytesStart<'t>,
        at: usize,
        empty: bool,
    ) -> Result<Option<Item<'_>>, Error> {
        if self.depth == 0 && self.root_seen {
            return Err(self.syntax(at, "a second root element"));
        }
        self.root_seen = true;
        self.depth += 1;
        if self.depth > self.max_depth {
            let (line, column) = line_column(self.text.as_bytes(), at);
            return Err(Error::TooDeep {
                limit: self.max_depth,
                line,
                column,
            });
        }
        self.check_attributes(&start, at)?;
        if empty {
            self.pending_end = Some(at);
        }
        let start = self.start.insert(start);
        Ok(Some(Item::Start(Element {
            at,
            depth: self.depth,
            start,
            resolver: self.reader.resolver(),
        })))
    }

    /// Reads every attribute once: well-formed, at most `max_attributes`, no name twice.
    /// Names are compared as written (`a:x` and `b:x` differ), as quick-xml compares them.
    /// The comparison is quadratic in the number of attributes, which is bounded, so the
    /// whole is linear in the tag's length.
    fn check_attributes(&self, start: &BytesStart<'_>, at: usize) -> Result<(), Error> {
        let mut attributes = start.attributes();
        attributes.with_checks(false);
        let mut names: Vec<&[u8]> = Vec::new();
        for attribute in attributes {
            let attribute = attribute.map_err(|error| self.reader_error(at, &error.into()))?;
            let name = attribute.key.into_inner();
            if names.len() == self.max_attributes {
                let (line, column) = line_column(self.text.as_bytes(), at);
                return Err(Error::TooManyAttributes {
                    limit: self.max_attributes,
                    line,
                    column,
                });
            }
            if names.contains(&name) {
                let (line, column) = line_column(self.text.as_bytes(), at);
                return Err(Error::DuplicateAttribute { line, column });
            }
            names.push(name);
        }
        Ok(())
    }

    fn utf8<'b>(&self, bytes: Cow<'b, [u8]>, at: usize) -> Result<Cow<'b, str>, Error> {
        let text = match bytes {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).map(Cow::Borrowed).ok(),
            Cow::Owned(bytes) => String::from_utf8(bytes).map(Cow::Owned).ok(),
        };
        // The input is a `str`, so this does not fail.
        text.ok_or_else(|| self.syntax(at, "the text is not valid UTF-8"))
    }

    /// The five predefined entities (XML 1.0 §4.6) and character references; no other entity
    /// can be declared, since a DOCTYPE is refused.
    fn resolve(&self, reference: &BytesRef<'_>, at: usize) -> Result<char, Error> {
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

    fn syntax(&self, offset: usize, detail: &'static str) -> Error {
        syntax(self.text, offset, detail)
    }

    fn doctype(&self, offset: usize) -> Error {
        let (line, column) = line_column(self.text.as_bytes(), offset);
        Error::Doctype { line, column }
    }

    fn reader_error(&self, offset: usize, error: &quick_xml::Error) -> Error {
        let rest = self.text.get(offset..).unwrap_or_default();
        if rest.starts_with("<!ENTITY") || rest.starts_with("<!DOCTYPE") {
            return self.doctype(offset);
        }
        self.syntax(offset, describe(error))
    }
}

/// A syntax error at a byte offset of `text`.
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

/// XML 1.0 §2.3 `S`.
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// XML 1.0 §2.2 `Char`.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a whole document, counting its items.
    fn read(text: &str, limits: &Limits) -> Result<usize, Error> {
        let text = prepare(text)?;
        let mut reader = Reader::new(&text, limits);
        let mut items = 0;
        while reader.next()?.is_some() {
            items += 1;
        }
        Ok(items)
    }

    fn attributes(count: usize) -> String {
        (0..count).map(|i| format!(" a{i}=\"\"")).collect()
    }

    #[test]
    fn thirty_two_attributes_pass_and_the_thirty_third_is_refused() {
        let limits = Limits::default();
        let ok = format!("<r{}/>", attributes(32));
        assert_eq!(read(&ok, &limits), Ok(2));
        let declarations = format!(r#"<r xmlns="urn:a" xmlns:b="urn:b"{}/>"#, attributes(30));
        assert_eq!(read(&declarations, &limits), Ok(2));
        let cases = [
            (format!("<r{}/>", attributes(33)), (1, 1)),
            (
                format!(r#"<r xmlns="urn:a" xmlns:b="urn:b"{}/>"#, attributes(31)),
                (1, 1),
            ),
            (format!("<r>\n <a><b{}/></a></r>", attributes(33)), (2, 5)),
            (format!("<r{}/>", attributes(9_700)), (1, 1)),
        ];
        for (body, (line, column)) in cases {
            assert_eq!(
                read(&body, &limits),
                Err(Error::TooManyAttributes {
                    limit: 32,
                    line,
                    column
                }),
                "{}",
                &body[..40]
            );
        }
        let strict = Limits {
            max_attributes: 1,
            ..limits
        };
        assert_eq!(read(r#"<r a="1"/>"#, &strict), Ok(2));
        assert!(matches!(
            read(r#"<r a="1" b="2"/>"#, &strict),
            Err(Error::TooManyAttributes { limit: 1, .. })
        ));
    }

    #[test]
    fn a_duplicate_attribute_is_refused_at_any_depth() {
        let cases = [
            (r#"<r a="1" a="2"/>"#, (1, 1)),
            (r#"<r><x><y b="" c="" b=""/></x></r>"#, (1, 7)),
            ("<r>\n<x/><x p:a='' p:a=''/></r>", (2, 5)),
            (r#"<r xmlns:p="urn:p" xmlns:p="urn:q"/>"#, (1, 1)),
        ];
        for (body, (line, column)) in cases {
            assert_eq!(
                read(body, &Limits::default()),
                Err(Error::DuplicateAttribute { line, column }),
                "{body}"
            );
        }
        // Names compare as written, as quick-xml compares them.
        assert_eq!(
            read(r#"<r p:a="1" q:a="2" a="3"/>"#, &Limits::default()),
            Ok(2)
        );
    }

    #[test]
    fn malformed_attributes_are_refused_at_any_depth() {
        for body in [
            "<r><x><y a=1/></x></r>",
            "<r><x><y a/></x></r>",
            r#"<r><x><y a="1/></x></r>"#,
        ] {
            assert!(
                matches!(
                    read(body, &Limits::default()),
                    Err(Error::Syntax { format: "XML", .. })
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn items_come_with_depth_text_and_references_resolved() {
        let text = "<r a='1'><x>a&amp;b<![CDATA[<c>]]>&#x1F600;</x><y/></r>";
        let text = prepare(text).unwrap();
        let mut reader = Reader::new(&text, &Limits::default());
        let mut seen = Vec::new();
        while let Some(item) = reader.next().unwrap() {
            seen.push(match item {
                Item::Start(element) => {
                    let attributes: Vec<_> = element
                        .attributes()
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .collect();
                    format!(
                        "<{}@{}{attributes:?}",
                        String::from_utf8_lossy(element.local_name()),
                        element.depth
                    )
                }
                Item::End { depth, .. } => format!("/{depth}"),
                Item::Text { text, depth, .. } => format!("{text}@{depth}"),
            });
        }
        assert_eq!(
            seen,
            [
                r#"<r@1["1"]"#,
                "<x@2[]",
                "a@2",
                "&@2",
                "b@2",
                "<c>@2",
                "😀@2",
                "/2",
                "<y@2[]",
                "/2",
                "/1"
            ]
        );
    }

    #[test]
    fn namespaces_resolve_on_demand() {
        let text = r#"<p:r xmlns:p="urn:p" xmlns="urn:d" p:a="1" b="2"><x/><q:y/></p:r>"#;
        let mut reader = Reader::new(text, &Limits::default());
        let mut namespaces = Vec::new();
        while let Some(item) = reader.next().unwrap() {
            if let Item::Start(element) = item {
                namespaces.push(match element.namespace() {
                    Namespace::Bound(namespace) => String::from_utf8_lossy(namespace).into_owned(),
                    Namespace::Unbound => "unbound".to_owned(),
                    Namespace::Undeclared => "undeclared".to_owned(),
                });
                if element.depth == 1 {
                    let attributes: Vec<_> = element
                        .attributes()
                        .map(|a| (a.local.to_vec(), a.namespace.map(<[u8]>::to_vec)))
                        .collect();
                    assert_eq!(
                        attributes,
                        [
                            (b"a".to_vec(), Some(b"urn:p".to_vec())),
                            (b"b".to_vec(), None)
                        ]
                    );
                }
            }
        }
        assert_eq!(namespaces, ["urn:p", "urn:d", "undeclared"]);
        let mut reader = Reader::new("<r/>", &Limits::default());
        match reader.next().unwrap() {
            Some(Item::Start(element)) => assert_eq!(element.namespace(), Namespace::Unbound),
            _ => panic!("a start"),
        }
    }

    #[test]
    fn describe_never_repeats_a_name() {
        let text = "<r><Secret></Other></r>";
        let error = read(text, &Limits::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "XML syntax error at line 1, column 12: an end tag does not match its start tag"
        );
    }
}
