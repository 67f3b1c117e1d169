//! TLS on the listener (feature `tls`): a [`Transport`] that runs the rustls handshake on the
//! connection's own task, offers HTTP/2 and HTTP/1.1 by ALPN, and reads its certificate and key
//! from PEM files that [`Tls::reload`] can read again (the gateway does on `SIGHUP`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::Transport;

/// How long a client may take to finish its TLS handshake; past it the connection is closed
/// (it holds a connection slot meanwhile).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS listener's certificate chain and key, from PEM files, and the rustls configuration
/// made of them; clones share the configuration, so a reload reaches every clone.
#[derive(Clone)]
pub(crate) struct Tls {
    cert: PathBuf,
    key: PathBuf,
    config: Arc<ArcSwap<ServerConfig>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificate chain (`cert`, PEM, the leaf first) and its private key (`key`,
    /// PEM: PKCS#8, PKCS#1 or SEC1). The error names the file and what is wrong with it.
    pub(crate) fn load(cert: &Path, key: &Path) -> Result<Tls, String> {
        let config = server_config(cert, key)?;
        Ok(Tls {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            config: Arc::new(ArcSwap::from_pointee(config)),
        })
    }

    /// Reads the files again; on error the old certificate keeps serving. Connections open
    /// already keep the one they were made with.
    pub(crate) fn reload(&self) -> Result<(), String> {
        let config = server_config(&self.cert, &self.key)?;
        self.config.store(Arc::new(config));
        Ok(())
    }
}

/// The rustls provider of the crate (ring), named, so that no process-wide default is needed.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate of a PEM file (at least one).
pub(crate) fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read the certificates of {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate (expected PEM `-----BEGIN CERTIFICATE-----`)",
            path.display()
        ));
    }
    Ok(certs)
}

fn server_config(cert: &Path, key_file: &Path) -> Result<ServerConfig, String> {
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("cannot read a private key from {}: {e}", key_file.display()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "the certificate {} with the key {}: {e}",
                cert.display(),
                key_file.display()
            )
        })?;
    // HTTP/2 first: a client that speaks both gets it (hyper's server detects either).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

impl Transport for Tls {
    type Stream = TlsStream<TcpStream>;
    const SECURE: bool = true;

    fn wrap(&self, tcp: TcpStream) -> impl Future<Output = std::io::Result<Self::Stream>> + Send {
        let acceptor = TlsAcceptor::from(self.config.load_full());
        async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(r) => r,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the TLS handshake did not finish in time",
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests;
