//! Black-box tests of the SOAP form of the call (SPEC §9): the real binary, real HTTP, and a
//! real generated client (Python's zeep) built from the served WSDL.

use std::process::Command;

use agentgate_blackbox::{Server, basic, client};
use reqwest::blocking::Response;

const OLD: &str = "sint-occaecat-42";
const NEW: &str = "Tr0ub4dour&3-horse";

fn namespace(version: u8) -> String {
    format!("http://www.superoffice.net/ws/crm/NetServer/Services{version}")
}

fn path(version: u8) -> String {
    format!("/Remote/Services{version}/User.svc")
}

fn action(version: u8) -> String {
    format!("\"{}/User/ChangeOwnPassword\"", namespace(version))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// A SOAP 1.1 envelope as WCF writes it, with the ticket in the `Credentials` header.
fn envelope(version: u8, ticket: Option<&str>, old: &str, new: &str) -> String {
    let ns = namespace(version);
    let header = ticket.map_or(String::new(), |t| {
        format!(
            r#"<h:Credentials xmlns:h="{ns}" xmlns="{ns}"><Ticket>{t}</Ticket></h:Credentials>"#
        )
    });
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body><ChangeOwnPassword xmlns="{ns}"><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></ChangeOwnPassword></s:Body></s:Envelope>"#,
        escape(old),
        escape(new)
    )
}

fn post(server: &Server, version: u8, headers: &[(&str, &str)], body: String) -> Response {
    let mut request = client()
        .post(server.url(&path(version)))
        .header("Content-Type", "text/xml; charset=utf-8");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("soapaction"))
    {
        request = request.header("SOAPAction", action(version));
    }
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body).send().unwrap()
}

fn text(r: Response) -> (u16, reqwest::header::HeaderMap, String) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().unwrap())
}

/// The text of the first element with this local name (any prefix), unescaped.
fn element(xml: &str, local: &str) -> Option<String> {
    let mut rest = xml;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let name = tag.split([' ', '/']).next().unwrap_or("");
        let name = name.rsplit(':').next().unwrap_or(name);
        if name == local && !tag.ends_with('/') {
            let content = &rest[end + 1..];
            let close = content.find("</")?;
            return Some(
                content[..close]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
        }
        if name == local {
            return Some(String::new());
        }
    }
}

fn server_with_user() -> (Server, String) {
    let server = Server::start(&[]);
    server.add_user("tje0", OLD);
    let ticket = server.ticket("tje0");
    (server, ticket)
}

