//! Black-box tests of what operators rely on (issue 9): logs without secrets, JSON logs,
//! request ids, metrics, TLS, configuration precedence, user management and the guards
//! against slow and greedy clients.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agentgate_blackbox::{
    ENDPOINT, FAST_HASH, Scratch, Server, StderrLines, basic, binary, cli, client, collect_stderr,
    wait_until,
};
use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};

const OLD: &str = "sint-occaecat-42";
const NEW: &str = "Tr0ub4dour&3-horse";

/// The server's `/metrics` page.
fn metrics_of(server: &Server) -> String {
    client()
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// An `agentgate serve` started with its own environment, unlike the harness's [`Server`].
struct Spawned {
    child: Child,
    base: String,
    database: String,
    lines: StderrLines,
    _scratch: Scratch,
}

impl Spawned {
    /// Starts `serve` on a fresh store with `env` and `args`; `Err` holds the exit code and
    /// stderr when it stops before listening.
    fn start(env: &[(&str, &str)], args: &[&str]) -> Result<Spawned, (Option<i32>, String)> {
        let scratch = Scratch::new("ops");
        let database = format!("sqlite://{}", scratch.path().join("agentgate.db").display());
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .args(["--bind", "127.0.0.1:0", "--database", &database])
            .args(FAST_HASH)
            .args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("AGENTGATE_") && key != "AGENTGATE_BIN" {
                command.env_remove(key);
            }
        }
        let mut child = command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start agentgate");
        let (lines, rx) = collect_stderr(&mut child);
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => Ok(Spawned {
                child,
                base,
                database,
                lines,
                _scratch: scratch,
            }),
            Err(_) => {
                let status = child.wait().ok().and_then(|s| s.code());
                // Its last words are the message of why it stopped (clap's, or ours).
                wait_until(Duration::from_secs(5), || {
                    lines
                        .lock()
                        .unwrap()
                        .iter()
                        .any(|l| l.starts_with("agentgate: ") || l.starts_with("error: "))
                });
                Err((status, lines.lock().unwrap().join("\n")))
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn add_user(&self, username: &str, password: &str) {
        let out = cli(
            &self.database,
            &["user", "add", username, "--password-stdin"],
            Some(password),
        );
        assert!(out.status.success(), "{out:?}");
    }

    fn issue(&self, kind: &str, username: &str) -> String {
        let out = cli(&self.database, &[kind, "issue", username], None);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn addr(&self) -> String {
        self.base
            .split_once("://")
            .map(|(_, a)| a.to_owned())
            .unwrap()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(old: &str, new: &str) -> String {
    serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string()
}

fn cookie_value(res: &reqwest::blocking::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?;
            let (k, value) = first.split_once('=')?;
            (k.trim() == name && !value.is_empty()).then(|| value.to_owned())
        })
}

fn hidden_xsrf(html: &str) -> String {
    let field = "name=\"XSRF_TOKEN\" value=\"";
    let at = html.find(field).expect("XSRF field") + field.len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[test]
fn no_secret_reaches_the_log_even_at_trace_level() {
    let server = Spawned::start(
        &[("AGENTGATE_LOG", "trace"), ("AGENTGATE_LOG_FORMAT", "json")],
        &[],
    )
    .unwrap();
    let http = client();
    let mut secrets: Vec<String> = Vec::new();
    let mut remember = |s: &str| secrets.push(s.to_owned());

    // Basic, then a wrong old password, then bad credentials.
    let first = "first-Secret-Word-91";
    let second = "second-Secret-Word-37";
    let third = "third-Secret-Word-58";
    server.add_user("opsuser", first);
    for s in [first, second, third] {
        remember(s);
    }
    let auth = basic("opsuser", first);
    remember(&auth);
    remember(auth.trim_start_matches("Basic "));
    let r = http
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, &auth)
        .header(CONTENT_TYPE, "application/json")
        .body(json(first, second))
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "true".into())
    );
    let wrong = basic("opsuser", "wrong-Guess-Word-12");
    remember("wrong-Guess-Word-12");
    remember(&wrong);
    let r = http
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, &wrong)
        .header(CONTENT_TYPE, "application/json")
        .body(json("wrong-Guess-Word-12", third))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // A ticket with XML, a wrong old password; a token with a form body.
    let ticket = server.issue("ticket", "opsuser");
    remember(&ticket);
    let r = http
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, format!("SOTicket {ticket}"))
        .header(CONTENT_TYPE, "text/xml")
        .body("<request><OldPassword>not-the-Old-One-33</OldPassword><NewPassword>whatever-Else-Word-44</NewPassword></request>")
        .send()
        .unwrap();
    remember("not-the-Old-One-33");
    remember("whatever-Else-Word-44");
    assert_eq!(r.headers()["x-reason"], "old-password-mismatch");
    let token = server.issue("token", "opsuser");
    remember(&token);
    let r = http
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("OldPassword={second}&NewPassword={third}"))
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "true".into())
    );

    // The browser: login form, session cookie, the change form with its XSRF token.
    let r = http.get(server.url("/login")).send().unwrap();
    let login_cookie = cookie_value(&r, "XSRF-TOKEN").expect("login XSRF cookie");
    let login_form = hidden_xsrf(&r.text().unwrap());
    remember(&login_cookie);
    remember(&login_form);
    let r = http
        .post(server.url("/login"))
        .header(COOKIE, format!("XSRF-TOKEN={login_cookie}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "username=opsuser&password={third}&XSRF_TOKEN={login_form}"
        ))
        .send()
        .unwrap();
    let session = cookie_value(&r, "agentgate_session").expect("session cookie");
    remember(&session);
    let r = http
        .get(server.url("/password"))
        .header(COOKIE, format!("agentgate_session={session}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let xsrf = hidden_xsrf(&r.text().unwrap());
    remember(&xsrf);
    let fourth = "fourth-Secret-Word-26";
    remember(fourth);
    let r = http
        .post(server.url(ENDPOINT))
        .header(COOKIE, format!("agentgate_session={session}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(format!(
            "OldPassword={third}&NewPassword={fourth}&XSRF_TOKEN={xsrf}"
        ))
        .send()
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "true".into())
    );
    // A forged XSRF token and a session cookie that does not exist.
    let r = http
        .post(server.url(ENDPOINT))
        .header(COOKIE, format!("agentgate_session={session}"))
        .header("X-XSRF-TOKEN", "forged-Xsrf-Value-77")
        .header(CONTENT_TYPE, "application/json")
        .body(json(fourth, "fifth-Secret-Word-65"))
        .send()
        .unwrap();
    remember("forged-Xsrf-Value-77");
    remember("fifth-Secret-Word-65");
    assert_eq!(r.status().as_u16(), 401);

    let request_lines = || {
        server
            .log()
            .lines()
            .filter(|l| l.contains("\"request\""))
            .count()
    };
    let all_logged = wait_until(Duration::from_secs(10), || request_lines() >= 9);
    let log = server.log();
    assert!(all_logged, "one line per request: {log}");
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{secret} is in the log:\n{log}"
        );
    }
    // Also percent- and base64-encoded forms of the passwords.
    for password in [first, second, third, fourth] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(password);
        assert!(!log.contains(&b64), "base64 of {password} in the log");
    }
}

