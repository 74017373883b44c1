//! Two agentgate instances on one PostgreSQL: everything that matters lives in the store, so
//! either instance can answer any request (issue 7). Needs `AGENTGATE_TEST_POSTGRES` (scripts/test
//! starts a PostgreSQL and sets it); without it each test fails under CI and says it skipped
//! elsewhere.

use std::process::Command;

use agentgate_blackbox::{ENDPOINT, FAST_HASH, Server, basic, client, postgres_url, skip};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

const OLD: &str = "sint-occaecat-42";

/// A fresh schema for one test, dropped at the end.
struct Schema {
    base: String,
    name: String,
}

impl Schema {
    fn new(base: &str, test: &str) -> Option<Schema> {
        let name = format!("bb_{test}_{}", std::process::id());
        let ok = Command::new("psql")
            .env("PGOPTIONS", "--client-min-messages=warning")
            .args([base, "-q", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            skip(&format!("psql could not create a schema on {base}"));
            return None;
        }
        Some(Schema {
            base: base.to_owned(),
            name,
        })
    }

    /// The database URL that puts this schema first on the search path.
    fn url(&self) -> String {
        let separator = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.base, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .env("PGOPTIONS", "--client-min-messages=warning")
            .args([self.base.as_str(), "-q", "-c"])
            .arg(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .status();
    }
}

/// Two instances on one fresh schema, with a user `multi`.
fn two_instances(test: &str) -> Option<(Schema, Server, Server)> {
    let base = postgres_url()?;
    let schema = Schema::new(&base, test)?;
    let url = schema.url();
    let a = Server::start_on(&url, &FAST_HASH, None);
    let b = Server::start_on(&url, &FAST_HASH, None);
    a.add_user("multi", OLD);
    Some((schema, a, b))
}

fn change(server: &Server, auth: &str, old: &str, new: &str) -> (u16, Option<String>, String) {
    let r = client()
        .post(server.url(ENDPOINT))
        .header(AUTHORIZATION, auth)
        .header(CONTENT_TYPE, "application/json")
        .body(serde_json::json!({ "OldPassword": old, "NewPassword": new }).to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let reason = r
        .headers()
        .get("x-reason")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, reason, r.text().unwrap())
}

#[test]
fn a_change_on_one_instance_revokes_a_ticket_the_other_then_refuses() {
    let Some((_schema, a, b)) = two_instances("revoke") else {
        return;
    };
    let ticket = a.ticket("multi");
    let (status, _, body) = change(
        &b,
        &format!("SOTicket {ticket}"),
        "wrong",
        "whatever-else-1",
    );
    assert_eq!(
        (status, body.as_str()),
        (200, "false"),
        "B knows A's ticket"
    );

    let (status, _, body) = change(&a, &basic("multi", OLD), OLD, "moved-on-password-1");
    assert_eq!((status, body.as_str()), (200, "true"));
    let (status, _, _) = change(
        &b,
        &format!("SOTicket {ticket}"),
        "wrong",
        "whatever-else-1",
    );
    assert_eq!(status, 401, "B refuses the revoked ticket");
    let (status, _, body) = change(
        &b,
        &basic("multi", "moved-on-password-1"),
        "wrong",
        "whatever-else-1",
    );
    assert_eq!(
        (status, body.as_str()),
        (200, "false"),
        "B sees the new password"
    );
}

#[test]
fn wrong_old_passwords_on_both_instances_add_up_to_one_throttle() {
    let Some((_schema, a, b)) = two_instances("throttle") else {
        return;
    };
    let auth = basic("multi", OLD);
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let (status, reason, _) = change(server, &auth, &format!("wrong-{i}"), "whatever-else-1");
        assert_eq!(
            (status, reason.as_deref()),
            (200, Some("old-password-mismatch")),
            "attempt {i}"
        );
    }
    for server in [&a, &b] {
        let (status, _, body) = change(server, &auth, OLD, "whatever-else-1");
        assert_eq!(status, 429, "{body}");
    }
}

#[test]
fn concurrent_changes_through_both_instances_give_exactly_one_true() {
    let Some((_schema, a, b)) = two_instances("race") else {
        return;
    };
    let auth = basic("multi", OLD);
    let results: Vec<(u16, String)> = std::thread::scope(|s| {
        let ha = s.spawn(|| {
            let (status, _, body) = change(&a, &auth, OLD, "winner-a-password-1");
            (status, body)
        });
        let hb = s.spawn(|| {
            let (status, _, body) = change(&b, &auth, OLD, "winner-b-password-2");
            (status, body)
        });
        vec![ha.join().unwrap(), hb.join().unwrap()]
    });
    let trues = results
        .iter()
        .filter(|(s, body)| *s == 200 && body == "true")
        .count();
    assert_eq!(trues, 1, "{results:?}");
    let winner = if results[0].1 == "true" {
        "winner-a-password-1"
    } else {
        "winner-b-password-2"
    };
    let loser = if results[0].1 == "true" {
        "winner-b-password-2"
    } else {
        "winner-a-password-1"
    };
    assert_eq!(
        change(&b, &basic("multi", winner), "x", "whatever-else-1").0,
        200
    );
    assert_eq!(
        change(&a, &basic("multi", loser), "x", "whatever-else-1").0,
        401
    );
}
