//! A certificate authority made on the spot, for the lab's balancers and the tests: a CA, and
//! leaves for any names, valid for any window (so expiring, expired and misnamed certificates
//! are as easy to serve as good ones). Never for production: its key lives in memory.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};

/// A CA that signs leaves.
pub struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// One issued certificate and its key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate followed by the CA's (nginx's `ssl_certificate` wants the chain).
    pub chain_pem: String,
    /// The private key.
    pub key_pem: String,
}

impl Authority {
    /// A new CA named `name`, valid for ten years from yesterday.
    pub fn new(name: &str) -> Result<Authority, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Authority { cert, key })
    }

    /// The CA certificate, for a `tls.ca_file`.
    pub fn ca_pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `names`, valid from `not_before` to `not_after`.
    pub fn issue(&self, names: &[&str], not_before: OffsetDateTime, not_after: OffsetDateTime) -> Result<Issued, rcgen::Error> {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.not_before = not_before;
        params.not_after = not_after;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok(Issued { chain_pem: format!("{}{}", cert.pem(), self.cert.pem()), key_pem: key.serialize_pem() })
    }

    /// A leaf for `names` with `days` left (negative: expired that long ago), issued 30 days
    /// before now or before it expired, whichever is earlier.
    pub fn issue_for_days(&self, names: &[&str], days: i64) -> Result<Issued, rcgen::Error> {
        let now = OffsetDateTime::now_utc();
        // An hour's margin away from now, so "3 days left" is still 3 when a check reads it
        // and "expired 2 days ago" is not 1 day and 23 hours.
        let margin = if days >= 0 { Duration::hours(1) } else { -Duration::hours(1) };
        let not_after = now + Duration::days(days) + margin;
        self.issue(names, not_after.min(now) - Duration::days(30), not_after)
    }
}
