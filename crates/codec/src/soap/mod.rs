//! The SOAP 1.1 form of the call (SPEC §9): NetServer's `User.svc` `ChangeOwnPassword`, as
//! legacy web-service clients (WCF, PHP, zeep) send it to `/Remote/ServicesNN/User.svc`.
//!
//! Every version that published the operation is served: [`VERSIONS`] (73, 75, 80 to 88), each
//! in its own namespace. [`decode_request`] (module `read`) reads the envelope with the
//! crate's one hardened XML reader, the XML format's (no DOCTYPE, size, depth and attribute
//! limits, UTF-8 and UTF-16), with SOAP 1.1 §4 rules on top: the `Envelope` in
//! `http://schemas.xmlsoap.org/soap/envelope/`, an optional `Header` before the `Body`, header
//! entries with `mustUnderstand="1"` refused unless known. [`encode_response`] and
//! [`encode_fault`] (module `write`) write the replies as WCF's `BasicHttpBinding` does, and
//! [`wsdl`] (module `wsdl`, a template file) the service description that generated clients
//! are built from.
//!
//! Nothing here knows about HTTP: the `SOAPAction` header is checked by [`action_matches`], and
//! which status a [`Error`] becomes is the server's business.
//!
//! ```
//! use agentgate_codec::Limits;
//! use agentgate_codec::soap::{self, ExceptionInfo};
//!
//! let body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
//!   <s:Header>
//!     <Credentials xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88">
//!       <Ticket>7T:abc</Ticket>
//!     </Credentials>
//!   </s:Header>
//!   <s:Body>
//!     <ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88">
//!       <OldPassword>old one</OldPassword>
//!       <NewPassword>Tr0ub4dour&amp;3</NewPassword>
//!     </ChangeOwnPassword>
//!   </s:Body>
//! </s:Envelope>"#;
//! let request = soap::decode_request(body, None, 88, &Limits::default()).unwrap();
//! assert_eq!(request.ticket.as_deref(), Some("7T:abc"));
//! assert_eq!(request.new_password.as_deref(), Some("Tr0ub4dour&3"));
//!
//! let refusal = ExceptionInfo {
//!     message: "The old password is wrong.",
//!     friendly_text: "The old password is wrong.",
//!     exception_type: "old-password-mismatch",
//! };
//! let reply = String::from_utf8(soap::encode_response(88, Some(&refusal))).unwrap();
//! assert!(reply.contains("<h:Succeeded xmlns:h=\"http://www.superoffice.net/ws/crm/NetServer/Services88\">false</h:Succeeded>"));
//! assert!(reply.contains("<Response>false</Response>"));
//! ```

mod read;
mod write;
mod wsdl;

use std::fmt;

use crate::{Charset, Limits};

pub use write::{encode_fault, encode_response};
pub use wsdl::wsdl;

/// The SOAP 1.1 envelope namespace.
pub const ENVELOPE_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The SOAP 1.2 envelope namespace: recognised only to be refused ([`Error::Soap12`]).
pub const SOAP12_NAMESPACE: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Every NetServer web-service version that published `User/ChangeOwnPassword`, the versions
/// served (SPEC §9): `Services73`, `Services75` and `Services80` to `Services88`. The one
/// list: the server's router, the namespace check of [`decode_request`], the WSDL and the
/// documentation read it.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// assert!(soap::VERSIONS.contains(&75) && soap::VERSIONS.contains(&83));
/// assert!(!soap::VERSIONS.contains(&74) && !soap::VERSIONS.contains(&89));
/// ```
pub const VERSIONS: [u8; 11] = [73, 75, 80, 81, 82, 83, 84, 85, 86, 87, 88];

/// Whether a version's contract has the `ExtraInfo` reply header: 8.0 and later do, 7.x does
/// not (SPEC §9).
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// assert!(soap::has_extra_info(80) && soap::has_extra_info(88));
/// assert!(!soap::has_extra_info(73) && !soap::has_extra_info(75));
/// ```
pub const fn has_extra_info(version: u8) -> bool {
    version >= 80
}

const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// SOAP 1.1 §4.2.2: the actor URI meaning "the first SOAP application that processes the
/// message", which is us.
const NEXT_ACTOR: &str = "http://schemas.xmlsoap.org/soap/actor/next";

/// The service namespace of a version: `http://www.superoffice.net/ws/crm/NetServer/ServicesNN`.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// assert_eq!(soap::namespace(84), "http://www.superoffice.net/ws/crm/NetServer/Services84");
/// ```
pub fn namespace(version: u8) -> String {
    format!("http://www.superoffice.net/ws/crm/NetServer/Services{version}")
}

/// The `SOAPAction` of `ChangeOwnPassword` in a version, as the WSDL names it.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// assert_eq!(
///     soap::action(88),
///     "http://www.superoffice.net/ws/crm/NetServer/Services88/User/ChangeOwnPassword"
/// );
/// ```
pub fn action(version: u8) -> String {
    format!("{}/User/ChangeOwnPassword", namespace(version))
}

