//! Issuing the TSA's key and certificate under the region root: at `init`, or later for a home
//! made before the TSA existed (`init --add-tsa`), without touching any other key.
//!
//! RFC 3161 §2.3: the certificate carries extended key usage id-kp-timeStamping only, marked
//! critical; key usage digitalSignature (what OpenSSL's timestamp-signing purpose accepts).

use std::path::PathBuf;

use der::Encode;
use rcgen::{CertificateParams, CustomExtension, DnType, IsCa, KeyPair, KeyUsagePurpose};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::config::{Home, RegionConfig};
use crate::error::{PkiError, Result, TsaError};
use crate::pki::{base_params, crl_dp, gen_err, keys};

/// Years a TSA certificate is valid (never past the root's end): as long as the root, so that
/// the tokens of a retired TSA key stay checkable at the current time for as long as the root
/// lasts (an AdES validator such as pyHanko cannot slide the validation of an expired TSA
/// certificate back in time while the DSS holds a newer, current root CRL).
pub const TSA_YEARS: i64 = 20;

/// Years the TSA key signs tokens (from the certificate's notBefore): `archive renew` refuses
/// a key whose period of use ends within its window, and `init --add-tsa --force` replaces it.
/// ETSI EN 319 421 §7.6.7 (the TSU key is used for less time than its certificate lasts).
pub const TSA_KEY_USE_YEARS: i64 = 10;

/// id-ce-extKeyUsage (RFC 5280 §4.2.1.12).
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];

/// Issue the TSA key and certificate with the root's certificate and key; returns the
/// certificate path.
pub fn issue_under(
    home: &Home,
    region: &RegionConfig,
    root: &rcgen::Certificate,
    root_key: &KeyPair,
    root_not_after: Option<OffsetDateTime>,
) -> Result<PathBuf> {
    let key = KeyPair::generate().map_err(gen_err("tsa"))?;
    let name = format!("{}时间戳服务", region.region.name);
    let mut p = base_params(&name, &region.root().name, region, TSA_YEARS)?;
    p.distinguished_name.push(DnType::OrganizationalUnitName, "tsa");
    if let Some(end) = root_not_after {
        p.not_after = p.not_after.min(end);
    }
    // No basicConstraints in end-entity certificates (see `issue_seal`).
    p.is_ca = IsCa::NoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // rcgen writes EKU non-critical; RFC 3161 §2.3 requires it critical, so it goes in as a
    // custom extension whose value the `x509-cert` type encodes.
    let eku = ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_TIME_STAMPING])
        .to_der()
        .map_err(|e| PkiError::Generate { what: "tsa".into(), message: e.to_string() })?;
    let mut ext = CustomExtension::from_oid_content(EXT_KEY_USAGE, eku);
    ext.set_criticality(true);
    p.custom_extensions = vec![ext];
    p.crl_distribution_points = vec![crl_dp(home, region, &region.root().id)];
    let cert = p.signed_by(&key, root, root_key).map_err(gen_err("tsa"))?;
    keys::make_dir(&home.tsa_dir(), 0o755)?;
    keys::write_file(&home.tsa_key(), key.serialize_pem().as_bytes(), 0o600)?;
    keys::write_file(&home.tsa_cert(), cert.pem().as_bytes(), 0o644)?;
    Ok(home.tsa_cert())
}

/// Add a TSA to an initialised home (`init --add-tsa`): signs with the existing root key and
/// changes no other file. Refuses when the home has one, unless `force`.
pub fn add(home: &Home, force: bool) -> Result<PathBuf> {
    let region = home.region()?;
    if (home.tsa_cert().exists() || home.tsa_key().exists()) && !force {
        return Err(TsaError::Exists { home: home.dir.clone(), cert: home.tsa_cert() }.into());
    }
    let root_id = &region.root().id;
    let cert_path = home.ca_cert(root_id);
    let pem = std::fs::read_to_string(&cert_path).map_err(crate::error::io_at(&cert_path))?;
    let bad = |m: String| PkiError::BadCertificate { path: cert_path.clone(), message: m };
    let params = CertificateParams::from_ca_cert_pem(&pem).map_err(|e| bad(e.to_string()))?;
    let not_after = params.not_after;
    let key_path = home.ca_key(root_id);
    let key_pem = std::fs::read_to_string(&key_path)
        .map_err(|e| PkiError::BadKey { path: key_path.clone(), message: e.to_string() })?;
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| PkiError::BadKey { path: key_path.clone(), message: e.to_string() })?;
    // Re-create the issuer object (same subject, key and key identifier) to sign with.
    let root = params.self_signed(&key).map_err(|e| bad(e.to_string()))?;
    let now = OffsetDateTime::now_utc();
    if not_after < now + Duration::days(1) {
        return Err(bad("the region root expires within a day".into()).into());
    }
    issue_under(home, &region, &root, &key, Some(not_after))
}
