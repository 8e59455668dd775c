//! Rollover: renewing a department's seal certificate with a new key (`zhengyin pki renew-seal`).
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
    Ok(c.raw_serial().iter().map(|b| format!("{b:02x}")).collect())
}

/// Renew `dept`'s seal certificate with a new key; the old ones are retired (see module docs).
pub fn renew_seal(home: &Home, dept: &str) -> Result<RenewedSeal> {
    let region = home.region()?;
    let d = region.department(dept)?.clone();
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
    Ok(RenewedSeal {
        dept: dept.to_string(),
        new_serial: serial_of(&cert)?,
        old_serial,
        retired_cert,
        retired_key,
    })
}
