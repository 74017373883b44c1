//! The browser form of upstream mode (SPEC §10): no sessions, one form at `/password` that
//! asks for the user name with the passwords and posts to the endpoint; the REST door sends
//! it upstream as `Basic username:OldPassword`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use agentgate_codec::Charset;

use super::templates::{Frame, PasswordPage, UsernameField};
use super::{Texts, body, page_headers, xsrf_cookie};
use crate::i18n::Message;
use crate::respond::Reply;
use crate::state::AppState;

/// The form, with a fresh token bound to the `XSRF-TOKEN` cookie as the login form's is, the
/// user name typed last time, and why the last try failed. An upstream 401 shows it again
/// with one message for an unknown user and a wrong password, and
/// `X-Reason: old-password-mismatch` (SPEC §10).
pub(crate) fn upstream_form(
    state: &AppState,
    reply: &Reply,
    failed: Option<Message>,
    username: &str,
) -> HttpResponse {
    let texts = Texts { state, reply };
    let token = state.accounts.login_xsrf_token();
    let title = texts.get(Message::PageChangeTitle);
    let error = failed.map(|message| texts.get(message));
    let page = PasswordPage {
        frame: Frame {
            lang: texts.lang(),
            title: &title,
            bar: None,
        },
        error: error.as_deref(),
        xsrf: &token,
        username: UsernameField::Ask(username),
        username_label: &texts.get(Message::PageUsername),
        current_label: &texts.get(Message::PageCurrentPassword),
        new_label: &texts.get(Message::PageNewPassword),
        policy: None,
        submit: &texts.get(Message::PageChangeButton),
    };
    let mut builder = HttpResponse::build(StatusCode::OK);
    page_headers(&mut builder, reply);
    builder
        .insert_header((header::VARY, agentgate_negotiation::VARY))
        .cookie(xsrf_cookie(state, &token));
    if failed.is_some() {
        builder.insert_header((
            "X-Reason",
            HeaderValue::from_static("old-password-mismatch"),
        ));
    }
    body(&mut builder, &page)
}

/// The `username` field of a form body the codec has already read (so every escape in it is
/// valid UTF-8, and no field is there twice), in the body's charset. `None` when the form
/// has no such field, or names a user `Basic` cannot carry (a colon ends the user-id,
/// RFC 7617 §2).
pub(crate) fn form_username(body: &[u8], charset: Option<Charset>) -> Option<String> {
    let text = text(body, charset.unwrap_or(Charset::Utf8))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&text).ok()?;
    let (_, username) = pairs
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("username"))?;
    (!username.is_empty() && !username.contains(':')).then_some(username)
}

/// The body as text: UTF-8 (a byte order mark skipped), or UTF-16 (a mark decides the order
/// of plain `utf-16`; without one it is little-endian, as .NET writes it).
fn text(body: &[u8], charset: Charset) -> Option<String> {
    let units = |bytes: &[u8], big: bool| -> Option<String> {
        let units = bytes.chunks_exact(2).map(|pair| {
            let pair = [pair[0], pair[1]];
            if big {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
    };
    match charset {
        Charset::Utf8 => {
            let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
            std::str::from_utf8(body).ok().map(str::to_owned)
        }
        Charset::Utf16 => match body {
            [0xfe, 0xff, rest @ ..] => units(rest, true),
            [0xff, 0xfe, rest @ ..] => units(rest, false),
            _ => units(body, false),
        },
        Charset::Utf16Le => units(body.strip_prefix(b"\xff\xfe").unwrap_or(body), false),
        Charset::Utf16Be => units(body.strip_prefix(b"\xfe\xff").unwrap_or(body), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_username_is_read_in_the_body_s_charset() {
        let form = "XSRF_TOKEN=t&UserName=J%C3%B6rg+B&OldPassword=a&NewPassword=b";
        let utf16le: Vec<u8> = form.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(form.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for (body, charset) in [
            (form.as_bytes().to_vec(), None),
            (utf16le, Some(Charset::Utf16)),
            (utf16be, Some(Charset::Utf16)),
        ] {
            assert_eq!(
                form_username(&body, charset).as_deref(),
                Some("Jörg B"),
                "{charset:?}"
            );
        }
    }

    #[test]
    fn no_username_or_one_basic_cannot_carry_is_none() {
        for form in [
            "OldPassword=a&NewPassword=b",
            "username=&OldPassword=a",
            "username=a%3Ab&OldPassword=a",
        ] {
            assert_eq!(form_username(form.as_bytes(), None), None, "{form}");
        }
    }
}
