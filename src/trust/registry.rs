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
    /// `active`, or anything else (`withdrawn`, `suspended`): only `active` seals count.
    pub status: String,
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
