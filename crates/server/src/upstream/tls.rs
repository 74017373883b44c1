//! The client side of TLS to the upstream: rustls on ring, as the listener's; the system's
//! roots, or only the CA of `--upstream-ca`; certificates always verified.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::Error;

/// The client configuration: HTTP/1.1 only (ALPN), the roots of `ca` when given (a private
/// CA replaces the system's roots: it is what the operator trusts for this upstream), else
/// the system's; none for a plain `http` upstream (`https` false), which never uses them.
///
/// # Errors
///
/// [`Error::Ca`] when the CA file cannot be read or a certificate in it is refused;
/// [`Error::NoRoots`] when the system has no usable root certificate.
pub(super) fn client_config(https: bool, ca: Option<&Path>) -> Result<ClientConfig, Error> {
    let mut roots = RootCertStore::empty();
    match ca {
        _ if !https => {}
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::Ca(format!("{}: {e}", path.display())))?;
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|e| Error::Ca(format!("{}: {e}", path.display())))?;
            }
        }
        None => {
            // Some system bundles carry certificates rustls refuses (old, odd encodings):
            // those are skipped, as browsers skip them, and the rest are used.
            let found = rustls_native_certs::load_native_certs();
            let (_added, _skipped) = roots.add_parsable_certificates(found.certs);
        }
    }
    if https && roots.is_empty() {
        return Err(Error::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Ca(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
