//! The HTTP client to the upstream: `http://` or `https://` (rustls through hyper-rustls), one
//! pool of kept-alive connections, the server name of the upstream's URL sent as SNI and
//! checked against its certificate.
//!
//! The certificate is checked against the platform's roots (rustls-native-certs: the system's
//! store, or the file named by `SSL_CERT_FILE`) and, with [`super::Config::upstream_ca`], the
//! certificates of that PEM file as well (a private CA, a test's own).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;

use super::GatewayError;

/// The client the gateway forwards with.
pub(super) type UpstreamClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The trusted roots: the platform's, and those of `extra` (PEM). Without `extra`, no
/// platform root at all is an error (no https upstream could be trusted); with it, the
/// platform's are added where they can be read.
pub(super) fn roots(extra: Option<&Path>) -> Result<RootCertStore, GatewayError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = extra {
        let certs = crate::runtime::tls::read_certs(path).map_err(GatewayError)?;
        for c in certs {
            roots.add(c).map_err(|e| {
                GatewayError(format!(
                    "--upstream-ca {}: not a usable CA certificate: {e}",
                    path.display()
                ))
            })?;
        }
    } else if added == 0 {
        let why = native
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(GatewayError(format!(
            "no trusted root certificate on this system for an https upstream{why}; name a CA \
             file with --upstream-ca (or SSL_CERT_FILE)"
        )));
    }
    Ok(roots)
}

/// The client for `upstream`: https needs trusted roots ([`roots`]); plain http needs none,
/// and none are read.
pub(super) fn build(
    upstream: &hyper::Uri,
    ca: Option<&Path>,
) -> Result<UpstreamClient, GatewayError> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    // The https connector hands it URLs of either scheme.
    http.enforce_http(false);
    let https = upstream.scheme_str() == Some("https");
    let roots = if https {
        roots(ca)?
    } else {
        RootCertStore::empty()
    };
    let tls = rustls::ClientConfig::builder_with_provider(crate::runtime::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| GatewayError(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector))
}
