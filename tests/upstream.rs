//! Black-box tests of upstream mode (SPEC §10): a gateway (`agentgate serve --upstream`) in
//! front of an origin that is a second agentgate in local mode (it speaks NetServer's JSON
//! API), each a real process with its own store, and between them the recording proxy of
//! `upstream/proxy.rs`, which shows what crosses and can delay it, cut it or go away.

use std::time::Duration;

use agentgate_blackbox::{ENDPOINT, Server, basic, binary, client, wait_until};
use reqwest::blocking::Response;

#[path = "upstream/proxy.rs"]
mod proxy;

use proxy::{Mode, Proxy};

const JSON: &str = "application/json; charset=utf-8";

/// An origin, the proxy in front of it, and a gateway whose upstream is the proxy.
struct Chain {
    origin: Server,
    proxy: Proxy,
    gateway: Server,
}

impl Chain {
    fn start(gateway_flags: &[&str]) -> Chain {
        Chain::start_with(&[], gateway_flags)
    }

    fn start_with(origin_flags: &[&str], gateway_flags: &[&str]) -> Chain {
        let origin = Server::start(origin_flags);
        let proxy = Proxy::start(&origin.base);
        let url = proxy.url();
        let mut flags = vec!["--upstream", url.as_str()];
        flags.extend_from_slice(gateway_flags);
        let gateway = Server::start(&flags);
        Chain {
            origin,
            proxy,
            gateway,
        }
    }

    /// Adds users at the origin, cheaply hashed (the origin re-hashes on the first change).
    fn add_users(&self, users: &[(&str, &str)]) {
        add_users(&self.origin, users);
    }

    fn post(&self, headers: &[(&str, &str)], body: impl Into<reqwest::blocking::Body>) -> Response {
        post(&self.gateway, headers, body)
    }
}

