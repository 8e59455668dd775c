//! Rollover: renewing a department's seal certificate with a new key (`zhengyin pki renew-seal`),
//! and rolling a level CA over to a new key (`zhengyin pki roll-ca`, see [`roll_ca`]).
//! The old certificate and key are retired, never deleted or overwritten: the certificate to
//! `seals/retired/<dept>-<serial>.crt.pem`, the key to `pki/private/retired/` (0600, directory
//! 0700), and the department's CA issues a new certificate for a new key. Seals made from now on use
//! the new key; documents sealed before carry the old certificate in their CMS, which still chains
//! to the region root, so they verify as before (and, once it ends, through proof of existence).
//!
//! Knows the home layout and rcgen; nothing of PDF. RFC 5280 (a new certificate, same subject).

use std::path::PathBuf;

use x509_parser::prelude::*;

use super::{issue_seal, keys};
use crate::config::Home;
use crate::error::{ConfigError, PkiError, Result};

/// What `renew_seal` did.
#[derive(Debug, Clone)]
pub struct RenewedSeal {
    pub dept: String,
    pub old_serial: String,
    pub new_serial: String,
    pub retired_cert: PathBuf,
    pub retired_key: PathBuf,
}

fn serial_of(path: &std::path::Path) -> Result<String> {
    let der = keys::read_certs_der(path)?.into_iter().next().ok_or_else(|| PkiError::BadCertificate {
        path: path.to_path_buf(),
        message: "no certificate".into(),
    })?;
    let (_, c) = X509Certificate::from_der(&der)
        .map_err(|e| PkiError::BadCertificate { path: path.to_path_buf(), message: e.to_string() })?;
    Ok(crate::hex::encode(c.raw_serial()))
}

/// Renew `dept`'s seal certificate with a new key; the old ones are retired (see module docs).
pub fn renew_seal(home: &Home, dept: &str) -> Result<RenewedSeal> {
    let region = home.region()?;
    let d = region.department(dept)?.clone();
    refuse_token_key(&d)?;
    let (cert, key) = (home.seal_cert(dept), home.seal_key(dept));
    let old_serial = serial_of(&cert)?;
    let cert_dir = home.dir.join("seals").join("retired");
    let key_dir = home.private_dir().join("retired");
    keys::make_dir(&cert_dir, 0o755)?;
    keys::make_dir(&key_dir, 0o700)?;
    let retired_cert = cert_dir.join(format!("{dept}-{old_serial}.crt.pem"));
    let retired_key = key_dir.join(format!("seal-{dept}-{old_serial}.key.pem"));
    if retired_cert.exists() || retired_key.exists() {
        return Err(ConfigError::Inconsistent(format!(
            "{} is already retired; refusing to overwrite it",
            retired_key.display()
        ))
        .into());
    }
    let issuer = super::ca_issuer(home, &d.ca)?;
    std::fs::rename(&key, &retired_key).map_err(crate::error::io_at(&key))?;
    if let Err(e) = std::fs::rename(&cert, &retired_cert) {
        let _ = std::fs::rename(&retired_key, &key);
        return Err(crate::error::io_at(&cert)(e));
    }
    if let Err(e) = issue_seal(home, &region, &d, &issuer) {
        // Nothing half-done: the department keeps sealing with its old key.
        let _ = std::fs::rename(&retired_key, &key);
        let _ = std::fs::rename(&retired_cert, &cert);
        return Err(e);
    }
    // When it was retired, for the registry other regions read (trust::registry).
    let at = ::time::OffsetDateTime::now_utc().unix_timestamp();
    keys::write_file(&retired_at_path(&retired_cert), format!("{at}\n").as_bytes(), 0o644)?;
    Ok(RenewedSeal {
        dept: dept.to_string(),
        new_serial: serial_of(&cert)?,
        old_serial,
        retired_cert,
        retired_key,
    })
}

fn retired_at_path(cert: &std::path::Path) -> PathBuf {
    let name = cert.file_name().and_then(|n| n.to_str()).unwrap_or("").trim_end_matches(".crt.pem");
    cert.with_file_name(format!("{name}.retired-at"))
}

