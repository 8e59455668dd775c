//! Binding a signer certificate to a department of the trusting home's own region: the
//! certificate's OU names a department of region.toml, its O is that department's name, and it
//! was issued by the department's configured CA (`ca = …` in region.toml), whose certificate is the
//! home's own (`pki/<ca>.crt.pem`). A certificate from another trusted region, or from another CA
//! of this region, does not bind even when it names the department.
//!
//! Used where a signed claim says who made it (proof tokens' `iss`, the annotated copy's maker):
//! chain validity and revocation are the caller's (`TrustStore::validate`); this module only
//! answers "which of our departments is this". Knows nothing of PDF or JWS. RFC 5280 §4.1.2.4
//! (issuer) and §6.1 (the issuer's key signed the certificate).

use x509_parser::prelude::*;

use super::TrustStore;

/// A department of the home's region that a certificate belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundDepartment {
    pub id: String,
    pub name: String,
    /// The configured CA that issued the certificate.
    pub ca: String,
}

/// The department of the home's region that `leaf` (DER) belongs to, or why it belongs to none.
pub fn department_of(trust: &TrustStore, leaf: &[u8]) -> Result<BoundDepartment, String> {
    let region = trust
        .region
        .as_ref()
        .ok_or("no region configuration to bind the signer to a department (verify with a home)")?;
    let (_, cert) = X509Certificate::from_der(leaf)
        .map_err(|e| format!("the signer certificate cannot be parsed: {e}"))?;
    let attr = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).unwrap_or("").to_string()
    };
    let unit = attr(&mut cert.subject().iter_organizational_unit());
    let org = attr(&mut cert.subject().iter_organization());
    let dept = region.department(&unit).map_err(|_| {
        format!("the signer certificate's unit `{unit}` is not a department of region {}", region.region.id)
    })?;
    if dept.name != org {
        return Err(format!(
            "the signer certificate names {org}, but `{unit}` is {} in region {}",
            dept.name, region.region.id
        ));
    }
    let ca_der =
        trust.region_cas.iter().find(|(id, _)| *id == dept.ca).map(|(_, der)| der).ok_or_else(|| {
            format!("the home has no certificate of CA `{}`, which issues `{}`'s seal", dept.ca, dept.id)
        })?;
    let (_, ca) = X509Certificate::from_der(ca_der)
        .map_err(|e| format!("the home's certificate of CA `{}` cannot be parsed: {e}", dept.ca))?;
    let issued_by_ca = cert.issuer().as_raw() == ca.subject().as_raw()
        && super::verified::memoised(&[b"x509-cert", ca.public_key().raw, leaf], || {
            cert.verify_signature(Some(ca.public_key())).is_ok()
        });
    if !issued_by_ca {
        return Err(format!(
            "the signer certificate was not issued by `{}`'s configured CA `{}` of region {} (issuer: {})",
            dept.id,
            dept.ca,
            region.region.id,
            cert.issuer()
        ));
    }
    Ok(BoundDepartment { id: dept.id.clone(), name: dept.name.clone(), ca: dept.ca.clone() })
}