/// Adds users to a server's store, cheaply hashed (it re-hashes on the first change).
fn add_users(server: &Server, users: &[(&str, &str)]) {
    for (username, password) in users {
        let mut child = std::process::Command::new(binary())
            .args(["user", "add", username, "--password-stdin"])
            .args(["--database", &server.database])
            .env_remove("AGENTGATE_CONFIG")
            .env("AGENTGATE_ARGON2_MEMORY_KIB", "1024")
            .env("AGENTGATE_ARGON2_ITERATIONS", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "user add {username}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn post(
    server: &Server,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::blocking::Body>,
) -> Response {
    let mut request = client().post(server.url(ENDPOINT));
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body).send().unwrap()
}

fn json(r: Response) -> serde_json::Value {
    let text = r.text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn json_body(old: &str, new: &str) -> String {
    serde_json::json!({"OldPassword": old, "NewPassword": new}).to_string()
}

/// Whether `password` is `username`'s password at the origin: a change to the same password
/// authenticates and is refused by the policy (`password-unchanged`), which costs no
/// throttle place; a wrong one is 401.
fn holds_at_origin(origin: &Server, username: &str, password: &str) -> bool {
    let r = post(
        origin,
        &[
            ("Authorization", &basic(username, password)),
            ("Content-Type", JSON),
        ],
        json_body(password, password),
    );
    match r.status().as_u16() {
        200 => {
            assert_eq!(r.headers()["x-reason"], "password-unchanged");
            true
        }
        401 => false,
        other => panic!("origin answered {other}: {}", r.text().unwrap()),
    }
}

fn pw(user: &str, n: usize) -> String {
    format!("Quartz-Harbor-{user}-{n}-lantern")
}

/// The request body of each of the seven request formats (SPEC §2).
fn bodies(old: &str, new: &str) -> Vec<(&'static str, String)> {
    let xml = |root: &str| {
        format!("<{root}><OldPassword>{old}</OldPassword><NewPassword>{new}</NewPassword></{root}>")
    };
    let form = serde_urlencoded::to_string([("OldPassword", old), ("NewPassword", new)]).unwrap();
    vec![
        ("application/json", json_body(old, new)),
        ("text/json", json_body(old, new)),
        (
            "application/xml",
            format!(
                r#"<ChangeOwnPasswordRequest xmlns="http://schemas.datacontract.org/2004/07/SuperOffice" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><NewPassword>{new}</NewPassword><OldPassword>{old}</OldPassword></ChangeOwnPasswordRequest>"#
            ),
        ),
        ("text/xml", xml("request")),
        ("application/x-www-form-urlencoded", form),
        (
            "application/json-patch+json",
            serde_json::json!([
                {"op": "replace", "path": "/OldPassword", "value": old},
                {"op": "replace", "path": "/NewPassword", "value": new},
            ])
            .to_string(),
        ),
        ("application/merge-patch+json", json_body(old, new)),
    ]
}

const XML_TRUE: &str =
    r#"<boolean xmlns="http://schemas.microsoft.com/2003/10/Serialization/">true</boolean>"#;

#[test]
fn every_format_and_credential_changes_the_password_at_the_origin() {
    let chain = Chain::start(&[]);
    chain.add_users(&[
        ("basic1", &pw("basic1", 0)),
        ("ticket1", &pw("ticket1", 0)),
        ("token1", &pw("token1", 0)),
    ]);
    let ticket = chain.origin.ticket("ticket1");
    let token = chain.origin.token("token1");
    let accepts = [
        ("application/json", "true"),
        ("text/json", "true"),
        ("application/xml", XML_TRUE),
        ("text/xml", XML_TRUE),
        ("application/json-patch+json", "true"),
        ("application/merge-patch+json", "true"),
        ("application/xml", XML_TRUE),
    ];
    for user in ["basic1", "ticket1", "token1"] {
        for (k, &(accept, expected)) in accepts.iter().enumerate() {
            let (old, new) = (pw(user, k), pw(user, k + 1));
            let (content_type, body) = bodies(&old, &new).swap_remove(k);
            let authorization = match user {
                "basic1" => basic(user, &old),
                "ticket1" => format!("SOTicket {ticket}"),
                _ => format!("Bearer {token}"),
            };
            // One request of each credential in UTF-16, both ways.
            let (content_type, body) = if k == 3 {
                let mut utf16 = vec![0xff, 0xfe];
                utf16.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
                (format!("{content_type}; charset=utf-16"), utf16)
            } else {
                (content_type.to_owned(), body.into_bytes())
            };
            let charset = if k == 2 { "utf-16" } else { "utf-8" };
            let r = chain.post(
                &[
                    ("Authorization", &authorization),
                    ("Content-Type", &content_type),
                    ("Accept", accept),
                    ("Accept-Charset", charset),
                ],
                body,
            );
            let status = r.status().as_u16();
            let media = r.headers()["content-type"].to_str().unwrap().to_owned();
            let bytes = r.bytes().unwrap();
            let text = if charset == "utf-16" {
                assert_eq!(&bytes[..2], [0xff, 0xfe], "{user} {content_type}");
                let units: Vec<u16> = bytes[2..]
                    .chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                String::from_utf16(&units).unwrap()
            } else {
                String::from_utf8(bytes.to_vec()).unwrap()
            };
            assert_eq!(status, 200, "{user} {content_type}: {text}");
            assert_eq!(text, expected, "{user} {content_type}");
            assert_eq!(media, format!("{accept}; charset={charset}"), "{user}");
        }
        // The origin's store holds the last new password, not the one before it.
        let last = pw(user, 7);
        assert!(holds_at_origin(&chain.origin, user, &last), "{user}");
        assert!(
            !holds_at_origin(&chain.origin, user, &pw(user, 6)),
            "{user}"
        );
    }
    // The gateway's store keeps the audit trail: who (when the credential names a user),
    // what, how it went; never a secret.
    let audit = std::process::Command::new("sqlite3")
        .arg(chain.gateway.database.trim_start_matches("sqlite://"))
        .arg("SELECT username, action, outcome, client_address FROM audit_events ORDER BY id")
        .output()
        .expect("the sqlite3 shell (scripts/test installs it)");
    let audit = String::from_utf8(audit.stdout).unwrap();
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 21, "{audit}");
    assert_eq!(lines[0], "basic1|change-password|changed|127.0.0.1");
    assert_eq!(lines[20], "|change-password|changed|127.0.0.1");
    assert!(!audit.contains("Quartz"), "{audit}");
}

#[test]
fn a_false_is_upstream_refused_and_errors_come_in_the_callers_terms() {
    let chain = Chain::start(&[]);
    let old = pw("rita", 0);
    chain.add_users(&[("rita", &old)]);
    let auth = basic("rita", &old);
    // A wrong old password and a weak new one: NetServer gives no reason, nor does the
    // gateway invent one.
    for (body, accept, expected) in [
        (
            json_body("not-the-password-1", &pw("rita", 1)),
            "application/json",
            "false",
        ),
        (
            json_body(&old, "abc12345"),
            "text/xml",
            "<boolean xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">false</boolean>",
        ),
    ] {
        let r = chain.post(
            &[
                ("Authorization", &auth),
                ("Content-Type", JSON),
                ("Accept", accept),
            ],
            body,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-reason"], "upstream-refused");
        assert_eq!(r.text().unwrap(), expected);
    }
    assert!(holds_at_origin(&chain.origin, "rita", &old));

    // A browser that prefers HTML gets the page, localized.
    let r = chain.post(
        &[
            ("Authorization", &auth),
            ("Content-Type", JSON),
            ("Accept", "text/html"),
            ("Accept-Language", "sv"),
        ],
        json_body("not-the-password-2", &pw("rita", 1)),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-reason"], "upstream-refused");
    assert_eq!(r.headers()["content-language"], "sv");
    assert!(r.text().unwrap().contains("Lösenordet ändrades inte."));

    // Bad credentials: 401 with the challenges of §4, as a problem document, in Swedish.
    let r = chain.post(
        &[
            ("Authorization", &basic("rita", "wrong-password-3")),
            ("Content-Type", JSON),
            ("Accept", "application/problem+json"),
            ("SO-Language", "sv"),
        ],
        json_body("wrong-password-3", &pw("rita", 1)),
    );
    assert_eq!(r.status(), 401);
    let challenges: Vec<_> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        challenges,
        [
            r#"Basic realm="agentgate", charset="UTF-8""#,
            "SOTicket",
            "Bearer"
        ]
    );
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json; charset=utf-8"
    );
    assert_eq!(r.headers()["content-language"], "sv");
    let doc = json(r);
    assert_eq!(doc["status"], 401);
    assert_eq!(doc["errorType"], "Unauthorized");
    assert_eq!(doc["detail"], "Åtkomst nekades för den här begäran.");

    // An unknown ticket is the upstream's 401 too, in XML.
    let r = chain.post(
        &[
            ("Authorization", "SOTicket 7T:unknown"),
            ("Content-Type", JSON),
            ("Accept", "application/xml"),
        ],
        json_body(&old, &pw("rita", 1)),
    );
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .unwrap()
            .ends_with("<ErrorType>Unauthorized</ErrorType></Error>")
    );
}

