//! The HTTPS certificate: self-signed, generated at start (the kubelet does not verify
//! target certificates).

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::TargetsError;

/// The server TLS configuration and the certificate in PEM (for clients that want to
/// verify anyway, e.g. tests).
pub(crate) fn self_signed() -> Result<(Arc<ServerConfig>, String, Vec<u8>), TargetsError> {
    let names = vec!["localhost".to_string(), "probebench-target".to_string()];
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| TargetsError::Tls(e.to_string()))?;
    let cert_pem = ck.cert.pem();
    let der = ck.cert.der().to_vec();
    let cert = CertificateDer::from(der.clone());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TargetsError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| TargetsError::Tls(e.to_string()))?;
    // HTTPS targets speak HTTP/1.1 only (kubelet httpGet probes do).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), cert_pem, der))
}
