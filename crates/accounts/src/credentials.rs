//! Tickets, tokens and browser sessions: issued, looked up, revoked (SPEC §5, §6), and the
//! XSRF tokens bound to sessions.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::accounts::{Identity, NewSession, Via, username_key};
use crate::secret;
use crate::store::{AuditAction, AuditEvent, AuditOutcome, CredentialKind, NewCredential, Store};
use crate::{Accounts, Error};

pub(crate) const TICKET_PREFIX: &str = "7T:";
pub(crate) const TOKEN_PREFIX: &str = "8A:";

impl Accounts {
    /// Issues a `7T:` ticket for `SOTicket` authentication, valid for `ttl` or the configured
    /// `ticket_ttl`. Only its SHA-256 digest is stored.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], [`Error::UserDisabled`], [`Error::TtlTooLong`] over
    /// `max_credential_ttl` (30 days), and the store's errors.
    pub async fn issue_ticket(
        &self,
        username: &str,
        ttl: Option<Duration>,
    ) -> Result<String, Error> {
        let ttl = ttl.unwrap_or(self.config().ticket_ttl);
        self.issue(CredentialKind::Ticket, TICKET_PREFIX, username, ttl)
            .await
    }

    /// Issues an `8A:` token for `Bearer` authentication, valid for `ttl` or the configured
    /// `token_ttl`. Only its SHA-256 digest is stored.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], [`Error::UserDisabled`], [`Error::TtlTooLong`] over
    /// `max_credential_ttl` (30 days), and the store's errors.
    pub async fn issue_token(
        &self,
        username: &str,
        ttl: Option<Duration>,
    ) -> Result<String, Error> {
        let ttl = ttl.unwrap_or(self.config().token_ttl);
        self.issue(CredentialKind::Token, TOKEN_PREFIX, username, ttl)
            .await
    }

    async fn issue(
        &self,
        kind: CredentialKind,
        prefix: &str,
        username: &str,
        ttl: Duration,
    ) -> Result<String, Error> {
        let max = self.config().max_credential_ttl;
        if ttl > max {
            return Err(Error::TtlTooLong { max });
        }
        let user = with_store!(self, s => s.user_by_key(&username_key(username)).await)?
            .ok_or(Error::UnknownUser)?;
        if user.disabled {
            return Err(Error::UserDisabled);
        }
        let credential = secret::random_credential(prefix);
        let now = self.now();
        self.store_credential(user.id, kind, &credential, now, ttl)
            .await?;
        self.audit(AuditEvent {
            at: now,
            user_id: Some(user.id),
            username: &user.username,
            action: match kind {
                CredentialKind::Ticket => AuditAction::TicketIssue,
                CredentialKind::Token => AuditAction::TokenIssue,
                CredentialKind::Session => AuditAction::Login,
            },
            outcome: AuditOutcome::Issued,
            client: None,
        })
        .await?;
        Ok(credential)
    }

    async fn store_credential(
        &self,
        user_id: i64,
        kind: CredentialKind,
        credential: &str,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<(), Error> {
        let digest = secret::digest(credential);
        let new = NewCredential {
            user_id,
            kind,
            digest: &digest,
            created_at: now,
            expires_at: now
                .checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400)),
        };
        with_store!(self, s => s.insert_credential(&new).await)
    }

    /// Revokes a ticket (`7T:`) or token (`8A:`); `Ok(false)` when there was no such one.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn revoke_token(&self, token: &str) -> Result<bool, Error> {
        let kind = if token.starts_with(TICKET_PREFIX) {
            CredentialKind::Ticket
        } else if token.starts_with(TOKEN_PREFIX) {
            CredentialKind::Token
        } else {
            return Ok(false);
        };
        let digest = secret::digest(token);
        with_store!(self, s => s.delete_credential(kind, &digest).await)
    }

    /// Checks a username and password like Basic authentication does, then opens a browser
    /// session valid for `session_ttl`. Only the session's digest is stored.
    ///
    /// # Errors
    ///
    /// As [`authenticate`](Accounts::authenticate).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<NewSession, Error> {
        let identity = self
            .check_password(username, password, address, Some(AuditAction::Login), false)
            .await?;
        let cookie = secret::random_credential("");
        let now = self.now();
        let ttl = self.config().session_ttl;
        self.store_credential(identity.user_id, CredentialKind::Session, &cookie, now, ttl)
            .await?;
        self.audit(AuditEvent {
            at: now,
            user_id: Some(identity.user_id),
            username: &identity.username,
            action: AuditAction::Login,
            outcome: AuditOutcome::SessionOpened,
            client: address,
        })
        .await?;
        Ok(NewSession {
            xsrf_token: self.xsrf_token(&cookie),
            cookie,
        })
    }

    /// Ends a browser session. Ending an unknown one is not an error.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn logout(&self, session_cookie: &str) -> Result<(), Error> {
        let digest = secret::digest(session_cookie);
        with_store!(self, s => s.delete_credential(CredentialKind::Session, &digest).await)?;
        Ok(())
    }

    /// The XSRF token bound to a session: base64url(HMAC-SHA256(server secret, `"xsrf\0"` +
    /// SHA-256(cookie))). Sent in the `XSRF-TOKEN` cookie and echoed back by the page
    /// (signed double-submit); another session's token does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use agentgate_accounts::{Accounts, Config, HashParams};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let config = Config { hash: HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Config::default() };
    /// let accounts = Accounts::open("sqlite::memory:", config).await?;
    /// let token = accounts.xsrf_token("cookie-a");
    /// assert!(accounts.verify_xsrf("cookie-a", &token));
    /// assert!(!accounts.verify_xsrf("cookie-b", &token));
    /// # Ok::<_, agentgate_accounts::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn xsrf_token(&self, session_cookie: &str) -> String {
        self.inner.secret.xsrf_token(session_cookie)
    }

    /// Checks an XSRF token against the session, in constant time.
    pub fn verify_xsrf(&self, session_cookie: &str, token: &str) -> bool {
        self.inner.secret.verify_xsrf(session_cookie, token)
    }

    /// A token for the login form, before there is a session: a random nonce, `.`, and
    /// HMAC-SHA256(server secret, `"login\0"` + nonce). The server puts it in a cookie and
    /// the form and checks both are equal; this checks it was made here.
    pub fn login_xsrf_token(&self) -> String {
        self.inner.secret.login_xsrf_token()
    }

    /// Checks a login-form token's signature, in constant time.
    pub fn verify_login_xsrf(&self, token: &str) -> bool {
        self.inner.secret.verify_login_xsrf(token)
    }

    pub(crate) async fn check_bearer(
        &self,
        kind: CredentialKind,
        credential: &str,
    ) -> Result<Identity, Error> {
        let digest = secret::digest(credential);
        let found = with_store!(self, s => s.find_credential(kind, &digest, self.now()).await)?;
        match found {
            Some(found) if !found.user.disabled => Ok(Identity {
                user_id: found.user.id,
                username: found.user.username,
                via: match kind {
                    CredentialKind::Ticket => Via::Ticket,
                    CredentialKind::Token => Via::Token,
                    CredentialKind::Session => Via::Session,
                },
                credential_id: Some(found.credential_id),
                verified: None,
            }),
            _ => Err(Error::Unauthorized),
        }
    }
}
