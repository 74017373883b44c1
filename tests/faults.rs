//! Faults (issue 8): the server killed mid-change, stopped gracefully with changes in flight,
//! and its store going away. The real binary, real HTTP; every check is about which password
//! works afterwards, since that is what a user would notice.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentgate_blackbox::{ENDPOINT, Scratch, Server, basic, client, postgres_url, skip};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

/// The k-th password of a user's rotation: strong enough for the policy (zxcvbn with the
/// username as a user input), different at every step.
fn password(user: &str, k: u32) -> String {
    format!("Vq7!{user}-mauve-otter-{k}")
}

/// The three everyday request formats, in turn, so every codec takes part in the load.
fn change_request(
    base: &str,
    user: &str,
    old: &str,
    new: &str,
    format: usize,
) -> reqwest::Result<reqwest::blocking::Response> {
    let (content_type, body) = match format % 3 {
        0 => (
            "application/json",
            serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string(),
        ),
        1 => (
            "text/xml",
            format!(
                "<request><OldPassword>{old}</OldPassword><NewPassword>{new}</NewPassword></request>"
            ),
        ),
        _ => (
            "application/x-www-form-urlencoded",
            format!("OldPassword={}&NewPassword={}", form(old), form(new)),
        ),
    };
    client()
        .post(format!("{base}{ENDPOINT}"))
        .header(AUTHORIZATION, basic(user, old))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
}

fn form(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `password` authenticates `user`, without changing anything and without counting
/// toward the change throttle: the right old password with a new one the policy refuses is
/// `200 false` with `password-too-short` after authentication, and `401` before it.
fn authenticates(server: &Server, user: &str, password: &str) -> bool {
    let response = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, basic(user, password))
        .header(CONTENT_TYPE, "application/json")
        .body(serde_json::json!({ "OldPassword": password, "NewPassword": "short" }).to_string())
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let reason = response
        .headers()
        .get("x-reason")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().unwrap();
    match status {
        200 => {
            assert_eq!(
                (body.as_str(), reason.as_deref()),
                ("false", Some("password-too-short"))
            );
            true
        }
        401 => false,
        other => panic!("checking {user}: unexpected {other} {body}"),
    }
}

/// A delay between `min` and `min + spread` that differs from run to run (no RNG crate here).
fn jitter(min: Duration, spread: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    min + spread.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

#[test]
fn sigkill_in_the_middle_of_a_change_load_loses_no_answered_change() {
    const USERS: usize = 8;
    let scratch = Scratch::new("sigkill");
    let database = format!("sqlite://{}", scratch.path().join("agentgate.db").display());
    // Cheap enough for many changes per second, so the kill lands among commits; dear enough
    // that some are always waiting for a hash.
    let flags = ["--argon2-memory-kib", "2048", "--argon2-iterations", "1"];
    let server = Server::start_on(&database, &flags, None);
    let users: Vec<String> = (0..USERS).map(|n| format!("kill{n}")).collect();
    for user in &users {
        server.add_user(user, &password(user, 0));
    }

    // Each thread walks its user's rotation 0 -> 1 -> 2 ... and records the last step that was
    // answered `true`; it stops at the first transport error (the kill).
    let answered: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(vec![0; USERS]));
    let start = Arc::new(Barrier::new(USERS + 1));
    let base = server.url("");
    let threads: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, user)| {
            let (user, base) = (user.clone(), base.clone());
            let (answered, start) = (Arc::clone(&answered), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let mut k = 0;
                loop {
                    let (old, new) = (password(&user, k), password(&user, k + 1));
                    let Ok(response) = change_request(&base, &user, &old, &new, n + k as usize)
                    else {
                        return;
                    };
                    let status = response.status().as_u16();
                    let Ok(body) = response.text() else { return };
                    match (status, body.as_str()) {
                        (200, "true") => {
                            k += 1;
                            answered.lock().unwrap()[n] = k;
                        }
                        // The hashing queue was full: nothing changed, try the same step again.
                        (503, _) => std::thread::sleep(Duration::from_millis(20)),
                        other => panic!("{user} step {k}: unexpected {other:?}"),
                    }
                }
            })
        })
        .collect();
    start.wait();
    std::thread::sleep(jitter(
        Duration::from_millis(700),
        Duration::from_millis(800),
    ));
    let done_before_kill: u32 = answered.lock().unwrap().iter().sum();
    // Dropping the handle sends SIGKILL (std's Child::kill) and reaps the process.
    drop(server);
    for thread in threads {
        thread.join().unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        done_before_kill >= USERS as u32,
        "the load should have changed passwords before the kill: {answered:?}"
    );

    let server = Server::start_on(&database, &flags, Some(scratch));
    for (user, &k) in users.iter().zip(&answered) {
        // The last answered password, or the next one if its change committed but the answer
        // was lost in the kill; never an older one, never none.
        let last = authenticates(&server, user, &password(user, k));
        let next = authenticates(&server, user, &password(user, k + 1));
        assert!(
            last ^ next,
            "{user}: last answered step {k}: works {last}, the one in flight works {next}"
        );
        if k > 0 {
            assert!(!authenticates(&server, user, &password(user, k - 1)));
        }
    }
}

