//! Random credentials, their digests, and the HMAC-signed XSRF tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in every ticket, token, session and nonce: 256 bits, well above the 128 SPEC
/// §5 asks for.
const RANDOM_BYTES: usize = 32;

/// A new random credential: `prefix` + base64url(32 random bytes).
pub(crate) fn random_credential(prefix: &str) -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut credential = String::with_capacity(prefix.len() + 43);
    credential.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut credential);
    credential
}

/// What the store keeps instead of a credential: SHA-256 of its full text.
pub(crate) fn digest(credential: &str) -> [u8; 32] {
    Sha256::digest(credential.as_bytes()).into()
}

/// A 32-byte key for [`sign`], created once per store.
pub(crate) fn new_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// The server secret that signs XSRF tokens; shared by every instance on one store.
#[derive(Clone)]
pub(crate) struct ServerSecret(Vec<u8>);

impl ServerSecret {
    pub(crate) fn new(key: Vec<u8>) -> ServerSecret {
        ServerSecret(key)
    }

    /// base64url(HMAC-SHA256(secret, `label` + NUL + `message`)). The label keeps signatures
    /// made for one purpose from being replayed for another.
    fn sign(&self, label: &str, message: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(message);
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The XSRF token bound to one session.
    pub(crate) fn xsrf_token(&self, session_cookie: &str) -> String {
        self.sign("xsrf", &digest(session_cookie))
    }

    pub(crate) fn verify_xsrf(&self, session_cookie: &str, token: &str) -> bool {
        constant_time_eq(&self.xsrf_token(session_cookie), token)
    }

    /// `nonce.signature`, for the login form, before there is a session.
    pub(crate) fn login_xsrf_token(&self) -> String {
        let nonce = random_credential("");
        let signature = self.sign("login", nonce.as_bytes());
        format!("{nonce}.{signature}")
    }

    pub(crate) fn verify_login_xsrf(&self, token: &str) -> bool {
        match token.split_once('.') {
            Some((nonce, signature)) if !nonce.is_empty() => {
                constant_time_eq(&self.sign("login", nonce.as_bytes()), signature)
            }
            _ => false,
        }
    }
}

/// Equality whose time depends on the lengths only, never on where the texts differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_carry_256_random_bits_after_their_prefix() {
        let ticket = random_credential("7T:");
        let rest = ticket.strip_prefix("7T:").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(rest).unwrap().len(), 32);
        assert_ne!(random_credential("7T:"), ticket);
    }

    #[test]
    fn xsrf_tokens_are_bound_to_their_session() {
        let secret = ServerSecret::new(new_key().to_vec());
        let token = secret.xsrf_token("session-a");
        assert!(secret.verify_xsrf("session-a", &token));
        assert!(!secret.verify_xsrf("session-b", &token));
        assert!(!secret.verify_xsrf("session-a", ""));
        let other = ServerSecret::new(new_key().to_vec());
        assert!(!other.verify_xsrf("session-a", &token));
    }

    #[test]
    fn login_tokens_verify_only_with_their_signature() {
        let secret = ServerSecret::new(new_key().to_vec());
        let token = secret.login_xsrf_token();
        assert!(secret.verify_login_xsrf(&token));
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!secret.verify_login_xsrf(nonce));
        assert!(!secret.verify_login_xsrf(&format!("{nonce}x.{}", &token[nonce.len() + 1..])));
        assert!(!secret.verify_login_xsrf(&secret.xsrf_token(nonce)));
        assert!(!secret.verify_login_xsrf("."));
    }
}
