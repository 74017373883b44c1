//! Black-box tests of the endpoint: the real binary, real HTTP, every format and outcome of
//! SPEC §1 to §5 and §8.

use std::time::Duration;

use agentgate_blackbox::{ENDPOINT, Server, basic, client, language_and_message};
use reqwest::blocking::Response;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

const OLD: &str = "sint-occaecat-42";
const NEW: &str = "Tr0ub4dour&3-horse";

fn server_with_user(user: &str) -> Server {
    let server = Server::start(&[]);
    server.add_user(user, OLD);
    server
}

fn text(r: Response) -> (u16, reqwest::header::HeaderMap, String) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().unwrap())
}

fn json_body(old: &str, new: &str) -> String {
    serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string()
}

fn post_json(server: &Server, auth: &str, body: String) -> Response {
    client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, auth)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body)
        .send()
        .unwrap()
}

#[test]
fn json_change_returns_true_and_only_the_new_password_works_afterwards() {
    let server = server_with_user("tje0");
    let (status, headers, body) =
        text(post_json(&server, &basic("tje0", OLD), json_body(OLD, NEW)));
    assert_eq!((status, body.as_str()), (200, "true"));
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(
        headers["vary"],
        "Accept, Accept-Charset, Accept-Language, SO-Language"
    );

    let (status, _, _) = text(post_json(&server, &basic("tje0", OLD), json_body(OLD, "x")));
    assert_eq!(status, 401, "the old password no longer authenticates");
    let (status, headers, body) = text(post_json(
        &server,
        &basic("TJE0", NEW),
        json_body("wrong-one", "whatever-else-1"),
    ));
    assert_eq!(
        (status, body.as_str()),
        (200, "false"),
        "user names are case-insensitive"
    );
    assert_eq!(headers["x-reason"], "old-password-mismatch");
}

#[test]
fn refusals_are_false_with_the_reason() {
    let server = server_with_user("ann");
    let ticket = server.ticket("ann");
    let auth = format!("SOTicket {ticket}");
    for (new, reason) in [
        ("short", "password-too-short"),
        ("passw0r", "password-too-short"),
        ("password", "password-too-weak"),
        ("passwordpassword", "password-too-weak"),
        (OLD, "password-unchanged"),
    ] {
        let (status, headers, body) = text(post_json(&server, &auth, json_body(OLD, new)));
        assert_eq!((status, body.as_str()), (200, "false"), "{new}");
        assert_eq!(headers["x-reason"], reason, "{new}");
    }
    let long = "x".repeat(129);
    let (_, headers, _) = text(post_json(&server, &auth, json_body(OLD, &long)));
    assert_eq!(headers["x-reason"], "password-too-long");
}

#[test]
fn no_credentials_is_401_with_three_challenges() {
    let server = Server::start(&[]);
    let r = client()
        .post(server.url(ENDPOINT))
        .header(CONTENT_TYPE, "application/json")
        .body(json_body(OLD, NEW))
        .send()
        .unwrap();
    let challenges: Vec<_> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let (status, _, body) = text(r);
    assert_eq!(status, 401);
    assert_eq!(
        challenges,
        [
            r#"Basic realm="agentgate", charset="UTF-8""#,
            "SOTicket",
            "Bearer"
        ]
    );
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ErrorType"], "Unauthorized");
    assert_eq!(
        doc["Message"],
        "Authorization has been denied for this request."
    );

    // A browser (session cookie, or preferring HTML) gets no Basic challenge.
    let r = client()
        .post(server.url(ENDPOINT))
        .header("cookie", "agentgate_session=nonsense")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("OldPassword=a&NewPassword=b")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let challenges: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(challenges.len(), 2);
}

#[test]
fn unknown_user_and_wrong_password_look_the_same() {
    let server = server_with_user("bob");
    let a = text(post_json(
        &server,
        &basic("bob", "wrong-password"),
        json_body(OLD, NEW),
    ));
    let b = text(post_json(
        &server,
        &basic("nobody", "wrong-password"),
        json_body(OLD, NEW),
    ));
    assert_eq!(a.0, 401);
    assert_eq!((a.0, &a.2), (b.0, &b.2));
}