#[test]
fn a_request_refused_here_sends_nothing_upstream() {
    let chain = Chain::start(&["--body-limit", "1024"]);
    let auth = basic("nobody", "some-password-1");
    let good = json_body("some-password-1", "other-password-2");
    // (request headers, body, status, ErrorType)
    type Case<'a> = (Vec<(&'a str, &'a str)>, String, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![("Content-Type", JSON)],
            good.clone(),
            401,
            "Unauthorized",
        ),
        (
            vec![("Authorization", &auth), ("Content-Type", JSON)],
            "{\"OldPassword\": ".to_owned(),
            400,
            "BadRequest",
        ),
        (
            vec![("Authorization", &auth), ("Content-Type", "text/plain")],
            good.clone(),
            415,
            "UnsupportedMediaType",
        ),
        (
            vec![("Authorization", &auth), ("Content-Type", JSON)],
            String::new(),
            400,
            "BadRequest",
        ),
        (
            vec![("Authorization", &auth), ("Content-Type", JSON)],
            format!("{{\"OldPassword\":\"{}\"}}", "x".repeat(2000)),
            413,
            "PayloadTooLarge",
        ),
        (
            vec![
                ("Authorization", &auth),
                ("Authorization", "Bearer 8A:second"),
                ("Content-Type", JSON),
            ],
            good.clone(),
            401,
            "Unauthorized",
        ),
        // The browser form without its XSRF token.
        (
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "username=nobody&OldPassword=some-password-1&NewPassword=other-password-2".into(),
            401,
            "Unauthorized",
        ),
        // A session cookie is no credential upstream.
        (
            vec![
                ("Content-Type", JSON),
                ("Cookie", "agentgate_session=abc"),
                ("X-XSRF-TOKEN", "abc"),
            ],
            good.clone(),
            401,
            "Unauthorized",
        ),
    ];
    for (headers, body, status, error_type) in cases {
        let r = chain.post(&headers, body);
        assert_eq!(r.status().as_u16(), status, "{headers:?}");
        let doc = json(r);
        assert_eq!(doc["ErrorType"], error_type, "{headers:?}");
    }
    assert!(chain.proxy.seen().is_empty(), "{:?}", chain.proxy.seen());
}