/// Hashing jobs waiting or running, from `/metrics`.
fn queue_depth(base: &str) -> u64 {
    let metrics = client()
        .get(format!("{base}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("agentgate_hashing_queue_depth "))
        .and_then(|n| n.trim().parse::<f64>().ok())
        .map_or(0, |n| n as u64)
}

#[test]
fn sigterm_lets_the_changes_in_flight_finish() {
    const USERS: usize = 6;
    // The default (OWASP) Argon2 cost on one hashing thread: six changes are twelve hashes in a
    // row, so most are still queued when SIGTERM arrives.
    let scratch = Scratch::new("sigterm");
    let database = format!("sqlite://{}", scratch.path().join("agentgate.db").display());
    let mut server = Server::start_on(&database, &["--hashing-threads", "1"], Some(scratch));
    let users: Vec<String> = (0..USERS).map(|n| format!("term{n}")).collect();
    for user in &users {
        server.add_user(user, &password(user, 0));
    }
    let url = server.url("");
    let sent = Arc::new(Barrier::new(USERS + 1));
    let threads: Vec<_> = users
        .iter()
        .map(|user| {
            let (user, url, sent) = (user.clone(), url.clone(), Arc::clone(&sent));
            std::thread::spawn(move || {
                let (old, new) = (password(&user, 0), password(&user, 1));
                let request = client()
                    .post(format!("{url}{ENDPOINT}"))
                    .header(AUTHORIZATION, basic(&user, &old))
                    .header(CONTENT_TYPE, "application/json")
                    .body(
                        serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string(),
                    );
                sent.wait();
                let response = request.send();
                let answered_at = Instant::now();
                let response = response.map(|r| (r.status().as_u16(), r.text().unwrap()));
                (user, response, answered_at)
            })
        })
        .collect();
    sent.wait();
    // SIGTERM once the requests are in and hashing work is queued behind the running job (a
    // fixed pause would be too short on a slow machine and too long on a fast one). Each
    // check first takes its place in the store's counts (a write), so on a loaded machine
    // the jobs trickle in: one waiting behind the running one is enough.
    let deadline = Instant::now() + Duration::from_secs(30);
    while queue_depth(&url) < 2 {
        assert!(Instant::now() < deadline, "the changes never queued up");
        std::thread::sleep(Duration::from_millis(5));
    }
    let terminated_at = Instant::now();
    assert!(
        server.terminate(Duration::from_secs(30)),
        "agentgate did not exit within 30 s of SIGTERM"
    );
    let mut after = 0;
    for thread in threads {
        let (user, response, answered_at) = thread.join().unwrap();
        let response = response.unwrap_or_else(|e| panic!("{user}: no answer after SIGTERM: {e}"));
        assert_eq!(response, (200, "true".to_owned()), "{user}");
        if answered_at > terminated_at {
            after += 1;
        }
    }
    assert!(
        after > 0,
        "every change finished before SIGTERM: the test proved nothing"
    );

    // And the drained changes are durable.
    let server = Server::start_on(&database, &["--argon2-memory-kib", "1024"], None);
    for user in &users {
        assert!(authenticates(&server, user, &password(user, 1)), "{user}");
    }
}

/// A write lock held by another process on the SQLite file: reads still work (WAL), the
/// change's commit waits out the busy timeout, then the answer is 503 and nothing changed.
#[test]
fn a_locked_sqlite_store_is_503_and_nothing_changes() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        skip("the sqlite3 command-line shell is not installed (apt-get install -y sqlite3)");
        return;
    }
    let scratch = Scratch::new("locked");
    let file = scratch.path().join("agentgate.db");
    let server = Server::start_on(
        &format!("sqlite://{}", file.display()),
        &agentgate_blackbox::FAST_HASH,
        Some(scratch),
    );
    server.add_user("locked", &password("locked", 0));

    let mut holder = Command::new("sqlite3")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    writeln!(stdin, "BEGIN EXCLUSIVE;\n.print locked").unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let (old, new) = (password("locked", 0), password("locked", 1));
    let response = change_request(&server.url(""), "locked", &old, &new, 0).unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = serde_json::from_str(&response.text().unwrap()).unwrap();
    writeln!(stdin, "ROLLBACK;\n.quit").unwrap();
    drop(stdin);
    holder.wait().unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ErrorType"], "ServiceUnavailable", "{body}");

    assert!(authenticates(&server, "locked", &old), "nothing changed");
    assert!(!authenticates(&server, "locked", &new));
}

