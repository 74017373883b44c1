//! `agentgate demo`: an in-memory store with one user, and curl lines that work when run in
//! the order printed.
//!
//! A successful change revokes every other credential of the user (SPEC §4), so the lines
//! that use the ticket and the token come first: the token only sees a refusal, the ticket
//! makes the first changes (a change keeps the credential that made it), and the `Basic`
//! lines follow. `tests/readme.rs` runs them in this order and checks each answer.

use agentgate_accounts::Accounts;

use super::serve::serve;
use crate::cli::config::Resolved;
use crate::cli::store::open;
use crate::cli::{Failure, fail};

const USER: &str = "demo";
const PASSWORD: &str = "correct-horse-battery";
/// The passwords the lines set, in order; each line's old password is the one before.
const CHAIN: [&str; 7] = [
    PASSWORD,
    "purple-monkey-dishwasher",
    "soap-falcon-meadow-5",
    "json-marten-harbor-8",
    "form-otter-lantern-42",
    "patch-heron-velvet-9",
    "merge-badger-quartz-3",
];
const API: &str = crate::rest::PUBLISHED_PATH;
const SOAP: &str = "/Remote/Services88/User.svc";
const NETSERVER: &str = "http://www.superoffice.net/ws/crm/NetServer/Services88";

/// `agentgate demo`: nothing is printed until the address is bound, so a busy port is one
/// line about `--bind`, not a page of curl lines that cannot work.
pub(crate) async fn run(resolved: Resolved) -> Result<(), Failure> {
    let accounts = open(&resolved.database, resolved.accounts.clone()).await?;
    let (ticket, token) = demo_user(&accounts).await?;
    serve(resolved, Some(accounts), |base| {
        println!("{}", script(base, &ticket, &token));
    })
    .await
}

async fn demo_user(accounts: &Accounts) -> Result<(String, String), Failure> {
    accounts
        .add_user(USER, PASSWORD)
        .await
        .map_err(|e| fail(format!("cannot create the demo user: {e}")))?;
    let ticket = accounts
        .issue_ticket(USER, None)
        .await
        .map_err(|e| fail(format!("cannot issue the demo ticket: {e}")))?;
    let token = accounts
        .issue_token(USER, None)
        .await
        .map_err(|e| fail(format!("cannot issue the demo token: {e}")))?;
    Ok((ticket, token))
}

/// One example: what it shows, what it answers (`STATUS BODY[, HEADER: VALUE]`, the form
/// `tests/readme.rs` checks), and the curl command.
struct Example {
    shows: &'static str,
    answers: &'static str,
    curl: String,
}

/// Everything the demo prints on stdout, for the server at `base`.
fn script(base: &str, ticket: &str, token: &str) -> String {
    let mut out = format!(
        "agentgate demo: an in-memory store with user '{USER}', password '{PASSWORD}'.\n\
         Nothing is kept when it stops. In another terminal, run the lines below in order:\n\
         each answers as its comment says (→ status, body, header), and most change the\n\
         password from the one the line before set.\n\n"
    );
    for (n, example) in examples(base, ticket, token).iter().enumerate() {
        out.push_str(&format!(
            "# {}. {} → {}\n{}\n\n",
            n + 1,
            example.shows,
            example.answers,
            example.curl
        ));
    }
    out.push_str(&format!(
        "Or open {base}/login in a browser and sign in as {USER} with the password the last line set, {}.",
        CHAIN[CHAIN.len() - 1]
    ));
    out
}

fn examples(base: &str, ticket: &str, token: &str) -> Vec<Example> {
    let api = format!("{base}{API}");
    let json = |old: &str, new: &str| format!(r#"{{"OldPassword":"{old}","NewPassword":"{new}"}}"#);
    let basic = |n: usize, media: &str, body: String| {
        format!(
            "curl -i -u {USER}:{} -H 'Content-Type: {media}' \\\n  -d '{body}' {api}",
            CHAIN[n]
        )
    };
    vec![
        Example {
            shows: "An access token (Bearer) with a wrong old password is refused",
            answers: "200 false, X-Reason: old-password-mismatch",
            curl: format!(
                "curl -i -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n  -d '{}' {api}",
                json("not-the-password", CHAIN[1])
            ),
        },
        Example {
            shows: "A session ticket (SOTicket), DataContract XML in and out",
            answers: "200 true",
            curl: format!(
                "curl -i -H 'Authorization: SOTicket {ticket}' -H 'Content-Type: text/xml' -H 'Accept: application/xml' \\\n  -d '<ChangeOwnPasswordRequest xmlns=\"http://schemas.datacontract.org/2004/07/SuperOffice.WebApi\"><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></ChangeOwnPasswordRequest>' {api}",
                CHAIN[0], CHAIN[1]
            ),
        },
        Example {
            shows: "SOAP, as a NetServer web-service client sends it, with the same ticket",
            answers: "200 true",
            curl: format!(
                "curl -i -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: \"{NETSERVER}/User/ChangeOwnPassword\"' \\\n  -d '<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><Credentials xmlns=\"{NETSERVER}\"><Ticket>{ticket}</Ticket></Credentials></s:Header><s:Body><ChangeOwnPassword xmlns=\"{NETSERVER}\"><OldPassword>{}</OldPassword><NewPassword>{}</NewPassword></ChangeOwnPassword></s:Body></s:Envelope>' \\\n  {base}{SOAP}",
                CHAIN[1], CHAIN[2]
            ),
        },
        Example {
            shows: "Basic, JSON",
            answers: "200 true",
            curl: basic(2, "application/json", json(CHAIN[2], CHAIN[3])),
        },
        Example {
            shows: "Basic, an HTML form's encoding",
            answers: "200 true",
            curl: basic(
                3,
                "application/x-www-form-urlencoded",
                format!("OldPassword={}&NewPassword={}", CHAIN[3], CHAIN[4]),
            ),
        },
        Example {
            shows: "Basic, JSON Patch (RFC 6902)",
            answers: "200 true",
            curl: basic(
                4,
                "application/json-patch+json",
                format!(
                    r#"[{{"op":"replace","path":"/OldPassword","value":"{}"}},{{"op":"replace","path":"/NewPassword","value":"{}"}}]"#,
                    CHAIN[4], CHAIN[5]
                ),
            ),
        },
        Example {
            shows: "Basic, JSON Merge Patch (RFC 7396)",
            answers: "200 true",
            curl: basic(5, "application/merge-patch+json", json(CHAIN[5], CHAIN[6])),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_numbered_with_its_answer_and_targets_the_bound_address() {
        let text = script("http://127.0.0.1:4711", "7T:t", "8A:k");
        let comments: Vec<&str> = text.lines().filter(|l| l.starts_with("# ")).collect();
        assert_eq!(comments.len(), 7);
        for (n, line) in comments.iter().enumerate() {
            assert!(line.starts_with(&format!("# {}. ", n + 1)), "{line}");
            assert!(line.contains(" → 200 "), "{line}");
        }
        let curls = text.matches("curl -i").count();
        assert_eq!(curls, 7);
        assert_eq!(text.matches("http://127.0.0.1:4711/").count(), 8);
        // The credentials that a Basic change would revoke are used before the first one.
        let first_basic = text.find("-u demo:").unwrap();
        assert!(text.rfind("7T:t").unwrap() < first_basic);
        assert!(text.rfind("8A:k").unwrap() < first_basic);
    }
}
