//! Key and certificate files on disk: private keys PKCS#8 PEM with mode 0600 in a 0700 directory,
//! written atomically (temporary file + rename) so a crash never leaves half a key.
//!
//! Knows nothing of which CA or department a key belongs to.

use std::io::Write;
use std::path::Path;

use crate::error::{ConfigError, Error, PkiError, Result};

/// Create a directory (and parents) with the given mode.
pub fn make_dir(path: &Path, mode: u32) -> Result<()> {
    std::fs::create_dir_all(path)
        .map_err(|source| ConfigError::Write { path: path.to_path_buf(), source })?;
    set_mode(path, mode)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|source| ConfigError::Write { path: path.to_path_buf(), source })?;
    }
    let _ = (path, mode);
    Ok(())
}

/// Write `bytes` to `path` atomically with `mode` (0600 for keys, 0644 for public files).
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let err = |source| Error::from(ConfigError::Write { path: path.to_path_buf(), source });
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    set_mode(tmp.path(), mode)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Read a PEM private key and return its PKCS#8 DER.
pub fn read_key_der(path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PkiError::BadKey { path: path.to_path_buf(), message: e.to_string() })?;
    let pem = x509_parser::pem::parse_x509_pem(text.as_bytes())
        .map_err(|e| PkiError::BadKey { path: path.to_path_buf(), message: e.to_string() })?
        .1;
    Ok(pem.contents)
}

/// Read every certificate in a PEM file, as DER.
pub fn read_certs_der(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path)
        .map_err(|e| PkiError::BadCertificate { path: path.to_path_buf(), message: e.to_string() })?;
    pem_certs(&bytes).map_err(|message| PkiError::BadCertificate { path: path.to_path_buf(), message }.into())
}

/// Split PEM text into certificate DERs.
pub fn pem_certs(bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
        let pem = pem.map_err(|e| format!("bad PEM: {e}"))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        return Err("no CERTIFICATE block found".into());
    }
    Ok(out)
}

/// Encode DER as a PEM block.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// Read a PKCS#8 PEM key pair (a CA's or a department's) for rcgen.
pub(crate) fn load_key_pair(path: &Path) -> Result<rcgen::KeyPair> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| PkiError::BadKey { path: path.to_path_buf(), message: e.to_string() })?;
    rcgen::KeyPair::from_pem(&pem)
        .map_err(|e| PkiError::BadKey { path: path.to_path_buf(), message: e.to_string() }.into())
}