#[test]
fn xml_client_gets_the_datacontract_boolean() {
    let server = server_with_user("xml");
    let body = format!(
        "<ChangeOwnPasswordRequest xmlns=\"http://schemas.datacontract.org/2004/07/SuperOffice.CRM\" \
         xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><NewPassword>{NEW}</NewPassword>\
         <OldPassword>{OLD}</OldPassword></ChangeOwnPasswordRequest>"
    )
    .replace('&', "&amp;");
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("xml", OLD))
        .header(CONTENT_TYPE, "text/xml")
        .header(ACCEPT, "application/xml")
        .body(body)
        .send()
        .unwrap();
    let (status, headers, body) = text(r);
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/xml; charset=utf-8");
    assert_eq!(
        body,
        r#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">true</boolean>"#
    );
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[test]
fn utf16_request_and_utf16_answer() {
    let server = server_with_user("wide");
    let body = utf16le_with_bom(&format!(
        "<?xml version=\"1.0\" encoding=\"utf-16\"?><request><OldPassword>{OLD}</OldPassword>\
         <NewPassword>Grüße-aus-Köln-2026</NewPassword></request>"
    ));
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("wide", OLD))
        .header(CONTENT_TYPE, "text/xml; charset=utf-16")
        .header(ACCEPT, "text/xml")
        .header("accept-charset", "utf-16")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-16");
    let bytes = r.bytes().unwrap();
    assert_eq!(
        bytes.as_ref(),
        utf16le_with_bom(
            r#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">true</boolean>"#
        )
    );
    // The non-ASCII new password was stored as sent.
    let (status, _, body) = text(post_json(
        &server,
        &basic("wide", "Grüße-aus-Köln-2026"),
        json_body("nope", "whatever-else-1"),
    ));
    assert_eq!((status, body.as_str()), (200, "false"));
}

#[test]
fn form_json_patch_and_merge_patch_all_change_the_password() {
    let server = server_with_user("multi");
    let cases = [
        ("application/x-www-form-urlencoded", format!("OldPassword={OLD}&NewPassword=first-new-one-77")),
        (
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/OldPassword","value":"first-new-one-77"},{"op":"add","path":"newpassword","value":"second-new-one-88"}]"#.to_owned(),
        ),
        (
            "application/merge-patch+json",
            r#"{"OldPassword":"second-new-one-88","NewPassword":"third-new-one-99"}"#.to_owned(),
        ),
    ];
    let mut current = OLD.to_owned();
    for (media, body) in cases {
        let r = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, basic("multi", &current))
            .header(CONTENT_TYPE, media)
            .body(body)
            .send()
            .unwrap();
        let (status, headers, body) = text(r);
        assert_eq!((status, body.as_str()), (200, "true"), "{media}");
        // No Accept header: JSON, whatever the request's type (SPEC §3).
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        current = match media {
            "application/x-www-form-urlencoded" => "first-new-one-77",
            "application/json-patch+json" => "second-new-one-88",
            _ => "third-new-one-99",
        }
        .to_owned();
    }
}

#[test]
fn failed_patch_test_is_409_and_changes_nothing() {
    let server = server_with_user("patch");
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("patch", OLD))
        .header(CONTENT_TYPE, "application/json-patch+json")
        .body(format!(
            r#"[{{"op":"add","path":"/OldPassword","value":"{OLD}"}},{{"op":"test","path":"/NewPassword","value":"x"}},{{"op":"add","path":"/NewPassword","value":"{NEW}"}}]"#
        ))
        .send()
        .unwrap();
    let (status, _, body) = text(r);
    assert_eq!(status, 409);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ErrorType"], "PatchTestFailed");
    let (status, _, _) = text(post_json(
        &server,
        &basic("patch", OLD),
        json_body("x", "y"),
    ));
    assert_eq!(status, 200, "the old password still works");
}

