//! Text encodings: bytes to text for the decoders, text to bytes for the encoders.

use std::borrow::Cow;

use crate::{Charset, Error};

/// The byte-level encoding actually read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    fn charset(self) -> Charset {
        match self {
            Encoding::Utf8 => Charset::Utf8,
            Encoding::Utf16Le => Charset::Utf16Le,
            Encoding::Utf16Be => Charset::Utf16Be,
        }
    }
}

/// Decodes a body to text.
///
/// A byte order mark wins over the header's charset (as .NET's `StreamReader` lets it) and is
/// skipped. Without one, `charset` decides, and without that: for XML, UTF-16 is recognised by
/// its `<` followed or preceded by a NUL byte, and an XML declaration's `encoding` must be one
/// of the supported ones, else UTF-8. A declaration that names UTF-16 over bytes that are
/// plainly 8-bit is read by its bytes, as XML 1.0 Appendix F lets the bytes decide.
///
/// # Errors
///
/// [`Error::Empty`] when nothing follows the byte order mark, [`Error::UnsupportedCharset`] for
/// an XML declaration naming another encoding, [`Error::Encoding`] for invalid bytes.
pub(crate) fn decode_text(
    body: &[u8],
    charset: Option<Charset>,
    is_xml: bool,
) -> Result<Cow<'_, str>, Error> {
    let (encoding, bom) = if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (Encoding::Utf8, 3)
    } else if body.starts_with(&[0xFF, 0xFE]) {
        (Encoding::Utf16Le, 2)
    } else if body.starts_with(&[0xFE, 0xFF]) {
        (Encoding::Utf16Be, 2)
    } else {
        let encoding = match charset {
            Some(Charset::Utf8) => Encoding::Utf8,
            Some(Charset::Utf16 | Charset::Utf16Le) => Encoding::Utf16Le,
            Some(Charset::Utf16Be) => Encoding::Utf16Be,
            None if is_xml => sniff_xml(body),
            None => Encoding::Utf8,
        };
        (encoding, 0)
    };
    let bytes = &body[bom..];
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    match encoding {
        Encoding::Utf8 => {
            if is_xml {
                check_declared_encoding(bytes)?;
            }
            std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|e| Error::Encoding {
                    charset: Charset::Utf8,
                    offset: bom + e.valid_up_to(),
                })
        }
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let text = decode_utf16(bytes, encoding, bom)?;
            if is_xml {
                check_declared_encoding(text.as_bytes())?;
            }
            Ok(Cow::Owned(text))
        }
    }
}

