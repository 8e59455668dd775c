//! Root rotation: a new region root key and certificate, the level CAs re-certified under it
//! (same names, same keys, so seal certificates stay valid), and a pivot (`trust::pivot`) in
//! which the old root key announces the new root. What the old root signed keeps verifying: the
//! old root and the old CA certificates stay trusted here and are published in the trust list.
//!
//! Layout: `pki/rotated/<n>/root.crt.pem` (the root replaced by rotation n), `<ca>.crt.pem` (its
//! CA certificates), `pivot.json`; the old root key moves to `pki/private/rotated-<n>-root.key.pem`
//! (0600), never deleted. Knows the home and rcgen; nothing of PDF or HTTP. After ETSI TS 119 612
//! (pivot LOTLs); RFC 5280 §4.2.1.1/§4.2.1.2 (key identifiers of the re-certified CAs).

use std::path::PathBuf;

use rcgen::{CertificateParams, KeyIdMethod, KeyPair};
use time::{Duration, OffsetDateTime};

use super::keys;
use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::trust::pivot::Pivot;

/// What earlier rotations left to publish.
#[derive(Debug, Default)]
pub struct Rotated {
    /// Previous roots, PEM, oldest first.
    pub roots: Vec<String>,
    /// Their CA certificates, PEM.
    pub cas: Vec<String>,
    pub pivots: Vec<Pivot>,
}

fn rotated_dir(home: &Home) -> PathBuf {
    home.pki_dir().join("rotated")
}

/// The rotation directories, oldest first.
fn rotations(home: &Home) -> Vec<PathBuf> {
    let mut out: Vec<(u32, PathBuf)> = std::fs::read_dir(rotated_dir(home))
        .map(|rd| {
            rd.flatten()
                .take(256)
                .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.into_iter().map(|(_, p)| p).collect()
}

/// The roots earlier rotations replaced (DER), for the home's own trust store.
pub fn previous_roots(home: &Home) -> Vec<Vec<u8>> {
    rotations(home)
        .iter()
        .filter_map(|d| keys::read_certs_der(&d.join("root.crt.pem")).ok()?.into_iter().next())
        .collect()
}

/// Previous roots, their CA certificates and the pivots, for the trust list.
pub fn published(home: &Home) -> Result<Rotated> {
    let mut r = Rotated::default();
    for d in rotations(home) {
        let read = |p: PathBuf| std::fs::read_to_string(&p).map_err(crate::error::io_at(&p));
        r.roots.push(read(d.join("root.crt.pem"))?);
        let mut cas: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(crate::error::io_at(&d))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.to_string_lossy().ends_with(".crt.pem")
                    && p.file_name().is_some_and(|n| n != "root.crt.pem")
            })
            .collect();
        cas.sort();
        for p in cas {
            r.cas.push(read(p)?);
        }
        let pivot = read(d.join("pivot.json"))?;
        r.pivots.push(
            serde_json::from_str(&pivot)
                .map_err(|e| PkiError::TrustList(format!("{}: {e}", d.join("pivot.json").display())))?,
        );
    }
    Ok(r)
}

/// What [`rotate_root`] did.
#[derive(Debug)]
pub struct Rotation {
    pub number: usize,
    pub old_fingerprint: String,
    pub new_fingerprint: String,
}