#[test]
fn media_type_errors() {
    let server = server_with_user("media");
    let auth = basic("media", OLD);
    let send = |ct: Option<&str>, body: &str| {
        let mut rb = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, &auth)
            .body(body.to_owned());
        if let Some(ct) = ct {
            rb = rb.header(CONTENT_TYPE, ct);
        }
        text(rb.send().unwrap())
    };
    let (status, headers, body) = send(Some("text/plain"), "hello");
    assert_eq!(status, 415);
    assert!(
        headers["accept-post"]
            .to_str()
            .unwrap()
            .contains("application/merge-patch+json")
    );
    assert!(body.contains("UnsupportedMediaType"));
    let (status, _, _) = send(None, "{}");
    assert_eq!(status, 415, "a body without Content-Type");
    let (status, _, _) = send(Some("application/json; charset=latin1"), "{}");
    assert_eq!(status, 415, "an unsupported charset");
    let (status, _, body) = send(Some("application/json"), "");
    assert_eq!(status, 400, "an empty body: {body}");
    let (status, _, body) = send(
        Some("application/json"),
        "{\"OldPassword\": \"secret-value\",}",
    );
    assert_eq!(status, 400);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["MessageDetail"]
            .as_str()
            .unwrap()
            .contains("line 1, column"),
        "{doc}"
    );
    assert!(
        !body.contains("secret-value"),
        "a 400 never echoes a password"
    );
    let (status, _, body) = send(
        Some("application/xml"),
        "<!DOCTYPE x [<!ENTITY a \"b\">]><r><OldPassword>&a;</OldPassword></r>",
    );
    assert_eq!(status, 400, "{body}");
    let big = format!(
        "{{\"OldPassword\":\"{}\",\"NewPassword\":\"x\"}}",
        "a".repeat(70_000)
    );
    let (status, _, body) = send(Some("application/json"), &big);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("PayloadTooLarge"));
}

#[test]
fn get_describes_and_other_methods_are_405() {
    let server = Server::start(&[]);
    let r = client()
        .get(server.url(ENDPOINT))
        .header(ACCEPT, "application/json")
        .send()
        .unwrap();
    let (status, _, body) = text(r);
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["Method"], "POST");
    let r = client()
        .get(server.url(ENDPOINT))
        .header(
            ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/password");
    let r = client().put(server.url(ENDPOINT)).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let r = client()
        .get(server.url("/api/v1/Agents/User/Nothing"))
        .send()
        .unwrap();
    let (status, _, body) = text(r);
    assert_eq!(status, 404);
    assert!(body.contains("\"ErrorType\":\"NotFound\""), "{body}");
}