#[test]
fn only_what_the_spec_names_crosses_and_the_credential_is_rebuilt() {
    let chain = Chain::start(&[]);
    // A compatibility character and spaces at both ends: passed on exactly as decoded, no
    // NFKC, no trimming (SPEC §10); the origin has its own rules for them.
    let old = " ﬁne-Quartz-Harbor-0 ";
    let new = "Quartz-Harbor-ﬁne-1";
    chain.add_users(&[("hugo", old)]);
    chain.proxy.add_set_cookie();
    use base64::Engine as _;
    let sloppy = format!(
        "bAsIc   {}  ",
        base64::engine::general_purpose::STANDARD.encode(format!("hugo:{old}"))
    );
    let r = chain.post(
        &[
            ("Authorization", &sloppy),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Cookie", "agentgate_session=s1; XSRF-TOKEN=t1; other=o1"),
            ("X-XSRF-TOKEN", "t1"),
            ("SOAPAction", "\"urn:x\""),
            ("Connection", "keep-alive, X-Custom"),
            ("Keep-Alive", "timeout=5"),
            ("X-Custom", "private"),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Request-Id", "upstream-hygiene-1"),
            ("SO-Language", "sv"),
            ("Accept-Language", "da, en;q=0.5"),
            ("SO-Culture", "sv-SE"),
            ("SO-TimeZone", "Europe/Oslo, includeTZOffset"),
            ("SO-AppToken", "partner-app-7"),
        ],
        json_body(old, new),
    );
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none(), "{:?}", r.headers());
    assert_eq!(r.headers()["x-request-id"], "upstream-hygiene-1");
    assert_eq!(r.text().unwrap(), "true");

    let seen = chain.proxy.seen();
    assert_eq!(seen.len(), 1);
    let call = &seen[0];
    assert_eq!(call.line, format!("POST {ENDPOINT} HTTP/1.1"));
    assert_eq!(
        call.header("authorization"),
        Some(basic("hugo", old).as_str())
    );
    assert_eq!(
        call.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(call.header("accept"), Some("application/json"));
    assert_eq!(call.header("x-request-id"), Some("upstream-hygiene-1"));
    // The gateway trusts no proxy here: the peer alone, never the client's own claim.
    assert_eq!(call.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(call.header("so-language"), Some("sv"));
    assert_eq!(call.header("accept-language"), Some("da, en;q=0.5"));
    assert_eq!(call.header("so-culture"), Some("sv-SE"));
    assert_eq!(
        call.header("so-timezone"),
        Some("Europe/Oslo, includeTZOffset")
    );
    assert_eq!(call.header("so-apptoken"), Some("partner-app-7"));
    let body: serde_json::Value = serde_json::from_str(&call.text()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"OldPassword": old, "NewPassword": new})
    );
    let mut names = call.names();
    names.sort();
    // Besides what the spec names: what the client itself writes (Host, Content-Length,
    // its User-Agent and Date, and Accept-Encoding: identity, as it decompresses nothing).
    assert_eq!(call.header("accept-encoding"), Some("identity"));
    assert!(call.header("user-agent").unwrap().starts_with("agentgate/"));
    let mut allowed = vec![
        "accept",
        "accept-encoding",
        "date",
        "accept-language",
        "authorization",
        "content-length",
        "content-type",
        "host",
        "so-apptoken",
        "so-culture",
        "so-language",
        "so-timezone",
        "user-agent",
        "x-forwarded-for",
        "x-request-id",
    ];
    allowed.sort();
    assert_eq!(names, allowed);
    assert!(holds_at_origin(&chain.origin, "hugo", new));

    // The upstream's status and time are in the request's log line; the metrics count it.
    assert!(
        wait_until(Duration::from_secs(10), || chain.gateway.log().lines().any(
            |l| l.contains("upstream-hygiene-1")
                && l.contains("upstream_status=200")
                && l.contains("upstream_ms=")
        )),
        "{}",
        chain.gateway.log()
    );
    let metrics = client()
        .get(chain.gateway.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for needle in [
        r#"agentgate_upstream_requests_total{status="200",outcome="changed"} 1"#,
        "agentgate_upstream_request_duration_seconds_count 1",
        "agentgate_upstream_in_flight 0",
    ] {
        assert!(metrics.contains(needle), "{needle} in\n{metrics}");
    }
}

#[test]
fn a_trusted_proxy_s_forwarded_chain_is_passed_on_with_the_peer_appended() {
    let chain = Chain::start(&["--trusted-proxies", "127.0.0.0/8"]);
    let r = chain.post(
        &[
            ("Authorization", "Bearer 8A:unknown"),
            ("Content-Type", JSON),
            ("X-Forwarded-For", "203.0.113.7"),
        ],
        json_body("a-password-1", "b-password-2"),
    );
    assert_eq!(r.status(), 401);
    let seen = chain.proxy.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].header("x-forwarded-for"),
        Some("203.0.113.7, 127.0.0.1")
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer 8A:unknown"));
}