/// The seal certificates `dept` used before (DER) with when each was retired (Unix seconds; the
/// file's modification time for one retired before that was recorded).
pub fn retired_seals(home: &Home, dept: &str) -> Vec<(Vec<u8>, i64)> {
    let Ok(rd) = std::fs::read_dir(home.dir.join("seals").join("retired")) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten().take(10_000) {
        let path = e.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !name.starts_with(&format!("{dept}-")) || !name.ends_with(".crt.pem") {
            continue;
        }
        let Some(der) = keys::read_certs_der(&path).ok().and_then(|v| v.into_iter().next()) else { continue };
        // Another department whose id starts with `<dept>-`: its OU says so.
        let ou_matches = X509Certificate::from_der(&der).is_ok_and(|(_, c)| {
            c.subject().iter_organizational_unit().next().and_then(|a| a.as_str().ok()) == Some(dept)
        });
        if !ou_matches {
            continue;
        }
        let at = std::fs::read_to_string(retired_at_path(&path))
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .or_else(|| {
                let m = std::fs::metadata(&path).ok()?.modified().ok()?;
                m.duration_since(std::time::UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_secs()).ok())
            })
            .unwrap_or(0);
        out.push((der, at));
    }
    out
}

/// Renewal makes a new key file: a department whose key is in a PKCS#11 token is refused (its
/// token's administrator makes the new key; `init --pkcs11` certifies one).
fn refuse_token_key(d: &crate::config::Department) -> Result<()> {
    if let crate::config::key_uri::KeyLocation::Pkcs11(uri) = d.key_location()? {
        return Err(ConfigError::Inconsistent(format!(
            "department `{}` keeps its seal key in PKCS#11 token {}: seal renewal makes key files only",
            d.id, uri.token
        ))
        .into());
    }
    Ok(())
}

/// What `roll_ca` did.
#[derive(Debug, Clone)]
pub struct RolledCa {
    pub ca: String,
    pub old_serial: String,
    pub new_serial: String,
    /// The CRL name of the retired key (still published) and of the new key.
    pub old_crl: String,
    pub new_crl: String,
    pub retired_cert: PathBuf,
    pub retired_key: PathBuf,
    /// CAs directly below, re-certified (same key) by the new key.
    pub recertified: Vec<String>,
    /// Departments of the CA, each given a new seal key certified by the new CA key.
    pub seals: Vec<RenewedSeal>,
}