#[test]
fn json_logs_are_one_object_per_line_and_request_ids_round_trip() {
    let server = Spawned::start(&[], &["--log-format", "json"]).unwrap();
    let r = client()
        .get(server.url("/healthz"))
        .header("X-Request-Id", "ops-test-4711")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-request-id"], "ops-test-4711");
    let r = client().get(server.url("/healthz")).send().unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!made.is_empty());
    wait_until(Duration::from_secs(10), || {
        let log = server.log();
        log.contains("ops-test-4711") && log.contains(&made)
    });
    let log = server.log();
    let mut found = false;
    for line in log.lines() {
        if line.starts_with("agentgate listening on ") {
            continue;
        }
        let doc: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let fields = &doc["fields"];
        if fields["request_id"] == "ops-test-4711" {
            found = true;
            assert_eq!(fields["method"], "GET");
            assert_eq!(fields["path"], "/healthz");
            assert_eq!(fields["status"], 200);
            assert_eq!(fields["response_media_type"], "text/plain");
            assert!(fields["duration_ms"].as_f64().is_some(), "{line}");
        }
    }
    assert!(found, "the request line is in the log: {log}");
    assert!(log.contains(&made), "the made id is logged too");
}

/// Logs written to a pipe (a file, journald) carry no terminal colours; every request's line
/// arrives, none is counted as dropped, and what is still queued when SIGTERM comes is
/// written before the process exits.
#[test]
fn logs_to_a_pipe_are_plain_and_complete_through_shutdown() {
    let mut server = Server::start(&[]);
    let requests = 300;
    for n in 0..requests {
        let r = client()
            .get(server.url("/healthz"))
            .header("X-Request-Id", format!("plain-log-{n}"))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let metrics = metrics_of(&server);
    assert!(
        metrics.contains("agentgate_log_lines_dropped_total 0"),
        "{metrics}"
    );
    assert!(
        server.terminate(Duration::from_secs(20)),
        "exits on SIGTERM"
    );
    // The reader thread may still be collecting the last lines the process wrote.
    let deadline = Instant::now() + Duration::from_secs(5);
    let count = |log: &str| {
        (0..requests)
            .filter(|n| log.contains(&format!("request_id=plain-log-{n} ")))
            .count()
    };
    while count(&server.log()) < requests && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.log();
    assert_eq!(
        count(&log),
        requests,
        "every request line is written: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI escapes in a piped log: {log}"
    );
}

#[test]
fn metrics_count_requests_by_route_media_type_status_and_outcome() {
    let server = Server::start(&[]);
    server.add_user("meter", OLD);
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("meter", OLD))
        .header(CONTENT_TYPE, "text/xml")
        .body("<request><OldPassword>nope-nope-nope</OldPassword><NewPassword>x</NewPassword></request>")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let metrics = metrics_of(&server);
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("agentgate_requests_total{")
                && l.contains("outcome=\"old-password-mismatch\"")
        })
        .unwrap_or_else(|| panic!("no counter line: {metrics}"));
    for label in [
        "route=\"/api/v1/Agents/User/ChangeOwnPassword\"",
        "request_media_type=\"text/xml\"",
        "response_media_type=\"application/json\"",
        "status=\"200\"",
    ] {
        assert!(line.contains(label), "{label} in {line}");
    }
    assert!(line.ends_with(" 1"), "{line}");
    assert!(
        metrics.contains("agentgate_request_duration_seconds_bucket{route=\"/api/v1/Agents/User/ChangeOwnPassword\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("agentgate_hashing_queue_depth 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("agentgate_hashing_jobs_total "),
        "{metrics}"
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost, as PEM files in `dir`.
fn test_certificate(dir: &std::path::Path) -> (String, String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (
        cert_path.display().to_string(),
        key_path.display().to_string(),
        cert.pem(),
    )
}

#[test]
fn tls_serves_https_with_secure_cookies() {
    let dir = Scratch::new("tls");
    let (cert, key, pem) = test_certificate(dir.path());
    let server = Spawned::start(&[], &["--tls-cert", &cert, "--tls-key", &key]).unwrap();
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let https = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = https.get(server.url("/healthz")).send().unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "ok\n".into())
    );
    let r = https.get(server.url("/login")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // SPEC §8: under TLS every response asks browsers to stay on HTTPS.
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(c.contains("; Secure"), "{c}");
    }
    // Plain HTTP on the TLS port gets no answer.
    let plain = client()
        .get(format!("http://{}/healthz", server.addr()))
        .send();
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // The same from the variables, and without TLS cookies are not Secure.
    let server = Spawned::start(
        &[("AGENTGATE_TLS_CERT", &cert), ("AGENTGATE_TLS_KEY", &key)],
        &[],
    )
    .unwrap();
    assert!(server.base.starts_with("https://"));
    let plain = Server::start(&[]);
    let r = client().get(plain.url("/login")).send().unwrap();
    let c = r.headers()["set-cookie"].to_str().unwrap();
    assert!(!c.contains("Secure"), "{c}");
}

