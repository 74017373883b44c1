//! Shared by every target: the first byte picks the charset parameter, the rest is the body.
//!
//! A decode must never panic. When it succeeds, the result must be consistent: writing the
//! passwords again in the same format (with the test's own plain encoder) and decoding that
//! gives the same request, and nothing but a form carries an XSRF token. When it fails, the
//! error's message must be there, and the variants the server answers apart come only from
//! the formats that can produce them.

#![allow(dead_code)]

use agentgate_codec::{ChangeOwnPasswordRequest, Charset, Error, Limits, RequestType, decode};

pub fn split(data: &[u8]) -> Option<(Option<Charset>, &[u8])> {
    let (&first, body) = data.split_first()?;
    let charset = match first % 5 {
        0 => None,
        1 => Some(Charset::Utf8),
        2 => Some(Charset::Utf16),
        3 => Some(Charset::Utf16Le),
        _ => Some(Charset::Utf16Be),
    };
    Some((charset, body))
}

pub fn check(media_type: RequestType, data: &[u8], reencode: fn(&ChangeOwnPasswordRequest) -> String) {
    let Some((charset, body)) = split(data) else {
        return;
    };
    let limits = Limits { max_bytes: 1 << 16, ..Limits::default() };
    match decode(media_type, charset, body, &limits) {
        Ok(request) => {
            assert!(
                request.xsrf_token.is_none() || media_type == RequestType::FormUrlEncoded,
                "only a form carries a token"
            );
            let again = reencode(&request);
            let big = Limits { max_bytes: usize::MAX, ..Limits::default() };
            let decoded = decode(media_type, Some(Charset::Utf8), again.as_bytes(), &big)
                .unwrap_or_else(|e| panic!("re-encoded request refused: {e}"));
            assert_eq!(decoded.old_password, request.old_password);
            assert_eq!(decoded.new_password, request.new_password);
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty());
            match error {
                Error::PatchTestFailed { .. } => assert_eq!(media_type, RequestType::JsonPatch),
                Error::UnsupportedCharset => {
                    assert!(matches!(media_type, RequestType::Xml | RequestType::TextXml));
                }
                _ => {}
            }
        }
    }
}

pub fn json(request: &ChangeOwnPasswordRequest) -> String {
    serde_json::json!({"OldPassword": request.old_password, "NewPassword": request.new_password}).to_string()
}

pub fn json_patch(request: &ChangeOwnPasswordRequest) -> String {
    serde_json::json!([
        {"op": "add", "path": "/OldPassword", "value": request.old_password},
        {"op": "add", "path": "/NewPassword", "value": request.new_password},
    ])
    .to_string()
}

/// Text as XML character data: `&`, `<`, `>` and CR (which a reader would normalise) escaped.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

pub fn xml(request: &ChangeOwnPasswordRequest) -> String {
    format!(
        "<r><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></r>",
        xml_escape(&request.old_password),
        xml_escape(&request.new_password)
    )
}

pub fn form(request: &ChangeOwnPasswordRequest) -> String {
    fn escape(text: &str) -> String {
        text.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    }
    format!(
        "OldPassword={}&NewPassword={}",
        escape(&request.old_password),
        escape(&request.new_password)
    )
}
