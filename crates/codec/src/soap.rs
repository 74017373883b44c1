//! The SOAP 1.1 form of the call (SPEC §9): NetServer's `User.svc` `ChangeOwnPassword`, as
//! legacy web-service clients (WCF, PHP, zeep) send it to `/Remote/ServicesNN/User.svc`.
//!
//! [`decode_request`] reads the envelope with the same hardening as the XML decoder (no
//! DOCTYPE, size and depth limits, UTF-8 and UTF-16), and with SOAP 1.1 §4 rules on top: the
//! `Envelope` in `http://schemas.xmlsoap.org/soap/envelope/`, an optional `Header` before the
//! `Body`, header entries with `mustUnderstand="1"` refused unless known. [`encode_response`]
//! and [`encode_fault`] write the replies as WCF's `BasicHttpBinding` does, and [`wsdl`] the
//! service description that generated clients are built from.
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

use std::fmt::{self, Write as _};
use std::ops::RangeInclusive;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::line_column;
use crate::xml::is_xml_char;
use crate::{Charset, Limits};

/// The SOAP 1.1 envelope namespace.
pub const ENVELOPE_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The SOAP 1.2 envelope namespace: recognised only to be refused ([`Error::Soap12`]).
pub const SOAP12_NAMESPACE: &str = "http://www.w3.org/2003/05/soap-envelope";

/// The NetServer web-service versions served: `Services84` to `Services88`.
pub const VERSIONS: RangeInclusive<u8> = 84..=88;

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
    /// The NetServer version of the endpoint called (84 to 88).
    pub version: u8,
    /// `OldPassword`.
    pub old_password: Option<String>,
    /// `NewPassword`.
    pub new_password: Option<String>,
    /// `Credentials/Ticket` (a `7T:` ticket), trimmed; `None` when absent, nil or empty.
    pub ticket: Option<String>,
    /// Whether an `ApplicationToken` header was sent (and is not nil): the caller is a
    /// partner app.
    pub application_token: bool,
    /// The `TimeZone` header as `SO-TimeZone` text: `SoTimeZoneId` when it is set and not 0
    /// (WCF always sends the int, 0 when unset), else `SoTimeZoneLocationCode`.
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
            .field("application_token", &self.application_token)
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
    if let Some((offset, _)) = text.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        return Err(syntax(&text, offset, "a character not allowed in XML 1.0"));
    }
    // XML 1.0 §2.11: `\r\n` and a lone `\r` read as `\n`; `&#xD;` survives, as references
    // are resolved later.
    let text = if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.into_owned()
    };
    Parser::new(&text, version, limits.max_depth).run()
}

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

