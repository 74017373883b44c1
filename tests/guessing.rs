//! Black-box tests of the guessing limits (SPEC §4, §5; issue 21 findings 2, 3, 4, 6): the
//! real binary, real HTTP, many connections at once.
//!
//! Every test starts its own server and store. Requests come from loopback addresses of
//! their own (127.0.0.x) where a test must not run into the per-address limit of another
//! part of it.

use std::net::IpAddr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use agentgate_blackbox::{ENDPOINT, Server, basic};
use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};

const OLD: &str = "sint-occaecat-42";
const NEW: &str = "Tr0ub4dour&3-horse";

/// A client whose connections come from `address` (any of 127.0.0.0/8 reaches the server).
fn client_from(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

fn change(client: &Client, server: &Server, auth: &str, old: &str, new: &str) -> Response {
    client
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, auth)
        .header(CONTENT_TYPE, "application/json")
        .body(serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string())
        .send()
        .unwrap()
}

/// What a reply was, checked for its body: `true`, `false`, `401` or `429`.
fn kind(response: Response) -> &'static str {
    let status = response.status().as_u16();
    let retry_after = response.headers().get(RETRY_AFTER).cloned();
    let body = response.text().unwrap();
    match (status, body.as_str()) {
        (200, "true") => "true",
        (200, "false") => "false",
        (401, _) => {
            let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(doc["ErrorType"], "Unauthorized", "{body}");
            "401"
        }
        (429, _) => {
            let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(doc["ErrorType"], "TooManyRequests", "{body}");
            let seconds: u64 = retry_after
                .expect("429 without Retry-After")
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=3600).contains(&seconds), "Retry-After {seconds}");
            "429"
        }
        _ => panic!("unexpected {status}: {body}"),
    }
}

