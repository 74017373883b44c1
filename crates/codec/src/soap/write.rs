//! Writing the replies: the envelope of a call's outcome and SOAP 1.1 faults, as WCF's
//! `BasicHttpBinding` writes them.

use std::fmt::Write as _;

use super::{ENVELOPE_NAMESPACE, ExceptionInfo, FaultCode, XSI_NAMESPACE, namespace};

/// Writes the reply envelope: `Succeeded` true and `Response` true when `refusal` is `None`,
/// else `Succeeded` false, the filled `ExceptionInfo` and `Response` false.
///
/// UTF-8 without an XML declaration, as WCF writes it; the headers and the response element
/// are qualified in the version's service namespace.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// let reply = String::from_utf8(soap::encode_response(84, None)).unwrap();
/// assert!(reply.contains(r#"<h:ExceptionInfo i:nil="true""#));
/// assert!(reply.contains(r#"<ChangeOwnPasswordResponse xmlns="http://www.superoffice.net/ws/crm/NetServer/Services84"><Response>true</Response>"#));
/// ```
pub fn encode_response(version: u8, refusal: Option<&ExceptionInfo<'_>>) -> Vec<u8> {
    let ns = namespace(version);
    let mut out = String::with_capacity(768);
    let _ = write!(
        out,
        r#"<s:Envelope xmlns:s="{ENVELOPE_NAMESPACE}"><s:Header>"#
    );
    match refusal {
        None => {
            let _ = write!(
                out,
                r#"<h:ExceptionInfo i:nil="true" xmlns:h="{ns}" xmlns:i="{XSI_NAMESPACE}"/>"#
            );
        }
        Some(info) => {
            let _ = write!(
                out,
                r#"<h:ExceptionInfo xmlns:h="{ns}" xmlns:i="{XSI_NAMESPACE}"><h:Message>"#
            );
            push_escaped(&mut out, info.message);
            out.push_str(r#"</h:Message><h:StackTrace i:nil="true"/><h:FriendlyText>"#);
            push_escaped(&mut out, info.friendly_text);
            out.push_str("</h:FriendlyText><h:ExceptionType>");
            push_escaped(&mut out, info.exception_type);
            out.push_str(
                r#"</h:ExceptionType><h:InnerException i:nil="true"/><h:Parameters i:nil="true"/></h:ExceptionInfo>"#,
            );
        }
    }
    let succeeded = refusal.is_none();
    let _ = write!(
        out,
        r#"<h:Succeeded xmlns:h="{ns}">{succeeded}</h:Succeeded></s:Header><s:Body><ChangeOwnPasswordResponse xmlns="{ns}"><Response>{succeeded}</Response></ChangeOwnPasswordResponse></s:Body></s:Envelope>"#
    );
    out.into_bytes()
}

/// Writes a SOAP 1.1 fault (§4.4): `faultcode` qualified by the envelope prefix and
/// `faultstring`, with `xml:lang` when the language is known (as WCF writes it).
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap::{self, FaultCode};
///
/// let fault = String::from_utf8(soap::encode_fault(FaultCode::Client, "Bad <envelope>", Some("en"))).unwrap();
/// assert!(fault.contains("<faultcode>s:Client</faultcode>"));
/// assert!(fault.contains(r#"<faultstring xml:lang="en">Bad &lt;envelope&gt;</faultstring>"#));
/// ```
pub fn encode_fault(code: FaultCode, faultstring: &str, lang: Option<&str>) -> Vec<u8> {
    let mut out = String::with_capacity(256 + faultstring.len());
    let _ = write!(
        out,
        r#"<s:Envelope xmlns:s="{ENVELOPE_NAMESPACE}"><s:Body><s:Fault><faultcode>s:{}</faultcode><faultstring"#,
        code.as_str()
    );
    if let Some(lang) = lang {
        out.push_str(r#" xml:lang=""#);
        push_escaped(&mut out, lang);
        out.push('"');
    }
    out.push('>');
    push_escaped(&mut out, faultstring);
    out.push_str("</faultstring></s:Fault></s:Body></s:Envelope>");
    out.into_bytes()
}

/// Escapes with the crate's XML escaping, shared with the XML encoder: `\r` as a reference
/// so that it survives a reader's line-end normalization, U+FFFD for a character XML 1.0
/// cannot carry at all.
pub(super) fn push_escaped(out: &mut String, text: &str) {
    out.push_str(&crate::escape_xml(text));
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn replies_escape_text_and_faults_name_their_code() {
        let info = ExceptionInfo {
            message: "a < b & \"c\"\r",
            friendly_text: "x\u{1}y",
            exception_type: "BadRequest",
        };
        let reply = String::from_utf8(encode_response(88, Some(&info))).unwrap();
        assert!(
            reply.contains("<h:Message>a &lt; b &amp; &quot;c&quot;&#xD;</h:Message>"),
            "{reply}"
        );
        assert!(
            reply.contains("<h:FriendlyText>x\u{FFFD}y</h:FriendlyText>"),
            "{reply}"
        );
        let fault = String::from_utf8(encode_fault(FaultCode::MustUnderstand, "m", None)).unwrap();
        assert_eq!(
            fault,
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:MustUnderstand</faultcode><faultstring>m</faultstring></s:Fault></s:Body></s:Envelope>"#
        );
    }
}