/// The WSDL 1.1 of `ChangeOwnPassword` in a version: document/literal wrapped, one SOAP 1.1
/// binding, `soap:address` at `address`.
///
/// The request headers `ApplicationToken`, `Credentials` and `TimeZone` and the reply headers
/// `ExceptionInfo` and `Succeeded` are declared as `soap:header` parts, as NetServer's own
/// WSDL does, so generated clients (WCF, zeep) can send and read them.
///
/// # Examples
///
/// ```
/// use agentgate_codec::soap;
///
/// let wsdl = soap::wsdl(86, "http://gw.example/Remote/Services86/User.svc");
/// assert!(wsdl.contains(r#"<soap:address location="http://gw.example/Remote/Services86/User.svc"/>"#));
/// assert!(wsdl.contains(r#"soapAction="http://www.superoffice.net/ws/crm/NetServer/Services86/User/ChangeOwnPassword""#));
/// ```
pub fn wsdl(version: u8, address: &str) -> String {
    let ns = namespace(version);
    let action = action(version);
    let mut location = String::with_capacity(address.len());
    push_escaped(&mut location, address);
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="WcfUserService" targetNamespace="{ns}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{ns}" xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <wsdl:types>
    <xs:schema elementFormDefault="qualified" targetNamespace="{ns}">
      <xs:element name="ChangeOwnPassword">
        <xs:complexType>
          <xs:sequence>
            <xs:element minOccurs="0" name="OldPassword" nillable="true" type="xs:string"/>
            <xs:element minOccurs="0" name="NewPassword" nillable="true" type="xs:string"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="ChangeOwnPasswordResponse">
        <xs:complexType>
          <xs:sequence>
            <xs:element minOccurs="0" name="Response" type="xs:boolean"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="ApplicationToken" nillable="true" type="xs:string"/>
      <xs:complexType name="SoCredentials">
        <xs:sequence>
          <xs:element minOccurs="0" name="Ticket" nillable="true" type="xs:string"/>
        </xs:sequence>
      </xs:complexType>
      <xs:element name="Credentials" nillable="true" type="tns:SoCredentials"/>
      <xs:complexType name="SoTimeZone">
        <xs:sequence>
          <xs:element minOccurs="0" name="SoTimeZoneId" type="xs:int"/>
          <xs:element minOccurs="0" name="SoTimeZoneLocationCode" nillable="true" type="xs:string"/>
        </xs:sequence>
      </xs:complexType>
      <xs:element name="TimeZone" nillable="true" type="tns:SoTimeZone"/>
      <xs:complexType name="SoExceptionInfo">
        <xs:sequence>
          <xs:element minOccurs="0" name="Message" nillable="true" type="xs:string"/>
          <xs:element minOccurs="0" name="StackTrace" nillable="true" type="xs:string"/>
          <xs:element minOccurs="0" name="FriendlyText" nillable="true" type="xs:string"/>
          <xs:element minOccurs="0" name="ExceptionType" nillable="true" type="xs:string"/>
          <xs:element minOccurs="0" name="Source" nillable="true" type="xs:string"/>
          <xs:element minOccurs="0" name="InnerException" nillable="true" type="tns:SoExceptionInfo"/>
          <xs:element minOccurs="0" name="Parameters" nillable="true" type="tns:SoExceptionInfoParameters"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="SoExceptionInfoParameters">
        <xs:sequence>
          <xs:element minOccurs="0" maxOccurs="unbounded" name="SoExceptionInfoParametersKeyValuePair">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="Key" nillable="true" type="xs:string"/>
                <xs:element name="Value" nillable="true" type="xs:string"/>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:sequence>
      </xs:complexType>
      <xs:element name="ExceptionInfo" nillable="true" type="tns:SoExceptionInfo"/>
      <xs:element name="Succeeded" type="xs:boolean"/>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="ChangeOwnPasswordRequest">
    <wsdl:part name="parameters" element="tns:ChangeOwnPassword"/>
  </wsdl:message>
  <wsdl:message name="ChangeOwnPasswordRequest_Headers">
    <wsdl:part name="ApplicationToken" element="tns:ApplicationToken"/>
    <wsdl:part name="Credentials" element="tns:Credentials"/>
    <wsdl:part name="TimeZone" element="tns:TimeZone"/>
  </wsdl:message>
  <wsdl:message name="ChangeOwnPasswordResponse">
    <wsdl:part name="parameters" element="tns:ChangeOwnPasswordResponse"/>
  </wsdl:message>
  <wsdl:message name="ChangeOwnPasswordResponse_Headers">
    <wsdl:part name="ExceptionInfo" element="tns:ExceptionInfo"/>
    <wsdl:part name="Succeeded" element="tns:Succeeded"/>
  </wsdl:message>
  <wsdl:portType name="User">
    <wsdl:operation name="ChangeOwnPassword">
      <wsdl:input name="ChangeOwnPasswordRequest" message="tns:ChangeOwnPasswordRequest"/>
      <wsdl:output name="ChangeOwnPasswordResponse" message="tns:ChangeOwnPasswordResponse"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="BasicHttpBinding_User" type="tns:User">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="ChangeOwnPassword">
      <soap:operation soapAction="{action}" style="document"/>
      <wsdl:input name="ChangeOwnPasswordRequest">
        <soap:header message="tns:ChangeOwnPasswordRequest_Headers" part="ApplicationToken" use="literal"/>
        <soap:header message="tns:ChangeOwnPasswordRequest_Headers" part="Credentials" use="literal"/>
        <soap:header message="tns:ChangeOwnPasswordRequest_Headers" part="TimeZone" use="literal"/>
        <soap:body use="literal"/>
      </wsdl:input>
      <wsdl:output name="ChangeOwnPasswordResponse">
        <soap:header message="tns:ChangeOwnPasswordResponse_Headers" part="ExceptionInfo" use="literal"/>
        <soap:header message="tns:ChangeOwnPasswordResponse_Headers" part="Succeeded" use="literal"/>
        <soap:body use="literal"/>
      </wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="WcfUserService">
    <wsdl:port name="BasicHttpBinding_User" binding="tns:BasicHttpBinding_User">
      <soap:address location="{location}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#
    )
}

