//! The backend of upstream mode (SPEC §10): the change happens at a NetServer, with the
//! caller's own credential; the limits of §4 and §5 still apply in front of it.
//!
//! Guarding the upstream, in the order of the flow:
//! - [`admit`](Backend::admit), before the body is read, tells the waits: a user whose
//!   password checks wait (`Basic` and the form, by username), a credential whose changes
//!   wait (by username for `Basic` and the form, by the SHA-256 digest of a ticket or
//!   token). Nothing is taken yet, so a bad body or XSRF token costs no place.
//! - [`change`](Admitted::change), once the body and the token hold, takes the places
//!   atomically in the store ([`Accounts::begin_password_check`] for `Basic`,
//!   [`Accounts::begin_change`] for every credential), then a place among the calls in
//!   flight, then calls once, and settles the places by the answer:
//!
//! | answer | guessing place (`Basic`, form) | change place |
//! |---|---|---|
//! | `true` | cleared | cleared |
//! | `false` | given back (the password held) | kept |
//! | 401 | kept (a wrong password, §5) | given back |
//! | 400, 403, 429, 502, 503, 504 | given back | given back |
//!
//! So each count learns what it is for, as in local mode: a wrong password counts toward
//! the guessing limit (a ticket that does not hold counts nowhere, as locally), a refused
//! change toward the change throttle (NetServer gives no reason, so a refused new password
//! counts like a wrong old one).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use agentgate_accounts::store::AuditOutcome;
use agentgate_accounts::{Accounts, Attempt, ChangeKey};
use agentgate_codec::ChangeOwnPasswordRequest;
use futures_util::future::{BoxFuture, LocalBoxFuture};

use super::{Admitted, Backend, Context, Outcome, Refusal};
use crate::credential::Credential;
use crate::error::ApiError;
use crate::upstream::{self, Answer, Failure};

/// Changes passwords at the upstream NetServer.
pub(crate) struct Upstream {
    /// Throttle counts only: there are no local users.
    accounts: Accounts,
    client: Arc<upstream::Client>,
}

impl Upstream {
    pub(crate) fn new(accounts: Accounts, client: Arc<upstream::Client>) -> Upstream {
        Upstream { accounts, client }
    }
}

impl Backend for Upstream {
    fn admit<'a>(
        &'a self,
        credential: &'a Credential,
        context: &'a Context,
    ) -> BoxFuture<'a, Result<Box<dyn Admitted>, ApiError>> {
        Box::pin(async move {
            let (key, username) = match credential {
                Credential::Basic { username, .. } => {
                    self.accounts.password_check_wait(username).await?;
                    (ChangeKey::username(username), Some(username.clone()))
                }
                Credential::Ticket(secret) | Credential::Token(secret) => {
                    (ChangeKey::credential(secret), None)
                }
                // Sessions are the local store's; upstream mode has none (SPEC §10).
                Credential::Session(_) => return Err(ApiError::Unauthorized),
            };
            self.accounts.change_wait(&key).await?;
            Ok(Box::new(Caller {
                accounts: self.accounts.clone(),
                client: self.client.clone(),
                credential: credential.clone(),
                username,
                key,
                context: context.clone(),
            }) as Box<dyn Admitted>)
        })
    }
}

/// A caller whose credential is yet to be checked, upstream.
struct Caller {
    accounts: Accounts,
    client: Arc<upstream::Client>,
    credential: Credential,
    /// The user name of `Basic` and the form; tickets and tokens name nobody here.
    username: Option<String>,
    key: ChangeKey,
    context: Context,
}

impl Admitted for Caller {
    fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    fn change(
        self: Box<Self>,
        request: ChangeOwnPasswordRequest,
    ) -> LocalBoxFuture<'static, Result<Outcome, ApiError>> {
        Box::pin(async move { self.call(request).await })
    }
}

impl Caller {
    async fn call(self, request: ChangeOwnPasswordRequest) -> Result<Outcome, ApiError> {
        let guess = match &self.username {
            Some(username) => Some(
                self.accounts
                    .begin_password_check(username, self.context.address)
                    .await?,
            ),
            None => None,
        };
        let change = match self.accounts.begin_change(&self.key).await {
            Ok(change) => change,
            Err(e) => {
                give_back(guess).await;
                return Err(e.into());
            }
        };
        let slot = match self.client.slot().await {
            Ok(slot) => slot,
            Err(_) => {
                give_back(guess).await;
                give_back(Some(change)).await;
                return Err(busy());
            }
        };
        let (result, trace) = self
            .client
            .change(&slot, &self.credential, &request, &self.context)
            .await;
        drop(slot);
        if let Some(noted) = &self.context.trace {
            noted.note(trace);
        }
        let (settle, verdict) = verdict(result);
        self.audit(&verdict).await;
        match settle {
            Settle::Clear => {
                succeeded(guess).await;
                succeeded(Some(change)).await;
            }
            Settle::Refused => {
                give_back(guess).await;
                change.failed();
            }
            Settle::WrongPassword => {
                if let Some(guess) = guess {
                    guess.failed();
                }
                give_back(Some(change)).await;
            }
            Settle::GiveBack => {
                give_back(guess).await;
                give_back(Some(change)).await;
            }
        }
        verdict
    }
}