fn assert_refused(reply: &(u16, reqwest::header::HeaderMap, String), exception_type: &str) {
    let (status, headers, body) = reply;
    assert_eq!(*status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
    assert_eq!(
        element(body, "Succeeded").as_deref(),
        Some("false"),
        "{body}"
    );
    assert_eq!(
        element(body, "Response").as_deref(),
        Some("false"),
        "{body}"
    );
    assert_eq!(
        element(body, "ExceptionType").as_deref(),
        Some(exception_type),
        "{body}"
    );
    let message = element(body, "Message").unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    assert_eq!(element(body, "FriendlyText"), Some(message), "{body}");
}

#[test]
fn a_ticket_in_the_credentials_header_changes_the_password_in_services88_and_84() {
    for version in [88, 84] {
        let (server, ticket) = server_with_user();
        let (status, headers, body) = text(post(
            &server,
            version,
            &[],
            envelope(version, Some(&ticket), OLD, NEW),
        ));
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
        assert_eq!(
            element(&body, "Succeeded").as_deref(),
            Some("true"),
            "{body}"
        );
        assert_eq!(
            element(&body, "Response").as_deref(),
            Some("true"),
            "{body}"
        );
        assert!(
            body.contains(&format!(
                r#"<ChangeOwnPasswordResponse xmlns="{}">"#,
                namespace(version)
            )),
            "the reply uses the version's namespace: {body}"
        );
        assert!(body.contains(r#"ExceptionInfo i:nil="true""#), "{body}");

        // Only the new password works afterwards, through the REST endpoint as well.
        let rest = |password: &str| {
            client()
                .post(server.url(agentgate_blackbox::ENDPOINT))
                .header("Authorization", basic("tje0", password))
                .header("Content-Type", "application/json")
                .body(r#"{"OldPassword":"x","NewPassword":"y"}"#)
                .send()
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(rest(OLD), 401);
        assert_eq!(rest(NEW), 200);
    }
}

#[test]
fn a_wrong_old_password_is_a_refusal_with_the_reason() {
    let (server, ticket) = server_with_user();
    let reply = text(post(
        &server,
        88,
        &[("Accept-Language", "sv")],
        envelope(88, Some(&ticket), "not-the-password", NEW),
    ));
    assert_refused(&reply, "old-password-mismatch");
    assert_eq!(reply.1["content-language"], "sv");
    // The password did not change.
    let reply = text(post(
        &server,
        88,
        &[],
        envelope(88, Some(&ticket), OLD, NEW),
    ));
    assert_eq!(
        element(&reply.2, "Succeeded").as_deref(),
        Some("true"),
        "{}",
        reply.2
    );
}

#[test]
fn bad_credentials_policy_and_online_partner_apps_are_refusals() {
    let (server, ticket) = server_with_user();
    let bad_ticket = text(post(
        &server,
        88,
        &[],
        envelope(88, Some("7T:not-a-ticket"), OLD, NEW),
    ));
    assert_refused(&bad_ticket, "Unauthorized");
    let nothing = text(post(&server, 88, &[], envelope(88, None, OLD, NEW)));
    assert_refused(&nothing, "Unauthorized");
    let short = text(post(
        &server,
        86,
        &[],
        envelope(86, Some(&ticket), OLD, "short"),
    ));
    assert_refused(&short, "password-too-short");
    // On-site, an application token is not checked (SPEC §9); under --online it is a
    // partner app, refused.
    let online = Server::start(&["--online", "--enable-user-agent"]);
    online.add_user("tje0", OLD);
    let online_ticket = online.ticket("tje0");
    let partner = text(post(
        &online,
        88,
        &[("SO-AppToken", "1234567-1234-9876")],
        envelope(88, Some(&online_ticket), OLD, NEW),
    ));
    assert_refused(&partner, "PartnerAppForbidden");
    let on_site = text(post(
        &server,
        88,
        &[("SO-AppToken", "1234567-1234-9876")],
        envelope(88, Some(&ticket), OLD, "on-site-Passw0rd-1"),
    ));
    assert_eq!(
        element(&on_site.2, "Succeeded").as_deref(),
        Some("true"),
        "on-site, the token is ignored: {}",
        on_site.2
    );
    // HTTP Authorization is accepted in place of the header.
    let (status, _, body) = text(post(
        &server,
        87,
        &[("Authorization", &basic("tje0", "on-site-Passw0rd-1"))],
        envelope(87, None, "on-site-Passw0rd-1", NEW),
    ));
    assert_eq!(
        (status, element(&body, "Succeeded").as_deref()),
        (200, Some("true")),
        "{body}"
    );
}

#[test]
fn throttling_is_a_refusal_whose_message_uses_the_time_zone_header() {
    let (server, ticket) = server_with_user();
    for _ in 0..5 {
        let reply = text(post(
            &server,
            88,
            &[],
            envelope(88, Some(&ticket), "wrong-one", NEW),
        ));
        assert_refused(&reply, "old-password-mismatch");
    }
    let with_zone = |zone: &str| {
        let ns = namespace(88);
        let header = format!(
            r#"<TimeZone xmlns="{ns}"><SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>{zone}</SoTimeZoneLocationCode></TimeZone><Credentials xmlns="{ns}"><Ticket>{ticket}</Ticket></Credentials>"#
        );
        let body =
            envelope(88, None, OLD, NEW).replace("<s:Header>", &format!("<s:Header>{header}"));
        text(post(&server, 88, &[], body))
    };
    // Even the right old password waits; the wait ends at the same moment for both calls,
    // written in Oslo time for one and in UTC for the other.
    let oslo = with_zone("NO");
    let utc = with_zone("UTC");
    for reply in [&oslo, &utc] {
        assert_refused(reply, "TooManyRequests");
        assert!(reply.1.contains_key("retry-after"), "{:?}", reply.1);
    }
    let message =
        |reply: &(u16, reqwest::header::HeaderMap, String)| element(&reply.2, "Message").unwrap();
    assert!(
        message(&oslo).starts_with("Too many wrong passwords. Try again after"),
        "{}",
        oslo.2
    );
    assert_ne!(message(&oslo), message(&utc));
}

#[test]
fn soap_1_2_is_415() {
    let (server, ticket) = server_with_user();
    let soap12 = envelope(88, Some(&ticket), OLD, NEW).replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    let (status, _, body) = text(post(&server, 88, &[], soap12.clone()));
    assert_eq!(status, 415, "{body}");
    let r = client()
        .post(server.url(&path(88)))
        .header(
            "Content-Type",
            format!("application/soap+xml; charset=utf-8; action={}", action(88)),
        )
        .body(soap12)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    // Nothing changed.
    let reply = text(post(
        &server,
        88,
        &[],
        envelope(88, Some(&ticket), OLD, NEW),
    ));
    assert_eq!(
        element(&reply.2, "Succeeded").as_deref(),
        Some("true"),
        "{}",
        reply.2
    );
}

#[test]
fn a_wrong_soap_action_is_a_client_fault() {
    let (server, ticket) = server_with_user();
    for action in [
        "\"http://www.superoffice.net/ws/crm/NetServer/Services88/User/ChangePassword\"",
        // Another version's action at this version's address.
        "http://www.superoffice.net/ws/crm/NetServer/Services87/User/ChangeOwnPassword",
    ] {
        let (status, headers, body) = text(post(
            &server,
            88,
            &[("SOAPAction", action)],
            envelope(88, Some(&ticket), OLD, NEW),
        ));
        assert_eq!(status, 500, "{body}");
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
        assert_eq!(
            element(&body, "faultcode").as_deref(),
            Some("s:Client"),
            "{body}"
        );
        assert!(
            !element(&body, "faultstring").unwrap_or_default().is_empty(),
            "{body}"
        );
    }
    let (status, _, body) = text(post(&server, 88, &[], "<s:Envelope".to_owned()));
    assert_eq!(
        (status, element(&body, "faultcode").as_deref()),
        (500, Some("s:Client"))
    );
}

/// Checks that every start tag has its end tag, in order: enough to tell a WSDL is a whole
/// XML document, without an XML library in this package.
fn assert_balanced(xml: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = &after[after.find("?>").expect("declaration end") + 2..];
    }
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("tag end");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/', '\n'])
            .next()
            .unwrap();
        if tag.starts_with('/') {
            assert_eq!(open.pop(), Some(name), "closing {name}");
        } else if !tag.ends_with('/') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn the_wsdl_parses_and_names_the_address_it_was_fetched_at() {
    let server = Server::start(&[]);
    for query in ["?wsdl", "?WSDL"] {
        let url = server.url(&format!("{}{query}", path(85)));
        let (status, headers, body) = text(client().get(&url).send().unwrap());
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
        assert_balanced(&body);
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<wsdl:definitions"));
        let location = format!(r#"<soap:address location="{}"/>"#, server.url(&path(85)));
        assert!(body.contains(&location), "{body}");
        assert!(
            body.contains(&format!("soapAction={}", action(85))),
            "{body}"
        );
    }
    // The path is case-insensitive and only the served versions exist.
    let lower = client()
        .get(server.url("/remote/services84/user.svc?wsdl"))
        .send()
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200);
    let missing = client()
        .get(server.url("/Remote/Services79/User.svc?wsdl"))
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[test]
fn zeep_changes_the_password_from_the_served_wsdl_then_sees_a_refusal() {
    let has_zeep = Command::new("python3")
        .args(["-c", "import zeep"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_zeep {
        let missing = "zeep is not installed (pip install -r tests/zeep/requirements.txt)";
        // Under CI a missing tool is a broken set-up, not a pass (scripts/test installs it).
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and {missing}"
        );
        eprintln!("skipped: {missing}");
        return;
    }
    let (server, ticket) = server_with_user();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/zeep/change_password.py");
    let out = Command::new("python3")
        .args([script, &server.base, &ticket, OLD, NEW])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}\n{}", server.log());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(
        lines[0],
        format!(
            "wsdl: {}?wsdl address={}",
            server.url(&path(88)),
            server.url(&path(88))
        )
    );
    assert_eq!(
        lines[1],
        "changed: succeeded=true response=true exception_type= message="
    );
    assert_eq!(
        lines[2],
        "refused: succeeded=false response=false exception_type=old-password-mismatch \
         message=The current password is not correct."
    );
}

/// SPEC §8: `Forwarded` and `X-Forwarded-*` are believed only from trusted proxies, so a
/// client cannot make the WSDL send generated clients elsewhere; and no cache keeps a WSDL
/// made for one `Host` for another.
#[test]
fn forwarded_headers_from_an_untrusted_client_do_not_move_the_wsdl() {
    let server = Server::start(&[]);
    let (status, headers, body) = text(
        client()
            .get(server.url(&format!("{}?wsdl", path(88))))
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "host=evil.example;proto=https")
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert!(!body.contains("evil.example"), "{body}");
    let location = format!(r#"<soap:address location="{}"/>"#, server.url(&path(88)));
    assert!(body.contains(&location), "{body}");
    assert_eq!(headers["cache-control"], "no-store");
}

/// Issue 14: one error vocabulary behind both doors. Every kind of body error the XML reader
/// finds is told alike through REST (`application/xml`) and SOAP (the same content inside the
/// envelope): REST answers the status of its kind, SOAP a client fault; neither quotes the
/// request's text (SPEC §2), and an unsupported encoding is named as such (it was "The
/// character set 'the encoding "koi8-r" is not supported…' is not supported").
#[test]
fn every_xml_body_error_is_told_alike_through_rest_and_soap() {
    let (server, ticket) = server_with_user();
    let ns = namespace(88);
    let deep = format!("{}{}", "<d>".repeat(80), "</d>".repeat(80));
    let attributes: String = (0..40).map(|n| format!(" a{n}=\"\"")).collect();
    // (kind, REST status, the call's content; SOAP wraps it in ChangeOwnPassword)
    let cases: Vec<(&str, u16, String)> = vec![
        (
            "syntax",
            400,
            "<OldPassword>ab</SecretPw9</OldPassword><NewPassword>x</NewPassword>".into(),
        ),
        ("too deep", 400, format!("<OldPassword>{deep}</OldPassword>")),
        (
            "too many attributes",
            400,
            format!("<OldPassword{attributes}>SecretPw9</OldPassword><NewPassword>x</NewPassword>"),
        ),
        (
            "duplicate attribute",
            400,
            "<OldPassword a=\"1\" a=\"2\">SecretPw9</OldPassword><NewPassword>x</NewPassword>"
                .into(),
        ),
        (
            "missing",
            400,
            "<OldPassword>SecretPw9</OldPassword>".into(),
        ),
        (
            "duplicate",
            400,
            "<OldPassword>SecretPw9</OldPassword><OldPassword>b</OldPassword><NewPassword>x</NewPassword>"
                .into(),
        ),
    ];
    let rest = |body: Vec<u8>| {
        text(
            client()
                .post(server.url("/api/v1/Agents/User/ChangeOwnPassword"))
                .header("Authorization", format!("SOTicket {ticket}"))
                .header("Content-Type", "application/xml")
                .header("Accept", "application/json")
                .body(body)
                .send()
                .unwrap(),
        )
    };
    let soap = |content: &str, declaration: &str| {
        let body = format!(
            r#"{declaration}<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:Credentials xmlns:h="{ns}" xmlns="{ns}"><Ticket>{ticket}</Ticket></h:Credentials></s:Header><s:Body><ChangeOwnPassword xmlns="{ns}">{content}</ChangeOwnPassword></s:Body></s:Envelope>"#
        );
        text(post(&server, 88, &[], body))
    };
    // A body the envelope reader refuses is a client fault (500, or the status of its class:
    // 415 for a charset, 413 for a size); content refused inside a
    // well-formed envelope is a reply whose ExceptionInfo says BadRequest (SPEC §9).
    let client_fault = |kind: &str, reply: &(u16, reqwest::header::HeaderMap, String)| {
        let (status, _, body) = reply;
        assert!(
            !body.contains("SecretPw9"),
            "{kind} quotes the request: {body}"
        );
        match status {
            500 | 413 | 415 => {
                assert_eq!(
                    element(body, "faultcode").as_deref(),
                    Some("s:Client"),
                    "{kind}: {body}"
                );
                element(body, "faultstring").unwrap_or_default()
            }
            200 => {
                assert_eq!(
                    element(body, "Succeeded").as_deref(),
                    Some("false"),
                    "{kind}"
                );
                assert_eq!(
                    element(body, "ExceptionType").as_deref(),
                    Some("BadRequest"),
                    "{kind}: {body}"
                );
                element(body, "Message").unwrap_or_default()
            }
            other => panic!("{kind}: {other} {body}"),
        }
    };
    for (kind, status, content) in &cases {
        let body = format!("<ChangeOwnPassword>{content}</ChangeOwnPassword>");
        let (got, _, answer) = rest(body.into_bytes());
        assert_eq!(got, *status, "{kind}: {answer}");
        assert!(
            !answer.contains("SecretPw9"),
            "{kind} quotes the request: {answer}"
        );
        let fault = client_fault(kind, &soap(content, ""));
        assert!(!fault.is_empty(), "{kind}");
    }

    // Bytes that are not UTF-8, and a DOCTYPE: the same through both doors.
    let (got, _, answer) =
        rest(b"<ChangeOwnPassword><OldPassword>\xff</OldPassword></ChangeOwnPassword>".to_vec());
    assert_eq!(got, 400, "{answer}");
    let (got, _, answer) = rest(b"<!DOCTYPE r [<!ENTITY a \"SecretPw9\">]><r>&a;</r>".to_vec());
    assert_eq!(got, 400, "{answer}");
    assert!(!answer.contains("SecretPw9"), "{answer}");
    let doctype = soap("", r#"<!DOCTYPE r [<!ENTITY a "SecretPw9">]>"#);
    client_fault("doctype", &doctype);

    // An encoding the reader does not speak: 415 through REST, a client fault through SOAP,
    // both saying so without repeating the label.
    let declaration = r#"<?xml version="1.0" encoding="koi8-r"?>"#;
    let (got, _, answer) = rest(
        format!("{declaration}<ChangeOwnPassword><OldPassword>a</OldPassword><NewPassword>b</NewPassword></ChangeOwnPassword>")
            .into_bytes(),
    );
    assert_eq!(got, 415, "{answer}");
    assert!(!answer.contains("koi8"), "{answer}");
    assert!(!answer.contains("the encoding"), "{answer}");
    let fault = client_fault(
        "charset",
        &soap("<OldPassword>a</OldPassword>", declaration),
    );
    assert!(!fault.contains("koi8"), "{fault}");
    assert!(!fault.contains("the encoding"), "{fault}");
}