/// Escapes with the crate's XML escaping, shared with the XML encoder: `\r` as a reference
/// so that it survives a reader's line-end normalization, U+FFFD for a character XML 1.0
/// cannot carry at all.
fn push_escaped(out: &mut String, text: &str) {
    out.push_str(&crate::escape_xml(text));
}

fn syntax(text: &str, offset: usize, detail: &'static str) -> Error {
    crate::xml::syntax(text, offset, detail).into()
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Envelope,
    Header,
    Body,
    Credentials,
    ApplicationToken,
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

/// The text of the field being read.
struct Capture {
    field: Field,
    value: String,
    nil: bool,
}

/// `None`: not seen; `Some(None)`: nil; `Some(Some(text))`: its text.
type Slot = Option<Option<String>>;

struct Parser<'t> {
    text: &'t str,
    version: u8,
    service_namespace: String,
    max_depth: usize,
    stack: Vec<Frame>,
    root_seen: bool,
    header_seen: bool,
    body_seen: bool,
    operation_seen: bool,
    credentials_seen: bool,
    application_token_seen: bool,
    time_zone_seen: bool,
    application_token: bool,
    capture: Option<Capture>,
    old_password: Slot,
    new_password: Slot,
    ticket: Slot,
    time_zone_id: Slot,
    time_zone_code: Slot,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str, version: u8, max_depth: usize) -> Self {
        Parser {
            text,
            version,
            service_namespace: namespace(version),
            max_depth,
            stack: Vec::new(),
            root_seen: false,
            header_seen: false,
            body_seen: false,
            operation_seen: false,
            credentials_seen: false,
            application_token_seen: false,
            time_zone_seen: false,
            application_token: false,
            capture: None,
            old_password: None,
            new_password: None,
            ticket: None,
            time_zone_id: None,
            time_zone_code: None,
        }
    }

    fn run(mut self) -> Result<Request, Error> {
        let mut reader = NsReader::from_str(self.text);
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
                    return Err(syntax(self.text, at, "the XML declaration must come first"));
                }
                Event::DocType(_) => return Err(self.doctype(at)),
                Event::PI(_) | Event::Comment(_) => {}
                Event::Start(element) => self.start(&reader, &element, at)?,
                Event::Empty(element) => {
                    self.start(&reader, &element, at)?;
                    self.end(at)?;
                }
                Event::End(_) => self.end(at)?,
                Event::Text(text) => {
                    let text = text.decode().map_err(|e| self.reader_error(at, e.into()))?;
                    self.text(&text, at)?;
                }
                Event::CData(cdata) => {
                    if self.stack.is_empty() {
                        return Err(syntax(self.text, at, "CDATA outside the root element"));
                    }
                    let text = cdata
                        .decode()
                        .map_err(|e| self.reader_error(at, e.into()))?;
                    self.text(&text, at)?;
                }
                Event::GeneralRef(reference) => {
                    if self.stack.is_empty() {
                        return Err(syntax(
                            self.text,
                            at,
                            "a reference outside the root element",
                        ));
                    }
                    let c = self.resolve(&reference, at)?;
                    self.text(c.encode_utf8(&mut [0; 4]), at)?;
                }
                Event::Eof => break,
            }
            first = false;
        }
        self.finish()
    }

    fn finish(self) -> Result<Request, Error> {
        let end = self.text.len();
        if !self.root_seen {
            return Err(syntax(self.text, end, "no root element"));
        }
        if !self.stack.is_empty() {
            return Err(syntax(self.text, end, "an element is not closed"));
        }
        let trimmed = |slot: Slot| {
            slot.flatten()
                .map(|v| v.trim_matches(is_xml_space).to_owned())
                .filter(|v| !v.is_empty())
        };
        let time_zone_id = trimmed(self.time_zone_id).filter(|id| id != "0");
        Ok(Request {
            version: self.version,
            old_password: self.old_password.flatten(),
            new_password: self.new_password.flatten(),
            ticket: trimmed(self.ticket),
            application_token: self.application_token,
            time_zone: time_zone_id.or_else(|| trimmed(self.time_zone_code)),
        })
    }

    fn envelope(&self, offset: usize, problem: &'static str) -> Error {
        let (line, column) = line_column(self.text.as_bytes(), offset);
        Error::Envelope {
            problem,
            line,
            column,
        }
    }

    fn doctype(&self, offset: usize) -> Error {
        let (line, column) = line_column(self.text.as_bytes(), offset);
        crate::Error::Doctype { line, column }.into()
    }

    fn reader_error(&self, offset: usize, error: quick_xml::Error) -> Error {
        let rest = self.text.get(offset..).unwrap_or_default();
        if rest.starts_with("<!ENTITY") || rest.starts_with("<!DOCTYPE") {
            return self.doctype(offset);
        }
        syntax(self.text, offset, crate::xml::describe(&error))
    }

    fn start(
        &mut self,
        reader: &NsReader<&[u8]>,
        element: &BytesStart<'_>,
        at: usize,
    ) -> Result<(), Error> {
        let (resolved, local) = reader.resolver().resolve_element(element.name());
        let namespace = match resolved {
            ResolveResult::Bound(ns) => Some(ns.into_inner()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => {
                return Err(syntax(self.text, at, "a namespace prefix is not declared"));
            }
        };
        let local = local.into_inner();
        let attributes = self.attributes(reader, element, at)?;
        if self.stack.len() >= self.max_depth {
            let (line, column) = line_column(self.text.as_bytes(), at);
            return Err(crate::Error::TooDeep {
                limit: self.max_depth,
                line,
                column,
            }
            .into());
        }
        let in_envelope_ns = namespace == Some(ENVELOPE_NAMESPACE.as_bytes());
        let frame = match self.stack.last().copied() {
            None => {
                if self.root_seen {
                    return Err(syntax(self.text, at, "a second root element"));
                }
                self.root_seen = true;
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
            Some(
                Frame::Credentials
                | Frame::TimeZone
                | Frame::ApplicationToken
                | Frame::Operation
                | Frame::Ignored,
            ) => Frame::Ignored,
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
                Frame::ApplicationToken,
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
        if frame == Frame::ApplicationToken && !attributes.nil {
            self.application_token = true;
        }
        Ok(frame)
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
            Field::TimeZoneId => &mut self.time_zone_id,
            Field::TimeZoneLocationCode => &mut self.time_zone_code,
        }
    }

    /// Reads every attribute (which also checks that they are well-formed): `nil` under any
    /// prefix (as the XML format reads `i:nil`), and SOAP 1.1's `mustUnderstand` and `actor`.
    fn attributes(
        &self,
        reader: &NsReader<&[u8]>,
        element: &BytesStart<'_>,
        at: usize,
    ) -> Result<Attributes, Error> {
        let mut found = Attributes {
            for_us: true,
            ..Attributes::default()
        };
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| self.reader_error(at, e.into()))?;
            let key = attribute.key;
            if key.as_ref().starts_with(b"xmlns") {
                continue;
            }
            let (resolved, local) = reader.resolver().resolve_attribute(key);
            let value = attribute.value.trim_ascii();
            let in_envelope_ns = matches!(resolved, ResolveResult::Bound(ns) if ns.as_ref() == ENVELOPE_NAMESPACE.as_bytes());
            match local.as_ref() {
                b"nil" => found.nil = value == b"true" || value == b"1",
                b"mustUnderstand" if in_envelope_ns => {
                    found.must_understand = value == b"1" || value == b"true";
                }
                b"actor" if in_envelope_ns => found.for_us = value == NEXT_ACTOR.as_bytes(),
                _ => {}
            }
        }
        Ok(found)
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
        match self.stack.last() {
            None => {
                if !text.trim_matches(is_xml_space).is_empty() {
                    return Err(syntax(self.text, at, "text outside the root element"));
                }
            }
            Some(Frame::Field(_)) => {
                if let Some(capture) = &mut self.capture {
                    capture.value.push_str(text);
                }
            }
            Some(Frame::ApplicationToken | Frame::Ignored) => {}
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

    /// The five predefined entities (XML 1.0 §4.6) and character references; no other
    /// entity can be declared, since a DOCTYPE is refused.
    fn resolve(&self, reference: &BytesRef<'_>, at: usize) -> Result<char, Error> {
        if reference.is_char_ref() {
            return match reference.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Ok(c),
                _ => Err(syntax(
                    self.text,
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
            _ => Err(syntax(self.text, at, "a reference to an undeclared entity")),
        }
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS88: &str = "http://www.superoffice.net/ws/crm/NetServer/Services88";

    fn envelope(header: &str, body: &str) -> String {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
        )
    }

    fn operation(children: &str) -> String {
        format!(r#"<ChangeOwnPassword xmlns="{NS88}">{children}</ChangeOwnPassword>"#)
    }

    fn decode(body: &str) -> Result<Request, Error> {
        decode_request(body.as_bytes(), None, 88, &Limits::default())
    }

    fn ok(body: &str) -> Request {
        decode(body).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn err(body: &str) -> Error {
        decode(body).expect_err(body)
    }

    const PASSWORDS: &str = "<OldPassword>o</OldPassword><NewPassword>n</NewPassword>";

    #[test]
    fn reads_the_headers_we_know() {
        let header = format!(
            r#"<Credentials xmlns="{NS88}"><Ticket> 7T:abc
            </Ticket></Credentials><TimeZone xmlns="{NS88}"><SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>NO</SoTimeZoneLocationCode></TimeZone>"#
        );
        let request = ok(&envelope(&header, &operation(PASSWORDS)));
        assert_eq!(
            request,
            Request {
                version: 88,
                old_password: Some("o".into()),
                new_password: Some("n".into()),
                ticket: Some("7T:abc".into()),
                application_token: false,
                time_zone: Some("NO".into()),
            }
        );
    }

    #[test]
    fn time_zone_id_wins_when_set_and_location_code_otherwise() {
        let cases = [
            (
                "<SoTimeZoneId>261</SoTimeZoneId><SoTimeZoneLocationCode>SE</SoTimeZoneLocationCode>",
                Some("261"),
            ),
            (
                "<SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>SE</SoTimeZoneLocationCode>",
                Some("SE"),
            ),
            ("<SoTimeZoneId>0</SoTimeZoneId>", None),
            (
                r#"<SoTimeZoneLocationCode xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>"#,
                None,
            ),
            ("", None),
        ];
        for (children, expected) in cases {
            let header = format!(r#"<TimeZone xmlns="{NS88}">{children}</TimeZone>"#);
            let request = ok(&envelope(&header, &operation(PASSWORDS)));
            assert_eq!(request.time_zone.as_deref(), expected, "{children}");
        }
    }

    #[test]
    fn application_token_marks_a_partner_app_unless_nil() {
        let cases = [
            (
                format!(r#"<ApplicationToken xmlns="{NS88}">1234567-1234-9876</ApplicationToken>"#),
                true,
            ),
            (format!(r#"<ApplicationToken xmlns="{NS88}"/>"#), true),
            (
                format!(
                    r#"<ApplicationToken xmlns="{NS88}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>"#
                ),
                false,
            ),
            (String::new(), false),
        ];
        for (header, partner) in cases {
            let request = ok(&envelope(&header, &operation(PASSWORDS)));
            assert_eq!(request.application_token, partner, "{header}");
        }
    }

    #[test]
    fn passwords_by_local_name_any_case_any_order_nil_or_absent_is_none() {
        let cases = [
            (
                "<NewPassword>n</NewPassword><OldPassword>o</OldPassword>",
                Some("o"),
                Some("n"),
            ),
            (
                "<oldpassword>o</oldpassword><NEWPASSWORD>n</NEWPASSWORD>",
                Some("o"),
                Some("n"),
            ),
            (
                r#"<x:OldPassword xmlns:x="urn:any">o</x:OldPassword>"#,
                Some("o"),
                None,
            ),
            (
                r#"<OldPassword xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/><NewPassword/>"#,
                None,
                Some(""),
            ),
            ("<Other><OldPassword>x</OldPassword></Other>", None, None),
            (
                "<OldPassword>a&amp;b<![CDATA[<c>]]>&#x1F600;\r\nd</OldPassword>",
                Some("a&b<c>😀\nd"),
                None,
            ),
            ("<OldPassword>  </OldPassword>", Some("  "), None),
        ];
        for (children, old, new) in cases {
            let request = ok(&envelope("", &operation(children)));
            assert_eq!(request.old_password.as_deref(), old, "{children}");
            assert_eq!(request.new_password.as_deref(), new, "{children}");
        }
    }

    #[test]
    fn header_is_optional_and_the_operation_may_be_unqualified() {
        let body = format!(
            r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ChangeOwnPassword>{PASSWORDS}</ChangeOwnPassword></soap:Body></soap:Envelope>"#
        );
        let request = ok(&body);
        assert_eq!(
            (request.old_password.as_deref(), request.ticket),
            (Some("o"), None)
        );
    }

    #[test]
    fn unknown_headers_are_ignored_unless_they_must_be_understood_by_us() {
        let ignored = [
            r#"<w:Security xmlns:w="urn:wss"><w:Token>x</w:Token></w:Security>"#,
            r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="0"/>"#,
            r#"<w:Security xmlns:w="urn:wss" mustUnderstand="1"/>"#,
            r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1" s:actor="urn:someone-else"/>"#,
            r#"<Credentials xmlns="urn:x" s:actor="urn:someone-else"><Ticket>7T:no</Ticket></Credentials>"#,
        ];
        for header in ignored {
            let request = ok(&envelope(header, &operation(PASSWORDS)));
            assert_eq!(request.ticket, None, "{header}");
        }
        let refused = [
            r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1"/>"#,
            r#"<Action s:mustUnderstand="true">x</Action>"#,
            r#"<w:Security xmlns:w="urn:wss" s:mustUnderstand="1" s:actor="http://schemas.xmlsoap.org/soap/actor/next"/>"#,
        ];
        for header in refused {
            let error = err(&envelope(header, &operation(PASSWORDS)));
            // Placed, not named: the header's name is the request's text.
            assert_eq!(
                error,
                Error::MustUnderstand {
                    line: 1,
                    column: 75
                },
                "{header}"
            );
            assert_eq!(
                error.to_string(),
                "a header entry marked mustUnderstand is not understood, at line 1, column 75"
            );
        }
        let known = format!(
            r#"<Credentials xmlns="{NS88}" s:mustUnderstand="1"><Ticket>7T:t</Ticket></Credentials>"#
        );
        assert_eq!(
            ok(&envelope(&known, &operation(PASSWORDS)))
                .ticket
                .as_deref(),
            Some("7T:t")
        );
    }

    #[test]
    fn another_operation_or_version_is_unknown() {
        let cases = [
            format!(r#"<ChangePassword xmlns="{NS88}"/>"#),
            r#"<ChangeOwnPassword xmlns="http://www.superoffice.net/ws/crm/NetServer/Services84"/>"#.to_owned(),
            "<changeownpassword/>".to_owned(),
        ];
        for body in cases {
            let error = err(&envelope("", &body));
            assert_eq!(
                error,
                Error::UnknownOperation {
                    line: 1,
                    column: 94
                },
                "{body}"
            );
            assert!(!error.to_string().contains("Services84"), "{error}");
        }
    }

    #[test]
    fn soap_1_2_is_recognised_and_refused() {
        let body = format!(
            r#"<e:Envelope xmlns:e="{SOAP12_NAMESPACE}"><e:Body>{}</e:Body></e:Envelope>"#,
            operation(PASSWORDS)
        );
        assert!(matches!(err(&body), Error::Soap12));
    }

    #[test]
    fn broken_envelopes_say_what_and_where() {
        let cases: Vec<(String, &str)> = vec![
            (
                "<secret><OldPassword>o</OldPassword></secret>".into(),
                "not a valid SOAP 1.1 envelope: the root element is not the SOAP 1.1 Envelope in http://schemas.xmlsoap.org/soap/envelope/, at line 1, column 1",
            ),
            (
                r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#.into(),
                "not a valid SOAP 1.1 envelope: the Envelope has no Body, at line 1, column 1",
            ),
            (
                envelope("", ""),
                "not a valid SOAP 1.1 envelope: the Body holds no operation, at line 1, column 94",
            ),
            (
                envelope(
                    "",
                    &format!("{}{}", operation(PASSWORDS), operation(PASSWORDS)),
                ),
                "not a valid SOAP 1.1 envelope: the Body holds more than one element, at line 1, column 252",
            ),
            (
                format!(
                    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body><s:Header/></s:Envelope>"#,
                    operation(PASSWORDS)
                ),
                "not a valid SOAP 1.1 envelope: the Header must come once, before the Body, at line 1, column 240",
            ),
            (
                envelope(
                    "",
                    &operation("<OldPassword>o</OldPassword><oldPassword>p</oldPassword>"),
                ),
                "not a valid SOAP 1.1 envelope: the element OldPassword appears more than once, at line 1, column 204",
            ),
            (
                envelope("", &operation("<OldPassword><b>secret</b></OldPassword>")),
                "not a valid SOAP 1.1 envelope: the element OldPassword must hold text only, not elements, at line 1, column 189",
            ),
            (
                envelope(
                    "",
                    &operation(
                        r#"<OldPassword xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true">secret</OldPassword>"#,
                    ),
                ),
                "not a valid SOAP 1.1 envelope: the element OldPassword is nil but holds text, at line 1, column 260",
            ),
            (
                envelope("", &operation("secret<OldPassword>o</OldPassword>")),
                "not a valid SOAP 1.1 envelope: text where only elements belong, at line 1, column 176",
            ),
            (
                envelope(
                    &format!(r#"<Credentials xmlns="{NS88}"/><Credentials xmlns="{NS88}"/>"#),
                    &operation(PASSWORDS),
                ),
                "not a valid SOAP 1.1 envelope: the header Credentials appears more than once, at line 1, column 152",
            ),
        ];
        for (body, message) in cases {
            let error = err(&body);
            assert!(matches!(error, Error::Envelope { .. }), "{body}: {error:?}");
            assert_eq!(error.to_string(), message, "{body}");
            assert!(!error.to_string().contains("secret"));
        }
    }

    #[test]
    fn hardening_is_that_of_the_xml_format() {
        let doctype = format!(
            "<!DOCTYPE s:Envelope [<!ENTITY x \"secret\">]>{}",
            envelope("", &operation("<OldPassword>&x;</OldPassword>"))
        );
        assert!(matches!(
            err(&doctype),
            Error::Xml(crate::Error::Doctype { line: 1, column: 1 })
        ));
        assert!(matches!(
            err(&envelope(
                "",
                &operation("<OldPassword>&secret;</OldPassword>")
            )),
            Error::Xml(crate::Error::Syntax { .. })
        ));
        assert!(matches!(err(""), Error::Xml(crate::Error::Empty)));
        assert!(matches!(
            err(&envelope("", &operation("<OldPassword>o</NewPassword>"))),
            Error::Xml(crate::Error::Syntax { .. })
        ));
        assert!(matches!(
            err(r#"<p:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>"#),
            Error::Xml(crate::Error::Syntax { .. })
        ));
        assert!(matches!(
            err("<a>\u{1}</a>"),
            Error::Xml(crate::Error::Syntax {
                line: 1,
                column: 4,
                ..
            })
        ));
        let latin1 = format!(
            r#"<?xml version="1.0" encoding="iso-8859-1"?>{}"#,
            envelope("", &operation(PASSWORDS))
        );
        assert_eq!(err(&latin1), Error::Xml(crate::Error::UnsupportedCharset));

        let body = envelope("", &operation(PASSWORDS));
        let small = Limits {
            max_bytes: body.len() - 1,
            ..Limits::default()
        };
        let too_large = decode_request(body.as_bytes(), None, 88, &small).unwrap_err();
        assert_eq!(
            too_large,
            Error::Xml(crate::Error::TooLarge {
                limit: body.len() - 1
            })
        );
        let nested = envelope(
            "",
            &operation(&format!(
                "{}{}{PASSWORDS}",
                "<x>".repeat(40),
                "</x>".repeat(40)
            )),
        );
        assert!(matches!(
            err(&nested),
            Error::Xml(crate::Error::TooDeep { limit: 32, .. })
        ));
    }

    #[test]
    fn reads_utf16_by_bom_header_or_sniffing() {
        let text = envelope("", &operation("<OldPassword>é😀</OldPassword>"));
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom = [&[0xFF, 0xFE][..], &le].concat();
        for (bytes, charset) in [
            (&le, Some(Charset::Utf16)),
            (&be, Some(Charset::Utf16Be)),
            (&with_bom, None),
            (&le, None),
        ] {
            let request = decode_request(bytes, charset, 88, &Limits::default()).unwrap();
            assert_eq!(request.old_password.as_deref(), Some("é😀"));
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let request = Request {
            version: 88,
            old_password: Some("hunter2".into()),
            new_password: Some("hunter3".into()),
            ticket: Some("7T:secret".into()),
            application_token: false,
            time_zone: None,
        };
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("hunter") && !debug.contains("secret"),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));
    }

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

    #[test]
    fn the_wsdl_is_well_formed_and_escapes_the_address() {
        let wsdl = wsdl(85, "http://h/Remote/Services85/User.svc?a=1&b=2");
        assert!(wsdl.contains(r#"location="http://h/Remote/Services85/User.svc?a=1&amp;b=2""#));
        let mut reader = quick_xml::Reader::from_str(&wsdl);
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
}
