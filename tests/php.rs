//! Black-box test with a real PHP client (issue 20, SPEC §9): PHP's built-in `SoapClient` in
//! WSDL mode builds its proxy from the WSDL the gateway serves for Services73, Services75 and
//! Services88, and calls `ChangeOwnPassword` with the headers of SuperOffice's PHP samples: an
//! empty `ApplicationToken` (on-site) and `Credentials/Ticket`.
//!
//! Needs `php` with the `soap` extension (Debian: `php-cli`, `php-soap`, installed by
//! `scripts/test`). Under `CI=true` a missing one fails the test; elsewhere it is skipped, saying
//! why on stderr.

use std::process::Command;

use agentgate_blackbox::{ENDPOINT, Server, basic, client};

const OLD: &str = "sint-occaecat-42";
const NEW: &str = "Tr0ub4dour&3-horse";
const NEWER: &str = "correct-horse-battery-9";

/// Whether `php` with the soap extension can run; under CI its absence is a failure.
fn php_available() -> bool {
    let missing = match Command::new("php").arg("-m").output() {
        Ok(out) if out.status.success() => {
            let modules = String::from_utf8_lossy(&out.stdout);
            if modules
                .lines()
                .any(|m| m.trim().eq_ignore_ascii_case("soap"))
            {
                return true;
            }
            "php has no soap extension (Debian: apt-get install php-soap)"
        }
        _ => "php is not installed (Debian: apt-get install php-cli php-soap)",
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true and {missing}"
    );
    eprintln!("skipped: {missing}");
    false
}

/// Runs `tests/php/change_password.php` against a version's WSDL; its one line of output.
fn php_change(server: &Server, version: u8, ticket: Option<&str>, old: &str, new: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/php/change_password.php");
    let wsdl = server.url(&format!("/Remote/Services{version}/User.svc?wsdl"));
    let out = Command::new("php")
        .args([script, &wsdl, ticket.unwrap_or("-"), old, new])
        .output()
        .expect("run php");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "Services{version}: {stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    stdout.trim_end().to_owned()
}

/// The new password works: the user authenticates with it (`Basic`) and changes it again.
fn assert_password_is(server: &Server, username: &str, password: &str) {
    let response = client()
        .post(server.url(ENDPOINT))
        .header("Authorization", basic(username, password))
        .header("Content-Type", "application/json")
        .body(format!(
            r#"{{"OldPassword":"{password}","NewPassword":"{NEWER}"}}"#
        ))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{username}");
    assert_eq!(response.text().unwrap(), "true", "{username}");
}

#[test]
fn php_soap_client_changes_the_password_in_every_contract_generation() {
    if !php_available() {
        return;
    }
    let server = Server::start(&[]);
    for version in [73, 75, 88] {
        let username = format!("php{version}");
        server.add_user(&username, OLD);
        let ticket = server.ticket(&username);

        // No ticket: refused, nothing changes.
        assert_eq!(
            php_change(&server, version, None, OLD, NEW),
            "response=false succeeded=false exception_type=Unauthorized \
             message=Authorization has been denied for this request.",
            "Services{version}"
        );
        // A wrong old password: false.
        assert_eq!(
            php_change(&server, version, Some(&ticket), "not-the-old-one", NEW),
            "response=false succeeded=false exception_type=old-password-mismatch \
             message=The current password is not correct.",
            "Services{version}"
        );
        // The empty ApplicationToken is no token on-site: the change goes through.
        assert_eq!(
            php_change(&server, version, Some(&ticket), OLD, NEW),
            "response=true succeeded=true exception_type= message=",
            "Services{version}"
        );
        assert_password_is(&server, &username, NEW);
    }
}