#[test]
fn tls_options_come_in_pairs_and_bad_files_stop_start_up() {
    let dir = Scratch::new("tlsbad");
    let (cert, key, _) = test_certificate(dir.path());
    let (code, err) = Spawned::start(&[], &["--tls-cert", &cert]).err().unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(err.trim(), "agentgate: --tls-cert needs --tls-key");
    let (code, err) = Spawned::start(&[], &["--tls-key", &key]).err().unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(err.trim(), "agentgate: --tls-key needs --tls-cert");
    let (code, err) = Spawned::start(&[], &["--tls-cert", &key, "--tls-key", &key])
        .err()
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(err.starts_with("agentgate: --tls-cert "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, err) = Spawned::start(&[], &["--tls-cert", &cert, "--tls-key", &cert])
        .err()
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(err.starts_with("agentgate: --tls-key "), "{err}");
}

fn language_of_a_401(server: &Spawned) -> String {
    let r = client()
        .post(server.url(ENDPOINT))
        .header(CONTENT_TYPE, "application/json")
        .body(json("a", "b"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    r.headers()["content-language"].to_str().unwrap().to_owned()
}

#[test]
fn a_flag_beats_a_variable_which_beats_the_file() {
    let dir = Scratch::new("conf");
    let file = dir.path().join("agentgate.toml");
    std::fs::write(&file, "default-language = \"sv\"\n").unwrap();
    let file = file.display().to_string();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [Case<'_>; 5] = [
        (&[], &[], "en"),
        (&[], &["--config", &file], "sv"),
        (&[("AGENTGATE_CONFIG", &file)], &[], "sv"),
        (
            &[
                ("AGENTGATE_CONFIG", &file),
                ("AGENTGATE_DEFAULT_LANGUAGE", "de"),
            ],
            &[],
            "de",
        ),
        (
            &[
                ("AGENTGATE_CONFIG", &file),
                ("AGENTGATE_DEFAULT_LANGUAGE", "de"),
            ],
            &["--default-language", "da"],
            "da",
        ),
    ];
    for (env, args, want) in cases {
        let server = Spawned::start(env, args).unwrap();
        assert_eq!(language_of_a_401(&server), want, "{env:?} {args:?}");
    }
}

#[test]
fn the_file_and_variables_configure_every_subcommand() {
    // The database from the file, the Argon2 cost from a variable, for `user add`.
    let dir = Scratch::new("conf-user");
    let db = format!("sqlite://{}", dir.path().join("u.db").display());
    let file = dir.path().join("agentgate.toml");
    std::fs::write(
        &file,
        format!("database = \"{db}\"\nargon2-iterations = 3\n"),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &str)], stdin: Option<&str>| {
        let mut c = Command::new(binary());
        c.args(args)
            .arg("--config")
            .arg(&file)
            .env_remove("AGENTGATE_DATABASE")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            writeln!(child.stdin.take().unwrap(), "{input}").unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["user", "add", "filed", "--password-stdin"],
        &[("AGENTGATE_ARGON2_MEMORY_KIB", "2048")],
        Some(OLD),
    );
    assert!(out.status.success(), "{out:?}");
    let out = run(&["user", "list"], &[], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "filed\tenabled\n");
    let server = Server::start_on(&db, &[], None);
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic("filed", OLD))
        .header(CONTENT_TYPE, "application/json")
        .body(json("wrong-wrong-1", NEW))
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-reason"], "old-password-mismatch");
    // The stored hash carries the parameters (in the database or its write-ahead log).
    let mut bytes = std::fs::read(dir.path().join("u.db")).unwrap();
    bytes.extend(std::fs::read(dir.path().join("u.db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("$argon2id$v=19$m=2048,t=3,p=1$"),
        "hash parameters"
    );
}

#[test]
fn bad_values_stop_start_up_with_one_line_naming_the_option() {
    let (code, err) = Spawned::start(&[], &["--body-limit", "abc"]).err().unwrap();
    assert_eq!(code, Some(2));
    assert!(err.contains("--body-limit"), "{err}");
    let (code, err) = Spawned::start(&[("AGENTGATE_BODY_LIMIT", "abc")], &[])
        .err()
        .unwrap();
    assert_eq!(code, Some(2));
    assert!(err.contains("--body-limit"), "{err}");
    let (code, err) = Spawned::start(&[], &["--default-language", "fr"])
        .err()
        .unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--default-language"), "{err}");

    let dir = Scratch::new("conf-bad");
    for (toml, key) in [
        ("body-limit = \"abc\"\n", "body-limit"),
        ("strict-accept = \"yes\"\n", "strict-accept"),
        ("request-timeout = \"soon\"\n", "request-timeout"),
        ("log_format = \"json\"\n", "log_format"),
    ] {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, toml).unwrap();
        let (code, err) = Spawned::start(&[], &["--config", &file.display().to_string()])
            .err()
            .unwrap();
        assert_eq!(code, Some(1), "{toml}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(key), "{key} named in {err}");
    }
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "default-language = \"fr\"\n").unwrap();
    let (code, err) = Spawned::start(&[], &["--config", &file.display().to_string()])
        .err()
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(err.contains("default-language"), "{err}");
}

#[test]
fn help_lists_every_option_with_its_variable() {
    let out = Command::new(binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "bind",
        "database",
        "config",
        "strict-accept",
        "online",
        "enable-user-agent",
        "body-limit",
        "argon2-memory-kib",
        "argon2-iterations",
        "min-password-length",
        "default-language",
        "log-format",
        "hashing-threads",
        "hashing-queue",
        "workers",
        "pool-size",
        "store-timeout",
        "public-url",
        "tls-cert",
        "tls-key",
        "header-timeout",
        "request-timeout",
        "max-connections-per-address",
        "throttle-failures",
        "throttle-window",
        "throttle-wait",
        "throttle-max-wait",
        "trusted-proxies",
        "metrics-bind",
        "upstream",
        "upstream-timeout",
        "upstream-connections",
        "upstream-ca",
    ] {
        assert!(help.contains(&format!("--{option}")), "--{option}:\n{help}");
        let var = format!("AGENTGATE_{}", option.to_uppercase().replace('-', "_"));
        assert!(help.contains(&format!("env: {var}")), "{var}:\n{help}");
    }
}

#[test]
fn users_are_listed_disabled_enabled_and_removed_and_tokens_revoked() {
    let server = Server::start(&[]);
    server.add_user("ulla", OLD);
    server.add_user("bert", OLD);
    let change = |user: &str, auth: String| {
        let r = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/json")
            .body(json("wrong-wrong-1", NEW))
            .send()
            .unwrap();
        let _ = user;
        r.status().as_u16()
    };
    let list = || String::from_utf8(server.cli(&["user", "list"], None).stdout).unwrap();
    assert_eq!(list(), "bert\tenabled\nulla\tenabled\n");
    assert_eq!(change("ulla", basic("ulla", OLD)), 200);

    let ticket = server.ticket("ulla");
    let out = server.cli(&["user", "disable", "ulla"], None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        list(),
        "bert\tdisabled\nulla\tdisabled\n".replace("bert\tdisabled", "bert\tenabled")
    );
    assert_eq!(change("ulla", basic("ulla", OLD)), 401, "disabled: Basic");
    assert_eq!(
        change("ulla", format!("SOTicket {ticket}")),
        401,
        "disabled: ticket"
    );
    assert_eq!(change("bert", basic("bert", OLD)), 200, "others unaffected");
    let out = server.cli(&["user", "enable", "ulla"], None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(change("ulla", basic("ulla", OLD)), 200);

    let token = server.token("ulla");
    assert_eq!(change("ulla", format!("Bearer {token}")), 200);
    let out = server.cli(&["token", "revoke", &token], None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        change("ulla", format!("Bearer {token}")),
        401,
        "revoked token"
    );
    let out = server.cli(&["token", "revoke", &token], None);
    assert_eq!(out.status.code(), Some(1), "revoking twice");
    let out = server.cli(&["token", "revoke", "-"], Some(&ticket));
    assert!(out.status.success(), "{out:?}");
    let out = server.cli(&["user", "enable", "nobody"], None);
    assert_eq!(out.status.code(), Some(1));

    let ticket = server.ticket("ulla");
    let out = server.cli(&["user", "remove", "ulla"], None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(list(), "bert\tenabled\n");
    assert_eq!(change("ulla", basic("ulla", OLD)), 401, "removed: Basic");
    assert_eq!(
        change("ulla", format!("SOTicket {ticket}")),
        401,
        "removed: ticket"
    );
    let out = server.cli(&["user", "remove", "ulla"], None);
    assert_eq!(out.status.code(), Some(1));
}

/// Reads until the peer closes or `limit` passes; returns what came and whether it closed.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true);
            }
            Err(_) => {}
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), false)
}

