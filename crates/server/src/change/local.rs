//! The backend that keeps users itself: the accounts store (SPEC §4, §5).

use std::net::IpAddr;

use agentgate_accounts::{Accounts, ChangeOutcome, Identity};
use agentgate_codec::ChangeOwnPasswordRequest;
use futures_util::future::{BoxFuture, LocalBoxFuture};

use super::{Admitted, Backend, Context, Outcome, Refusal};
use crate::credential::Credential;
use crate::error::ApiError;

/// Changes passwords in the accounts store.
pub(crate) struct Local {
    accounts: Accounts,
    /// `--online`: partner applications are refused, and the User agent is off unless
    /// `--enable-user-agent`.
    online: bool,
    enable_user_agent: bool,
}

impl Local {
    /// The backend on `accounts`, with the Online switches of SPEC §4.
    pub(crate) fn new(accounts: Accounts, online: bool, enable_user_agent: bool) -> Local {
        Local {
            accounts,
            online,
            enable_user_agent,
        }
    }
}

impl Backend for Local {
    fn admit<'a>(
        &'a self,
        credential: &'a Credential,
        context: &'a Context,
    ) -> BoxFuture<'a, Result<Box<dyn Admitted>, ApiError>> {
        Box::pin(async move {
            let credential = credential.as_accounts();
            let forbidden = if self.online && !self.enable_user_agent {
                Some(ApiError::OnlineForbidden)
            } else if self.online && context.app_token.is_some() {
                // On-site, SuperOffice does not check application tokens (SPEC §4).
                Some(ApiError::PartnerAppForbidden)
            } else {
                None
            };
            // 401 before 403 (SPEC §4).
            if let Some(forbidden) = forbidden {
                self.accounts
                    .authenticate(credential, context.address)
                    .await?;
                return Err(forbidden);
            }
            // While this credential's changes wait, every change is 429, even one with the
            // right old password, before the body is read (SPEC §4).
            let identity = self
                .accounts
                .authenticate_for_change(credential, context.address)
                .await?;
            Ok(Box::new(Caller {
                accounts: self.accounts.clone(),
                identity,
                address: context.address,
            }) as Box<dyn Admitted>)
        })
    }
}

/// An authenticated local user.
struct Caller {
    accounts: Accounts,
    identity: Identity,
    address: Option<IpAddr>,
}

impl Admitted for Caller {
    fn username(&self) -> Option<&str> {
        Some(&self.identity.username)
    }

    fn change(
        self: Box<Self>,
        request: ChangeOwnPasswordRequest,
    ) -> LocalBoxFuture<'static, Result<Outcome, ApiError>> {
        Box::pin(async move {
            let outcome = self
                .accounts
                .change_password(
                    &self.identity,
                    &request.old_password,
                    &request.new_password,
                    self.address,
                )
                .await?;
            match outcome {
                ChangeOutcome::Changed { session } => Ok(Outcome::Changed { session }),
                ChangeOutcome::OldPasswordMismatch => {
                    Ok(Outcome::Refused(Refusal::OldPasswordMismatch))
                }
                ChangeOutcome::Refused(violation) => {
                    Ok(Outcome::Refused(Refusal::Policy(violation)))
                }
                ChangeOutcome::Throttled { retry_after, until } => {
                    Err(ApiError::Throttled { retry_after, until })
                }
            }
        })
    }
}