/// Runs `n` requests at once, one thread and one connection each, started together.
fn at_once<T: Send + 'static>(
    n: usize,
    request: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let request = Arc::new(request);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, request) = (Arc::clone(&barrier), Arc::clone(&request));
            std::thread::spawn(move || {
                barrier.wait();
                request(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(kinds: &[&str], which: &str) -> usize {
    kinds.iter().filter(|k| **k == which).count()
}

/// Finding 2: all 60 were compared before the lock applied; the design allows 5.
#[test]
fn sixty_wrong_old_passwords_at_once_with_one_ticket_get_five_tries() {
    let server = Arc::new(Server::start(&[]));
    server.add_user("racer", OLD);
    let ticket = server.ticket("racer");
    let auth = format!("SOTicket {ticket}");
    let kinds = {
        let server = Arc::clone(&server);
        at_once(60, move |i| {
            let client = client_from("127.0.0.2");
            kind(change(&client, &server, &auth, &format!("wrong-{i}"), NEW))
        })
    };
    assert!(count(&kinds, "false") <= 5, "{kinds:?}");
    assert!(count(&kinds, "false") >= 1, "{kinds:?}");
    assert_eq!(
        count(&kinds, "false") + count(&kinds, "429"),
        60,
        "{kinds:?}"
    );
    // And now even the right old password waits.
    let client = client_from("127.0.0.2");
    let auth = format!("SOTicket {ticket}");
    assert_eq!(kind(change(&client, &server, &auth, OLD, NEW)), "429");
}

/// Finding 3: Basic guessing over parallel connections stops at the limit (10), with 429
/// and Retry-After; a ticket of the same user still works.
#[test]
fn basic_guessing_on_one_account_stops_at_the_limit_and_a_ticket_still_works() {
    let server = Arc::new(Server::start(&[]));
    server.add_user("target", OLD);
    let ticket = server.ticket("target");
    let kinds = {
        let server = Arc::clone(&server);
        at_once(30, move |i| {
            let client = client_from("127.0.0.3");
            let auth = basic("target", &format!("guess-{i}"));
            kind(change(&client, &server, &auth, "x", NEW))
        })
    };
    assert_eq!(count(&kinds, "401"), 10, "{kinds:?}");
    assert_eq!(count(&kinds, "429"), 20, "{kinds:?}");
    // The right password waits too, from another address...
    let elsewhere = client_from("127.0.0.4");
    assert_eq!(
        kind(change(&elsewhere, &server, &basic("TARGET", OLD), OLD, NEW)),
        "429"
    );
    // ...but tickets are never held up by it: the owner changes the password.
    let auth = format!("SOTicket {ticket}");
    assert_eq!(kind(change(&elsewhere, &server, &auth, OLD, NEW)), "true");
}

/// The login form's token and cookie, as a browser gets them from `GET /login`.
fn login_token(client: &Client, server: &Server) -> String {
    let r = client.get(server.url("/login")).send().unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("XSRF-TOKEN="))
        .and_then(|v| v.split(';').next())
        .expect("the login XSRF cookie")
        .to_owned();
    assert!(r.text().unwrap().contains(&cookie));
    cookie
}

/// Finding 3 at `/login`: one login token reused by parallel guesses gets 10 checks, then
/// the form says to wait, with 429 and Retry-After; the right password waits too.
#[test]
fn login_guessing_with_one_token_stops_at_the_limit_with_429_on_the_form() {
    let server = Arc::new(Server::start(&[]));
    server.add_user("victim", OLD);
    let token = login_token(&client_from("127.0.0.5"), &server);
    let login = move |client: &Client, server: &Server, password: &str| {
        let r = client
            .post(server.url("/login"))
            .header("Cookie", format!("XSRF-TOKEN={token}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "username=victim&password={password}&XSRF_TOKEN={token}"
            ))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let retry_after = r.headers().contains_key(RETRY_AFTER);
        let has_session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap_or("").starts_with("agentgate_session="));
        let page = r.text().unwrap();
        (status, retry_after, has_session, page)
    };
    let login = Arc::new(login);
    let results = {
        let (server, login) = (Arc::clone(&server), Arc::clone(&login));
        at_once(24, move |i| {
            login(&client_from("127.0.0.5"), &server, &format!("guess-{i}"))
        })
    };
    let failed = results.iter().filter(|r| r.0 == 200).count();
    let waiting: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(
        failed,
        10,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(waiting.len(), 14);
    for (_, retry_after, has_session, page) in &waiting {
        assert!(retry_after, "429 without Retry-After");
        assert!(!has_session);
        assert!(page.contains("Too many wrong passwords"), "{page}");
        assert!(
            page.contains("<form method=\"post\" action=\"/login\">"),
            "{page}"
        );
    }
    let (status, _, has_session, _) = login(&client_from("127.0.0.6"), &server, OLD);
    assert_eq!(
        (status, has_session),
        (429, false),
        "the right password waits too"
    );
}

/// Finding 3: beyond 20 failures from one address, checks from there are spaced 2 s apart;
/// 8 parallel guesses (each for another user) used to finish together, 2 s late.
#[test]
fn parallel_guesses_from_one_address_beyond_its_limit_finish_two_seconds_apart() {
    let server = Arc::new(Server::start(&[]));
    server.add_user("sprayed", OLD);
    let sprayer = client_from("127.0.0.5");
    for n in 0..20 {
        let auth = basic(&format!("user{n}"), "Spring2026!");
        assert_eq!(kind(change(&sprayer, &server, &auth, "x", NEW)), "401");
    }
    let started = Instant::now();
    let finished = {
        let server = Arc::clone(&server);
        at_once(8, move |i| {
            let client = client_from("127.0.0.5");
            let auth = basic(&format!("other{i}"), "Spring2026!");
            let outcome = kind(change(&client, &server, &auth, "x", NEW));
            (started.elapsed(), outcome)
        })
    };
    let mut times: Vec<Duration> = finished
        .iter()
        .map(|(at, outcome)| {
            assert_eq!(*outcome, "401");
            *at
        })
        .collect();
    times.sort();
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    for gap in &gaps {
        assert!((1.6..=2.6).contains(gap), "gaps {gaps:?}, times {times:?}");
    }
    let span = (times[7] - times[0]).as_secs_f64();
    assert!((13.0..=16.0).contains(&span), "{span} s, {times:?}");
    // Another address is not held up.
    let other = client_from("127.0.0.6");
    let quick = Instant::now();
    assert_eq!(
        kind(change(
            &other,
            &server,
            &basic("sprayed", "wrong"),
            "x",
            NEW
        )),
        "401"
    );
    assert!(
        quick.elapsed() < Duration::from_secs(2),
        "{:?}",
        quick.elapsed()
    );
}

/// Finding 6: a burst of wrong old passwords with a stolen ticket does not make the owner's
/// other credential wait; the owner's change revokes the stolen ticket.
#[test]
fn a_stolen_ticket_burst_leaves_the_owner_able_to_change() {
    let server = Arc::new(Server::start(&[]));
    server.add_user("owner", OLD);
    let stolen = format!("SOTicket {}", server.ticket("owner"));
    let own = format!("SOTicket {}", server.ticket("owner"));
    let kinds = {
        let (server, stolen) = (Arc::clone(&server), stolen.clone());
        at_once(20, move |i| {
            let client = client_from("127.0.0.7");
            kind(change(
                &client,
                &server,
                &stolen,
                &format!("guess-{i}"),
                NEW,
            ))
        })
    };
    assert_eq!(
        count(&kinds, "false") + count(&kinds, "429"),
        20,
        "{kinds:?}"
    );
    assert!(count(&kinds, "429") >= 15, "{kinds:?}");
    let client = client_from("127.0.0.8");
    assert_eq!(kind(change(&client, &server, &stolen, OLD, NEW)), "429");
    assert_eq!(kind(change(&client, &server, &own, OLD, NEW)), "true");
    assert_eq!(kind(change(&client, &server, &stolen, NEW, OLD)), "401");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Finding 4: with a server started on cheaper Argon2 parameters than its users' hashes, an
/// unknown user took 2.7 ms and a known one with a wrong password 24.3 ms. Now the same.
#[test]
fn an_unknown_user_takes_the_time_of_a_known_one_on_cheaper_parameters() {
    // `user add` hashes at the default (19 MiB, t=2); the server runs at 1 MiB, t=1.
    let server = Server::start(&[]);
    let time = |client: &Client, auth: &str| {
        let started = Instant::now();
        let outcome = kind(change(client, &server, auth, "x", NEW));
        assert_eq!(outcome, "401");
        started.elapsed()
    };
    // Both checks are of the dearest kind and take their own time, which a burst of load on
    // a shared machine can stretch for some of a round's samples: up to three rounds, each
    // with users and addresses of its own; one within the tolerance passes. A real
    // difference (2.7 against 24.3 ms in finding 4) shows in every round.
    let mut rounds = Vec::new();
    for attempt in 0..3 {
        let users = ["kim", "lee", "max", "noa", "ola"].map(|user| format!("{user}{attempt}"));
        for user in &users {
            server.add_user(user, OLD);
        }
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        // 9 wrong per user (the 10th would wait), 15 checks per address (20 would be spaced).
        for round in 0..45 {
            let client = client_from(&format!("127.0.{}.{}", 1 + attempt, 10 + round / 7));
            let user = &users[round % users.len()];
            let known_time = time(&client, &basic(user, &format!("wrong-{round}")));
            let ghost = format!("ghost{attempt}-{round}");
            let unknown_time = time(&client, &basic(&ghost, "wrong"));
            if round >= 5 {
                known.push(known_time);
                unknown.push(unknown_time);
            }
        }
        let (known, unknown) = (median(known), median(unknown));
        let tolerance = (known / 10).max(Duration::from_millis(3));
        let round = format!("medians of 40: known user {known:?}, unknown user {unknown:?}");
        eprintln!("{round}");
        rounds.push(round);
        if known.abs_diff(unknown) <= tolerance {
            break;
        }
        assert!(rounds.len() < 3, "beyond 10% in every round: {rounds:#?}");
    }
}
