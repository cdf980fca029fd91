//! The lab's balancers over HTTPS: a CA made at start (written to `<data_dir>/lab/ca.pem` for
//! whoever checks them), a certificate per host for the name its check asks for, and a switch
//! that swaps in an expiring, expired, misnamed or unknown-issuer one, taking effect at the next
//! handshake. Never for production: the keys live in memory.

use super::LabError;
use crate::tls::authority::{Authority, Issued};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

/// Which certificate a lab balancer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// For the asked name, from the lab CA, a year left.
    Valid,
    /// For the asked name, from the lab CA, `days` left (10 unless the request says).
    Expiring,
    /// For the asked name, from the lab CA, expired two days ago.
    Expired,
    /// From the lab CA, for another name (the request's `name`, or `wrong-name.invalid`).
    WrongName,
    /// For the asked name, from a CA nobody trusts.
    UnknownIssuer,
}

/// What a certificate switch asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateChange {
    /// The kind of certificate.
    pub certificate: CertificateKind,
    /// Days left, for `expiring`.
    pub days: Option<i64>,
    /// The name a `wrong_name` certificate is for.
    pub name: Option<String>,
}

/// Days left on an `expiring` certificate when the request does not say: inside the default
/// warning threshold (14) and outside the critical one (3).
const EXPIRING_DAYS: i64 = 10;

/// The lab's CAs: the one checks trust, and a stranger for `unknown_issuer`.
pub(super) struct LabAuthority {
    trusted: Authority,
    stranger: Authority,
    ca_file: PathBuf,
}

/// One balancer's TLS: the name its check asks for, and the config handshakes use now.
pub(super) struct Served {
    /// The public hostname the check names (SNI).
    pub name: String,
    /// The server config handshakes read; replaced by a switch.
    pub config: watch::Sender<Arc<ServerConfig>>,
    /// What is served now.
    pub kind: watch::Sender<CertificateKind>,
}

impl LabAuthority {
    /// Makes the CAs and writes the trusted one's certificate under `data_dir/lab/ca.pem`.
    pub(super) fn create(data_dir: &Path) -> Result<LabAuthority, LabError> {
        let failed = |why: String| LabError::Tls(why);
        let trusted = Authority::new("Crowsnest lab CA").map_err(|e| failed(e.to_string()))?;
        let stranger = Authority::new("Nobody's CA").map_err(|e| failed(e.to_string()))?;
        let dir = data_dir.join("lab");
        std::fs::create_dir_all(&dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, trusted.ca_pem()).map_err(|e| failed(format!("cannot write {}: {e}", ca_file.display())))?;
        Ok(LabAuthority { trusted, stranger, ca_file })
    }

    /// Where the trusted CA's certificate is.
    pub(super) fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// A balancer serving a valid certificate for `name`.
    pub(super) fn serve(&self, name: &str) -> Result<Served, LabError> {
        let config = self.config(name, &CertificateChange { certificate: CertificateKind::Valid, days: None, name: None })?;
        Ok(Served { name: name.to_string(), config: watch::channel(config).0, kind: watch::channel(CertificateKind::Valid).0 })
    }

    /// The server config for a change of certificate on a balancer asked as `name`.
    pub(super) fn config(&self, name: &str, change: &CertificateChange) -> Result<Arc<ServerConfig>, LabError> {
        let wrong = change.name.as_deref().unwrap_or("wrong-name.invalid");
        let issued = match change.certificate {
            CertificateKind::Valid => self.trusted.issue_for_days(&[name], 365),
            CertificateKind::Expiring => self.trusted.issue_for_days(&[name], change.days.unwrap_or(EXPIRING_DAYS)),
            CertificateKind::Expired => self.trusted.issue_for_days(&[name], -2),
            CertificateKind::WrongName => self.trusted.issue_for_days(&[wrong], 365),
            CertificateKind::UnknownIssuer => self.stranger.issue_for_days(&[name], 365),
        };
        let issued = issued.map_err(|e| LabError::Tls(format!("issuing a certificate for {name}: {e}")))?;
        server_config(&issued).map_err(LabError::Tls)
    }
}

/// A rustls server config serving `issued` over HTTP/1.1.
fn server_config(issued: &Issued) -> Result<Arc<ServerConfig>, String> {
    let chain = CertificateDer::pem_slice_iter(issued.chain_pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).map_err(|e| e.to_string())?;
    #[allow(deprecated)] // ring, as in tls/probe.rs.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
