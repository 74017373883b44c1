//! The accounts suite. Every test runs unchanged on both backends: on a fresh SQLite file in
//! a temporary directory, and, when `AGENTGATE_TEST_POSTGRES` names a server (for example
//! `postgres://postgres@127.0.0.1:5432/test`), on PostgreSQL in a fresh schema of its own.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use agentgate_accounts::{
    Accounts, ChangeOutcome, Config, Credential, Error, HashParams, Identity, PolicyViolation,
    ThrottleConfig, Via,
};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

mod common;

use common::*;

on_both_backends!(
    usernames_are_unique_case_insensitively,
    basic_authentication_fails_alike_for_wrong_and_unknown,
    unknown_users_cost_a_verification_too,
    disabled_and_removed_users_cannot_authenticate,
    tickets_and_tokens_verify_and_are_stored_as_digests,
    tickets_and_tokens_expire,
    tickets_and_tokens_can_be_revoked,
    sessions_authenticate_and_xsrf_tokens_are_bound_to_them,
    change_makes_the_new_password_work_and_the_old_fail,
    wrong_old_password_is_a_mismatch,
    policy_refuses_short_long_weak_and_unchanged,
    five_wrong_old_passwords_throttle_even_the_right_one,
    throttle_delay_doubles_up_to_its_cap,
    a_success_resets_the_throttle,
    instances_share_throttle_and_secret,
    a_change_revokes_every_other_credential_but_the_callers,
    concurrent_changes_with_the_same_old_password_give_one_success,
    a_change_that_lost_its_race_changes_nothing,
    a_full_hashing_queue_is_busy_and_changes_nothing,
    basic_identity_verifies_the_old_password_once,
    hashes_are_standard_phc_strings,
    weaker_foreign_hashes_verify_and_are_upgraded,
    audit_events_record_changes_without_secrets,
    state_survives_reopening,
    healthy_answers_when_the_store_does,
);

// ---------------------------------------------------------------------------------------------
// Users and authentication

