//! TLS, as Crowsnest checks and speaks it: what a balancer's certificate means (`evaluate`, pure),
//! the handshake and HTTPS GET of a check (`probe`), and a CA made on the spot for the lab and
//! the tests (`authority`).

pub mod authority;
pub mod evaluate;
pub mod probe;

use std::path::Path;
use std::sync::Arc;

/// A verifying client config: the system's roots (when `system_roots`) plus `ca_file`. What
/// every outbound HTTPS link uses (peers, loaders' metrics, what users see through a site's
/// balancer); unlike a check's handshake, a bad certificate here refuses the connection.
pub fn verifying(ca_file: Option<&Path>, system_roots: bool) -> Result<rustls::ClientConfig, probe::TrustError> {
    let roots = probe::roots(ca_file, system_roots)?;
    #[allow(deprecated)] // ring, as in probe.rs.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| probe::TrustError::CaFile { path: String::new(), why: e.to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// An HTTP client builder for outbound links: no proxy from the environment, no redirects
/// followed (whoever answers at the configured URL is the one asked), `https://` verified
/// against [`verifying`]'s roots. Without usable roots it still speaks plain HTTP, and each
/// https:// request says why it failed.
pub fn outbound(ca_file: Option<&Path>, system_roots: bool) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("crowsnest/", env!("CARGO_PKG_VERSION")));
    match verifying(ca_file, system_roots) {
        Ok(config) => builder.use_preconfigured_tls(config),
        Err(e) => {
            tracing::warn!(error = %e, "outbound https:// links cannot verify certificates");
            builder
        }
    }
}
