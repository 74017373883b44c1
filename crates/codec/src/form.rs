//! `application/x-www-form-urlencoded` (SPEC §2), read by hand: the usual parsers replace
//! bytes that are not UTF-8 by U+FFFD, which would silently change a password.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::error::line_column;
use crate::json::{NEW_PASSWORD, OLD_PASSWORD};
use crate::{ChangeOwnPasswordRequest, Error};

pub(crate) const XSRF_TOKEN: &str = "XSRF_TOKEN";

/// Decodes a form from its decoded text.
///
/// Fields are split on `&` and then on the first `=`; empty fields are skipped and a field
/// without `=` has an empty value (URL Standard §5.1). Names are compared ignoring ASCII case.
///
/// # Errors
///
/// [`Error::PercentEncoding`], [`Error::Duplicate`], [`Error::DuplicateName`],
/// [`Error::Missing`].
pub(crate) fn decode(text: &str) -> Result<ChangeOwnPasswordRequest, Error> {
    let mut old = None;
    let mut new = None;
    let mut xsrf = None;
    let mut others: Option<HashSet<String>> = None;
    let mut offset = 0;
    for field in text.split('&') {
        let start = offset;
        offset += field.len() + 1;
        if field.is_empty() {
            continue;
        }
        let (name, value, value_start) = match field.find('=') {
            Some(eq) => (&field[..eq], &field[eq + 1..], start + eq + 1),
            None => (field, "", start + field.len()),
        };
        let name = percent_decode(name, start, None)?;
        let (slot, property) = if name.eq_ignore_ascii_case(OLD_PASSWORD) {
            (&mut old, OLD_PASSWORD)
        } else if name.eq_ignore_ascii_case(NEW_PASSWORD) {
            (&mut new, NEW_PASSWORD)
        } else if name.eq_ignore_ascii_case(XSRF_TOKEN) {
            (&mut xsrf, XSRF_TOKEN)
        } else {
            if !others
                .get_or_insert_with(HashSet::new)
                .insert(name.to_ascii_lowercase())
            {
                let (line, column) = line_column(text.as_bytes(), start);
                return Err(Error::DuplicateName { line, column });
            }
            percent_decode(value, value_start, None)?;
            continue;
        };
        if slot.is_some() {
            return Err(Error::Duplicate { property });
        }
        *slot = Some(percent_decode(value, value_start, Some(property))?.into_owned());
    }
    Ok(ChangeOwnPasswordRequest {
        old_password: old.ok_or(Error::Missing {
            property: OLD_PASSWORD,
        })?,
        new_password: new.ok_or(Error::Missing {
            property: NEW_PASSWORD,
        })?,
        xsrf_token: xsrf,
    })
}

/// `+` is a space, `%XX` a byte; the bytes must be UTF-8.
///
/// `start` is the offset of `text` in the form, for the error.
fn percent_decode<'t>(
    text: &'t str,
    start: usize,
    property: Option<&'static str>,
) -> Result<Cow<'t, str>, Error> {
    if !text.contains(['%', '+']) {
        return Ok(Cow::Borrowed(text));
    }
    let error = |offset: usize| Error::PercentEncoding {
        offset: start + offset,
        property,
    };
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    // For each decoded byte, where it came from, to place a UTF-8 error.
    let mut origins = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        origins.push(i);
        match bytes[i] {
            b'+' => {
                decoded.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|&b| (b as char).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(error(i));
                };
                // Two hex digits are at most 0xFF.
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
                i += 3;
            }
            b => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|e| error(origins[e.utf8_error().valid_up_to()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(old: &str, new: &str, xsrf: Option<&str>) -> ChangeOwnPasswordRequest {
        ChangeOwnPasswordRequest {
            old_password: old.into(),
            new_password: new.into(),
            xsrf_token: xsrf.map(Into::into),
        }
    }

    #[test]
    fn decodes_fields_in_any_case_with_plus_and_escapes() {
        let cases = [
            (
                "OldPassword=sint&NewPassword=Tr0ub4dour%263-horse",
                request("sint", "Tr0ub4dour&3-horse", None),
            ),
            (
                "newpassword=n&OLDPASSWORD=o&xsrf_token=t0k",
                request("o", "n", Some("t0k")),
            ),
            (
                "OldPassword=a+b%2Bc%20d&NewPassword=%C3%A9%F0%9F%98%80",
                request("a b+c d", "é😀", None),
            ),
            (
                "OldPassword=%3d%3D%25%26&NewPassword=x=y",
                request("==%&", "x=y", None),
            ),
            ("&&OldPassword=&NewPassword&", request("", "", None)),
            (
                "Old%50assword=o&NewPassword=n&submit=Change&x",
                request("o", "n", None),
            ),
            (
                "OldPassword=é😀&NewPassword=%20%20",
                request("é😀", "  ", None),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(decode(body).unwrap(), expected, "{body}");
        }
    }

    #[test]
    fn invalid_escapes_are_refused_never_replaced() {
        let cases = [
            ("OldPassword=%FF&NewPassword=n", 12, Some(OLD_PASSWORD)),
            ("OldPassword=o&NewPassword=ab%C3%28", 28, Some(NEW_PASSWORD)),
            ("OldPassword=o&NewPassword=%E2%82", 26, Some(NEW_PASSWORD)),
            ("OldPassword=%zz&NewPassword=n", 12, Some(OLD_PASSWORD)),
            ("OldPassword=ab%4&NewPassword=n", 14, Some(OLD_PASSWORD)),
            ("OldPassword=%&NewPassword=n", 12, Some(OLD_PASSWORD)),
            ("x=%ED%A0%80&OldPassword=o&NewPassword=n", 2, None),
            ("%C0%AF=1&OldPassword=o&NewPassword=n", 0, None),
            (
                "OldPassword=o&NewPassword=n&XSRF_TOKEN=%fe",
                39,
                Some(XSRF_TOKEN),
            ),
        ];
        for (body, at, field) in cases {
            match decode(body) {
                Err(Error::PercentEncoding { offset, property }) => {
                    assert_eq!((offset, property), (at, field), "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn duplicates_are_refused_also_differing_in_case() {
        let cases = [
            ("OldPassword=a&oldpassword=b&NewPassword=n", "OldPassword"),
            ("OldPassword=a&NewPassword=n&NEWPASSWORD=", "NewPassword"),
            (
                "OldPassword=a&NewPassword=n&XSRF_TOKEN=1&xsrf_token=2",
                "XSRF_TOKEN",
            ),
        ];
        for (body, name) in cases {
            match decode(body) {
                Err(Error::Duplicate { property }) => assert_eq!(property, name, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        // Another name is not repeated, only placed.
        let error = decode("Secret=1&OldPassword=o&SECRET=2&NewPassword=n").unwrap_err();
        assert_eq!(
            error,
            Error::DuplicateName {
                line: 1,
                column: 24
            }
        );
        assert!(
            !error.to_string().to_lowercase().contains("secret"),
            "{error}"
        );
    }

    #[test]
    fn absent_fields_are_missing() {
        let cases = [
            ("NewPassword=n", OLD_PASSWORD),
            ("OldPassword=o", NEW_PASSWORD),
            ("oldpassword2=o&NewPassword=n", OLD_PASSWORD),
            ("=", OLD_PASSWORD),
        ];
        for (body, property) in cases {
            assert!(
                matches!(decode(body), Err(Error::Missing { property: p }) if p == property),
                "{body}"
            );
        }
    }
}
