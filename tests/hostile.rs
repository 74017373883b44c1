//! Black-box tests of hostile bodies (issue 21): a password typed into the wrong place never
//! comes back in an error document, a SOAP fault or the log (SPEC §2), and XML attribute
//! floods are refused in linear time without slowing the server for others.

use agentgate_blackbox::{ENDPOINT, Server, basic, client};

const USER: &str = "hostile-user";
const PASSWORD: &str = "sint-occaecat-42";

/// The secret a client typed into the wrong place.
const MARKER: &str = "Zq7SecretMarker";

const ENVELOPE_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const NS88: &str = "http://www.superoffice.net/ws/crm/NetServer/Services88";

fn server() -> Server {
    let server = Server::start(&[]);
    server.add_user(USER, PASSWORD);
    server
}

/// Posts to the REST endpoint with good credentials, so the body is what gets refused.
fn post(server: &Server, content_type: &str, body: &str) -> (u16, String) {
    let response = client()
        .post(server.url(ENDPOINT))
        .header("Authorization", basic(USER, PASSWORD))
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

fn post_soap(server: &Server, body: &str) -> (u16, String) {
    let response = client()
        .post(server.url("/Remote/Services88/User.svc"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(body.to_owned())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

fn envelope(header: &str, body: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="{ENVELOPE_NAMESPACE}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

#[test]
fn a_refused_body_is_never_quoted_back() {
    let server = server();
    // (Content-Type, body, status, what MessageDetail must say instead)
    let cases: Vec<(String, String, u16, &str)> = vec![
        (
            "application/xml".to_owned(),
            format!("<r><OldPassword>ab</{MARKER}</OldPassword><NewPassword>n</NewPassword></r>"),
            400,
            "line 1, column 19",
        ),
        (
            "application/xml".to_owned(),
            format!("<r><OldPassword>&{MARKER};</OldPassword></r>"),
            400,
            "line 1, column",
        ),
        (
            "text/xml".to_owned(),
            format!("<{MARKER}:r/>"),
            400,
            "the property OldPassword is missing",
        ),
        (
            "application/json".to_owned(),
            format!(r#"{{"OldPassword":"o","NewPassword":"n",{MARKER}}}"#),
            400,
            "line 1, column",
        ),
        (
            "application/json".to_owned(),
            format!(r#"{{"{MARKER}":1,"{MARKER}":2,"OldPassword":"o","NewPassword":"n"}}"#),
            400,
            "line 1, column",
        ),
        (
            "application/x-www-form-urlencoded".to_owned(),
            format!("{MARKER}=1&{MARKER}=2&OldPassword=o&NewPassword=n"),
            400,
            "line 1, column",
        ),
        (
            "application/json-patch+json".to_owned(),
            format!(
                r#"[{{"op":"add","path":"/{MARKER}","value":1}},{{"op":"test","path":"/{MARKER}","value":2}}]"#
            ),
            409,
            "operation 1",
        ),
        (
            "application/json-patch+json".to_owned(),
            format!(r#"[{{"op":"{MARKER}","path":"/OldPassword"}}]"#),
            400,
            "operation 0",
        ),
        (
            "text/xml".to_owned(),
            format!(r#"<?xml version="1.0" encoding="{MARKER}"?><r/>"#),
            415,
            "",
        ),
        (format!("text/{MARKER}"), "{}".to_owned(), 415, ""),
        (
            format!("application/json; charset={MARKER}"),
            "{}".to_owned(),
            415,
            "",
        ),
    ];
    for (content_type, body, status, detail) in cases {
        let (got, answer) = post(&server, &content_type, &body);
        assert_eq!(got, status, "{content_type} {body}: {answer}");
        assert!(!answer.contains(MARKER), "{content_type} {body}: {answer}");
        let document: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let message_detail = document["MessageDetail"].as_str().unwrap();
        assert!(
            message_detail.contains(detail),
            "{content_type} {body}: {answer}"
        );
    }
    assert!(!server.log().contains(MARKER), "{}", server.log());
}

#[test]
fn a_soap_fault_never_quotes_the_envelope() {
    let server = server();
    let passwords = "<OldPassword>o</OldPassword><NewPassword>n</NewPassword>";
    let bodies = [
        // A password typed into an end tag.
        envelope(
            "",
            &format!(
                r#"<ChangeOwnPassword xmlns="{NS88}"><OldPassword>ab</{MARKER}</OldPassword></ChangeOwnPassword>"#
            ),
        ),
        // An operation, a header and a root element the client named.
        envelope("", &format!(r#"<{MARKER} xmlns="{NS88}"/>"#)),
        envelope(
            &format!(r#"<{MARKER} xmlns="urn:x" s:mustUnderstand="1"/>"#),
            &format!(r#"<ChangeOwnPassword xmlns="{NS88}">{passwords}</ChangeOwnPassword>"#),
        ),
        format!(r#"<{MARKER} xmlns="urn:x">{passwords}</{MARKER}>"#),
        envelope(
            "",
            &format!(
                r#"<ChangeOwnPassword xmlns="{NS88}"><{MARKER}:OldPassword/></ChangeOwnPassword>"#
            ),
        ),
    ];
    for body in bodies {
        let (status, answer) = post_soap(&server, &body);
        assert_eq!(status, 500, "{body}: {answer}");
        assert!(answer.contains("<faultcode>s:"), "{body}: {answer}");
        assert!(answer.contains("<faultstring"), "{body}: {answer}");
        assert!(!answer.contains(MARKER), "{body}: {answer}");
    }
    let declared = format!(
        r#"<?xml version="1.0" encoding="{MARKER}"?>{}"#,
        envelope("", "<ChangeOwnPassword/>")
    );
    let (status, answer) = post_soap(&server, &declared);
    assert_eq!(status, 415, "{answer}");
    assert!(
        answer.contains("<faultcode>s:Client</faultcode>"),
        "{answer}"
    );
    assert!(!answer.contains(MARKER), "{answer}");
    assert!(!server.log().contains(MARKER), "{}", server.log());
}
