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
    // The CA's current certificate and those of its retired keys (pki roll-ca): a seal certificate
    // the CA issued before a key rollover stays the department's.
    let ca_ders: Vec<&Vec<u8>> =
        trust.region_cas.iter().filter(|(id, _)| *id == dept.ca).map(|(_, der)| der).collect();
    if ca_ders.is_empty() {
        return Err(format!(
            "the home has no certificate of CA `{}`, which issues `{}`'s seal",
            dept.ca, dept.id
        ));
    }
    let issued_by_ca = ca_ders.iter().any(|ca_der| {
        X509Certificate::from_der(ca_der).is_ok_and(|(_, ca)| {
            cert.issuer().as_raw() == ca.subject().as_raw()
                && super::verified::memoised(&[b"x509-cert", ca.public_key().raw, leaf], || {
                    cert.verify_signature(Some(ca.public_key())).is_ok()
                })
        })
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

/// Who a seal is, once bound to a region's department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The region id (the home's own, or an imported one).
    pub region: String,
    /// The home's own region (bound through its root and configured CA), or an imported one
    /// (bound through that region's signed registry).
    pub home: bool,
    /// The region's local id.
    pub id: String,
    pub name: String,
    pub level: String,
    pub uscc: String,
    /// False when the certificate carries no organizationIdentifier and the department was
    /// found by its OU only (certificates made before USCCs were added): reported as a warning.
    pub uscc_in_cert: bool,
}

/// Bind `leaf` (whose chain leads to a root of region `chain_region`) to a department of that
/// region: the home's own through [`department_of`] (root AND configured CA), an imported one
/// through its registry (active, the certificate's fingerprint listed, or listed as retired after
/// `existed_by`, the seal's earliest proof of existence; same name). A USCC or
/// name of one of the home's departments is never a foreign region's. Err: why it binds to none.
pub fn bind(
    trust: &TrustStore,
    leaf: &[u8],
    chain_region: &str,
    existed_by: Option<i64>,
) -> Result<Bound, String> {
    let (_, cert) = X509Certificate::from_der(leaf)
        .map_err(|e| format!("the signer certificate cannot be parsed: {e}"))?;
    let uscc = super::registry::uscc_of(&cert);
    let (org, unit) = super::registry::org_and_unit(&cert);
    let home = trust.region.as_ref();
    if home.is_some_and(|r| r.region.id == chain_region) {
        let region = home.ok_or("no region")?;
        let d = department_of(trust, leaf)?;
        let dept = region.department(&d.id).map_err(|e| e.to_string())?;
        if let Some(u) = &uscc {
            if *u != dept.uscc {
                return Err(format!(
                    "the signer certificate carries USCC {u}, but `{}` of region {} is {}",
                    dept.id, region.region.id, dept.uscc
                ));
            }
        }
        return Ok(Bound {
            region: region.region.id.clone(),
            home: true,
            id: dept.id.clone(),
            name: dept.name.clone(),
            level: dept.level.clone(),
            uscc: dept.uscc.clone(),
            uscc_in_cert: uscc.is_some(),
        });
    }
    let region = trust
        .regions
        .iter()
        .find(|r| r.id == chain_region)
        .ok_or_else(|| format!("the seal chains to no region this home knows (`{chain_region}`)"))?;
    let registry = region.departments.as_ref().ok_or_else(|| {
        format!(
            "the trust list of {} ({}) carries no department registry (made by an older zhengyin)",
            region.name, region.id
        )
    })?;
    let dept = match &uscc {
        Some(u) => registry.iter().find(|d| d.uscc == *u).ok_or_else(|| {
            format!("USCC {u} is not a department in the registry of {} ({})", region.name, region.id)
        })?,
        None => registry.iter().find(|d| d.id == unit).ok_or_else(|| {
            format!("`{unit}` is not a department in the registry of {} ({})", region.name, region.id)
        })?,
    };
    if let Some(own) =
        home.and_then(|r| r.departments.iter().find(|d| d.uscc == dept.uscc || d.name == dept.name))
    {
        return Err(format!(
            "region {} claims {} ({}), a department of this region ({}): refused",
            region.id,
            own.name,
            own.uscc,
            home.map(|r| r.region.id.as_str()).unwrap_or_default()
        ));
    }
    if let Some(other) = trust
        .regions
        .iter()
        .find(|r| r.id != region.id && r.departments.iter().flatten().any(|d| d.uscc == dept.uscc))
    {
        return Err(format!("USCC {} is claimed by both {} and {}: refused", dept.uscc, region.id, other.id));
    }
    if dept.status != "active" {
        return Err(format!(
            "{} ({}) of {} is `{}` in its region's registry, not active",
            dept.name, dept.uscc, region.id, dept.status
        ));
    }
    if dept.name != org {
        return Err(format!(
            "the signer certificate names {org}, but {} of {} is {}",
            dept.uscc, region.id, dept.name
        ));
    }
    let fp = super::list::fingerprint(leaf);
    let retired = dept.retired_seal_certs.iter().find(|r| r.sha256 == fp);
    if let Some(r) = retired.filter(|_| !dept.seal_certs.contains(&fp)) {
        let at =
            ::time::OffsetDateTime::parse(&r.retired_at, &::time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp())
                .unwrap_or(i64::MIN);
        if existed_by.is_none_or(|t| t > at) {
            return Err(format!(
                "the seal certificate (SHA-256 {fp}) of {} was retired at {} in the registry of {}, and nothing proves the seal existed before",
                dept.name, r.retired_at, region.id
            ));
        }
    } else if !dept.seal_certs.contains(&fp) {
        return Err(format!(
            "the seal certificate (SHA-256 {fp}) is not one of {}'s seal certificates in the registry of {}",
            dept.name, region.id
        ));
    }
    Ok(Bound {
        region: region.id.clone(),
        home: false,
        id: dept.id.clone(),
        name: dept.name.clone(),
        level: dept.level.clone(),
        uscc: dept.uscc.clone(),
        uscc_in_cert: uscc.is_some(),
    })
}
