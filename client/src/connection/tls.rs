//! TLS with rustls: CA file or bundled web roots, optional client certificate,
//! opt-in to skip verification.

use super::transport::Deadline;
use crate::config::{Address, TlsOptions};
use crate::error::{Error, Result};
use crate::race::{race, First};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// What a TLS connection to a port that speaks plain RESP looks like, and the fix.
const NOT_TLS_HINT: &str =
    "the server may not speak TLS on this port: use redis:// instead of rediss://";

/// How long a TLS handshake may run before a second, plain connection checks whether
/// the port speaks plain RESP instead (see [`connect`]).
const PROBE_AFTER: Duration = Duration::from_millis(500);

/// Runs the TLS handshake over `tcp` (to `address`) within `deadline`.
///
/// A server that does not speak TLS on this port may never answer the `ClientHello`:
/// a plain Redis or Valkey reads it as the start of an inline command and waits for
/// the end of the line (if the hello happens to contain a newline it answers an
/// error, which fails the handshake at once). So when the handshake has not
/// completed after [`PROBE_AFTER`], a second connection sends an inline `PING`: a
/// plain RESP answer (`+PONG`, `-NOAUTH ...`) proves the port speaks plain RESP and
/// fails the connect at once, naming the cause. A TLS server rejects the probe and
/// the handshake keeps its whole time. Either way every error names TLS and the
/// address.
pub(crate) async fn connect(
    tcp: TcpStream,
    host: &str,
    opts: &TlsOptions,
    address: &Address,
    deadline: Deadline,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = client_config(opts)?;
    let name = opts.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| tls_err(format!("invalid server name `{name}`")))?;
    let peer = tcp.peer_addr().ok();
    let handshake = TlsConnector::from(config).connect(server_name, tcp);
    let probe = async {
        tokio::time::sleep(PROBE_AFTER).await;
        match peer {
            Some(peer) if speaks_plain_resp(peer).await => {}
            _ => std::future::pending().await,
        }
    };
    let work = async {
        match race(handshake, probe).await {
            First::A(done) => done.map_err(|e| handshake_failed(e, address)),
            First::B(()) => Err(Error::io_while(
                format!(
                    "the TLS handshake with {address} got no answer, but the port answers a plain-text PING: the server does not speak TLS on this port; use redis:// instead of rediss://"
                ),
                io::ErrorKind::InvalidData.into(),
            )),
        }
    };
    deadline
        .run(
            || format!("the TLS handshake with {address}"),
            Some(NOT_TLS_HINT),
            work,
        )
        .await
}

/// The error for a failed handshake: names TLS and the address, and adds the likely
/// cause when the server's answer looks like it does not speak TLS (an answer that is
/// not a TLS record, or the connection closed mid-handshake).
fn handshake_failed(e: io::Error, address: &Address) -> Error {
    let not_a_tls_record = matches!(
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidMessage(_))
    );
    let closed = matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    );
    let mut text = format!("the TLS handshake with {address} failed");
    if not_a_tls_record || closed {
        text.push_str(" (");
        text.push_str(NOT_TLS_HINT);
        text.push(')');
    }
    Error::io_while(text, e)
}

/// Whether the server at `peer` answers an inline `PING` in plain RESP: a simple
/// string or an error (`+PONG`, `-NOAUTH ...`, `-DENIED ...`), printable up to the
/// end of the line. A TLS server answers with an alert record (binary) or closes.
async fn speaks_plain_resp(peer: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(peer).await else {
        return false;
    };
    if s.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 256];
    let mut n = 0;
    while n < buf.len() {
        match s.read(&mut buf[n..]).await {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
        if buf[..n].contains(&b'\n') {
            break;
        }
    }
    looks_like_plain_resp(&buf[..n])
}

/// `+...` or `-...`, printable ASCII up to a `\r\n` (or up to the end of a long line).
fn looks_like_plain_resp(got: &[u8]) -> bool {
    let line = match got.windows(2).position(|w| w == b"\r\n") {
        Some(end) => &got[..end],
        None if got.len() >= 64 => got,
        None => return false,
    };
    matches!(line.first(), Some(b'+' | b'-'))
        && line.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_errors_name_tls_the_address_and_the_likely_cause() {
        let address = Address::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        let not_a_record = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        let cert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let texts: Vec<String> = [not_a_record, eof, cert]
            .into_iter()
            .map(|e| handshake_failed(e, &address).to_string())
            .collect();
        for t in &texts {
            println!("{t}");
            assert!(
                t.contains("the TLS handshake with 127.0.0.1:6379 failed"),
                "{t}"
            );
        }
        assert!(
            texts[0].ends_with(&format!("({NOT_TLS_HINT})")),
            "{}",
            texts[0]
        );
        assert!(
            texts[1].ends_with(&format!("({NOT_TLS_HINT})")),
            "{}",
            texts[1]
        );
        // One level: the cause is the source, not repeated in the message.
        assert!(!texts[1].contains("tls handshake eof"), "{}", texts[1]);
        let err = handshake_failed(
            io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof"),
            &address,
        );
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("tls handshake eof"));
        assert!(format!("{err:?}").contains("caused by: tls handshake eof"));
        assert!(!texts[2].contains("rediss://"), "{}", texts[2]);
    }

    #[test]
    fn plain_resp_answers_are_told_from_tls_alerts() {
        assert!(looks_like_plain_resp(b"+PONG\r\n"));
        assert!(looks_like_plain_resp(
            b"-NOAUTH Authentication required.\r\n"
        ));
        assert!(looks_like_plain_resp(&[b'-'; 100]));
        // A TLS alert record, nothing, a partial line, binary.
        assert!(!looks_like_plain_resp(&[
            0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32
        ]));
        assert!(!looks_like_plain_resp(b""));
        assert!(!looks_like_plain_resp(b"+PON"));
        assert!(!looks_like_plain_resp(b"+\x00\x01\r\n"));
        assert!(!looks_like_plain_resp(b"$4\r\nPONG\r\n"));
    }
}
