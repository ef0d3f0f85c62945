//! TLS with rustls: CA file or bundled web roots, optional client certificate,
//! opt-in to skip verification.

use super::config::TlsOptions;
use crate::error::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, client::danger, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

fn tls_err(what: impl std::fmt::Display) -> Error {
    Error::config(format!("TLS: {what}"))
}

/// Builds the rustls configuration for `opts`.
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?;
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match &opts.ca_file {
            Some(path) => {
                for cert in CertificateDer::pem_file_iter(path)
                    .map_err(|e| tls_err(format!("reading CA file {}: {e}", path.display())))?
                {
                    let cert = cert
                        .map_err(|e| tls_err(format!("reading CA file {}: {e}", path.display())))?;
                    roots.add(cert).map_err(tls_err)?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&opts.cert_file, &opts.key_file) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| tls_err(format!("reading certificate {}: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| tls_err(format!("reading key {}: {e}", key.display())))?;
            builder.with_client_auth_cert(chain, key).map_err(tls_err)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(tls_err(
                "a client certificate needs both cert and key files",
            ))
        }
    };
    Ok(Arc::new(config))
}

/// Runs the TLS handshake over `tcp`.
pub async fn connect(
    tcp: TcpStream,
    host: &str,
    opts: &TlsOptions,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = client_config(opts)?;
    let name = opts.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| tls_err(format!("invalid server name `{name}`")))?;
    TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(Error::io)
}

/// Accepts every certificate (opt-in `insecure`), still checking signatures so that
/// the handshake itself is sound.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<danger::ServerCertVerified, rustls::Error> {
        Ok(danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