/// Whether a `SOAPAction` header value names `ChangeOwnPassword` of this version.
///
/// SOAP 1.1 §6.1.1 writes the value as a quoted string; unquoted values are accepted too, as
/// WCF does. An empty value (`""`) means "the intent is the request URI" and matches. The URI
/// itself compares exactly.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// let action = "http://www.superoffice.net/ws/crm/NetServer/Services88/User/ChangeOwnPassword";
/// assert!(soap::action_matches(&format!("\"{action}\""), 88));
/// assert!(soap::action_matches(action, 88));
/// assert!(soap::action_matches("\"\"", 88));
/// assert!(!soap::action_matches(action, 87));
/// assert!(!soap::action_matches("\"urn:other\"", 88));
/// ```
pub fn action_matches(value: &str, version: u8) -> bool {
    let value = value.trim_matches([' ', '\t']);
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    value.is_empty() || value == action(version)
}

/// A `ChangeOwnPassword` call read from a SOAP envelope.
///
/// The passwords are `None` when their element is absent or `i:nil`; the server refuses
/// such a call with `BadRequest` in the reply rather than with a fault, as NetServer would.
/// `Debug` shows whether the secrets are there, never their values.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The NetServer version of the endpoint called, one of [`VERSIONS`].
    pub version: u8,
    /// `OldPassword`.
    pub old_password: Option<String>,
    /// `NewPassword`.
    pub new_password: Option<String>,
    /// `Credentials/Ticket` (a `7T:` ticket), trimmed; `None` when absent, nil or empty.
    pub ticket: Option<String>,
    /// The `ApplicationToken` header's value, trimmed; `None` when absent, nil or empty, as
    /// clients generated from SuperOffice's WSDL send it empty on-site. What a token means
    /// is the server's business (SPEC §4: a partner app, refused only under `--online`).
    pub application_token: Option<String>,
    /// The `TimeZone` header as `SO-TimeZone` text (SPEC §10): `SoTimeZoneLocationCode` when
    /// it is set, else `SoTimeZoneId` when that is not 0 (WCF always sends the int, 0 when
    /// unset).
    pub time_zone: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("Request")
            .field("version", &self.version)
            .field("old_password", &redacted(&self.old_password))
            .field("new_password", &redacted(&self.new_password))
            .field("ticket", &redacted(&self.ticket))
            .field("application_token", &redacted(&self.application_token))
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

/// Why an envelope could not be read.
///
/// Messages name what is wrong and where (`line L, column C`), with the names the contract
/// fixes (`Envelope`, `Body`, `Header`, `ChangeOwnPassword`, `OldPassword`, `Credentials`,
/// ...) and never the request's own text: not an element name the client chose, not a
/// prefix, not a value. They can be logged and sent back in a fault.
///
/// Not `#[non_exhaustive]`, unlike STYLE.md's library errors, on purpose: the server maps it
/// with one exhaustive `match` (no `_` arm), so a new variant here must be a compile error
/// there. The server answers [`Error::Soap12`] with 415, [`crate::Error::TooLarge`] with 413
/// and [`crate::Error::UnsupportedCharset`] with 415, and everything else with a fault of
/// [`Error::fault_code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Occurs when the body cannot be read as XML: empty, over the size limit, in an
    /// unsupported or invalid encoding, not well-formed, nested too deep, or holding a DOCTYPE.
    #[error(transparent)]
    Xml(#[from] crate::Error),

    /// Occurs when the document is well-formed but not a SOAP 1.1 envelope of this call:
    /// another root element, no `Body`, an empty `Body`, a `Header` after the `Body`, text
    /// where only elements belong, a header or a password given twice.
    #[error("not a valid SOAP 1.1 envelope: {problem}, at line {line}, column {column}")]
    Envelope {
        /// What is wrong, one of a fixed set of descriptions.
        problem: &'static str,
        /// 1-based line where it was found.
        line: usize,
        /// 1-based column where it was found.
        column: usize,
    },

    /// Occurs when the root element is in the SOAP 1.2 envelope namespace; the service speaks
    /// SOAP 1.1 only, as WCF's `BasicHttpBinding` does.
    #[error("a SOAP 1.2 envelope; this service speaks SOAP 1.1")]
    Soap12,

    /// Occurs when the `Body` holds an element other than `ChangeOwnPassword` in the service
    /// namespace of the version called (or in no namespace). Its name is not repeated.
    #[error(
        "the Body holds an operation this service does not have (it has ChangeOwnPassword), at line {line}, column {column}"
    )]
    UnknownOperation {
        /// 1-based line of the element.
        line: usize,
        /// 1-based column of the element.
        column: usize,
    },

    /// Occurs when a header entry for us carries `mustUnderstand="1"` and is not one of
    /// `Credentials`, `ApplicationToken` and `TimeZone` (SOAP 1.1 §4.2.3). Its name is not
    /// repeated.
    #[error(
        "a header entry marked mustUnderstand is not understood, at line {line}, column {column}"
    )]
    MustUnderstand {
        /// 1-based line of the header entry.
        line: usize,
        /// 1-based column of the header entry.
        column: usize,
    },
}

