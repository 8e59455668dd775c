//! The region's licence status key: an ECDSA P-256 key certified directly by the region root for
//! one purpose only, signing licence status answers and status lists (licence/answer.rs,
//! licence/status_list.rs). Its certificate carries key usage digitalSignature and an extended
//! key usage of its own, [`EKU_LICENCE_STATUS`], so a verifier refuses a status signed by any
//! other key of the region (a department seal key carries id-kp-documentSigning, not this).
//!
//! The OID is under the UUID arc 2.25 (ITU-T X.667 / ISO/IEC 9834-8: an OID made from a random
//! UUID needs no registration): 2.25.282650812841255953011192814049405213777.1 =
//! "zhengyin licence status signing" (UUID d4a49101-4541-47a6-a531-2d7db46c9c51, arc .1).
//!
//! Created by `zhengyin init`, and added to older homes by `zhengyin init --add-status-key`.
//! Knows the home layout and the root key; nothing of licences.

use rcgen::{CertificateParams, CustomExtension, DnType, IsCa, KeyPair, KeyUsagePurpose};

use super::keys;
use crate::config::Home;
use crate::error::{ConfigError, PkiError, Result};

/// The EKU OID, dotted.
pub const EKU_LICENCE_STATUS: &str = "2.25.282650812841255953011192814049405213777.1";
/// Its DER content octets (for webpki's required-EKU check).
pub const EKU_LICENCE_STATUS_DER: &[u8] = &[
    0x69, 0x83, 0xa9, 0xa4, 0xc8, 0xc0, 0xa8, 0xd4, 0x8a, 0x9e, 0xcd, 0xa5, 0x98, 0xcb, 0xaf, 0xdb, 0xa3,
    0xb2, 0xb8, 0x51, 0x01,
];

/// Where the status certificate lives (public).
pub fn cert_path(home: &Home) -> std::path::PathBuf {
    home.pki_dir().join("status.crt.pem")
}

/// Where the status key lives (0600).
pub fn key_path(home: &Home) -> std::path::PathBuf {
    home.private_dir().join("status.key.pem")
}

/// Whether the home has a status key.
pub fn exists(home: &Home) -> bool {
    key_path(home).exists() && cert_path(home).exists()
}

/// The extendedKeyUsage extension value: SEQUENCE { OID }.
fn eku_value() -> Vec<u8> {
    let oid_len = u8::try_from(EKU_LICENCE_STATUS_DER.len()).unwrap_or(0);
    let mut v = vec![0x30, oid_len + 2, 0x06, oid_len];
    v.extend_from_slice(EKU_LICENCE_STATUS_DER);
    v
}

/// Create the status key and certificate, signed by the region root (10 years). Refuses to
/// replace an existing key unless `force`.
pub fn create(home: &Home, force: bool) -> Result<std::path::PathBuf> {
    let region = home.region()?;
    if exists(home) && !force {
        return Err(ConfigError::KeysExist { home: home.dir.clone() }.into());
    }
    let root = region.root().id.clone();
    let gen = |e: rcgen::Error| PkiError::Generate { what: "status key".into(), message: e.to_string() };
    let root_pem =
        std::fs::read_to_string(home.ca_cert(&root)).map_err(crate::error::io_at(home.ca_cert(&root)))?;
    let root_key_pem =
        std::fs::read_to_string(home.ca_key(&root)).map_err(crate::error::io_at(home.ca_key(&root)))?;
    let root_key = KeyPair::from_pem(&root_key_pem).map_err(gen)?;
    let root_cert =
        CertificateParams::from_ca_cert_pem(&root_pem).map_err(gen)?.self_signed(&root_key).map_err(gen)?;

    let key = KeyPair::generate().map_err(gen)?;
    let name = format!("{}证照状态服务", region.region.name);
    let mut p = super::base_params(&name, &name, &region, 10)?;
    p.distinguished_name.push(DnType::OrganizationalUnitName, "licence-status");
    p.is_ca = IsCa::NoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.custom_extensions = vec![CustomExtension::from_oid_content(&[2, 5, 29, 37], eku_value())];
    let cert = p.signed_by(&key, &root_cert, &root_key).map_err(gen)?;
    keys::make_dir(&home.private_dir(), 0o700)?;
    keys::write_file(&key_path(home), key.serialize_pem().as_bytes(), 0o600)?;
    keys::write_file(&cert_path(home), cert.pem().as_bytes(), 0o644)?;
    Ok(cert_path(home))
}
