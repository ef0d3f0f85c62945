//! Test certificates: a CA, a server certificate for `localhost` and `127.0.0.1`, and a
//! client certificate for mutual TLS, all generated with `rcgen` and written as PEM.
//!
//! A test that needs an untrusted CA (to see a client reject the server) generates a
//! second set with [`TlsFiles::generate`] into its own directory and uses its CA.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::HarnessError;

/// The names the server certificate is valid for.
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Paths of the PEM files of one generated certificate set.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate (`ca.crt`): trust it to verify the server and the client.
    pub ca_cert: PathBuf,
    /// The server certificate (`server.crt`), signed by the CA, for [`SERVER_NAMES`].
    pub server_cert: PathBuf,
    /// The server's private key (`server.key`, PKCS#8).
    pub server_key: PathBuf,
    /// The client certificate (`client.crt`), signed by the CA, for mutual TLS.
    pub client_cert: PathBuf,
    /// The client's private key (`client.key`, PKCS#8).
    pub client_key: PathBuf,
}

impl TlsFiles {
    /// Generates a fresh CA, server certificate and client certificate, and writes them
    /// (and their keys) into `dir`.
    pub fn generate(dir: &Path) -> Result<Self, HarnessError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "respec test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let (server_cert, server_key) = leaf(
            &issuer,
            SERVER_NAMES.map(String::from).to_vec(),
            "localhost",
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let (client_cert, client_key) = leaf(
            &issuer,
            Vec::new(),
            "respec test client",
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;

        let files = TlsFiles {
            ca_cert: dir.join("ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
        };
        for (path, pem) in [
            (&files.ca_cert, ca_cert.pem()),
            (&files.server_cert, server_cert),
            (&files.server_key, server_key),
            (&files.client_cert, client_cert),
            (&files.client_key, client_key),
        ] {
            fs::write(path, pem)
                .map_err(|err| HarnessError::io(format!("writing {}", path.display()), err))?;
        }
        Ok(files)
    }
}

/// An end-entity certificate signed by `issuer`, as (certificate PEM, key PEM).
fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    names: Vec<String>,
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> Result<(String, String), HarnessError> {
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}