async fn usernames_are_unique_case_insensitively(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    assert!(matches!(
        accounts.add_user("ALICE", PASSWORD).await,
        Err(Error::UserExists)
    ));
    // Fullwidth letters are the same name after NFKC.
    assert!(matches!(
        accounts.add_user("ａｌｉｃｅ", PASSWORD).await,
        Err(Error::UserExists)
    ));
    assert!(matches!(
        accounts.add_user("bob:x", PASSWORD).await,
        Err(Error::InvalidUsername(_))
    ));
    assert!(matches!(
        accounts.add_user("", PASSWORD).await,
        Err(Error::InvalidUsername(_))
    ));
    assert!(matches!(
        accounts.add_user("bob", "short").await,
        Err(Error::Policy(PolicyViolation::TooShort { min: 8 }))
    ));
    accounts.add_user("Bob", NEW_PASSWORD).await.unwrap();

    let users = accounts.list_users().await.unwrap();
    let names: Vec<&str> = users.iter().map(|user| user.username.as_str()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    assert!(users.iter().all(|user| !user.disabled));
    let age = SystemTime::now()
        .duration_since(users[0].changed_at)
        .unwrap();
    assert!(age < Duration::from_secs(60), "{age:?}");
}

async fn basic_authentication_fails_alike_for_wrong_and_unknown(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = from("192.0.2.1");
    let alice = accounts
        .authenticate(basic("aLiCe", PASSWORD), client)
        .await
        .unwrap();
    assert_eq!(
        (alice.username.as_str(), alice.via),
        ("Alice", Via::Password)
    );

    let wrong = accounts
        .authenticate(basic("alice", "correct horse battery stapler"), client)
        .await;
    let unknown = accounts
        .authenticate(basic("mallory", PASSWORD), client)
        .await;
    let (Err(wrong), Err(unknown)) = (wrong, unknown) else {
        panic!("both must fail")
    };
    assert!(matches!(wrong, Error::Unauthorized));
    assert!(matches!(unknown, Error::Unauthorized));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

async fn unknown_users_cost_a_verification_too(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let before = accounts.hashing_jobs();
    let _ = accounts
        .authenticate(basic("alice", "wrong password"), None)
        .await;
    assert_eq!(accounts.hashing_jobs(), before + 1);
    let _ = accounts
        .authenticate(basic("mallory", "wrong password"), None)
        .await;
    assert_eq!(accounts.hashing_jobs(), before + 2);
}

async fn disabled_and_removed_users_cannot_authenticate(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let ticket = accounts.issue_ticket("alice", None).await.unwrap();
    accounts.set_disabled("ALICE", true).await.unwrap();
    assert!(accounts.list_users().await.unwrap()[0].disabled);
    assert!(!password_works(&accounts, "alice", PASSWORD).await);
    let by_ticket = accounts
        .authenticate(Credential::Ticket(&ticket), None)
        .await;
    assert!(matches!(by_ticket, Err(Error::Unauthorized)));

    accounts.set_disabled("alice", false).await.unwrap();
    assert!(password_works(&accounts, "alice", PASSWORD).await);

    accounts.remove_user("alice").await.unwrap();
    assert!(!password_works(&accounts, "alice", PASSWORD).await);
    let by_ticket = accounts
        .authenticate(Credential::Ticket(&ticket), None)
        .await;
    assert!(matches!(by_ticket, Err(Error::Unauthorized)));
    assert!(matches!(
        accounts.remove_user("alice").await,
        Err(Error::UnknownUser)
    ));
    assert!(matches!(
        accounts.set_disabled("alice", true).await,
        Err(Error::UnknownUser)
    ));
    assert!(db.blobs("SELECT digest FROM credentials").await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Tickets, tokens, sessions

async fn tickets_and_tokens_verify_and_are_stored_as_digests(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let ticket = accounts.issue_ticket("alice", None).await.unwrap();
    let token = accounts.issue_token("ALICE", None).await.unwrap();
    for (credential, prefix) in [(&ticket, "7T:"), (&token, "8A:")] {
        let random = credential.strip_prefix(prefix).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(random).unwrap().len(),
            32,
            "256 random bits"
        );
    }
    assert_ne!(accounts.issue_ticket("alice", None).await.unwrap(), ticket);

    let client = None;
    let by_ticket = accounts
        .authenticate(Credential::Ticket(&ticket), client)
        .await
        .unwrap();
    assert_eq!(
        (by_ticket.username.as_str(), by_ticket.via),
        ("Alice", Via::Ticket)
    );
    let by_token = accounts
        .authenticate(Credential::Token(&token), client)
        .await
        .unwrap();
    assert_eq!(by_token.via, Via::Token);
    // Each kind only where it belongs.
    assert!(matches!(
        accounts
            .authenticate(Credential::Token(&ticket), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        accounts
            .authenticate(Credential::Session(&token), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        accounts
            .authenticate(Credential::Ticket("7T:forged"), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        accounts.issue_ticket("mallory", None).await,
        Err(Error::UnknownUser)
    ));
    assert!(matches!(
        accounts.issue_token("mallory", None).await,
        Err(Error::UnknownUser)
    ));

    let digests = db.blobs("SELECT digest FROM credentials").await;
    assert!(digests.contains(&sha256(&ticket)) && digests.contains(&sha256(&token)));
    for stored in &digests {
        assert_eq!(stored.len(), 32);
        assert!(!contains(stored, ticket.as_bytes()) && !contains(stored, token.as_bytes()));
    }
    if let Some(bytes) = db.file_bytes() {
        for secret in [&ticket, &token] {
            assert!(
                !contains(&bytes, &secret.as_bytes()[3..]),
                "a raw credential is on disk"
            );
        }
    }
}

async fn tickets_and_tokens_expire(db: Arc<Db>) {
    let clock = manual_clock();
    let accounts = with_alice_at(&db, cheap(), &clock).await;
    let client = None;
    let expired = accounts
        .issue_ticket("alice", Some(Duration::ZERO))
        .await
        .unwrap();
    assert!(matches!(
        accounts
            .authenticate(Credential::Ticket(&expired), client)
            .await,
        Err(Error::Unauthorized)
    ));

    let ticket = accounts
        .issue_ticket("alice", Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    let token = accounts
        .issue_token("alice", Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert!(
        accounts
            .authenticate(Credential::Ticket(&ticket), client)
            .await
            .is_ok()
    );
    assert!(
        accounts
            .authenticate(Credential::Token(&token), client)
            .await
            .is_ok()
    );
    clock.advance(Duration::from_millis(1500));
    assert!(matches!(
        accounts
            .authenticate(Credential::Ticket(&ticket), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        accounts
            .authenticate(Credential::Token(&token), client)
            .await,
        Err(Error::Unauthorized)
    ));

    // The defaults come from the configuration.
    let config = accounts.config();
    assert_eq!(
        (config.ticket_ttl.as_secs(), config.token_ttl.as_secs()),
        (8 * 3600, 3600)
    );
}

async fn tickets_and_tokens_can_be_revoked(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let ticket = accounts.issue_ticket("alice", None).await.unwrap();
    let token = accounts.issue_token("alice", None).await.unwrap();
    assert!(accounts.revoke_token(&ticket).await.unwrap());
    assert!(!accounts.revoke_token(&ticket).await.unwrap());
    assert!(matches!(
        accounts
            .authenticate(Credential::Ticket(&ticket), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(
        accounts
            .authenticate(Credential::Token(&token), client)
            .await
            .is_ok()
    );
    assert!(accounts.revoke_token(&token).await.unwrap());
    assert!(matches!(
        accounts
            .authenticate(Credential::Token(&token), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(!accounts.revoke_token("something else").await.unwrap());
}

async fn sessions_authenticate_and_xsrf_tokens_are_bound_to_them(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = from("198.51.100.7");
    let session = accounts.login("ALICE", PASSWORD, client).await.unwrap();
    let other = accounts.login("alice", PASSWORD, client).await.unwrap();
    assert_ne!(session.cookie, other.cookie);
    assert_eq!(URL_SAFE_NO_PAD.decode(&session.cookie).unwrap().len(), 32);

    let identity = accounts
        .authenticate(Credential::Session(&session.cookie), client)
        .await
        .unwrap();
    assert_eq!(
        (identity.username.as_str(), identity.via),
        ("Alice", Via::Session)
    );

    assert_eq!(session.xsrf_token, accounts.xsrf_token(&session.cookie));
    assert!(accounts.verify_xsrf(&session.cookie, &session.xsrf_token));
    assert!(!accounts.verify_xsrf(&session.cookie, &other.xsrf_token));
    assert!(!accounts.verify_xsrf(&other.cookie, &session.xsrf_token));
    assert!(!accounts.verify_xsrf(&session.cookie, ""));

    let login_token = accounts.login_xsrf_token();
    assert!(accounts.verify_login_xsrf(&login_token));
    assert!(!accounts.verify_login_xsrf(&session.xsrf_token));
    assert!(!accounts.verify_login_xsrf(&login_token.replace('.', ".x")));

    assert!(matches!(
        accounts.login("alice", "not the password", client).await,
        Err(Error::Unauthorized)
    ));
    assert!(matches!(
        accounts.login("mallory", PASSWORD, client).await,
        Err(Error::Unauthorized)
    ));

    accounts.logout(&session.cookie).await.unwrap();
    assert!(matches!(
        accounts
            .authenticate(Credential::Session(&session.cookie), client)
            .await,
        Err(Error::Unauthorized)
    ));
    assert!(
        accounts
            .authenticate(Credential::Session(&other.cookie), client)
            .await
            .is_ok()
    );
    accounts.logout(&session.cookie).await.unwrap();

    assert!(
        !db.blobs("SELECT digest FROM credentials")
            .await
            .iter()
            .any(|d| contains(d, other.cookie.as_bytes()))
    );
    if let Some(bytes) = db.file_bytes() {
        assert!(!contains(&bytes, other.cookie.as_bytes()));
    }
}

// ---------------------------------------------------------------------------------------------
// Changing the password

async fn change_makes_the_new_password_work_and_the_old_fail(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = from("192.0.2.10");
    let alice = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    let before = db.strings("SELECT hash FROM users").await;
    let outcome = accounts
        .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::Changed { session: None });
    assert_ne!(db.strings("SELECT hash FROM users").await, before);
    assert!(password_works(&accounts, "alice", NEW_PASSWORD).await);
    assert!(!password_works(&accounts, "alice", PASSWORD).await);
    // The NFKC form is what counts: fullwidth digits and letters are the same password.
    assert!(
        password_works(
            &accounts,
            "alice",
            "Ｔｒ0ｕｂ4ｄｏｒ&3 ｐｕｒｐｌｅ ｋｅｔｔｌｅ"
        )
        .await
    );
}

async fn wrong_old_password_is_a_mismatch(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let alice = ticket_identity(&accounts, "alice").await;
    let outcome = accounts
        .change_password(&alice, "not my password", NEW_PASSWORD, None)
        .await;
    assert_eq!(outcome.unwrap(), ChangeOutcome::OldPasswordMismatch);
    assert!(password_works(&accounts, "alice", PASSWORD).await);
    assert!(!password_works(&accounts, "alice", NEW_PASSWORD).await);
}

async fn policy_refuses_short_long_weak_and_unchanged(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let alice = ticket_identity(&accounts, "alice").await;
    let refused = |violation| ChangeOutcome::Refused(violation);
    let change = |new: String| {
        let (accounts, alice, client) = (&accounts, &alice, client);
        async move {
            accounts
                .change_password(alice, PASSWORD, &new, client)
                .await
                .unwrap()
        }
    };

    // Seven code points in thirteen bytes.
    assert_eq!(
        change("åäöÅÄÖ!".into()).await,
        refused(PolicyViolation::TooShort { min: 8 })
    );
    // Eight code points as sent, four after NFKC composes each e + combining acute.
    assert_eq!(
        change("e\u{301}".repeat(4)).await,
        refused(PolicyViolation::TooShort { min: 8 })
    );
    assert_eq!(
        change(LONG[..129].into()).await,
        refused(PolicyViolation::TooLong { max: 128 })
    );
    assert_eq!(
        change(PASSWORD.into()).await,
        refused(PolicyViolation::Unchanged)
    );
    // Fullwidth is the same password after NFKC.
    let fullwidth = "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ ｓｔａｐｌｅ";
    assert_eq!(
        change(fullwidth.into()).await,
        refused(PolicyViolation::Unchanged)
    );
    assert!(matches!(
        change("password1".into()).await,
        ChangeOutcome::Refused(PolicyViolation::TooWeak { min: 2, .. })
    ));
    assert_eq!(
        PolicyViolation::TooWeak { score: 0, min: 2 }.reason(),
        "password-too-weak"
    );

    // The username is a known input: strong for anyone else, weak for this user.
    accounts.add_user("qzxwvbnq8", PASSWORD).await.unwrap();
    let derived = "qzxwvbnq8qzxwvbnq8";
    assert_eq!(accounts.policy().check(derived, None, "someone"), Ok(()));
    let user = ticket_identity(&accounts, "qzxwvbnq8").await;
    let outcome = accounts
        .change_password(&user, PASSWORD, derived, client)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ChangeOutcome::Refused(PolicyViolation::TooWeak { min: 2, .. })
        ),
        "{outcome:?}"
    );

    // Nothing changed along the way; a long but acceptable one is taken.
    assert!(password_works(&accounts, "alice", PASSWORD).await);
    let longest = &LONG[..128];
    assert_eq!(
        change(longest.into()).await,
        ChangeOutcome::Changed { session: None }
    );
    assert!(password_works(&accounts, "alice", longest).await);
}

async fn five_wrong_old_passwords_throttle_even_the_right_one(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let alice = ticket_identity(&accounts, "alice").await;
    for _ in 0..5 {
        let outcome = accounts
            .change_password(&alice, "wrong", NEW_PASSWORD, client)
            .await
            .unwrap();
        assert_eq!(outcome, ChangeOutcome::OldPasswordMismatch);
    }
    let jobs = accounts.hashing_jobs();
    let outcome = accounts
        .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
        .await
        .unwrap();
    let ChangeOutcome::Throttled { retry_after, until } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        retry_after > Duration::from_secs(55) && retry_after <= Duration::from_secs(60),
        "{retry_after:?}"
    );
    let ahead = until.duration_since(SystemTime::now()).unwrap();
    assert!(
        ahead > Duration::from_secs(55) && ahead <= Duration::from_secs(60),
        "{ahead:?}"
    );
    assert_eq!(
        accounts.hashing_jobs(),
        jobs,
        "throttled before any hashing"
    );
    assert!(
        password_works(&accounts, "alice", PASSWORD).await,
        "nothing changed"
    );
}

fn quick_throttle() -> Config {
    Config {
        throttle: ThrottleConfig {
            max_failures: 2,
            window: Duration::from_secs(900),
            first_delay: Duration::from_secs(40),
            max_delay: Duration::from_secs(100),
        },
        ..cheap()
    }
}

async fn throttled_for(accounts: &Accounts, alice: &Identity) -> Duration {
    match accounts
        .change_password(alice, PASSWORD, NEW_PASSWORD, None)
        .await
        .unwrap()
    {
        ChangeOutcome::Throttled { retry_after, .. } => retry_after,
        other => panic!("expected Throttled, got {other:?}"),
    }
}

async fn throttle_delay_doubles_up_to_its_cap(db: Arc<Db>) {
    let clock = manual_clock();
    let accounts = with_alice_at(&db, quick_throttle(), &clock).await;
    let alice = ticket_identity(&accounts, "alice").await;
    let client = None;
    let wrong = || accounts.change_password(&alice, "wrong", NEW_PASSWORD, client);
    assert_eq!(wrong().await.unwrap(), ChangeOutcome::OldPasswordMismatch);
    assert_eq!(wrong().await.unwrap(), ChangeOutcome::OldPasswordMismatch);
    for expected in [40_000, 80_000, 100_000, 100_000] {
        let waiting = throttled_for(&accounts, &alice).await;
        assert_eq!(waiting, Duration::from_millis(expected));
        clock.advance(Duration::from_millis(expected - 1));
        assert_eq!(
            throttled_for(&accounts, &alice).await,
            Duration::from_millis(1)
        );
        clock.advance(Duration::from_millis(1));
        assert_eq!(wrong().await.unwrap(), ChangeOutcome::OldPasswordMismatch);
    }
}

async fn a_success_resets_the_throttle(db: Arc<Db>) {
    let accounts = with_alice(&db, quick_throttle()).await;
    let alice = ticket_identity(&accounts, "alice").await;
    let client = None;
    assert_eq!(
        accounts
            .change_password(&alice, "wrong", NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::OldPasswordMismatch
    );
    assert_eq!(
        accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    // One wrong after the success is the first again, not the second.
    assert_eq!(
        accounts
            .change_password(&alice, "wrong", PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::OldPasswordMismatch
    );
    assert_eq!(
        accounts
            .change_password(&alice, NEW_PASSWORD, PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
}

async fn instances_share_throttle_and_secret(db: Arc<Db>) {
    let first = with_alice(&db, cheap()).await;
    let second = db.open(cheap()).await;
    let client = None;
    // One ticket, presented to either instance: one count.
    let ticket = first.issue_ticket("alice", None).await.unwrap();
    let on_first = first
        .authenticate(Credential::Ticket(&ticket), client)
        .await
        .unwrap();
    let on_second = second
        .authenticate(Credential::Ticket(&ticket), client)
        .await
        .unwrap();
    for n in 0..5 {
        let (accounts, identity) = if n % 2 == 0 {
            (&first, &on_first)
        } else {
            (&second, &on_second)
        };
        let outcome = accounts
            .change_password(identity, "wrong", NEW_PASSWORD, client)
            .await
            .unwrap();
        assert_eq!(outcome, ChangeOutcome::OldPasswordMismatch);
    }
    for (accounts, identity) in [(&first, &on_first), (&second, &on_second)] {
        let outcome = accounts
            .change_password(identity, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap();
        assert!(
            matches!(outcome, ChangeOutcome::Throttled { .. }),
            "{outcome:?}"
        );
    }
    let session = first.login("alice", PASSWORD, client).await.unwrap();
    assert!(second.verify_xsrf(&session.cookie, &session.xsrf_token));
    assert!(second.verify_login_xsrf(&first.login_xsrf_token()));
    assert_eq!(
        second
            .authenticate(Credential::Session(&session.cookie), client)
            .await
            .unwrap()
            .via,
        Via::Session
    );
}

async fn a_change_revokes_every_other_credential_but_the_callers(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    accounts.add_user("Bob", NEW_PASSWORD).await.unwrap();
    let client = None;
    let own = accounts.issue_ticket("alice", None).await.unwrap();
    let other_ticket = accounts.issue_ticket("alice", None).await.unwrap();
    let other_token = accounts.issue_token("alice", None).await.unwrap();
    let other_session = accounts.login("alice", PASSWORD, client).await.unwrap();
    let bobs = accounts.issue_ticket("bob", None).await.unwrap();

    let alice = accounts
        .authenticate(Credential::Ticket(&own), client)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    assert!(
        accounts
            .authenticate(Credential::Ticket(&own), client)
            .await
            .is_ok(),
        "the caller's own stays"
    );
    for revoked in [
        Credential::Ticket(&other_ticket),
        Credential::Token(&other_token),
        Credential::Session(&other_session.cookie),
    ] {
        assert!(
            matches!(
                accounts.authenticate(revoked, client).await,
                Err(Error::Unauthorized)
            ),
            "{revoked:?}"
        );
    }
    assert!(
        accounts
            .authenticate(Credential::Ticket(&bobs), client)
            .await
            .is_ok(),
        "other users keep theirs"
    );

    // From a session: that session stays under a new id (SPEC §6), the old id and the
    // ticket go.
    let old_session = accounts.login("alice", NEW_PASSWORD, client).await.unwrap();
    let alice = accounts
        .authenticate(Credential::Session(&old_session.cookie), client)
        .await
        .unwrap();
    let ChangeOutcome::Changed {
        session: Some(session),
    } = accounts
        .change_password(&alice, NEW_PASSWORD, PASSWORD, client)
        .await
        .unwrap()
    else {
        panic!("a change made with a session renews it");
    };
    assert_ne!(session.cookie, old_session.cookie);
    assert_eq!(session.xsrf_token, accounts.xsrf_token(&session.cookie));
    assert!(
        matches!(
            accounts
                .authenticate(Credential::Session(&old_session.cookie), client)
                .await,
            Err(Error::Unauthorized)
        ),
        "the old session id no longer works"
    );
    let renewed = accounts
        .authenticate(Credential::Session(&session.cookie), client)
        .await
        .unwrap();
    assert_eq!(
        (renewed.username.as_str(), renewed.via),
        ("Alice", Via::Session)
    );
    assert!(
        accounts
            .authenticate(Credential::Ticket(&own), client)
            .await
            .is_err()
    );

    // With a password: everything goes.
    let alice = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    assert!(
        accounts
            .authenticate(Credential::Session(&session.cookie), client)
            .await
            .is_err()
    );
    assert_eq!(
        db.blobs("SELECT digest FROM credentials").await.len(),
        1,
        "only Bob's ticket is left"
    );
}

async fn concurrent_changes_with_the_same_old_password_give_one_success(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let mut old = PASSWORD.to_owned();
    for round in 0..4 {
        let (first_new, second_new) = (
            format!("{round} first purple elephant"),
            format!("{round} second green giraffe"),
        );
        // Rounds alternate between identities that skip the verification (Basic, same password)
        // and identities that verify against the stored hash (tickets).
        let (first, second) = if round % 2 == 0 {
            let identity = accounts
                .authenticate(basic("alice", &old), client)
                .await
                .unwrap();
            (identity.clone(), identity)
        } else {
            (
                ticket_identity(&accounts, "alice").await,
                ticket_identity(&accounts, "alice").await,
            )
        };
        let (a, b) = tokio::join!(
            accounts.change_password(&first, &old, &first_new, client),
            accounts.change_password(&second, &old, &second_new, client),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let winners: Vec<usize> = (0..2)
            .filter(|&n| outcomes[n] == ChangeOutcome::Changed { session: None })
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(
            outcomes.contains(&ChangeOutcome::OldPasswordMismatch),
            "{outcomes:?}"
        );
        let (winner, loser) = if winners[0] == 0 {
            (first_new, second_new)
        } else {
            (second_new, first_new)
        };
        assert!(password_works(&accounts, "alice", &winner).await);
        assert!(!password_works(&accounts, "alice", &loser).await);
        assert!(!password_works(&accounts, "alice", &old).await);
        old = winner;
    }
}

/// A change whose old password was right when it was checked but no longer is when its
/// transaction runs (another change came first) writes nothing of a change: the credentials
/// made since stay, no `changed` event is recorded, the winner's password stays.
async fn a_change_that_lost_its_race_changes_nothing(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    // Both checked against the same stored hash, before either change.
    let first = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    let late = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    assert_eq!(
        accounts
            .change_password(&first, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    let ticket = accounts.issue_ticket("alice", None).await.unwrap();
    let session = accounts.login("alice", NEW_PASSWORD, client).await.unwrap();
    assert_eq!(
        accounts
            .change_password(&late, PASSWORD, "a third purple elephant", client)
            .await
            .unwrap(),
        ChangeOutcome::OldPasswordMismatch
    );
    assert!(password_works(&accounts, "alice", NEW_PASSWORD).await);
    assert!(!password_works(&accounts, "alice", "a third purple elephant").await);
    for kept in [
        Credential::Ticket(&ticket),
        Credential::Session(&session.cookie),
    ] {
        assert!(
            accounts.authenticate(kept, client).await.is_ok(),
            "{kept:?}"
        );
    }
    let events = db
        .strings("SELECT outcome FROM audit_events WHERE action = 'change-password' ORDER BY id")
        .await;
    assert_eq!(events, ["changed", "lost-race"]);
}

async fn a_full_hashing_queue_is_busy_and_changes_nothing(db: Arc<Db>) {
    let config = Config {
        hash: HashParams {
            memory_kib: 8192,
            iterations: 2,
            parallelism: 1,
        },
        hashing_threads: 1,
        hashing_queue: 0,
        // Up to eleven refused passwords are tried below, one wrong Basic check each: more
        // than the default ten before Alice's checks wait, which would hide the last check.
        guessing: ThrottleConfig {
            max_failures: 100,
            ..ThrottleConfig::GUESSING
        },
        ..cheap()
    };
    let accounts = with_alice(&db, config).await;
    let alice = ticket_identity(&accounts, "alice").await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..12 {
        let (accounts, alice) = (accounts.clone(), alice.clone());
        tasks.spawn(async move {
            let new = format!("{n} brand new purple elephant");
            let outcome = accounts.change_password(&alice, PASSWORD, &new, None).await;
            (new, outcome)
        });
    }
    let (mut busy, mut changed, mut lost) = (Vec::new(), Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (new, Err(Error::Busy { retry_after })) => {
                assert_eq!(retry_after, Duration::from_secs(1));
                busy.push(new);
            }
            (new, Ok(ChangeOutcome::Changed { session: None })) => changed.push(new),
            // A concurrent change won; or, with five attempts still holding their places in
            // this ticket's count, the count waits (places are taken before hashing).
            (_, Ok(ChangeOutcome::OldPasswordMismatch | ChangeOutcome::Throttled { .. })) => {
                lost += 1
            }
            (_, other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        !busy.is_empty(),
        "12 changes at once on one thread with no queue"
    );
    assert!(changed.len() <= 1, "{changed:?}");
    assert_eq!(busy.len() + changed.len() + lost, 12);
    for refused in &busy {
        assert!(!password_works(&accounts, "alice", refused).await);
    }
    let expected = changed.first().map_or(PASSWORD, String::as_str);
    assert!(password_works(&accounts, "alice", expected).await);
    assert_eq!(accounts.hashing_queue_depth(), 0);
}

async fn basic_identity_verifies_the_old_password_once(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let alice = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    let before = accounts.hashing_jobs();
    assert_eq!(
        accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    assert_eq!(accounts.hashing_jobs() - before, 1, "only the new hash");

    // A different OldPassword than the Basic one is verified against the store.
    let alice = accounts
        .authenticate(basic("alice", NEW_PASSWORD), client)
        .await
        .unwrap();
    let before = accounts.hashing_jobs();
    let outcome = accounts
        .change_password(&alice, "a different one", PASSWORD, client)
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::OldPasswordMismatch);
    assert_eq!(accounts.hashing_jobs() - before, 1, "one verification");

    // A ticket carries no password: verify, then hash.
    let alice = ticket_identity(&accounts, "alice").await;
    let before = accounts.hashing_jobs();
    assert_eq!(
        accounts
            .change_password(&alice, NEW_PASSWORD, PASSWORD, client)
            .await
            .unwrap(),
        ChangeOutcome::Changed { session: None }
    );
    assert_eq!(accounts.hashing_jobs() - before, 2);
}

async fn hashes_are_standard_phc_strings(db: Arc<Db>) {
    let _accounts = with_alice(&db, cheap()).await;
    let stored = db.strings("SELECT hash FROM users").await.remove(0);
    assert!(
        stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
        "{stored}"
    );
    let parsed = PasswordHash::new(&stored).unwrap();
    assert!(
        Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"something else", &parsed)
            .is_err()
    );
    assert!(!stored.contains(PASSWORD));
}

async fn weaker_foreign_hashes_verify_and_are_upgraded(db: Arc<Db>) {
    let config = Config {
        hash: HashParams {
            memory_kib: 8192,
            iterations: 2,
            parallelism: 1,
        },
        ..cheap()
    };
    let accounts = with_alice(&db, config).await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
    let foreign = weak
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    db.execute(
        "UPDATE users SET hash = $1 WHERE username_key = $2",
        &foreign,
        "alice",
    )
    .await;

    let alice = accounts
        .authenticate(basic("alice", PASSWORD), None)
        .await
        .unwrap();
    let outcome = accounts
        .change_password(&alice, PASSWORD, NEW_PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::Changed { session: None });
    let stored = db.strings("SELECT hash FROM users").await.remove(0);
    assert!(
        stored.starts_with("$argon2id$v=19$m=8192,t=2,p=1$"),
        "{stored}"
    );
    assert!(password_works(&accounts, "alice", NEW_PASSWORD).await);
}

async fn audit_events_record_changes_without_secrets(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = from("192.0.2.77");
    let alice = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    accounts
        .change_password(&alice, "wrong old one", NEW_PASSWORD, client)
        .await
        .unwrap();
    accounts
        .change_password(&alice, PASSWORD, "short", client)
        .await
        .unwrap();
    accounts
        .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
        .await
        .unwrap();
    let ticket = accounts.issue_ticket("alice", None).await.unwrap();
    let _ = accounts.login("alice", "bad login", client).await;

    let events = db
        .strings(
            "SELECT action || ' ' || outcome || ' ' || username || ' ' || COALESCE(client_address, '-') \
             FROM audit_events ORDER BY id",
        )
        .await;
    assert_eq!(
        events,
        [
            "user-add added Alice -",
            "change-password old-password-mismatch Alice 192.0.2.77",
            "change-password password-too-short Alice 192.0.2.77",
            "change-password changed Alice 192.0.2.77",
            "ticket-issue issued Alice -",
            "login unauthorized alice 192.0.2.77",
        ]
    );
    let everything = events.concat();
    for secret in [
        PASSWORD,
        NEW_PASSWORD,
        "wrong old one",
        "bad login",
        &ticket[3..],
    ] {
        assert!(!everything.contains(secret));
    }
    let times = db
        .strings("SELECT CAST(at AS TEXT) FROM audit_events")
        .await;
    assert!(
        times
            .iter()
            .all(|at| at.parse::<i64>().unwrap() > 1_700_000_000_000)
    );
}

async fn state_survives_reopening(db: Arc<Db>) {
    let accounts = with_alice(&db, cheap()).await;
    let client = None;
    let kept = accounts.issue_ticket("alice", None).await.unwrap();
    let revoked = accounts.issue_token("alice", None).await.unwrap();
    accounts.revoke_token(&revoked).await.unwrap();
    let session = accounts.login("alice", PASSWORD, client).await.unwrap();
    drop(accounts);

    let reopened = db.open(cheap()).await;
    assert!(password_works(&reopened, "alice", PASSWORD).await);
    assert!(
        reopened
            .authenticate(Credential::Ticket(&kept), client)
            .await
            .is_ok()
    );
    assert!(
        reopened
            .authenticate(Credential::Token(&revoked), client)
            .await
            .is_err()
    );
    assert!(
        reopened.verify_xsrf(&session.cookie, &session.xsrf_token),
        "the secret is in the store"
    );
    let versions = db
        .strings("SELECT description FROM _sqlx_migrations WHERE success ORDER BY version")
        .await;
    assert_eq!(versions, ["initial", "throttle owner"]);
}

async fn healthy_answers_when_the_store_does(db: Arc<Db>) {
    let accounts = db.open(cheap()).await;
    assert!(accounts.healthy().await);
    assert_eq!(accounts.hashing_queue_depth(), 0);
    assert_eq!(accounts.policy().min_length, 8);
}

// ---------------------------------------------------------------------------------------------
// Not per backend

#[tokio::test]
async fn an_unreachable_store_is_unavailable_fast() {
    let config = Config {
        acquire_timeout: Duration::from_secs(1),
        ..cheap()
    };
    let started = Instant::now();
    let opened = Accounts::open("postgres://postgres@127.0.0.1:1/test", config).await;
    assert!(matches!(opened, Err(Error::Unavailable(_))), "{opened:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn other_schemes_are_invalid_urls() {
    let opened = Accounts::open("mysql://localhost/db", cheap()).await;
    assert!(
        matches!(opened, Err(Error::InvalidDatabaseUrl(_))),
        "{opened:?}"
    );
}

#[tokio::test]
async fn the_demo_store_lives_in_memory() {
    let accounts = Accounts::open("sqlite::memory:", cheap()).await.unwrap();
    accounts.add_user("demo", PASSWORD).await.unwrap();
    let ticket = accounts.issue_ticket("demo", None).await.unwrap();
    let demo = accounts
        .authenticate(Credential::Ticket(&ticket), None)
        .await
        .unwrap();
    let outcome = accounts
        .change_password(&demo, PASSWORD, NEW_PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::Changed { session: None });
    assert!(accounts.healthy().await);
}

/// The one test at the real cost: OWASP's 19 MiB, t=2, p=1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owasp_defaults_hash_and_change() {
    let accounts = Accounts::open("sqlite::memory:", Config::default())
        .await
        .unwrap();
    accounts.add_user("alice", PASSWORD).await.unwrap();
    let client = None;
    let started = Instant::now();
    let alice = accounts
        .authenticate(basic("alice", PASSWORD), client)
        .await
        .unwrap();
    let verified = started.elapsed();
    let started = Instant::now();
    let outcome = accounts
        .change_password(&alice, PASSWORD, NEW_PASSWORD, client)
        .await
        .unwrap();
    assert_eq!(outcome, ChangeOutcome::Changed { session: None });
    println!(
        "OWASP params: authenticate (1 verify) {verified:?}, change (1 hash + commit) {:?}",
        started.elapsed()
    );
    let token = accounts.issue_token("alice", None).await.unwrap();
    let alice = accounts
        .authenticate(Credential::Token(&token), client)
        .await
        .unwrap();
    assert_eq!(alice.via, Via::Token);
    assert!(password_works(&accounts, "alice", NEW_PASSWORD).await);
}

/// A TCP proxy in front of PostgreSQL that can be cut and restored: a store outage on demand.
struct Proxy {
    port: u16,
    up: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (accepting, tracked) = (Arc::clone(&up), Arc::clone(&open));
        std::thread::spawn(move || {
            loop {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => return,
                };
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is reset at once
                }
                client.set_nonblocking(false).unwrap();
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut streams = tracked.lock().unwrap();
                streams.push(client.try_clone().unwrap());
                streams.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// PostgreSQL only: SQLite cannot go away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_is_unavailable_changes_nothing_and_heals() {
    run_postgres(|db: Arc<Db>| async move {
        let url = db.url();
        let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
        let upstream = format!("{}:{}", options.get_host(), options.get_port());
        assert!(url.contains(&upstream), "expected host:port in {url}");
        let proxy = Proxy::start(upstream.clone());
        let proxied = url.replacen(&upstream, &format!("127.0.0.1:{}", proxy.port), 1);
        let config = Config {
            acquire_timeout: Duration::from_secs(1),
            max_connections: 2,
            ..cheap()
        };
        let accounts = Accounts::open(&proxied, config).await.unwrap();
        accounts.add_user("alice", PASSWORD).await.unwrap();
        let alice = ticket_identity(&accounts, "alice").await;
        assert!(accounts.healthy().await);

        proxy.cut();
        let started = Instant::now();
        assert!(!accounts.healthy().await);
        let change = accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, None)
            .await;
        assert!(matches!(change, Err(Error::Unavailable(_))), "{change:?}");
        let basic = accounts.authenticate(basic("alice", PASSWORD), None).await;
        assert!(matches!(basic, Err(Error::Unavailable(_))), "{basic:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );

        proxy.restore();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !accounts.healthy().await {
            assert!(Instant::now() < deadline, "no recovery");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            password_works(&accounts, "alice", PASSWORD).await,
            "nothing changed during the outage"
        );
        let change = accounts
            .change_password(&alice, PASSWORD, NEW_PASSWORD, None)
            .await;
        assert_eq!(change.unwrap(), ChangeOutcome::Changed { session: None });
    })
    .await;
}

/// Several processes creating the same new SQLite file at once (two `agentgate user add` in
/// a script) contend for its locks while it is created and switched to WAL; every one must
/// open it, not answer "database is locked". Connections of one process take SQLite's locks
/// as separate processes would, so separate `Accounts` stand in for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_files_can_be_created_by_several_openers_at_once() {
    for round in 0..10 {
        let dir = std::env::temp_dir().join(format!("agentgate-accounts-{}", unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Arc::new(Db::Sqlite { dir: dir.clone() });
        let openers: Vec<_> = (0..4)
            .map(|n| {
                let db = Arc::clone(&db);
                tokio::spawn(async move {
                    let accounts = Accounts::open(&db.url(), cheap()).await?;
                    accounts.add_user(&format!("user{n}"), PASSWORD).await
                })
            })
            .collect();
        for (n, opener) in openers.into_iter().enumerate() {
            let outcome = opener.await.unwrap();
            assert!(outcome.is_ok(), "round {round}, opener {n}: {outcome:?}");
        }
        let users = db
            .strings("SELECT username FROM users ORDER BY username")
            .await;
        assert_eq!(users, ["user0", "user1", "user2", "user3"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