/// Replace the region root: see the module comment.
pub fn rotate_root(home: &Home) -> Result<Rotation> {
    let region = home.region()?;
    let root_id = region.root().id.clone();
    let gen = |what: &str| {
        let what = what.to_string();
        move |e: rcgen::Error| PkiError::Generate { what: what.clone(), message: e.to_string() }
    };
    let number = rotations(home).len() + 1;
    let dir = rotated_dir(home).join(number.to_string());
    if dir.exists() {
        return Err(PkiError::Sign(format!("{} exists already", dir.display())).into());
    }
    let old_root_pem = std::fs::read_to_string(home.ca_cert(&root_id))
        .map_err(crate::error::io_at(home.ca_cert(&root_id)))?;
    let old_root_der = keys::pem_certs(old_root_pem.as_bytes())
        .map_err(|m| PkiError::BadCertificate { path: home.ca_cert(&root_id), message: m })?
        .remove(0);
    let old_key_pem =
        std::fs::read(home.ca_key(&root_id)).map_err(crate::error::io_at(home.ca_key(&root_id)))?;
    let old_key_der = keys::read_key_der(&home.ca_key(&root_id))?;

    // Keep what the old root signed: its certificate, its CAs' certificates, its key.
    keys::make_dir(&dir, 0o755)?;
    keys::write_file(&dir.join("root.crt.pem"), old_root_pem.as_bytes(), 0o644)?;
    for ca in region.cas.iter().filter(|c| c.parent.is_some()) {
        let pem = std::fs::read(home.ca_cert(&ca.id)).map_err(crate::error::io_at(home.ca_cert(&ca.id)))?;
        keys::write_file(&dir.join(format!("{}.crt.pem", ca.id)), &pem, 0o644)?;
    }
    keys::write_file(
        &home.private_dir().join(format!("rotated-{number}-root.key.pem")),
        &old_key_pem,
        0o600,
    )?;

    // The new root: same name, new key and serial.
    let now = OffsetDateTime::now_utc();
    let new_key = KeyPair::generate().map_err(gen(&root_id))?;
    let mut p = CertificateParams::from_ca_cert_pem(&old_root_pem).map_err(gen(&root_id))?;
    p.serial_number = Some(super::random_serial()?);
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = false;
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(365 * 20);
    let new_root = p.self_signed(&new_key).map_err(gen(&root_id))?;
    // Re-certify every level CA, parents first, under the new root with its own key.
    let mut issuers: Vec<(String, rcgen::Certificate, KeyPair)> = Vec::new();
    let mut made: Vec<(String, String)> = Vec::new();
    for ca in region.cas.iter().filter(|c| c.parent.is_some()) {
        let Some(parent) = ca.parent.as_deref() else { continue };
        let pem = std::fs::read_to_string(home.ca_cert(&ca.id))
            .map_err(crate::error::io_at(home.ca_cert(&ca.id)))?;
        let key = keys::load_key_pair(&home.ca_key(&ca.id))?;
        let mut cp = CertificateParams::from_ca_cert_pem(&pem).map_err(gen(&ca.id))?;
        cp.serial_number = Some(super::random_serial()?);
        cp.key_identifier_method = KeyIdMethod::Sha256;
        cp.use_authority_key_identifier_extension = true;
        cp.crl_distribution_points = vec![super::crl_dp(home, &region, parent)];
        cp.not_before = now - Duration::hours(1);
        cp.not_after = now + Duration::days(365 * 10);
        let cert = if parent == root_id {
            cp.signed_by(&key, &new_root, &new_key)
        } else {
            let (_, pc, pk) = issuers
                .iter()
                .find(|(id, _, _)| id == parent)
                .ok_or_else(|| PkiError::Sign(format!("parent {parent} of {} not re-certified", ca.id)))?;
            cp.signed_by(&key, pc, pk)
        }
        .map_err(gen(&ca.id))?;
        made.push((ca.id.clone(), cert.pem()));
        issuers.push((ca.id.clone(), cert, key));
    }
    let new_root_pem = new_root.pem();
    let pivot = crate::trust::pivot::make(
        &region.region.id,
        &old_root_der,
        &old_key_der,
        &new_root_pem,
        now.unix_timestamp(),
    )?;
    keys::write_file(
        &dir.join("pivot.json"),
        &serde_json::to_vec_pretty(&pivot).map_err(|e| PkiError::Sign(e.to_string()))?,
        0o644,
    )?;
    // Switch: the new key and certificates become current.
    keys::write_file(&home.ca_key(&root_id), new_key.serialize_pem().as_bytes(), 0o600)?;
    keys::write_file(&home.ca_cert(&root_id), new_root_pem.as_bytes(), 0o644)?;
    if root_id != "root" {
        keys::write_file(&home.ca_cert("root"), new_root_pem.as_bytes(), 0o644)?;
    }
    for (id, pem) in made {
        keys::write_file(&home.ca_cert(&id), pem.as_bytes(), 0o644)?;
    }
    super::revoke::regenerate_crl(home, &root_id)?;
    let new_der = keys::pem_certs(new_root_pem.as_bytes())
        .map_err(|m| PkiError::BadCertificate { path: home.ca_cert(&root_id), message: m })?
        .remove(0);
    Ok(Rotation {
        number,
        old_fingerprint: crate::trust::list::fingerprint(&old_root_der),
        new_fingerprint: crate::trust::list::fingerprint(&new_der),
    })
}
