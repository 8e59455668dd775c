//! A level CA's key generations. The key `init` made and every key a CA key rollover
//! (`zhengyin pki roll-ca`, pki/rollover.rs) replaced stay in the home, retired: a retired key
//! signs nothing new but its CRL, which goes on covering the certificates it issued (RFC 5280
//! §5: a complete CRL is signed by the key that signed the certificates it covers; the model of
//! AD CS and EJBCA CA key renewal). Each key publishes its CRL under a name of its own, kept for
//! good because the certificates it issued name it in their CRL distribution point: the CA id
//! for the `init` key, `<ca>-<16 hex digits of the new CA certificate's serial>` for later keys.
//!
//! Layout: `pki/<ca>.crl-name` (the current key's name; absent: the CA id, see
//! [`crate::config::Home::crl_name`]), `pki/retired/<ca>/<name>.crt.pem` (a retired key's CA
//! certificate), `pki/private/retired/ca-<name>.key.pem` (its key, 0600), `crl/<name>.crl`.
//! Knows the home layout and rcgen; nothing of PDF, HTTP or verification.

use std::path::{Path, PathBuf};

use rcgen::CertificateParams;

use super::{keys, Issuer};
use crate::config::Home;
use crate::error::{PkiError, Result};

/// Most retired keys of one CA read (a budget on a directory listing).
const MAX_RETIRED: usize = 64;

/// One retired key of a CA: the CRL name it signs under, its CA certificate and its key.
#[derive(Debug, Clone)]
pub struct Retired {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn retired_dir(home: &Home, ca: &str) -> PathBuf {
    home.pki_dir().join("retired").join(ca)
}

/// Where the retired key publishing CRL `name` is kept: (certificate, key).
pub fn retired_paths(home: &Home, ca: &str, name: &str) -> (PathBuf, PathBuf) {
    (
        retired_dir(home, ca).join(format!("{name}.crt.pem")),
        home.private_dir().join("retired").join(format!("ca-{name}.key.pem")),
    )
}

/// The retired keys of CA `ca`, by name.
pub fn retired(home: &Home, ca: &str) -> Vec<Retired> {
    let mut out: Vec<Retired> = std::fs::read_dir(retired_dir(home, ca))
        .map(|rd| {
            rd.flatten()
                .take(MAX_RETIRED)
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.strip_suffix(".crt.pem")?.to_string();
                    let (cert, key) = retired_paths(home, ca, &name);
                    Some(Retired { name, cert, key })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The CA certificates (DER) of `ca`'s retired keys.
pub fn retired_certs(home: &Home, ca: &str) -> Vec<Vec<u8>> {
    retired(home, ca).iter().filter_map(|r| keys::read_certs_der(&r.cert).ok()?.into_iter().next()).collect()
}

/// Every CRL name of `ca`: the current key's first, then the retired keys'.
pub fn crl_names(home: &Home, ca: &str) -> Vec<String> {
    let current = home.crl_name(ca);
    let mut names: Vec<String> =
        retired(home, ca).into_iter().map(|r| r.name).filter(|n| *n != current).collect();
    names.insert(0, current);
    names
}

/// The CA that publishes a CRL under `name` (a CA id or a rolled key's name), if any.
pub fn ca_of_crl(home: &Home, region: &crate::config::RegionConfig, name: &str) -> Option<String> {
    region.cas.iter().find(|c| crl_names(home, &c.id).iter().any(|n| n == name)).map(|c| c.id.clone())
}

/// Each of `ca`'s keys as an issuer, with the name its CRL goes under: current key first.
pub(crate) fn issuers(home: &Home, ca: &str) -> Result<Vec<(String, Issuer)>> {
    let mut out = vec![(home.crl_name(ca), issuer_from(&home.ca_cert(ca), &home.ca_key(ca))?)];
    for r in retired(home, ca) {
        out.push((r.name.clone(), issuer_from(&r.cert, &r.key)?));
    }
    Ok(out)
}

/// An issuer from a CA certificate and its key (same subject, key and key identifier as the
/// certificate: what a certificate or CRL it signs names as issuer).
pub(crate) fn issuer_from(cert_path: &Path, key_path: &Path) -> Result<Issuer> {
    let pem = std::fs::read_to_string(cert_path).map_err(crate::error::io_at(cert_path))?;
    let bad = |m: String| PkiError::BadCertificate { path: cert_path.to_path_buf(), message: m };
    let params = CertificateParams::from_ca_cert_pem(&pem).map_err(|e| bad(e.to_string()))?;
    let key = keys::load_key_pair(key_path)?;
    let cert = params.self_signed(&key).map_err(|e| bad(e.to_string()))?;
    Ok(Issuer { cert, key })
}

/// Make `name` the current key's CRL name of `ca`.
pub(crate) fn set_crl_name(home: &Home, ca: &str, name: &str) -> Result<()> {
    keys::write_file(&home.pki_dir().join(format!("{ca}.crl-name")), format!("{name}\n").as_bytes(), 0o644)
}