impl Error {
    /// The SOAP 1.1 §4.4.1 fault code for this error: [`FaultCode::MustUnderstand`] for
    /// [`Error::MustUnderstand`], [`FaultCode::Client`] for everything else (the message is
    /// wrong, not the server).
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_codec::Limits;
    /// use agentgate_codec::soap::{self, FaultCode};
    ///
    /// let error = soap::decode_request(b"<nope/>", None, 88, &Limits::default()).unwrap_err();
    /// assert_eq!(error.fault_code(), FaultCode::Client);
    /// ```
    pub fn fault_code(&self) -> FaultCode {
        match self {
            Error::MustUnderstand { .. } => FaultCode::MustUnderstand,
            Error::Xml(_)
            | Error::Envelope { .. }
            | Error::Soap12
            | Error::UnknownOperation { .. } => FaultCode::Client,
        }
    }
}

/// A SOAP 1.1 fault code (§4.4.1), written qualified by the envelope prefix (`s:Client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// The message was wrong: a broken envelope, a wrong `SOAPAction`, an unknown operation.
    Client,
    /// The server failed; the same message may succeed later.
    Server,
    /// A header entry marked `mustUnderstand` was not understood.
    MustUnderstand,
}

impl FaultCode {
    /// The local name: `Client`, `Server` or `MustUnderstand`.
    ///
    /// # Examples
    ///
    /// ```
    /// use agentgate_codec::soap::FaultCode;
    ///
    /// assert_eq!(FaultCode::Client.as_str(), "Client");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            FaultCode::Client => "Client",
            FaultCode::Server => "Server",
            FaultCode::MustUnderstand => "MustUnderstand",
        }
    }
}

/// The `ExceptionInfo` reply header of a refused call (NetServer's `SoExceptionInfo`).
///
/// `StackTrace`, `InnerException` and `Parameters` are written nil: a gateway has no stack
/// to show a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionInfo<'a> {
    /// `Message`: the localized message.
    pub message: &'a str,
    /// `FriendlyText`: the localized text to show a user.
    pub friendly_text: &'a str,
    /// `ExceptionType`: the `ErrorType` of SPEC §3 or the `X-Reason` code of §4.
    pub exception_type: &'a str,
}

/// Reads a `ChangeOwnPassword` envelope for the endpoint of `version`.
///
/// `charset` is the `Content-Type`'s; a byte order mark or the XML declaration may decide
/// too, as for the XML format (SPEC §2). Header entries are matched by local name in any
/// namespace (`Credentials/Ticket`, `ApplicationToken`, `TimeZone`); unknown ones are ignored
/// unless marked `mustUnderstand` for us (no `actor`, or SOAP 1.1's "next" actor). The
/// operation must be `ChangeOwnPassword` in the version's service namespace, or unqualified;
/// its children `OldPassword` and `NewPassword` are matched by local name ignoring case, in
/// any order, and an absent or `i:nil` one is `None`.
///
/// # Errors
///
/// [`Error::Xml`] when the bytes are not an acceptable XML document (see [`crate::Error`]:
/// [`Empty`](crate::Error::Empty), [`TooLarge`](crate::Error::TooLarge),
/// [`UnsupportedCharset`](crate::Error::UnsupportedCharset),
/// [`Encoding`](crate::Error::Encoding), [`Syntax`](crate::Error::Syntax),
/// [`TooDeep`](crate::Error::TooDeep), [`Doctype`](crate::Error::Doctype));
/// [`Error::Soap12`], [`Error::Envelope`], [`Error::UnknownOperation`] and
/// [`Error::MustUnderstand`] as they describe.
///
/// # Examples
///
/// ```
/// use agentgate_codec::Limits;
/// use agentgate_codec::soap::{self, Error};
///
/// let soap12 = br#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#;
/// assert!(matches!(soap::decode_request(soap12, None, 88, &Limits::default()), Err(Error::Soap12)));
/// ```
pub fn decode_request(
    body: &[u8],
    charset: Option<Charset>,
    version: u8,
    limits: &Limits,
) -> Result<Request, Error> {
    if body.len() > limits.max_bytes {
        return Err(crate::Error::TooLarge {
            limit: limits.max_bytes,
        }
        .into());
    }
    let text = crate::decode_text(body, charset, true)?;
    read::decode(&text, version, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn debug_redacts_secrets() {
        let request = Request {
            version: 88,
            old_password: Some("hunter2".into()),
            new_password: Some("hunter3".into()),
            ticket: Some("7T:secret".into()),
            application_token: Some("app-secret".into()),
            time_zone: None,
        };
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("hunter") && !debug.contains("secret"),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));
    }
}