#[test]
fn trickled_headers_are_cut_off() {
    let server = Spawned::start(&[], &["--header-timeout", "2s"]).unwrap();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let started = Instant::now();
    stream.write_all(b"POST /api/v1/Agents/User/Chan").unwrap();
    let mut closed = false;
    for chunk in [
        b"geOwnPassword HTTP/1.1\r\n" as &[u8],
        b"Host: x\r\n",
        b"X-A: 1\r\n",
    ] {
        std::thread::sleep(Duration::from_millis(900));
        if stream.write_all(chunk).is_err() {
            closed = true;
            break;
        }
    }
    let (answer, closed_by_read) = read_until_closed(&mut stream, Duration::from_secs(6));
    assert!(
        closed || closed_by_read,
        "still open after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[test]
fn a_body_that_never_finishes_gets_408_and_the_connection_closes() {
    let server = Spawned::start(&[], &["--request-timeout", "2s"]).unwrap();
    server.add_user("slow", OLD);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let started = Instant::now();
    let head = format!(
        "POST {ENDPOINT} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"OldPassword\":",
        basic("slow", OLD)
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(8));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed, "the connection is closed");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
    assert!(
        wait_until(Duration::from_secs(10), || server
            .log()
            .contains("request timed out")),
        "{}",
        server.log()
    );
}

#[test]
fn oversized_headers_get_431() {
    let server = Server::start(&[]);
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    let big = "a".repeat(40 * 1024);
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

#[test]
fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let server = Spawned::start(&[], &["--max-connections-per-address", "2"]).unwrap();
    let get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(get.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    let mut third = TcpStream::connect(server.addr()).unwrap();
    third.write_all(get.as_bytes()).unwrap();
    let (answer, closed) = read_until_closed(&mut third, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(closed);
    // Once one is given back, a new connection is served again. The server notices the
    // close when it notices it: until then a new connection is one too many, refused and
    // counted like the third above.
    drop(held.pop());
    let http = client();
    let mut refused = 1;
    let served = wait_until(Duration::from_secs(10), || {
        let status = http
            .get(server.url("/healthz"))
            .send()
            .map(|r| r.status().as_u16());
        match status {
            Ok(200) => true,
            _ => {
                refused += 1;
                false
            }
        }
    });
    assert!(served, "a connection given back is not counted any more");
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(&format!("agentgate_connections_refused_total {refused}")),
        "{refused} refused: {metrics}"
    );
}

/// Runs `agentgate ARGS` with no `AGENTGATE_*` variable but `env`, in a scratch directory.
fn agentgate(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = Scratch::new("cmd");
    let mut command = Command::new(binary());
    command.args(args).current_dir(dir.path());
    for (key, _) in std::env::vars() {
        if key.starts_with("AGENTGATE_") {
            command.env_remove(key);
        }
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn metrics_bind_serves_metrics_on_its_own_address_only() {
    let server = Spawned::start(&[], &["--metrics-bind", "127.0.0.1:0"]).unwrap();
    let prefix = "agentgate metrics on ";
    let line = || {
        server
            .log()
            .lines()
            .find_map(|l| l.strip_prefix(prefix).map(str::to_owned))
    };
    assert!(
        wait_until(Duration::from_secs(10), || line().is_some()),
        "{}",
        server.log()
    );
    let metrics_url = line().unwrap();
    assert!(metrics_url.ends_with("/metrics"), "{metrics_url}");
    assert_ne!(
        metrics_url.trim_end_matches("/metrics"),
        server.base,
        "its own address"
    );
    let http = client();
    let r = http.get(server.url("/healthz")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http.get(server.url("/metrics")).send().unwrap();
    assert_eq!(r.status().as_u16(), 404, "not on the main address");
    assert_eq!(r.text().unwrap(), "Not found\n");
    let r = http.get(&metrics_url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().unwrap();
    // The main address's requests are counted on the metrics address, the 404 included.
    assert!(
        text.lines()
            .any(|l| l.starts_with("agentgate_requests_total{")
                && l.contains("route=\"/metrics\"")
                && l.contains("status=\"404\"")),
        "{text}"
    );
    let other = metrics_url.replace("/metrics", "/healthz");
    assert_eq!(http.get(&other).send().unwrap().status().as_u16(), 404);
}

#[test]
fn upstream_mode_is_refused_by_the_store_commands_from_every_source() {
    let dir = Scratch::new("upstream");
    let file = dir.path().join("agentgate.toml");
    std::fs::write(
        &file,
        "upstream = \"https://crm.example.com/SuperOffice\"\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let url = "https://crm.example.com/SuperOffice";
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        (&["user", "list", "--upstream", url], &[], "--upstream"),
        (
            &["--upstream", url, "ticket", "issue", "ann"],
            &[],
            "--upstream",
        ),
        (
            &["token", "issue", "ann"],
            &[("AGENTGATE_UPSTREAM", url)],
            "AGENTGATE_UPSTREAM",
        ),
        (
            &["user", "add", "ann", "--config", &file],
            &[],
            "upstream in ",
        ),
    ];
    for (args, env, source) in cases {
        let out = agentgate(args, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("upstream mode"), "{err}");
        assert!(err.contains(source), "{source} in {err}");
    }
    // serve checks the options and serves in front of the upstream, saying so; an upstream
    // it cannot reach (this one has no address here) makes it unhealthy, not unable to start.
    let server = Spawned::start(&[], &["--upstream", url]).unwrap();
    let said = format!("agentgate upstream mode: passwords are changed at {url}");
    assert!(
        server.lines.lock().unwrap().iter().any(|l| l == &said),
        "{said}"
    );
    let r = client().get(server.url("/healthz")).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.text().unwrap(), "upstream unreachable\n");
    drop(server);
    for (args, says) in [
        (&["--upstream", "ftp://x"][..], "http or https"),
        (&["--upstream", "https://h/x?a=1"][..], "query"),
        (
            &["--upstream", url, "--upstream-timeout", "soon"][..],
            "--upstream-timeout",
        ),
        (
            &["--upstream", url, "--upstream-connections", "many"][..],
            "--upstream-connections",
        ),
    ] {
        let (code, err) = Spawned::start(&[], args).err().unwrap();
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{says} in {err}");
    }
}

#[test]
fn lifetimes_are_at_most_thirty_days() {
    let server = Server::start(&[]);
    server.add_user("ttl", OLD);
    let out = server.cli(&["ticket", "issue", "ttl", "--ttl", "100000000h"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("30d"),
        "{out:?}"
    );
    for ttl in ["30d", "720h", "30s"] {
        let out = server.cli(&["token", "issue", "ttl", "--ttl", ttl], None);
        assert!(out.status.success(), "{ttl}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("8A:"));
    }
}

#[test]
fn trusted_proxies_are_checked_at_start_up() {
    let server = Spawned::start(&[], &["--trusted-proxies", "10.0.0.0/8,::1"]).unwrap();
    let r = client().get(server.url("/healthz")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (code, err) = Spawned::start(&[("AGENTGATE_TRUSTED_PROXIES", "10.0.0.1/8")], &[])
        .err()
        .unwrap();
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--trusted-proxies") && err.contains("10.0.0.0/8"),
        "{err}"
    );
}

#[test]
fn help_says_what_the_tool_is() {
    let out = agentgate(&["--help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let first = help.lines().next().unwrap();
    assert!(
        first.starts_with("agentgate serves SuperOffice's password change"),
        "{help}"
    );
    assert!(!help.contains("actix-web app"), "{help}");
}

#[test]
fn the_database_option_goes_before_or_after_the_subcommand() {
    let dir = Scratch::new("dbpos");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let out = cli(&db, &["user", "add", "pos", "--password-stdin"], Some(OLD));
    assert!(out.status.success(), "{out:?}");
    for args in [
        &["--database", &db, "user", "list"][..],
        &["user", "--database", &db, "list"][..],
        &["user", "list", "--database", &db][..],
    ] {
        let out = agentgate(args, &[]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "pos\tenabled\n",
            "{args:?}"
        );
    }
}

#[test]
fn an_unreachable_store_is_named_without_a_password_it_does_not_have() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    let out = agentgate(
        &[
            "user",
            "list",
            "--database",
            "postgres://nobody@127.0.0.1:1/x",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "agentgate: cannot open the user store postgres://nobody@127.0.0.1:1/x: the connection to 127.0.0.1:1 was refused: is PostgreSQL running and listening there?"
    );
    let out = agentgate(
        &[
            "user",
            "list",
            "--database",
            "postgres://app:s3cret@127.0.0.1:1/x",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("postgres://app:***@127.0.0.1:1/x"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_busy_address_stops_the_demo_before_it_prints_anything() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = agentgate(&["demo", "--bind", &address], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with(&format!("agentgate: cannot listen on {address}")),
        "{err}"
    );
    assert!(last.contains("--bind"), "{err}");
}

/// SPEC §8 `user passwd`: an operator sets the password of a user who is locked out; every
/// ticket, token and session of the user is revoked and its throttles cleared.
#[test]
fn user_passwd_sets_the_password_revokes_everything_and_clears_the_throttles() {
    let server = Server::start(&[]);
    server.add_user("locked", OLD);
    let ticket = server.ticket("locked");
    let token = server.token("locked");
    let change = |auth: &str, old: &str, new: &str| {
        let r = client()
            .post(server.url(ENDPOINT))
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, "application/json")
            .body(json(old, new))
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    // Locked out of changes with this ticket: five wrong old passwords.
    let by_ticket = format!("SOTicket {ticket}");
    for i in 0..5 {
        assert_eq!(change(&by_ticket, &format!("wrong-{i}"), NEW).1, "false");
    }
    assert_eq!(change(&by_ticket, OLD, NEW).0, 429);

    let out = server.cli(
        &["user", "passwd", "locked", "--password-stdin"],
        Some("operator-Set-Secret-77"),
    );
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("revoked"), "{said}");
    assert!(!said.contains("operator-Set-Secret-77"), "{said}");

    assert_eq!(change(&by_ticket, OLD, NEW).0, 401, "the ticket is revoked");
    assert_eq!(
        change(&format!("Bearer {token}"), OLD, NEW).0,
        401,
        "and the token"
    );
    assert_eq!(
        change(&basic("locked", OLD), OLD, NEW).0,
        401,
        "the old password is gone"
    );
    let fresh = format!("SOTicket {}", server.ticket("locked"));
    assert_eq!(
        change(&fresh, "operator-Set-Secret-77", NEW),
        (200, "true".to_owned()),
        "the user changes it again"
    );
    // The policy applies, and an unknown user is said so.
    let out = server.cli(
        &["user", "passwd", "locked", "--password-stdin"],
        Some("short"),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let out = server.cli(&["user", "passwd", "nobody", "--password-stdin"], Some(NEW));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
}

/// SPEC §8: user names follow RFC 8265 UsernameCaseMapped; look-alikes are refused with a
/// reason, and `ticket issue`/`token issue` refuse a disabled user.
#[test]
fn look_alike_names_are_refused_and_disabled_users_get_no_ticket() {
    let server = Server::start(&[]);
    for name in [
        "ali\u{200b}ce",
        "\u{202e}ecila",
        " alice",
        "al ice",
        "alice\u{7}",
    ] {
        let out = server.cli(&["user", "add", name, "--password-stdin"], Some(OLD));
        assert_eq!(out.status.code(), Some(1), "{name:?}: {out:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("invalid username"), "{name:?}: {said}");
        assert_eq!(said.lines().count(), 1, "{said}");
    }
    assert_eq!(server.cli(&["user", "list"], None).stdout, b"");
    server.add_user("Alice", OLD);
    server.add_user("jörg", OLD);

    let out = server.cli(&["user", "disable", "alice"], None);
    assert!(out.status.success(), "{out:?}");
    for kind in ["ticket", "token"] {
        let out = server.cli(&[kind, "issue", "alice"], None);
        assert_eq!(out.status.code(), Some(1), "{kind}: {out:?}");
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("disabled"),
            "{kind}: {out:?}"
        );
    }
}

/// SPEC §6: the session that changes the password stays open under a new id, whatever the
/// answer's format; the old id no longer works.
#[test]
fn a_session_gets_a_new_id_with_the_change_it_makes() {
    let server = Server::start(&[]);
    server.add_user("rota", OLD);
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(server.url("/login")).send().unwrap();
    let login_cookie = cookie_value(&r, "XSRF-TOKEN").unwrap();
    let login_form = hidden_xsrf(&r.text().unwrap());
    let r = http
        .post(server.url("/login"))
        .header(COOKIE, format!("XSRF-TOKEN={login_cookie}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "username=rota&password={OLD}&XSRF_TOKEN={login_form}"
        ))
        .send()
        .unwrap();
    let session = cookie_value(&r, "agentgate_session").unwrap();
    let xsrf = cookie_value(&r, "XSRF-TOKEN").unwrap();
    let post = |session: &str, xsrf: &str, old: &str, new: &str| {
        http.post(server.url(ENDPOINT))
            .header(COOKIE, format!("agentgate_session={session}"))
            .header("X-XSRF-TOKEN", xsrf)
            .header(CONTENT_TYPE, "application/json")
            .body(json(old, new))
            .send()
            .unwrap()
    };
    let r = post(&session, &xsrf, OLD, NEW);
    assert_eq!(r.status().as_u16(), 200);
    let renewed = cookie_value(&r, "agentgate_session").expect("a new session cookie");
    let renewed_xsrf = cookie_value(&r, "XSRF-TOKEN").expect("a new XSRF cookie");
    assert_eq!(r.text().unwrap(), "true");
    assert_ne!(renewed, session);
    assert_ne!(renewed_xsrf, xsrf);

    let r = post(&session, &xsrf, NEW, OLD);
    assert_eq!(r.status().as_u16(), 401, "the old id is gone");
    let r = post(&renewed, &xsrf, NEW, OLD);
    assert_eq!(
        r.status().as_u16(),
        401,
        "the old token does not fit the new id"
    );
    let r = post(&renewed, &renewed_xsrf, "wrong-one", OLD);
    assert_eq!(
        (r.status().as_u16(), r.text().unwrap()),
        (200, "false".into())
    );
    let r = http
        .get(server.url("/password"))
        .header(COOKIE, format!("agentgate_session={renewed}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "the new id is signed in");
}
