//! The department registry a region publishes in its signed trust list: every department with its
//! 统一社会信用代码 (USCC, GB 32100), name, level, the SHA-256 fingerprints of its current seal
//! certificates and its status. A verifier in another region names a foreign seal's department
//! from this registry, never from the certificate alone, and a department that leaves the
//! registry (or is not `active`) stops counting from the next refresh.
//!
//! Also reads the USCC a seal certificate carries: organizationIdentifier (2.5.4.97) in the ETSI EN
//! 319 412-1 §5.1.4 form `NTRCN-<USCC>`. Knows certificates and the region configuration; knows
//! nothing of PDF or HTTP.

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::Result;

/// organizationIdentifier (X.520 2.5.4.97).
pub const ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
/// The same, as arcs (for rcgen).
pub const ORGANIZATION_IDENTIFIER_ARCS: &[u64] = &[2, 5, 4, 97];
/// ETSI EN 319 412-1 semantics prefix: national trade register (NTR), China (CN).
pub const USCC_PREFIX: &str = "NTRCN-";

/// One department as its region publishes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegistryDepartment {
    /// The region's local id (`scjg`), for people and the region's own CLI.
    pub id: String,
    pub uscc: String,
    pub name: String,
    pub level: String,
    /// SHA-256 (hex) of each seal certificate that may seal for it now.
    pub seal_certs: Vec<String>,
    /// Seal certificates it used before (`pki renew-seal`, `pki roll-ca`), with when each was
    /// retired: a seal one of them made counts only with proof that it existed before then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_seal_certs: Vec<RetiredSealCert>,
    /// `active`, or anything else (`withdrawn`, `suspended`): only `active` seals count.
    pub status: String,
}

/// A seal certificate a department no longer seals with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetiredSealCert {
    /// SHA-256 (hex) of the certificate.
    pub sha256: String,
    /// RFC 3339: from then on, seals by it do not count.
    pub retired_at: String,
}

/// The registry of the home's own region: departments of region.toml with their seal
/// certificates' fingerprints (`seals/<id>.crt.pem`).
pub fn build(home: &Home) -> Result<Vec<RegistryDepartment>> {
    let region = home.region()?;
    Ok(region
        .departments
        .iter()
        .map(|d| RegistryDepartment {
            id: d.id.clone(),
            uscc: d.uscc.clone(),
            name: d.name.clone(),
            level: d.level.clone(),
            seal_certs: crate::pki::keys::read_certs_der(&home.seal_cert(&d.id))
                .map(|ders| ders.iter().map(|der| super::list::fingerprint(der)).collect())
                .unwrap_or_default(),
            retired_seal_certs: crate::pki::rollover::retired_seals(home, &d.id)
                .into_iter()
                .map(|(der, at)| RetiredSealCert {
                    sha256: super::list::fingerprint(&der),
                    retired_at: super::rfc3339(at),
                })
                .collect(),
            status: d.status.clone().unwrap_or_else(|| "active".into()),
        })
        .collect())
}

/// Check a published registry's shape: USCCs valid (GB 32100) and unique, ids safe.
pub fn check(deps: &[RegistryDepartment]) -> std::result::Result<(), String> {
    for (i, d) in deps.iter().enumerate() {
        if !crate::document::identifier::uscc_is_valid(&d.uscc) {
            return Err(format!("department `{}` has an invalid USCC `{}` (GB 32100)", d.id, d.uscc));
        }
        if d.id.is_empty()
            || d.id.len() > 64
            || !d.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!("department id `{}` must be [A-Za-z0-9_-]", d.id));
        }
        if deps.iter().take(i).any(|o| o.uscc == d.uscc || o.id == d.id) {
            return Err(format!("department `{}` ({}) is listed twice", d.id, d.uscc));
        }
    }
    Ok(())
}

/// The USCC a certificate carries as organizationIdentifier `NTRCN-<USCC>`, if any.
pub fn uscc_of(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == ORGANIZATION_IDENTIFIER)
        .and_then(|a| a.as_str().ok())
        .and_then(|s| s.strip_prefix(USCC_PREFIX))
        .map(str::to_string)
}

/// A certificate subject's first O and OU.
pub fn org_and_unit(cert: &X509Certificate<'_>) -> (String, String) {
    let first = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).unwrap_or("").to_string()
    };
    (first(&mut cert.subject().iter_organization()), first(&mut cert.subject().iter_organizational_unit()))
}