#[test]
fn path_is_case_insensitive_and_tolerates_one_trailing_slash() {
    let server = server_with_user("paths");
    for path in [
        "/API/V1/agents/user/changeownpassword",
        "/api/v1/Agents/User/ChangeOwnPassword/",
    ] {
        let r = client()
            .post(server.url(path))
            .header(AUTHORIZATION, basic("paths", OLD))
            .header(CONTENT_TYPE, "application/json")
            .body(json_body("wrong-old", "whatever-else-1"))
            .send()
            .unwrap();
        assert_eq!(r.headers()["x-reason"], "old-password-mismatch", "{path}");
    }
    let r = client()
        .post(server.url("/api/v1/Agents/User/ChangeOwnPassword//"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[test]
fn invalid_select_is_400_and_a_valid_one_changes_nothing() {
    let server = server_with_user("sel");
    let send = |query: &str| {
        text(
            client()
                .post(server.url(&format!("{ENDPOINT}?{query}")))
                .header(AUTHORIZATION, basic("sel", OLD))
                .header(CONTENT_TYPE, "application/json")
                .body(json_body("not-it", "whatever-else-1"))
                .send()
                .unwrap(),
        )
    };
    let (status, _, body) = send("$select=name,department,category/id");
    assert_eq!((status, body.as_str()), (200, "false"));
    let (status, _, _) = send("$select=name;drop%20table");
    assert_eq!(status, 400);
}

#[test]
fn partner_apps_are_refused_only_online_and_online_mode_needs_the_user_agent() {
    // On-site, SuperOffice does not check application tokens (SPEC §4): the header is
    // ignored, and an empty one is no token anywhere.
    let server = server_with_user("app");
    let with_token = |server: &Server, password: &str, new: &str, token: &str| {
        text(
            client()
                .post(server.url(ENDPOINT))
                .header(AUTHORIZATION, basic("app", password))
                .header("SO-AppToken", token)
                .header(CONTENT_TYPE, "application/json")
                .body(json_body(password, new))
                .send()
                .unwrap(),
        )
    };
    let (status, _, body) = with_token(&server, OLD, NEW, "anything");
    assert_eq!((status, body.as_str()), (200, "true"), "on-site");

    let online = Server::start(&["--online"]);
    online.add_user("app", OLD);
    let (status, _, body) = text(post_json(&online, &basic("app", OLD), json_body(OLD, NEW)));
    assert_eq!(status, 403);
    assert!(body.contains("\"ErrorType\":\"Forbidden\""));

    let enabled = Server::start(&["--online", "--enable-user-agent"]);
    enabled.add_user("app", OLD);
    let (status, _, body) = with_token(&enabled, OLD, NEW, "1234567-1234-9876");
    assert_eq!(status, 403, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ErrorType"], "PartnerAppForbidden");
    assert_eq!(
        doc["Message"],
        "User management is not allowed for partner apps."
    );
    let (status, _, body) = with_token(&enabled, OLD, NEW, "");
    assert_eq!(
        (status, body.as_str()),
        (200, "true"),
        "an empty token is none"
    );
    let (status, _, body) = text(post_json(&enabled, &basic("app", NEW), json_body(NEW, OLD)));
    assert_eq!((status, body.as_str()), (200, "true"));
}

#[test]
fn tickets_and_tokens_authenticate_and_a_change_revokes_the_others() {
    let server = server_with_user("tix");
    let ticket = server.ticket("tix");
    let other_ticket = server.ticket("tix");
    let token = server.token("tix");
    assert!(
        ticket.starts_with("7T:") && ticket.len() >= 3 + 22,
        "{ticket}"
    );
    assert!(token.starts_with("8A:") && token.len() >= 3 + 22, "{token}");

    let (status, _, body) = text(post_json(
        &server,
        &format!("Bearer {token}"),
        json_body("wrong", "whatever-else-1"),
    ));
    assert_eq!((status, body.as_str()), (200, "false"));
    let (status, _, body) = text(post_json(
        &server,
        &format!("SOTicket {ticket}"),
        json_body(OLD, NEW),
    ));
    assert_eq!((status, body.as_str()), (200, "true"));
    // The ticket that made the change still works; the other ticket and the token do not.
    let (status, _, _) = text(post_json(
        &server,
        &format!("SOTicket {ticket}"),
        json_body("wrong", "whatever-else-1"),
    ));
    assert_eq!(status, 200);
    for revoked in [
        format!("SOTicket {other_ticket}"),
        format!("Bearer {token}"),
    ] {
        let (status, _, _) = text(post_json(
            &server,
            &revoked,
            json_body("wrong", "whatever-else-1"),
        ));
        assert_eq!(status, 401, "{revoked:.12}");
    }
    let (status, _, _) = text(post_json(
        &server,
        "SOTicket 7T:not-a-real-ticket",
        json_body(OLD, NEW),
    ));
    assert_eq!(status, 401);
}

/// `count` changes with wrong old passwords, each refused with `old-password-mismatch`.
fn send_wrong_old_passwords(server: &Server, auth: &str, count: usize) {
    for i in 0..count {
        let (status, headers, _) = text(post_json(
            server,
            auth,
            json_body(&format!("wrong-{i}"), NEW),
        ));
        assert_eq!(status, 200, "attempt {i}");
        assert_eq!(headers["x-reason"], "old-password-mismatch");
    }
}

#[test]
fn wrong_old_passwords_are_throttled_then_even_the_right_one_waits() {
    let server = server_with_user("slow");
    let auth = basic("slow", OLD);
    send_wrong_old_passwords(&server, &auth, 5);
    let (status, headers, body) = text(post_json(&server, &auth, json_body(OLD, NEW)));
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ErrorType"], "TooManyRequests");
    assert!(
        doc["Message"].as_str().unwrap().contains("Try again after"),
        "{doc}"
    );
}

/// The throttle's settings reach the server: with `--throttle-failures 2` and
/// `--throttle-wait 5m` the third change after two wrong old passwords waits five minutes.
#[test]
fn the_change_throttle_follows_its_options() {
    let server = Server::start(&["--throttle-failures", "2", "--throttle-wait", "5m"]);
    server.add_user("tuned", OLD);
    let auth = basic("tuned", OLD);
    send_wrong_old_passwords(&server, &auth, 2);
    let (status, headers, body) = text(post_json(&server, &auth, json_body(OLD, NEW)));
    assert_eq!(status, 429, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((240..=300).contains(&retry), "{retry}");
}

#[test]
fn strict_accept_answers_406_and_compatibility_falls_back() {
    let server = server_with_user("acc");
    let strict = Server::start(&["--strict-accept"]);
    strict.add_user("acc", OLD);
    let send = |s: &Server, accept: &str| {
        text(
            client()
                .post(s.url(ENDPOINT))
                .header(AUTHORIZATION, basic("acc", OLD))
                .header(CONTENT_TYPE, "application/xml")
                .header(ACCEPT, accept)
                .body("<r><OldPassword>nope</OldPassword><NewPassword>whatever-else-1</NewPassword></r>")
                .send()
                .unwrap(),
        )
    };
    let (status, headers, body) = send(&server, "image/png");
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"], "application/xml; charset=utf-8",
        "the request's type"
    );
    assert!(body.ends_with(">false</boolean>"));
    let (status, headers, body) = send(&strict, "image/png");
    assert_eq!(status, 406);
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ErrorType"], "NotAcceptable");
    assert!(
        doc["MessageDetail"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    let (status, headers, _) = send(&server, "application/*;q=0.2, application/xml;q=0");
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
}

#[test]
fn problem_documents_only_when_named() {
    let server = Server::start(&[]);
    let r = client()
        .post(server.url(ENDPOINT))
        .header(ACCEPT, "application/problem+json")
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .unwrap();
    let (status, headers, body) = text(r);
    assert_eq!(status, 401);
    assert_eq!(
        headers["content-type"],
        "application/problem+json; charset=utf-8"
    );
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["status"], 401);
    assert_eq!(doc["errorType"], "Unauthorized");
    let r = client()
        .post(server.url(ENDPOINT))
        .header(ACCEPT, "application/problem+xml")
        .send()
        .unwrap();
    let (_, headers, body) = text(r);
    assert_eq!(
        headers["content-type"],
        "application/problem+xml; charset=utf-8"
    );
    assert!(
        body.starts_with(r#"<problem xmlns="urn:ietf:rfc:7807">"#),
        "{body}"
    );
}

#[test]
fn messages_follow_the_language_headers() {
    let server = Server::start(&[]);
    let send = |headers: &[(&str, &str)]| {
        let mut rb = client().post(server.url(ENDPOINT));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        language_and_message(rb.send().unwrap())
    };
    let (lang, en) = send(&[]);
    assert_eq!(lang.as_deref(), Some("en"));
    let (lang, sv) = send(&[("Accept-Language", "sv-SE,sv;q=0.9")]);
    assert_eq!(lang.as_deref(), Some("sv"));
    assert_ne!(sv, en);
    let (lang, _) = send(&[("Accept-Language", "sv"), ("SO-Language", "de")]);
    assert_eq!(
        lang.as_deref(),
        Some("de"),
        "SO-Language beats Accept-Language"
    );
    let (lang, _) = send(&[("Accept-Language", "nb-NO")]);
    assert_eq!(lang.as_deref(), Some("no"));
    let (lang, message) = send(&[("SO-Language", "x")]);
    assert_eq!(lang, None);
    assert_eq!(message, "[SR_UNAUTHORIZED]");
}

#[test]
fn concurrent_changes_from_the_same_old_password_give_exactly_one_true() {
    let server = server_with_user("race");
    let results: Vec<(u16, String, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = ["winner-a-password-1", "winner-b-password-2"]
            .into_iter()
            .map(|new| {
                let server = &server;
                s.spawn(move || {
                    let (status, _, body) =
                        text(post_json(server, &basic("race", OLD), json_body(OLD, new)));
                    (status, body, new.to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = results
        .iter()
        .filter(|(s, b, _)| *s == 200 && b == "true")
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results
        .iter()
        .find(|(s, b, _)| !(*s == 200 && b == "true"))
        .unwrap();
    assert!(
        loser.0 == 401 || (loser.0 == 200 && loser.1 == "false"),
        "{loser:?}"
    );
    let (status, _, _) = text(post_json(
        &server,
        &basic("race", &winners[0].2),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(status, 200, "the winner's password works");
    let (status, _, _) = text(post_json(
        &server,
        &basic("race", &loser.2),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(status, 401, "the loser's password does not");
}

#[test]
fn default_argon2_parameters_are_used_when_not_overridden() {
    let scratch = agentgate_blackbox::Scratch::new("owasp");
    let db = format!("sqlite://{}", scratch.path().join("a.db").display());
    let server = Server::start_on(&db, &[], None);
    server.add_user("owasp", OLD);
    let (status, _, body) = text(post_json(
        &server,
        &basic("owasp", OLD),
        json_body(OLD, NEW),
    ));
    assert_eq!((status, body.as_str()), (200, "true"));
}

#[test]
fn health_and_metrics_and_openapi() {
    let server = server_with_user("ops");
    let (status, _, _) = text(client().get(server.url("/healthz")).send().unwrap());
    assert_eq!(status, 200);
    let _ = post_json(
        &server,
        &basic("ops", OLD),
        json_body("nope", "whatever-else-1"),
    );
    let (status, _, body) = text(client().get(server.url("/metrics")).send().unwrap());
    assert_eq!(status, 200);
    assert!(body.contains("agentgate_requests_total"), "{body}");
    assert!(body.contains("outcome=\"old-password-mismatch\""), "{body}");
    let (status, _, body) = text(client().get(server.url("/openapi.json")).send().unwrap());
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
}

#[test]
fn cli_exit_codes_and_one_line_errors() {
    let scratch = agentgate_blackbox::Scratch::new("cli");
    let db = format!("sqlite://{}", scratch.path().join("cli.db").display());
    let out = agentgate_blackbox::cli(&db, &["ticket", "issue"], None);
    assert_eq!(out.status.code(), Some(2), "usage error");
    let out = agentgate_blackbox::cli(&db, &["ticket", "issue", "ghost"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("agentgate: "), "{stderr}");
    let out = agentgate_blackbox::cli(
        &db,
        &["user", "add", "carol", "--password-stdin"],
        Some(OLD),
    );
    assert_eq!(out.status.code(), Some(0));
    let out = agentgate_blackbox::cli(
        &db,
        &["user", "add", "CAROL", "--password-stdin"],
        Some(OLD),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "duplicate user names differ only in case"
    );
    // --database after or before the subcommand's own arguments.
    let out = std::process::Command::new(agentgate_blackbox::binary())
        .args([
            "--database",
            &db,
            "ticket",
            "issue",
            "carol",
            "--ttl",
            "30s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .starts_with("7T:")
    );
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut server = Server::start(&[]);
    assert!(
        server.terminate(Duration::from_secs(35)),
        "agentgate exits on SIGTERM"
    );
}

#[test]
fn every_response_type_carries_the_answer() {
    let server = server_with_user("types");
    let ticket = server.ticket("types");
    let xml_true =
        r#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">false</boolean>"#;
    for (accept, body) in [
        ("application/json", "false"),
        ("text/json", "false"),
        ("application/xml", xml_true),
        ("text/xml", xml_true),
        ("application/json-patch+json", "false"),
        ("application/merge-patch+json", "false"),
    ] {
        let r = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, format!("SOTicket {ticket}"))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, accept)
            .body(json_body(OLD, "short"))
            .send()
            .unwrap();
        let (status, headers, text) = text(r);
        assert_eq!(status, 200, "{accept}");
        assert_eq!(headers["content-type"], format!("{accept}; charset=utf-8"));
        assert_eq!(text, body, "{accept}");
    }
}

#[test]
fn a_restart_keeps_users_changes_and_revocations() {
    let scratch = agentgate_blackbox::Scratch::new("restart");
    let db = format!("sqlite://{}", scratch.path().join("keep.db").display());
    let args = agentgate_blackbox::FAST_HASH;
    let (kept_ticket, revoked_ticket) = {
        let server = Server::start_on(&db, &args, None);
        server.add_user("keep", OLD);
        let kept = server.ticket("keep");
        let revoked = server.ticket("keep");
        let (status, _, body) = text(post_json(
            &server,
            &format!("SOTicket {kept}"),
            json_body(OLD, NEW),
        ));
        assert_eq!((status, body.as_str()), (200, "true"));
        (kept, revoked)
    };
    let server = Server::start_on(&db, &args, None);
    let (status, _, body) = text(post_json(
        &server,
        &basic("keep", NEW),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(
        (status, body.as_str()),
        (200, "false"),
        "the new password survives the restart"
    );
    let (status, _, _) = text(post_json(
        &server,
        &basic("keep", OLD),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(status, 401, "the old one stays dead");
    let (status, _, _) = text(post_json(
        &server,
        &format!("SOTicket {kept_ticket}"),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(status, 200, "the ticket that made the change survives");
    let (status, _, _) = text(post_json(
        &server,
        &format!("SOTicket {revoked_ticket}"),
        json_body("x", "whatever-else-1"),
    ));
    assert_eq!(status, 401, "the revocation survives");
}

#[test]
fn busy_hashing_pool_answers_503_with_retry_after_and_changes_nothing() {
    // One hashing thread and no queue: of many simultaneous changes at the default Argon2
    // parameters, the surplus must be refused at once rather than queued without bound.
    let scratch = agentgate_blackbox::Scratch::new("busy");
    let db = format!("sqlite://{}", scratch.path().join("b.db").display());
    let server = Server::start_on(
        &db,
        &["--hashing-threads", "1", "--hashing-queue", "0"],
        Some(scratch),
    );
    for i in 0..8 {
        server.add_user(&format!("busy{i}"), OLD);
    }
    let results: Vec<(u16, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let server = &server;
                s.spawn(move || {
                    let r = post_json(
                        server,
                        &basic(&format!("busy{i}"), OLD),
                        json_body(OLD, NEW),
                    );
                    let retry = r
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned());
                    (r.status().as_u16(), retry)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let busy: Vec<_> = results.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "{results:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()), "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{results:?}"
    );
    for (i, (status, _)) in results.iter().enumerate() {
        let password = if *status == 200 { NEW } else { OLD };
        let (s, _, _) = text(post_json(
            &server,
            &basic(&format!("busy{i}"), password),
            json_body("x", "whatever-else-1"),
        ));
        assert_ne!(s, 401, "user busy{i} kept a working password");
    }
}

/// SPEC §4, as ASP.NET Web API 2 orders them (authorization before model binding): the
/// body limit, then the credentials, then the body, then the XSRF token.
#[test]
fn checks_come_in_order_body_limit_then_credentials_then_body() {
    let server = server_with_user("ord");
    let send = |auth: Option<&str>, content_type: &str, body: &str| {
        let mut request = client()
            .post(server.url(ENDPOINT))
            .header(CONTENT_TYPE, content_type);
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth);
        }
        let r = request.body(body.to_owned()).send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        (status, body)
    };
    let wrong = basic("ord", "not-the-password");
    let right = basic("ord", OLD);
    for (auth, content_type, body, status, error_type) in [
        (
            Some(wrong.as_str()),
            "application/json",
            "{\"OldPassword\": ",
            401,
            "Unauthorized",
        ),
        (
            Some(wrong.as_str()),
            "text/plain",
            "hello",
            401,
            "Unauthorized",
        ),
        (
            None,
            "application/json",
            "{\"OldPassword\": ",
            401,
            "Unauthorized",
        ),
        (
            Some("Digest abc"),
            "text/plain",
            "hello",
            401,
            "Unauthorized",
        ),
        (
            Some(right.as_str()),
            "text/plain",
            "hello",
            415,
            "UnsupportedMediaType",
        ),
        (
            Some(right.as_str()),
            "application/json",
            "{\"OldPassword\": ",
            400,
            "BadRequest",
        ),
    ] {
        let (got, body) = send(auth, content_type, body);
        assert_eq!(got, status, "{auth:?} {content_type}: {body}");
        assert!(body.contains(error_type), "{body}");
    }
    // Too large is said before anything else, credentials or not.
    let big = "x".repeat(70_000);
    for auth in [None, Some(wrong.as_str())] {
        let (status, body) = send(auth, "text/plain", &big);
        assert_eq!(status, 413, "{auth:?}: {body}");
    }
}

/// SPEC §5: two `Authorization` headers are bad credentials, whichever comes first.
#[test]
fn two_authorization_headers_are_refused_whatever_their_order() {
    let server = server_with_user("two");
    let good = basic("two", OLD);
    let bad = basic("two", "wrong-password");
    for pair in [[&good, &bad], [&bad, &good], [&good, &good]] {
        let r = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, pair[0].as_str())
            .header(AUTHORIZATION, pair[1].as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(json_body(OLD, NEW))
            .send()
            .unwrap();
        let (status, headers, body) = text(r);
        assert_eq!(status, 401, "{body}");
        assert!(headers.contains_key("www-authenticate"));
    }
    // The password is unchanged: one header still works.
    let (status, _, body) = text(post_json(&server, &good, json_body(OLD, NEW)));
    assert_eq!((status, body.as_str()), (200, "true"));
}

/// SPEC §8: every response says `X-Content-Type-Options: nosniff`, pages and plain text
/// and refusals included.
#[test]
fn every_response_carries_nosniff() {
    let server = server_with_user("sniff");
    let get = |path: &str| client().get(server.url(path)).send().unwrap();
    let responses = [
        get("/healthz"),
        get("/login"),
        get("/openapi.json"),
        get("/metrics"),
        get("/no/such/page"),
        get("/api/v1/nothing"),
        get("/assets/agentgate.css"),
        get("/Remote/Services88/User.svc?wsdl"),
        post_json(&server, &basic("sniff", "wrong"), json_body(OLD, NEW)),
        post_json(&server, &basic("sniff", OLD), json_body("wrong", NEW)),
    ];
    for r in responses {
        let url = r.url().to_string();
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{url}"
        );
        assert!(
            !r.headers().contains_key("strict-transport-security"),
            "no HSTS without TLS: {url}"
        );
    }
}

/// Issue 18: with `SO-Language: sv` every text of a problem document a language reaches is
/// Swedish, and the parser's position is kept apart from the Swedish sentence.
#[test]
fn a_problem_document_in_swedish_keeps_the_technical_detail_apart() {
    let server = server_with_user("sven");
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("sven", OLD))
        .header(ACCEPT, "application/problem+json")
        .header("SO-Language", "sv")
        .header(CONTENT_TYPE, "application/json")
        .body("{\"OldPassword\": ")
        .send()
        .unwrap();
    let (status, headers, body) = text(r);
    assert_eq!(status, 400, "{body}");
    assert_eq!(headers["content-language"], "sv");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["title"], "Begäran är ogiltig.", "{doc}");
    let detail = doc["detail"].as_str().unwrap();
    assert!(detail.contains("line 1, column"), "{doc}");
    assert!(!detail.contains("Begäran"), "not mixed: {doc}");
    assert_ne!(doc["title"], "Bad Request");

    // Without a technical detail, the detail is the Swedish message too.
    let r = client()
        .post(server.url(ENDPOINT))
        .header(ACCEPT, "application/problem+json")
        .header("SO-Language", "sv")
        .header(CONTENT_TYPE, "application/json")
        .body(json_body(OLD, NEW))
        .send()
        .unwrap();
    let (status, _, body) = text(r);
    assert_eq!(status, 401);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["title"], doc["detail"], "{doc}");
    assert_eq!(
        doc["title"], "Åtkomst nekades för den här begäran.",
        "{doc}"
    );
}
