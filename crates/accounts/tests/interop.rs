//! Stored hashes never lock anyone out when the Argon2id implementation changes: PHC strings
//! written by agentgate (`argon2-rust`, and RustCrypto `argon2` before issue 17) verify with the C reference implementation
//! (libargon2, through Python's argon2-cffi), and the other way round.
//!
//! Needs `python3` with `argon2-cffi` (`pip install -r tests/interop/requirements.txt`); without
//! it the test reports that it skipped, except under `CI=true`, where it fails.

use std::process::Command;

mod common;

use agentgate_accounts::{Accounts, Config, Credential};

const PASSWORD: &str = "Grüße aus Köln, 2026!";

fn python_has_argon2() -> bool {
    Command::new("python3")
        .args(["-c", "import argon2"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs a Python snippet with the password in the environment (never on the command line).
fn python(script: &str, hash: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script]).env("PW", PASSWORD);
    if let Some(hash) = hash {
        cmd.env("HASH", hash);
    }
    let out = cmd.output().expect("run python3");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    )
}

async fn stored_hash(url: &str) -> String {
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT hash FROM users WHERE username_key = 'interop'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn phc_strings_verify_across_implementations_both_ways() {
    if !python_has_argon2() {
        let missing = "python3 with argon2-cffi is not installed (pip install -r tests/interop/requirements.txt)";
        // Under CI a missing tool is a broken set-up, not a pass (scripts/test installs it).
        assert!(!common::in_ci(), "under CI, and {missing}");
        eprintln!("skipped: {missing}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("agentgate-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("interop.db").display());

    // Ours, at the OWASP defaults, verified by libargon2.
    let accounts = Accounts::open(&url, Config::default()).await.unwrap();
    accounts.add_user("interop", PASSWORD).await.unwrap();
    let ours = stored_hash(&url).await;
    assert!(
        ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{ours}"
    );
    let verify = "import os, argon2\n\
                  print(argon2.PasswordHasher().verify(os.environ['HASH'], os.environ['PW']))";
    let (ok, printed) = python(verify, Some(&ours));
    assert!(
        ok && printed == "True",
        "libargon2 refused our hash: {printed}"
    );
    let (ok, _) = python(
        "import os, argon2\nargon2.PasswordHasher().verify(os.environ['HASH'], 'wrong')",
        Some(&ours),
    );
    assert!(!ok, "libargon2 accepted a wrong password");

    // libargon2's, at the same parameters, accepted by agentgate.
    let make = "import os, argon2\n\
                h = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)\n\
                print(h.hash(os.environ['PW']))";
    let (ok, theirs) = python(make, None);
    assert!(ok && theirs.starts_with("$argon2id$"), "{theirs}");
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE users SET hash = $1 WHERE username_key = 'interop'")
            .bind(&theirs)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let client = None;
    let identity = accounts
        .authenticate(
            Credential::Basic {
                username: "interop",
                password: PASSWORD,
            },
            client,
        )
        .await;
    assert!(identity.is_ok(), "agentgate refused libargon2's hash");
    let wrong = accounts
        .authenticate(
            Credential::Basic {
                username: "interop",
                password: "wrong",
            },
            client,
        )
        .await;
    assert!(wrong.is_err());
    drop(accounts);
    let _ = std::fs::remove_dir_all(&dir);
}
