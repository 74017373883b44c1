//! Administering users: what `agentgate user` does (SPEC §8).

use crate::accounts::{UserSummary, username_key};
use crate::limits::guess_key;
use crate::store::{AuditAction, AuditEvent, AuditOutcome, NewUser, PasswordReset, Store};
use crate::{Accounts, Error, username};

impl Accounts {
    /// Adds a user with a password the policy accepts.
    ///
    /// The name must pass RFC 8265's UsernameCaseMapped profile (no spaces, controls,
    /// invisible format characters or unassigned code points; see
    /// [`UsernameProblem`](crate::UsernameProblem)) and hold no colon; existing users are
    /// looked up as before, whatever their names.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUsername`] saying why, [`Error::Policy`], [`Error::UserExists`] (names
    /// are compared after NFKC and lowercasing), [`Error::Busy`], and the store's errors.
    pub async fn add_user(&self, username: &str, password: &str) -> Result<(), Error> {
        username::check(username).map_err(Error::InvalidUsername)?;
        let key = username_key(username);
        let hash = self
            .hash_new_password(password, None, username)
            .await?
            .map_err(Error::Policy)?;
        let at = self.now();
        let new = NewUser {
            username,
            username_key: &key,
            hash: &hash,
            at,
        };
        let user_id = with_store!(self, s => s.insert_user(&new).await)?;
        self.audit(AuditEvent {
            at,
            user_id: Some(user_id),
            username,
            action: AuditAction::UserAdd,
            outcome: AuditOutcome::Added,
            client: None,
        })
        .await
    }

    /// An operator sets a user's password (`agentgate user passwd`, SPEC §8): the policy
    /// applies as in [`add_user`](Accounts::add_user); in one transaction the hash is
    /// replaced, every ticket, token and session of the user revoked, its throttle counts
    /// (change counts of every credential, the guessing count of its name) cleared and an
    /// audit event written. For a user who is locked out, or whose credentials leaked.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], [`Error::Policy`], [`Error::Busy`], and the store's errors.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), Error> {
        let key = username_key(username);
        let user = with_store!(self, s => s.user_by_key(&key).await)?.ok_or(Error::UnknownUser)?;
        let hash = self
            .hash_new_password(password, None, &user.username)
            .await?
            .map_err(Error::Policy)?;
        let reset = PasswordReset {
            username_key: &key,
            new_hash: &hash,
            guess_key: &guess_key(username),
            audit: AuditEvent {
                at: self.now(),
                user_id: Some(user.id),
                username: &user.username,
                action: AuditAction::UserPasswd,
                outcome: AuditOutcome::PasswordSet,
                client: None,
            },
        };
        if with_store!(self, s => s.reset_password(&reset).await)? {
            Ok(())
        } else {
            Err(Error::UnknownUser)
        }
    }

    /// All users, by name.
    ///
    /// # Errors
    ///
    /// The store's errors.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, Error> {
        with_store!(self, s => s.list_users().await)
    }

    /// Disables (or enables again) a user. A disabled user's credentials stop working; they
    /// work again when it is enabled, unless they expired meanwhile.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), Error> {
        let key = username_key(username);
        if !with_store!(self, s => s.set_disabled(&key, disabled).await)? {
            return Err(Error::UnknownUser);
        }
        self.audit(AuditEvent {
            at: self.now(),
            user_id: None,
            username,
            action: AuditAction::UserDisable,
            outcome: if disabled {
                AuditOutcome::Disabled
            } else {
                AuditOutcome::Enabled
            },
            client: None,
        })
        .await
    }

    /// Removes a user with its tickets, tokens, sessions and change throttle counts.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], and the store's errors.
    pub async fn remove_user(&self, username: &str) -> Result<(), Error> {
        let key = username_key(username);
        if !with_store!(self, s => s.remove_user(&key).await)? {
            return Err(Error::UnknownUser);
        }
        self.audit(AuditEvent {
            at: self.now(),
            user_id: None,
            username,
            action: AuditAction::UserRemove,
            outcome: AuditOutcome::Removed,
            client: None,
        })
        .await
    }
}