/// Roll level CA `ca` over to a new key (`zhengyin pki roll-ca`). The parent certifies a new key
/// under the same name; the old key is retired, not deleted (`ca_keys`): it keeps signing its
/// CRL, so what it issued stays revocable and verifiable. CAs directly below are re-certified
/// by the new key (their keys stay), and each department of the CA gets a new seal key and
/// certificate from the new key ([`renew_seal`]), so new seals chain through the new key.
pub fn roll_ca(home: &Home, ca: &str) -> Result<RolledCa> {
    let region = home.region()?;
    let conf = region
        .ca(ca)
        .ok_or_else(|| ConfigError::Inconsistent(format!("no CA `{ca}` in region {}", region.region.id)))?
        .clone();
    // Refused before anything changes: a roll that stopped at a token department would be half done.
    for d in region.departments.iter().filter(|d| d.ca == ca) {
        refuse_token_key(d)?;
    }
    let Some(parent) = conf.parent.clone() else {
        return Err(ConfigError::Inconsistent(format!(
            "`{ca}` is the region root: roll it with `zhengyin trust rotate-root`"
        ))
        .into());
    };
    let (mut rolled, children) = super::crl::with_lock(home, ca, || {
        let old_crl = home.crl_name(ca);
        let (retired_cert, retired_key) = super::ca_keys::retired_paths(home, ca, &old_crl);
        if retired_cert.exists() || retired_key.exists() {
            return Err(ConfigError::Inconsistent(format!(
                "{} is already retired; refusing to overwrite it",
                retired_key.display()
            ))
            .into());
        }
        let (cert_path, key_path) = (home.ca_cert(ca), home.ca_key(ca));
        let old_serial = serial_of(&cert_path)?;
        let pem = std::fs::read_to_string(&cert_path).map_err(crate::error::io_at(&cert_path))?;
        let issuer = super::ca_issuer(home, &parent)?;
        let key = rcgen::KeyPair::generate().map_err(super::gen_err(ca))?;
        let mut p = rcgen::CertificateParams::from_ca_cert_pem(&pem).map_err(super::gen_err(ca))?;
        let serial = super::random_serial()?;
        let new_crl = format!("{ca}-{}", crate::hex::encode(serial.as_ref()).get(..16).unwrap_or("0"));
        p.serial_number = Some(serial);
        p.key_identifier_method = rcgen::KeyIdMethod::Sha256;
        p.use_authority_key_identifier_extension = true;
        p.crl_distribution_points = vec![super::crl_dp(home, &region, &parent)];
        let now = ::time::OffsetDateTime::now_utc();
        p.not_before = now - ::time::Duration::hours(1);
        p.not_after =
            (now + ::time::Duration::days(365 * super::CA_YEARS)).min(issuer.cert.params().not_after);
        let cert = p.signed_by(&key, &issuer.cert, &issuer.key).map_err(super::gen_err(ca))?;
        // Retire: the old certificate is copied, the old key moved (0600 kept); then the new ones.
        keys::make_dir(&home.pki_dir().join("retired"), 0o755)?;
        keys::make_dir(retired_cert.parent().unwrap_or(&home.pki_dir()), 0o755)?;
        keys::make_dir(&home.private_dir().join("retired"), 0o700)?;
        keys::write_file(&retired_cert, pem.as_bytes(), 0o644)?;
        std::fs::rename(&key_path, &retired_key).map_err(crate::error::io_at(&key_path))?;
        let installed = keys::write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)
            .and_then(|_| keys::write_file(&cert_path, cert.pem().as_bytes(), 0o644))
            .and_then(|_| super::ca_keys::set_crl_name(home, ca, &new_crl));
        if let Err(e) = installed {
            // Nothing half-done: the CA keeps its old key and certificate.
            let _ = std::fs::rename(&retired_key, &key_path);
            let _ = keys::write_file(&cert_path, pem.as_bytes(), 0o644);
            let _ = std::fs::remove_file(home.pki_dir().join(format!("{ca}.crl-name")));
            let _ = std::fs::remove_file(&retired_cert);
            return Err(e);
        }
        // Both keys sign a CRL now: the new key's under its new name, the old one's under its own.
        super::revoke::regenerate_crl_locked(home, ca)?;
        let rolled = RolledCa {
            ca: ca.to_string(),
            new_serial: serial_of(&cert_path)?,
            old_serial,
            old_crl,
            new_crl,
            retired_cert,
            retired_key,
            recertified: Vec::new(),
            seals: Vec::new(),
        };
        Ok((rolled, super::Issuer { cert, key }))
    })?;
    for child in region.cas.iter().filter(|c| c.parent.as_deref() == Some(ca)) {
        recertify(home, &region, &child.id, ca, &children)?;
        rolled.recertified.push(child.id.clone());
    }
    for d in region.departments.iter().filter(|d| d.ca == ca) {
        rolled.seals.push(renew_seal(home, &d.id)?);
    }
    Ok(rolled)
}

/// A new certificate for CA `child` (same name, same key) from `parent`'s new key.
fn recertify(
    home: &Home,
    region: &crate::config::RegionConfig,
    child: &str,
    parent: &str,
    issuer: &super::Issuer,
) -> Result<()> {
    let path = home.ca_cert(child);
    let pem = std::fs::read_to_string(&path).map_err(crate::error::io_at(&path))?;
    let key = keys::load_key_pair(&home.ca_key(child))?;
    let mut p = rcgen::CertificateParams::from_ca_cert_pem(&pem).map_err(super::gen_err(child))?;
    p.serial_number = Some(super::random_serial()?);
    p.key_identifier_method = rcgen::KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    p.crl_distribution_points = vec![super::crl_dp(home, region, parent)];
    p.not_after = p.not_after.min(issuer.cert.params().not_after);
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).map_err(super::gen_err(child))?;
    keys::write_file(&path, cert.pem().as_bytes(), 0o644)
}
