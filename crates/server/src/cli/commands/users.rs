//! `agentgate user`, `ticket` and `token`: the store's users and credentials, also while the
//! server runs.

use std::io::{BufRead, IsTerminal, Write};

use agentgate_accounts::Accounts;

use crate::cli::args::{TicketCommand, TokenCommand, UserCommand};
use crate::cli::config::Resolved;
use crate::cli::store::open;
use crate::cli::{Failure, fail};

async fn accounts(resolved: &Resolved) -> Result<Accounts, Failure> {
    open(&resolved.database, resolved.accounts.clone()).await
}

fn read_stdin_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(format!("cannot read standard input: {e}")))?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(line.to_owned())
}

fn prompt_password() -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(fail("no terminal to prompt on: use --password-stdin"));
    }
    let first = rpassword::prompt_password("New password: ")
        .map_err(|e| fail(format!("cannot read the password: {e}")))?;
    let second = rpassword::prompt_password("Repeat it: ")
        .map_err(|e| fail(format!("cannot read the password: {e}")))?;
    if first != second {
        return Err(fail("the two passwords differ"));
    }
    Ok(first)
}

/// The password of `user add` and `user passwd`: stdin's first line, or asked twice.
fn new_password(password_stdin: bool) -> Result<String, Failure> {
    if password_stdin {
        read_stdin_line()
    } else {
        prompt_password()
    }
}

/// `agentgate user ...`.
pub(crate) async fn user(resolved: &Resolved, cmd: UserCommand) -> Result<(), Failure> {
    match cmd {
        UserCommand::Add {
            username,
            password_stdin,
        } => {
            let password = new_password(password_stdin)?;
            accounts(resolved)
                .await?
                .add_user(&username, &password)
                .await
                .map_err(|e| fail(format!("cannot add user '{username}': {e}")))?;
            eprintln!("added user '{username}'");
            Ok(())
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let password = new_password(password_stdin)?;
            accounts(resolved)
                .await?
                .set_password(&username, &password)
                .await
                .map_err(|e| fail(format!("cannot set the password of '{username}': {e}")))?;
            eprintln!(
                "set the password of '{username}'; its tickets, tokens and sessions are revoked"
            );
            Ok(())
        }
        UserCommand::List => {
            let users = accounts(resolved)
                .await?
                .list_users()
                .await
                .map_err(|e| fail(format!("cannot list users: {e}")))?;
            let mut out = std::io::stdout().lock();
            for u in users {
                let state = if u.disabled { "disabled" } else { "enabled" };
                let _ = writeln!(out, "{}\t{state}", u.username);
            }
            Ok(())
        }
        UserCommand::Disable { username } => accounts(resolved)
            .await?
            .set_disabled(&username, true)
            .await
            .map_err(|e| fail(format!("cannot disable '{username}': {e}"))),
        UserCommand::Enable { username } => accounts(resolved)
            .await?
            .set_disabled(&username, false)
            .await
            .map_err(|e| fail(format!("cannot enable '{username}': {e}"))),
        UserCommand::Remove { username } => accounts(resolved)
            .await?
            .remove_user(&username)
            .await
            .map_err(|e| fail(format!("cannot remove '{username}': {e}"))),
    }
}

/// `agentgate ticket issue`.
pub(crate) async fn ticket(resolved: &Resolved, cmd: TicketCommand) -> Result<(), Failure> {
    let TicketCommand::Issue { username, ttl } = cmd;
    let ticket = accounts(resolved)
        .await?
        .issue_ticket(&username, Some(ttl.0))
        .await
        .map_err(|e| fail(format!("cannot issue a ticket for '{username}': {e}")))?;
    println!("{ticket}");
    Ok(())
}

/// `agentgate token issue` and `token revoke`.
pub(crate) async fn token(resolved: &Resolved, cmd: TokenCommand) -> Result<(), Failure> {
    match cmd {
        TokenCommand::Issue { username, ttl } => {
            let token = accounts(resolved)
                .await?
                .issue_token(&username, Some(ttl.0))
                .await
                .map_err(|e| fail(format!("cannot issue a token for '{username}': {e}")))?;
            println!("{token}");
            Ok(())
        }
        TokenCommand::Revoke { token } => {
            let token = if token == "-" {
                read_stdin_line()?
            } else {
                token
            };
            match accounts(resolved).await?.revoke_token(&token).await {
                Ok(true) => {
                    eprintln!("revoked");
                    Ok(())
                }
                Ok(false) => Err(fail("no such ticket or token")),
                Err(e) => Err(fail(format!("cannot revoke: {e}"))),
            }
        }
    }
}