impl Caller {
    /// The audit event of a change that was tried upstream (SPEC §10: the store keeps the
    /// audit trail in upstream mode too): changed, refused, or no answer (it may have been
    /// made). As in local mode, a caller whose credential does not hold is not a change tried,
    /// and is not written (an attack would fill the store). Failing to write it is logged: the
    /// change has happened, or not, upstream either way.
    async fn audit(&self, verdict: &Result<Outcome, ApiError>) {
        let outcome = match verdict {
            Ok(Outcome::Changed { .. }) => AuditOutcome::Changed,
            Ok(Outcome::Refused(_)) => AuditOutcome::UpstreamRefused,
            Err(ApiError::BadGateway | ApiError::GatewayTimeout) => AuditOutcome::UpstreamNoAnswer,
            Err(_) => return,
        };
        let username = self.username.as_deref().unwrap_or_default();
        if let Err(e) = self
            .accounts
            .audit_upstream_change(username, outcome, self.context.address)
            .await
        {
            tracing::warn!(error = %e, "could not write the audit event of an upstream change");
        }
    }
}

/// How an answer settles the places taken for it (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// `true`: both counts cleared.
    Clear,
    /// `false`: the change place kept, the guessing place given back.
    Refused,
    /// 401: the guessing place kept, the change place given back.
    WrongPassword,
    /// Nothing was learnt: both given back.
    GiveBack,
}

/// What an upstream answer is to the caller (SPEC §10), and how it settles the places.
fn verdict(result: Result<Answer, Failure>) -> (Settle, Result<Outcome, ApiError>) {
    match result {
        Ok(Answer::Changed) => (Settle::Clear, Ok(Outcome::Changed { session: None })),
        Ok(Answer::Refused) => (Settle::Refused, Ok(Outcome::Refused(Refusal::Upstream))),
        Ok(Answer::Unauthorized) => (Settle::WrongPassword, Err(ApiError::Unauthorized)),
        Ok(Answer::Forbidden) => (Settle::GiveBack, Err(ApiError::Forbidden)),
        Ok(Answer::TooManyRequests { retry_after }) => {
            // NetServer's throttling says how long; without a word, a minute.
            let retry_after = retry_after.unwrap_or(Duration::from_secs(60));
            let until = SystemTime::now() + retry_after;
            (
                Settle::GiveBack,
                Err(ApiError::Throttled { retry_after, until }),
            )
        }
        Ok(Answer::BadRequest { message }) => (
            Settle::GiveBack,
            Err(ApiError::BadRequest {
                detail: message.unwrap_or_default(),
            }),
        ),
        Ok(Answer::Unusable) | Err(Failure::Unreachable) => {
            (Settle::GiveBack, Err(ApiError::BadGateway))
        }
        Err(Failure::Timeout) => (Settle::GiveBack, Err(ApiError::GatewayTimeout)),
        Err(Failure::Busy) => (Settle::GiveBack, Err(busy())),
    }
}

/// No place among the calls in flight: try again in a second.
fn busy() -> ApiError {
    ApiError::Busy {
        retry_after: Duration::from_secs(1),
    }
}

async fn give_back(attempt: Option<Attempt>) {
    if let Some(attempt) = attempt
        && let Err(e) = attempt.give_back().await
    {
        tracing::warn!(error = %e, "could not give back a throttle place");
    }
}

async fn succeeded(attempt: Option<Attempt>) {
    if let Some(attempt) = attempt
        && let Err(e) = attempt.succeeded().await
    {
        tracing::warn!(error = %e, "could not clear a throttle count");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_settle_their_places_as_the_spec_says() {
        let cases = [
            (Ok(Answer::Changed), Settle::Clear, 200),
            (Ok(Answer::Refused), Settle::Refused, 200),
            (Ok(Answer::Unauthorized), Settle::WrongPassword, 401),
            (Ok(Answer::Forbidden), Settle::GiveBack, 403),
            (
                Ok(Answer::TooManyRequests {
                    retry_after: Some(Duration::from_secs(7)),
                }),
                Settle::GiveBack,
                429,
            ),
            (
                Ok(Answer::BadRequest { message: None }),
                Settle::GiveBack,
                400,
            ),
            (Ok(Answer::Unusable), Settle::GiveBack, 502),
            (Err(Failure::Unreachable), Settle::GiveBack, 502),
            (Err(Failure::Timeout), Settle::GiveBack, 504),
            (Err(Failure::Busy), Settle::GiveBack, 503),
        ];
        for (answer, settle, status) in cases {
            let shown = format!("{answer:?}");
            let (s, verdict) = verdict(answer);
            assert_eq!(s, settle, "{shown}");
            let got = match verdict {
                Ok(_) => 200,
                Err(e) => e.status_code().as_u16(),
            };
            assert_eq!(got, status, "{shown}");
        }
    }

    #[test]
    fn an_upstream_429_keeps_its_retry_after() {
        let (_, verdict) = verdict(Ok(Answer::TooManyRequests {
            retry_after: Some(Duration::from_secs(42)),
        }));
        assert_eq!(verdict.unwrap_err().retry_after(), Some(42));
    }
}