/// XML 1.0 Appendix F: a document without a byte order mark starts with `<`, so a NUL byte
/// beside it shows UTF-16.
fn sniff_xml(body: &[u8]) -> Encoding {
    match body {
        [first, 0, ..] if *first != 0 => Encoding::Utf16Le,
        [0, second, ..] if *second != 0 => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

fn decode_utf16(bytes: &[u8], encoding: Encoding, bom: usize) -> Result<String, Error> {
    let decoded = match encoding {
        Encoding::Utf16Be => utf16_to_utf8::<true>(bytes),
        _ => utf16_to_utf8::<false>(bytes),
    };
    decoded.map_err(|offset| Error::Encoding {
        charset: encoding.charset(),
        offset: bom + offset,
    })
}

/// UTF-16 to UTF-8, with a fast path for ASCII; `Err` holds the offset of the invalid unit.
fn utf16_to_utf8<const BIG_ENDIAN: bool>(bytes: &[u8]) -> Result<String, usize> {
    if !bytes.len().is_multiple_of(2) {
        return Err(bytes.len() - 1);
    }
    let mut units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if BIG_ENDIAN {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut out = Vec::with_capacity(bytes.len() / 2 + 8);
    let mut index = 0;
    while let Some(u) = units.next() {
        if u < 0x80 {
            // ASCII: the unit is below 0x80, so the cast keeps it whole.
            out.push(u as u8);
            index += 1;
            continue;
        }
        let c = match u {
            0xD800..=0xDBFF => match units.next() {
                Some(low @ 0xDC00..=0xDFFF) => {
                    index += 1;
                    char::from_u32(
                        0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(low) - 0xDC00),
                    )
                }
                _ => None,
            },
            0xDC00..=0xDFFF => None,
            _ => char::from_u32(u32::from(u)),
        };
        let Some(c) = c else {
            return Err(2 * index);
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        index += 1;
    }
    // Only whole characters were written, so this does not fail.
    String::from_utf8(out).map_err(|_| 0)
}

/// Refuses an XML declaration whose `encoding` is not UTF-8 or UTF-16 (SPEC §2: 415).
fn check_declared_encoding(text: &[u8]) -> Result<(), Error> {
    match declared_encoding(text) {
        Some(label) => {
            let known = std::str::from_utf8(label)
                .ok()
                .and_then(Charset::from_label)
                .is_some();
            if known {
                Ok(())
            } else {
                Err(Error::UnsupportedCharset)
            }
        }
        None => Ok(()),
    }
}

/// The `encoding` pseudo-attribute of a leading XML declaration, if any.
pub(crate) fn declared_encoding(text: &[u8]) -> Option<&[u8]> {
    let rest = text.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let mut decl = &rest[..end];
    loop {
        decl = decl.trim_ascii_start();
        let name_end = decl
            .iter()
            .position(|&b| b == b'=' || b.is_ascii_whitespace())?;
        let name = &decl[..name_end];
        decl = decl[name_end..].trim_ascii_start().strip_prefix(b"=")?;
        decl = decl.trim_ascii_start();
        let quote = *decl.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_end = decl[1..].iter().position(|&b| b == quote)?;
        let value = &decl[1..1 + value_end];
        if name == b"encoding" {
            return Some(value);
        }
        decl = &decl[value_end + 2..];
    }
}

/// Writes text in a charset: UTF-8 as it is, UTF-16 with a byte order mark.
pub(crate) fn encode_text(text: String, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Utf8 => text.into_bytes(),
        Charset::Utf16 | Charset::Utf16Le => {
            let mut out = Vec::with_capacity(2 + 2 * text.len());
            out.extend_from_slice(&[0xFF, 0xFE]);
            for unit in text.encode_utf16() {
                out.extend_from_slice(&unit.to_le_bytes());
            }
            out
        }
        Charset::Utf16Be => {
            let mut out = Vec::with_capacity(2 + 2 * text.len());
            out.extend_from_slice(&[0xFE, 0xFF]);
            for unit in text.encode_utf16() {
                out.extend_from_slice(&unit.to_be_bytes());
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn be(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    fn with(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
        [prefix, rest].concat()
    }

    #[test]
    fn decode_text_reads_every_charset_bom_and_default() {
        let text = "é 😀 <x>";
        let cases: Vec<(&str, Vec<u8>, Option<Charset>, bool)> = vec![
            ("utf-8 default", text.as_bytes().to_vec(), None, false),
            (
                "utf-8 header",
                text.as_bytes().to_vec(),
                Some(Charset::Utf8),
                false,
            ),
            (
                "utf-8 bom skipped",
                with(&[0xEF, 0xBB, 0xBF], text.as_bytes()),
                None,
                false,
            ),
            (
                "utf-16 without bom is little-endian",
                le(text),
                Some(Charset::Utf16),
                false,
            ),
            (
                "utf-16 bom le",
                with(&[0xFF, 0xFE], &le(text)),
                Some(Charset::Utf16),
                false,
            ),
            (
                "utf-16 bom be",
                with(&[0xFE, 0xFF], &be(text)),
                Some(Charset::Utf16),
                false,
            ),
            ("utf-16le", le(text), Some(Charset::Utf16Le), false),
            (
                "utf-16le bom skipped",
                with(&[0xFF, 0xFE], &le(text)),
                Some(Charset::Utf16Le),
                false,
            ),
            ("utf-16be", be(text), Some(Charset::Utf16Be), false),
            (
                "utf-16be bom skipped",
                with(&[0xFE, 0xFF], &be(text)),
                Some(Charset::Utf16Be),
                false,
            ),
            (
                "bom wins over header",
                with(&[0xFF, 0xFE], &le(text)),
                Some(Charset::Utf8),
                false,
            ),
            (
                "bom without header",
                with(&[0xFE, 0xFF], &be(text)),
                None,
                false,
            ),
        ];
        for (name, body, charset, is_xml) in cases {
            let decoded = decode_text(&body, charset, is_xml).unwrap();
            assert_eq!(decoded, text, "{name}");
        }
    }

    #[test]
    fn decode_text_sniffs_utf16_xml_without_bom_or_header() {
        let xml = "<r>é</r>";
        assert_eq!(decode_text(&le(xml), None, true).unwrap(), xml);
        assert_eq!(decode_text(&be(xml), None, true).unwrap(), xml);
    }

    #[test]
    fn decode_text_honours_supported_xml_declarations() {
        let cases: Vec<(&str, Vec<u8>, Option<Charset>)> = vec![
            (
                "utf-8",
                br#"<?xml version="1.0" encoding="utf-8"?><r/>"#.to_vec(),
                None,
            ),
            (
                "single quotes",
                b"<?xml version='1.0' encoding='UTF-8' ?><r/>".to_vec(),
                None,
            ),
            (
                "no encoding",
                br#"<?xml version="1.0"?><r/>"#.to_vec(),
                None,
            ),
            (
                "utf-16 declared, utf-16 bytes",
                le(r#"<?xml version="1.0" encoding="utf-16"?><r/>"#),
                None,
            ),
            (
                "utf-16 declared over 8-bit bytes: the bytes decide",
                br#"<?xml version="1.0" encoding="utf-16"?><r/>"#.to_vec(),
                None,
            ),
            (
                "utf-8 declared over utf-16 bytes: the bytes decide",
                with(
                    &[0xFF, 0xFE],
                    &le(r#"<?xml version="1.0" encoding="utf-8"?><r/>"#),
                ),
                None,
            ),
            (
                "header charset and declaration",
                be(r#"<?xml version="1.0" encoding="utf-16be"?><r/>"#),
                Some(Charset::Utf16Be),
            ),
        ];
        for (name, body, charset) in cases {
            let text = decode_text(&body, charset, true).unwrap();
            assert!(text.ends_with("<r/>"), "{name}: {text:?}");
        }
    }

    #[test]
    fn decode_text_refuses_other_xml_declared_encodings() {
        let cases: Vec<(Vec<u8>, Option<Charset>, &str)> = vec![
            (
                br#"<?xml version="1.0" encoding="iso-8859-1"?><r>"#.to_vec(),
                None,
                "iso-8859-1",
            ),
            (
                b"<?xml version='1.0' encoding='windows-1252'?><r>\xe9</r>".to_vec(),
                None,
                "windows-1252",
            ),
            (
                br#"<?xml version="1.0" encoding="latin1"?><r/>"#.to_vec(),
                Some(Charset::Utf8),
                "latin1",
            ),
            (
                le(r#"<?xml version="1.0" encoding="ucs-2"?><r/>"#),
                None,
                "ucs-2",
            ),
        ];
        for (body, charset, label) in cases {
            match decode_text(&body, charset, true) {
                Err(error @ Error::UnsupportedCharset) => {
                    assert!(!error.to_string().contains(label), "{error}");
                }
                other => panic!("{label}: {other:?}"),
            }
        }
    }

    #[test]
    fn decode_text_refuses_invalid_bytes_with_their_offset() {
        type Case = (&'static str, Vec<u8>, Option<Charset>, Charset, usize);
        let cases: Vec<Case> = vec![
            ("bad utf-8", b"ab\xffcd".to_vec(), None, Charset::Utf8, 2),
            (
                "bad utf-8 after bom",
                b"\xEF\xBB\xBFa\xc3(".to_vec(),
                None,
                Charset::Utf8,
                4,
            ),
            (
                "odd utf-16 length",
                vec![b'a', 0, b'b'],
                Some(Charset::Utf16),
                Charset::Utf16Le,
                2,
            ),
            (
                "lone low surrogate",
                with(&le("a"), &[0x00, 0xDC]),
                Some(Charset::Utf16Le),
                Charset::Utf16Le,
                2,
            ),
            (
                "lone high surrogate at end",
                with(&le("ab"), &[0x3D, 0xD8]),
                Some(Charset::Utf16Le),
                Charset::Utf16Le,
                4,
            ),
            (
                "high surrogate then letter",
                with(&[0xD8, 0x3D], &be("a")),
                Some(Charset::Utf16Be),
                Charset::Utf16Be,
                0,
            ),
            (
                "offset counts the bom",
                with(&[0xFF, 0xFE, b'a', 0], &[0x00, 0xDC]),
                None,
                Charset::Utf16Le,
                4,
            ),
        ];
        for (name, body, header, charset_read, at) in cases {
            match decode_text(&body, header, false) {
                Err(Error::Encoding { charset, offset }) => {
                    assert_eq!((charset, offset), (charset_read, at), "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn decode_text_calls_a_bare_bom_empty() {
        let cases: [&[u8]; 4] = [b"", b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF"];
        for body in cases {
            assert!(
                matches!(decode_text(body, None, true), Err(Error::Empty)),
                "{body:?}"
            );
        }
    }

    #[test]
    fn encode_text_writes_utf8_or_utf16_with_bom() {
        let text = "é😀";
        assert_eq!(encode_text(text.into(), Charset::Utf8), text.as_bytes());
        assert_eq!(
            encode_text(text.into(), Charset::Utf16),
            with(&[0xFF, 0xFE], &le(text))
        );
        assert_eq!(
            encode_text(text.into(), Charset::Utf16Le),
            with(&[0xFF, 0xFE], &le(text))
        );
        assert_eq!(
            encode_text(text.into(), Charset::Utf16Be),
            with(&[0xFE, 0xFF], &be(text))
        );
    }

    #[test]
    fn declared_encoding_reads_the_pseudo_attribute() {
        let cases: [(&[u8], Option<&[u8]>); 6] = [
            (br#"<?xml version="1.0" encoding="utf-8"?>"#, Some(b"utf-8")),
            (
                b"<?xml version = '1.0'  encoding = 'x' standalone='yes'?>",
                Some(b"x"),
            ),
            (br#"<?xml version="1.0"?><a encoding="y"/>"#, None),
            (br#"<?xml-stylesheet encoding="z"?>"#, None),
            (br#"<r><?xml version="1.0" encoding="q"?></r>"#, None),
            (br#"<?xml version="1.0" encoding="unterminated?>"#, None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                declared_encoding(text),
                expected,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
