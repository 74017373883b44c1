//! Opening the user store for a command, and saying why it could not be opened in words an
//! operator can act on, without the database password.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use agentgate_accounts::{Accounts, Config as AccountsConfig};

use super::{Failure, fail};

/// Opens the store at `url`, or fails with one line naming it (password hidden) and the
/// cause.
pub(crate) async fn open(url: &str, config: AccountsConfig) -> Result<Accounts, Failure> {
    Accounts::open(url, config).await.map_err(|e| {
        let cause = explain(url).unwrap_or_else(|| redact_password(url, &with_causes(&e)));
        fail(format!(
            "cannot open the user store {}: {cause}",
            redact_url(url)
        ))
    })
}

/// What a PostgreSQL server that never answered did instead: the pool only reports that it
/// timed out, so the address is tried once more by hand. `None` when nothing more is known.
fn explain(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    // A socket directory (`?host=/run/postgresql`) or several hosts: leave it to the driver.
    if rest.contains("host=") {
        return None;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(',') {
        return None;
    }
    let address = match host_port {
        "" => "localhost:5432".to_owned(),
        h if h.starts_with('[') && h.ends_with(']') => format!("{h}:5432"),
        h if h.starts_with('[') || h.matches(':').count() == 1 => h.to_owned(),
        h => format!("{h}:5432"),
    };
    let addrs: Vec<_> = match address.to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(e) => return Some(format!("cannot resolve {address}: {e}")),
    };
    let mut refused = false;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, Duration::from_secs(2)) {
            // Something listens: the driver's own message is the better one.
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused = true,
            Err(_) => {}
        }
    }
    Some(if refused {
        format!(
            "the connection to {address} was refused: is PostgreSQL running and listening there?"
        )
    } else {
        format!("no answer from {address}: is the host reachable, and the port open?")
    })
}

/// An error and its causes, `outer: inner: innermost`, so an operator sees what the driver
/// said ("database is locked", "connection refused"), not only "unavailable".
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The password a database URL carries, in its user information or as a `password`
/// parameter; `None` when it carries none.
fn password_of(url: &str) -> Option<&str> {
    let from_userinfo = split_userinfo(url)
        .and_then(|(_, userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password);
    let from_query = url.split_once('?').and_then(|(_, query)| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("password="))
    });
    from_userinfo.or(from_query).filter(|p| !p.is_empty())
}

/// `text` with the URL's password, should a driver message ever quote it, replaced by `***`.
pub(crate) fn redact_password(url: &str, text: &str) -> String {
    match password_of(url) {
        Some(password) => text.replace(password, "***"),
        None => text.to_owned(),
    }
}

/// A database URL with its password, where it has one, replaced by `***`; nothing else
/// changes.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(password) = password_of(url) else {
        return url.to_owned();
    };
    let mut redacted = url.to_owned();
    if let Some((head, userinfo, tail)) = split_userinfo(url)
        && let Some((user, _)) = userinfo.split_once(':')
    {
        redacted = format!("{head}{user}:***{tail}");
    }
    redacted.replace(&format!("password={password}"), "password=***")
}

/// `scheme://user:password@host/...` as `("scheme://", "user:password", "@host/...")`; `None`
/// when the URL has no user information.
fn split_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let start = url.find("://")? + 3;
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let at = url[start..end].rfind('@')? + start;
    Some((&url[..start], &url[start..at], &url[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_password_that_is_there_is_hidden() {
        for (url, shown) in [
            (
                "postgres://app:s3cret@db:5432/x",
                "postgres://app:***@db:5432/x",
            ),
            ("postgres://nobody@db/x", "postgres://nobody@db/x"),
            ("postgres://app:@db/x", "postgres://app:@db/x"),
            (
                "postgres://db/x?user=app&password=s3cret",
                "postgres://db/x?user=app&password=***",
            ),
            ("postgres://db/x?options=a@b", "postgres://db/x?options=a@b"),
            ("sqlite://agentgate.db", "sqlite://agentgate.db"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert_eq!(
            redact_password("postgres://app:s3cret@db/x", "auth failed for s3cret"),
            "auth failed for ***"
        );
        assert_eq!(redact_password("sqlite://a.db", "locked"), "locked");
    }

    #[test]
    fn a_refused_connection_names_the_address() {
        // Port 1 on loopback: nothing listens there.
        let said = explain("postgres://nobody@127.0.0.1:1/x").unwrap();
        assert_eq!(
            said,
            "the connection to 127.0.0.1:1 was refused: is PostgreSQL running and listening there?"
        );
        let said = explain("postgres://u:pw@[::1]:1/x").unwrap();
        assert!(
            said.starts_with("the connection to [::1]:1 was refused"),
            "{said}"
        );
        assert_eq!(explain("sqlite://a.db"), None);
        assert_eq!(explain("postgres:///x?host=/run/postgresql"), None);
    }

    #[test]
    fn store_errors_name_their_cause() {
        #[derive(Debug)]
        struct Inner;
        impl std::fmt::Display for Inner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("database is locked")
            }
        }
        impl std::error::Error for Inner {}
        #[derive(Debug)]
        struct Outer(Inner);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("user store unavailable")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            with_causes(&Outer(Inner)),
            "user store unavailable: database is locked"
        );
    }
}
