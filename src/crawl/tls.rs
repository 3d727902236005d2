//! A site's `tls = "lenient"` (SPEC §7): the certificate check that lets a
//! fetch go on when the certificate is not valid, and says why.
//!
//! Many county and agency sites serve expired or self-signed certificates,
//! or a chain without its intermediate; browsers often cope, and archival
//! crawlers archive them anyway. The lenient client's verifier asks the
//! machine's own verifier first (the one the strict client uses), and when
//! that refuses, notes the reason in words under the server's name and
//! accepts. The handshake's signatures are still checked against the
//! certificate's key, so the connection is still to whoever holds that
//! key. The notes are kept by certificate; [`super::client::Client`] reads
//! the one of each response's connection (reqwest's `TlsInfo`), so each
//! fetch over a connection made with an invalid certificate carries it
//! into the fetch log, the version and the site's crawl summary.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Why each certificate a server presented was not valid, by the
/// certificate (its blake3 hash): a note belongs to the connection's
/// certificate, not to a host name that several sites, or ports, share.
#[derive(Debug, Default)]
pub struct Notes(Mutex<HashMap<[u8; 32], String>>);

impl Notes {
    /// Why `certificate` (DER) was not valid, if it was not.
    #[must_use]
    pub fn reason(&self, certificate: &[u8]) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(blake3::hash(certificate).as_bytes())
            .cloned()
    }

    fn note(&self, certificate: &[u8], reason: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(*blake3::hash(certificate).as_bytes(), reason);
    }
}

/// The lenient verifier: the platform's, its refusals turned into notes.
#[derive(Debug)]
struct Lenient {
    inner: rustls_platform_verifier::Verifier,
    provider: Arc<rustls::crypto::CryptoProvider>,
    notes: Arc<Notes>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if let Err(e) = verdict {
            let reason = describe(&e, end_entity, intermediates, server_name);
            tracing::warn!(host = %server_name.to_str(), %reason, "certificate not valid; fetched anyway (tls = \"lenient\")");
            self.notes.note(end_entity, reason);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration of a lenient client, and where it leaves its
/// notes.
///
/// # Errors
/// When the machine's verifier cannot be set up (no trust store).
pub fn lenient_config() -> Result<(rustls::ClientConfig, Arc<Notes>), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("the machine's certificate verifier: {e}"))?;
    let notes = Arc::new(Notes::default());
    let verifier = Lenient {
        inner,
        provider: provider.clone(),
        notes: notes.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // as reqwest's own configuration offers
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((config, notes))
}

/// Why a certificate was refused, in an archivist's words.
fn describe(
    error: &rustls::Error,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
) -> String {
    let rustls::Error::InvalidCertificate(error) = error else {
        return format!("certificate not verified: {error}");
    };
    let self_signed = webpki::EndEntityCert::try_from(end_entity)
        .is_ok_and(|cert| cert.issuer() == cert.subject());
    let reason = match error {
        CertificateError::UnknownIssuer if self_signed => {
            return "self-signed certificate (no trusted authority issued it)".to_owned();
        }
        CertificateError::UnknownIssuer if intermediates.is_empty() => {
            "incomplete chain: the server sent no intermediate certificate, and no trusted authority issued the certificate itself".to_owned()
        }
        CertificateError::UnknownIssuer => {
            "certificate issued by an authority this machine does not trust".to_owned()
        }
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("certificate expired {}", day(*not_after))
        }
        CertificateError::Expired => "certificate expired".to_owned(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!("certificate not valid before {}", day(*not_before))
        }
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "certificate not valid for {} (it names {})",
            server_name.to_str(),
            presented.join(", ")
        ),
        CertificateError::NotValidForName => {
            format!("certificate not valid for {}", server_name.to_str())
        }
        other => format!("certificate not valid: {other}"),
    };
    if self_signed {
        format!("{reason}; self-signed")
    } else {
        reason
    }
}

/// A certificate time as an RFC 3339 instant.
fn day(time: UnixTime) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs());
    humantime::format_rfc3339_seconds(at).to_string()
}
