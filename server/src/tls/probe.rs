//! The TLS side of a check: a handshake with one balancer at its own address, naming the public
//! hostname (SNI), then the chain verified for that name. The handshake completes whatever the
//! certificate says (its signatures are still checked), so the check still sees the HTTP answer
//! and can say what is wrong with the certificate instead of only "handshake failed". Nothing
//! secret is sent over such a connection: a GET with no credentials.

use super::evaluate::{CertFacts, Verdict};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Why the roots could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The CA file could not be read or holds no certificate.
    #[error("tls.ca_file {path}: {why}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// No roots at all: neither the system's nor a CA file.
    #[error("no trusted roots: the system has none and no tls.ca_file is set")]
    NoRoots,
}

/// Why a TLS check got no answer.
#[derive(Debug, thiserror::Error)]
pub enum TlsCheckError {
    /// Connecting or the handshake failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The name is not one a certificate can be for.
    #[error("{0:?} is not a valid server name")]
    BadName(String),
    /// The balancer sent no certificate.
    #[error("the server sent no certificate")]
    NoCertificate,
    /// The answer was not HTTP.
    #[error("not an HTTP answer: {0:?}")]
    NotHttp(String),
}

/// The certificates this instance trusts, and a client that completes any handshake.
#[derive(Clone)]
pub struct Trust {
    verifier: Arc<WebPkiServerVerifier>,
    config: Arc<ClientConfig>,
}

/// Reads every certificate in a PEM file.
pub fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |why: String| TrustError::CaFile { path: path.display().to_string(), why };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?.collect::<Result<Vec<_>, _>>();
    let certs = certs.map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(certs)
}

/// The system's roots (when `system`), plus every certificate in `ca_file` when given.
pub fn roots(ca_file: Option<&Path>, system: bool) -> Result<RootCertStore, TrustError> {
    let mut roots = RootCertStore::empty();
    if system {
        // Unreadable system certificates are skipped, not fatal: a CA file may be all we need.
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
    }
    if let Some(path) = ca_file {
        for cert in read_pem(path)? {
            roots.add(cert).map_err(|e| TrustError::CaFile { path: path.display().to_string(), why: e.to_string() })?;
        }
    }
    if roots.is_empty() {
        return Err(TrustError::NoRoots);
    }
    Ok(roots)
}

impl Trust {
    /// The system's roots, plus every certificate in `ca_file` when given.
    pub fn new(ca_file: Option<&Path>, system: bool) -> Result<Trust, TrustError> {
        let roots = roots(ca_file, system)?;
        // ring, not aws-lc-rs: it builds with cc alone (no cmake), and a probe needs no
        // post-quantum key exchange, which is what the deprecation is about.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TrustError::CaFile { path: String::new(), why: e.to_string() })?;
        let recorder = Arc::new(Completes(verifier.clone()));
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrustError::CaFile { path: String::new(), why: e.to_string() })?
            .dangerous()
            .with_custom_certificate_verifier(recorder)
            .with_no_client_auth();
        Ok(Trust { verifier, config: Arc::new(config) })
    }

    /// Connects to `addr`, shakes hands naming `name`, and says what the certificate is.
    pub async fn handshake(
        &self,
        addr: SocketAddr,
        name: &str,
    ) -> Result<(tokio_rustls::client::TlsStream<tokio::net::TcpStream>, CertFacts), TlsCheckError> {
        let server = ServerName::try_from(name.to_string()).map_err(|_| TlsCheckError::BadName(name.into()))?;
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let tls = tokio_rustls::TlsConnector::from(self.config.clone()).connect(server.clone(), tcp).await?;
        let chain = tls.get_ref().1.peer_certificates().unwrap_or_default().to_vec();
        let (leaf, intermediates) = chain.split_first().ok_or(TlsCheckError::NoCertificate)?;
        let verdict = match self.verifier.verify_server_cert(leaf, intermediates, &server, &[], UnixTime::now()) {
            Ok(_) => Verdict::Valid,
            Err(rustls::Error::InvalidCertificate(e)) => match e {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => Verdict::WrongName,
                CertificateError::UnknownIssuer => Verdict::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => Verdict::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Verdict::NotYetValid,
                other => Verdict::Invalid(format!("{other:?}")),
            },
            Err(e) => Verdict::Invalid(e.to_string()),
        };
        Ok((tls, facts(leaf, verdict)))
    }

    /// `GET path` over TLS from the balancer at `addr` as `name` (SNI and `Host`): the HTTP
    /// status and what the certificate is.
    pub async fn get(&self, addr: SocketAddr, name: &str, path: &str) -> Result<(u16, CertFacts), TlsCheckError> {
        let (mut tls, facts) = self.handshake(addr, name).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {name}\r\nUser-Agent: crowsnest/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        tls.write_all(request.as_bytes()).await?;
        // The request may sit in rustls' buffer until flushed: without this, a check now and
        // then waited out its timeout for an answer to a request never sent.
        tls.flush().await?;
        // The status line is all a check needs; it fits in the first read of any real server.
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 1024 {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        let line = line.lines().next().unwrap_or_default();
        let status = line
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| TlsCheckError::NotHttp(line.chars().take(60).collect()))?;
        Ok((status, facts))
    }
}

/// What the leaf says: names, issuer, validity. A certificate x509-parser cannot read still has
/// a verdict; its fields are then empty.
fn facts(leaf: &CertificateDer<'_>, verdict: Verdict) -> CertFacts {
    let mut facts = CertFacts { names: Vec::new(), issuer: "an unreadable issuer".into(), not_before_ms: 0, not_after_ms: 0, verdict };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(leaf.as_ref()) else { return facts };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(dns) = name {
                facts.names.push(dns.to_string());
            }
        }
    }
    if facts.names.is_empty() {
        facts.names.extend(cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok()).map(str::to_string));
    }
    facts.issuer =
        cert.issuer().iter_common_name().find_map(|cn| cn.as_str().ok()).map_or_else(|| cert.issuer().to_string(), str::to_string);
    facts.not_before_ms = cert.validity().not_before.timestamp() * 1000;
    facts.not_after_ms = cert.validity().not_after.timestamp() * 1000;
    facts
}

/// Completes every handshake whose signatures hold, whatever the certificate: the chain is
/// verified afterwards, so a wrong certificate is reported rather than only refused.
#[derive(Debug)]
struct Completes(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for Completes {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