#[test]
fn origin_down_is_502_and_unhealthy_until_it_comes_back() {
    let mut chain = Chain::start(&[]);
    let old = pw("dora", 0);
    chain.add_users(&[("dora", &old)]);
    let health = |gateway: &Server| {
        client()
            .get(gateway.url("/healthz"))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert!(wait_until(Duration::from_secs(10), || health(
        &chain.gateway
    ) == 200));

    chain.proxy.stop();
    let r = chain.post(
        &[
            ("Authorization", &basic("dora", &old)),
            ("Content-Type", JSON),
        ],
        json_body(&old, &pw("dora", 1)),
    );
    assert_eq!(r.status(), 502);
    let doc = json(r);
    assert_eq!(doc["ErrorType"], "BadGateway");
    // SOAP callers get an s:Server fault.
    let r = client()
        .post(chain.gateway.url("/Remote/Services88/User.svc"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("Authorization", basic("dora", &old))
        .body(envelope(88, None, &old, &pw("dora", 1)))
        .send()
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(
        r.text()
            .unwrap()
            .contains("<faultcode>s:Server</faultcode>")
    );
    // A health check sees it within the 10 s a connect counts, probed every 2 s.
    assert!(
        wait_until(Duration::from_secs(20), || health(&chain.gateway) == 503),
        "healthz stayed 200"
    );
    let body = client()
        .get(chain.gateway.url("/healthz"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, "upstream unreachable\n");

    chain.proxy.restart();
    assert!(
        wait_until(Duration::from_secs(10), || health(&chain.gateway) == 200),
        "healthz did not recover"
    );
    let r = chain.post(
        &[
            ("Authorization", &basic("dora", &old)),
            ("Content-Type", JSON),
        ],
        json_body(&old, &pw("dora", 1)),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "true");
    // The 502s gave their throttle places back: nothing waits.
    assert!(holds_at_origin(&chain.origin, "dora", &pw("dora", 1)));
}

#[test]
fn a_cut_answer_is_502_and_a_slow_one_504_after_exactly_one_request() {
    let chain = Chain::start(&["--upstream-timeout", "1s"]);
    let old = pw("sven", 0);
    chain.add_users(&[("sven", &old)]);
    let auth = basic("sven", &old);

    chain.proxy.set_mode(Mode::Cut);
    let r = chain.post(
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body(&old, &pw("sven", 1)),
    );
    assert_eq!(r.status(), 502);
    assert_eq!(chain.proxy.seen().len(), 1, "never retried");

    chain.proxy.clear();
    chain.proxy.set_mode(Mode::Delay(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let r = chain.post(
        &[
            ("Authorization", &auth),
            ("Content-Type", JSON),
            ("Accept", "text/xml"),
            ("X-Request-Id", "slow-change-1"),
        ],
        json_body(&old, &pw("sven", 1)),
    );
    let took = started.elapsed();
    assert_eq!(r.status(), 504);
    assert!(
        r.text()
            .unwrap()
            .contains("<ErrorType>GatewayTimeout</ErrorType>")
    );
    assert!(
        took < Duration::from_millis(2900),
        "the deadline held: {took:?}"
    );
    // The delayed request reaches the origin after the gateway gave up, and changes the
    // password there (which is why the 504's message says to check): it is the only one.
    assert!(
        wait_until(Duration::from_secs(10), || chain.origin.log().lines().any(
            |l| l.contains("slow-change-1") && l.contains("outcome=\"changed\"")
        )),
        "{}",
        chain.origin.log()
    );
    assert!(holds_at_origin(&chain.origin, "sven", &pw("sven", 1)));
    let changes = chain
        .proxy
        .seen()
        .iter()
        .filter(|s| s.line.starts_with("POST"))
        .count();
    assert_eq!(changes, 1, "exactly one upstream request");
}

#[test]
fn calls_beyond_the_connection_budget_wait_a_second_then_get_503() {
    let chain = Chain::start(&["--upstream-connections", "1"]);
    chain
        .proxy
        .set_mode(Mode::Delay(Duration::from_millis(2500)));
    let slow = {
        let url = chain.gateway.url(ENDPOINT);
        std::thread::spawn(move || {
            client()
                .post(url)
                .header("Authorization", "Bearer 8A:first")
                .header("Content-Type", JSON)
                .body(json_body("a-password-1", "b-password-2"))
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert!(wait_until(Duration::from_secs(10), || !chain
        .proxy
        .seen()
        .is_empty()));
    let started = std::time::Instant::now();
    let r = chain.post(
        &[
            ("Authorization", "Bearer 8A:second"),
            ("Content-Type", JSON),
        ],
        json_body("a-password-1", "b-password-2"),
    );
    let waited = started.elapsed();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert!(
        waited >= Duration::from_millis(900),
        "it waited: {waited:?}"
    );
    assert_eq!(slow.join().unwrap(), 401);
    assert_eq!(chain.proxy.seen().len(), 1);
}

fn envelope(version: u8, ticket: Option<&str>, old: &str, new: &str) -> String {
    let ns = format!("http://www.superoffice.net/ws/crm/NetServer/Services{version}");
    let header = ticket.map_or(String::new(), |t| {
        format!(
            r#"<h:Credentials xmlns:h="{ns}" xmlns="{ns}"><Ticket>{t}</Ticket></h:Credentials><h:TimeZone xmlns:h="{ns}" xmlns="{ns}"><SoTimeZoneId>0</SoTimeZoneId><SoTimeZoneLocationCode>NO</SoTimeZoneLocationCode></h:TimeZone>"#
        )
    });
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>{header}</s:Header><s:Body><ChangeOwnPassword xmlns="{ns}"><OldPassword>{old}</OldPassword><NewPassword>{new}</NewPassword></ChangeOwnPassword></s:Body></s:Envelope>"#
    )
}

#[test]
fn soap_clients_change_the_password_at_the_origin() {
    let chain = Chain::start(&[]);
    chain.add_users(&[("selma", &pw("selma", 0))]);
    let ticket = chain.origin.ticket("selma");
    // Every service version the gateway serves (the codec's list), found by its WSDL.
    let served: Vec<u8> = (70..=99u8)
        .filter(|version| {
            client()
                .get(
                    chain
                        .gateway
                        .url(&format!("/Remote/Services{version}/User.svc?wsdl")),
                )
                .send()
                .unwrap()
                .status()
                == 200
        })
        .collect();
    assert!(
        (84..=88).all(|v| served.contains(&v)),
        "at least 84 to 88: {served:?}"
    );
    let mut k = 0;
    for &version in &served {
        let action = format!(
            "\"http://www.superoffice.net/ws/crm/NetServer/Services{version}/User/ChangeOwnPassword\""
        );
        let r = client()
            .post(
                chain
                    .gateway
                    .url(&format!("/Remote/Services{version}/User.svc")),
            )
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", &action)
            .header("Accept-Language", "de")
            .body(envelope(
                version,
                Some(&ticket),
                &pw("selma", k),
                &pw("selma", k + 1),
            ))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{version}");
        let text = r.text().unwrap();
        assert!(text.contains(">true</h:Succeeded>"), "{version}: {text}");
        k += 1;
        let call = chain.proxy.seen().pop().unwrap();
        assert_eq!(
            call.header("authorization"),
            Some(format!("SOTicket {ticket}").as_str())
        );
        assert_eq!(call.header("soapaction"), None);
        assert_eq!(call.header("so-timezone"), Some("NO"));
        assert_eq!(call.header("accept-language"), Some("de"));
        assert_eq!(
            call.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    assert!(holds_at_origin(&chain.origin, "selma", &pw("selma", k)));

    // A refusal is Succeeded false with the reason code; bad credentials likewise.
    for (ticket, exception_type) in [
        (ticket.as_str(), "upstream-refused"),
        ("7T:nope", "Unauthorized"),
    ] {
        let r = client()
            .post(chain.gateway.url("/Remote/Services88/User.svc"))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("Accept-Language", "de")
            .body(envelope(
                88,
                Some(ticket),
                "wrong-password-9",
                &pw("selma", 99),
            ))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-language"], "de");
        let text = r.text().unwrap();
        assert!(text.contains(">false</h:Succeeded>"), "{text}");
        assert!(
            text.contains(&format!(
                "<h:ExceptionType>{exception_type}</h:ExceptionType>"
            )),
            "{text}"
        );
    }
}

#[test]
fn the_limits_apply_in_front_of_the_upstream() {
    let chain = Chain::start(&[]);
    chain.add_users(&[("tess", &pw("tess", 0)), ("gus", &pw("gus", 0))]);
    // The change throttle, per credential digest: five upstream `false`s with one ticket,
    // then 429 here, without a call; the user's other credentials are not held up.
    let ticket = chain.origin.ticket("tess");
    let with_ticket = format!("SOTicket {ticket}");
    for n in 0..5 {
        let r = chain.post(
            &[("Authorization", &with_ticket), ("Content-Type", JSON)],
            json_body(&format!("wrong-password-{n}"), &pw("tess", 1)),
        );
        assert_eq!(r.status(), 200, "{n}");
        assert_eq!(r.headers()["x-reason"], "upstream-refused");
    }
    let calls = chain.proxy.seen().len();
    let r = chain.post(
        &[("Authorization", &with_ticket), ("Content-Type", JSON)],
        json_body(&pw("tess", 0), &pw("tess", 1)),
    );
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(chain.proxy.seen().len(), calls, "no call while waiting");
    let r = chain.post(
        &[
            ("Authorization", &basic("tess", &pw("tess", 0))),
            ("Content-Type", JSON),
        ],
        json_body(&pw("tess", 0), &pw("tess", 1)),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "true");

    // The guessing limit, per username: ten upstream 401s to Basic, then 429 here.
    for n in 0..10 {
        let r = chain.post(
            &[
                ("Authorization", &basic("GUS", &format!("guess-{n}"))),
                ("Content-Type", JSON),
            ],
            json_body(&format!("guess-{n}"), &pw("gus", 1)),
        );
        assert_eq!(r.status(), 401, "{n}");
    }
    let calls = chain.proxy.seen().len();
    let r = chain.post(
        &[
            ("Authorization", &basic("gus", &pw("gus", 0))),
            ("Content-Type", JSON),
        ],
        json_body(&pw("gus", 0), &pw("gus", 1)),
    );
    assert_eq!(r.status(), 429);
    assert_eq!(chain.proxy.seen().len(), calls, "no call while waiting");
}

#[test]
fn the_upstream_s_own_429_and_403_come_through() {
    // The origin throttles after one wrong old password; the gateway after five.
    let chain = Chain::start_with(&["--throttle-failures", "1"], &[]);
    chain.add_users(&[("otto", &pw("otto", 0))]);
    let auth = basic("otto", &pw("otto", 0));
    let r = chain.post(
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body("wrong-1", &pw("otto", 1)),
    );
    assert_eq!(r.headers()["x-reason"], "upstream-refused");
    let r = chain.post(
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body(&pw("otto", 0), &pw("otto", 1)),
    );
    assert_eq!(r.status(), 429);
    let seconds: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    let doc = json(r);
    assert_eq!(doc["ErrorType"], "TooManyRequests");

    let online = Chain::start_with(&["--online"], &[]);
    online.add_users(&[("olga", &pw("olga", 0))]);
    let r = online.post(
        &[
            ("Authorization", &basic("olga", &pw("olga", 0))),
            ("Content-Type", JSON),
        ],
        json_body(&pw("olga", 0), &pw("olga", 1)),
    );
    assert_eq!(r.status(), 403);
    let doc = json(r);
    assert_eq!(doc["ErrorType"], "Forbidden");
}

#[test]
fn twenty_users_change_their_passwords_at_once() {
    let chain = Chain::start(&[]);
    let users: Vec<String> = (0..20).map(|n| format!("par{n}")).collect();
    let passwords: Vec<String> = users.iter().map(|u| pw(u, 0)).collect();
    let pairs: Vec<(&str, &str)> = users
        .iter()
        .zip(&passwords)
        .map(|(u, p)| (u.as_str(), p.as_str()))
        .collect();
    chain.add_users(&pairs);
    let url = chain.gateway.url(ENDPOINT);
    let threads: Vec<_> = users
        .iter()
        .map(|user| {
            let (url, user) = (url.clone(), user.clone());
            std::thread::spawn(move || {
                let r = client()
                    .post(url)
                    .header("Authorization", basic(&user, &pw(&user, 0)))
                    .header("Content-Type", JSON)
                    .body(json_body(&pw(&user, 0), &pw(&user, 1)))
                    .send()
                    .unwrap();
                (r.status().as_u16(), r.text().unwrap())
            })
        })
        .collect();
    for (user, thread) in users.iter().zip(threads) {
        assert_eq!(thread.join().unwrap(), (200, "true".to_owned()), "{user}");
    }
    for user in &users {
        assert!(holds_at_origin(&chain.origin, user, &pw(user, 1)), "{user}");
    }
    assert_eq!(chain.proxy.seen().len(), 20);
}

/// The form's XSRF token: the value of the `XSRF-TOKEN` cookie a `GET /password` set.
fn form_token(r: &Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("XSRF-TOKEN="))
        .and_then(|v| v.split(';').next())
        .expect("an XSRF-TOKEN cookie")
        .to_owned()
}

#[test]
fn the_browser_form_asks_for_the_user_and_sends_basic_upstream() {
    let chain = Chain::start(&[]);
    let old = pw("fred", 0);
    chain.add_users(&[("fred", &old)]);
    let r = client().get(chain.gateway.url("/login")).send().unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/password");
    for path in ["/login", "/logout"] {
        let r = client().post(chain.gateway.url(path)).send().unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], "/password");
    }
    let page = client()
        .get(chain.gateway.url("/password"))
        .header("Accept-Language", "nl")
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-language"], "nl");
    let token = form_token(&page);
    let html = page.text().unwrap();
    assert!(
        html.contains(r#"name="username" type="text" autocomplete="username""#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"name="XSRF_TOKEN" value="{token}""#)),
        "{html}"
    );
    assert!(!html.contains("/logout"), "no session, no sign-out: {html}");

    let submit = |username: &str, old: &str, new: &str, token: &str| {
        let body = serde_urlencoded::to_string([
            ("XSRF_TOKEN", token),
            ("username", username),
            ("OldPassword", old),
            ("NewPassword", new),
        ])
        .unwrap();
        chain.post(
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
                ("Cookie", &format!("XSRF-TOKEN={token}")),
            ],
            body,
        )
    };
    // A wrong password and an unknown user: the form again, one message, 200.
    let mut texts = Vec::new();
    for (username, password) in [("fred", "not-freds-password"), ("nobody-here", &old[..])] {
        let r = submit(username, password, &pw("fred", 1), &token);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-reason"], "old-password-mismatch");
        let html = r.text().unwrap();
        assert!(
            html.contains("The user name or password is not correct."),
            "{html}"
        );
        assert!(html.contains(&format!(r#"value="{username}""#)), "{html}");
        texts.push(
            html.replace(username, "USER")
                .split("XSRF_TOKEN")
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(texts[0], texts[1]);
    // A token that is not the cookie's: 401, nothing sent.
    let calls = chain.proxy.seen().len();
    let r = submit("fred", &old, &pw("fred", 1), "forged.token");
    assert_eq!(r.status(), 401);
    assert_eq!(chain.proxy.seen().len(), calls);

    let r = submit("fred", &old, &pw("fred", 1), &token);
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-reason").is_none());
    assert!(
        r.text()
            .unwrap()
            .contains("Your password has been changed.")
    );
    let call = chain.proxy.seen().pop().unwrap();
    assert_eq!(
        call.header("authorization"),
        Some(basic("fred", &old).as_str())
    );
    assert_eq!(call.header("cookie"), None);
    assert!(!call.text().contains("XSRF"), "{}", call.text());
    assert!(holds_at_origin(&chain.origin, "fred", &pw("fred", 1)));
}

#[test]
fn an_https_upstream_is_verified_against_its_ca_or_the_system_s_roots() {
    let dir = agentgate_blackbox::Scratch::new("upstream-tls");
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.path().join("origin.pem");
    let key_path = dir.path().join("origin-key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (cert_path, key_path) = (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    let origin = Server::start(&["--tls-cert", &cert_path, "--tls-key", &key_path]);
    assert!(origin.base.starts_with("https://"), "{}", origin.base);
    add_users(&origin, &[("tina", &pw("tina", 0))]);
    let auth = basic("tina", &pw("tina", 0));

    // The origin's own CA: verified, changed.
    let trusting = Server::start(&["--upstream", &origin.base, "--upstream-ca", &cert_path]);
    let r = post(
        &trusting,
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body(&pw("tina", 0), &pw("tina", 1)),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "true");

    // The system's roots do not know it: 502, and nothing reached the origin.
    let strict = Server::start(&["--upstream", &origin.base]);
    let auth = basic("tina", &pw("tina", 1));
    let r = post(
        &strict,
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body(&pw("tina", 1), &pw("tina", 2)),
    );
    assert_eq!(r.status(), 502);
    assert_eq!(json(r)["ErrorType"], "BadGateway");
    assert!(
        wait_until(Duration::from_secs(10), || strict
            .log()
            .contains("upstream call failed")),
        "{}",
        strict.log()
    );
    let r = post(
        &trusting,
        &[("Authorization", &auth), ("Content-Type", JSON)],
        json_body(&pw("tina", 1), &pw("tina", 1)),
    );
    assert_eq!(r.headers()["x-reason"], "upstream-refused", "still pw 1");
}