/// A TCP relay between agentgate and PostgreSQL that can be cut: then every connection
/// through it is shut down and new ones are refused, as when the database host goes away.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        {
            let (cut, streams) = (Arc::clone(&cut), Arc::clone(&streams));
            std::thread::spawn(move || {
                for downstream in listener.incoming() {
                    let Ok(downstream) = downstream else { continue };
                    if cut.load(Ordering::SeqCst) {
                        let _ = downstream.shutdown(Shutdown::Both);
                        continue;
                    }
                    let Ok(up) = TcpStream::connect(&upstream) else {
                        continue;
                    };
                    let mut kept = streams.lock().unwrap();
                    kept.push(downstream.try_clone().unwrap());
                    kept.push(up.try_clone().unwrap());
                    for (mut from, mut to) in [
                        (downstream.try_clone().unwrap(), up.try_clone().unwrap()),
                        (up, downstream),
                    ] {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(Shutdown::Both);
                        });
                    }
                }
            });
        }
        Relay { port, cut, streams }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// PostgreSQL going away under a running server: 503 `ServiceUnavailable`, `/healthz` 503,
/// and when it is back, the old password still works.
#[test]
fn an_unreachable_postgres_store_is_503_and_nothing_changes() {
    let Some(base) = postgres_url() else { return };
    // postgres://user@host:port/db?params -> the host:port to relay, and the URL through it.
    let Some((scheme_user, rest)) = base.split_once('@') else {
        skip("AGENTGATE_TEST_POSTGRES has no user@host part");
        return;
    };
    let (host_port, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let schema = format!("faults_{}", std::process::id());
    let psql = |sql: String| {
        Command::new("psql")
            .env("PGOPTIONS", "--client-min-messages=warning")
            .args([base.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !psql(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    )) {
        skip(&format!("psql could not create a schema on {base}"));
        return;
    }
    let relay = Relay::start(host_port.to_owned());
    let separator = if tail.contains('?') { '&' } else { '?' };
    let url = format!(
        "{scheme_user}@127.0.0.1:{}{tail}{separator}options=-c%20search_path%3D{schema}",
        relay.port
    );
    let server = Server::start_on(&url, &agentgate_blackbox::FAST_HASH, None);
    server.add_user("gone", &password("gone", 0));
    let (old, new) = (password("gone", 0), password("gone", 1));

    relay.cut();
    let started = Instant::now();
    let response = change_request(&server.url(""), "gone", &old, &new, 0).unwrap();
    let status = response.status().as_u16();
    let body = response.text().unwrap();
    let health = client()
        .get(server.url("/healthz"))
        .send()
        .unwrap()
        .status();
    drop(server);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("ServiceUnavailable"), "{body}");
    assert_eq!(health.as_u16(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the refusal should come within the acquire timeout, took {:?}",
        started.elapsed()
    );

    // The store is reachable again (directly): the old password still works.
    let direct = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let server = Server::start_on(&direct, &agentgate_blackbox::FAST_HASH, None);
    assert!(authenticates(&server, "gone", &old), "nothing changed");
    assert!(!authenticates(&server, "gone", &new));
    drop(server);
    psql(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}
