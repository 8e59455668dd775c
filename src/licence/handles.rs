//! Pending two-step seals on disk: one JSON file per handle under `<home>/pending-seals/` (0700,
//! files 0600), holding the prepared revision, the attributes to sign and the expiry. A handle is
//! spent by renaming its file to `<handle>.used` (atomic: of two completions, one wins); the
//! spent marker stays until pruning so a reuse is told apart from an unknown handle.
//!
//! Knows files and time; knows nothing of PDF or CMS. Handles are untrusted input: checked to be
//! 32 lowercase hex digits before they name a file.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::Home;
use crate::error::{io_at, ExternalError, Result};

/// The longest lifetime of a handle, and the default.
pub const MAX_TTL: u64 = 3600;
pub const DEFAULT_TTL: u64 = 600;
/// Files older than this are removed when a new handle is made.
const PRUNE_AFTER: u64 = MAX_TTL + 600;
/// The most files pruning looks at per call (a bound on the walk).
const PRUNE_BUDGET: usize = 10_000;

/// One prepared seal waiting for its signature value.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    pub dept: String,
    /// The archive record the seal was prepared on (HTTP), if any.
    pub origin: Option<String>,
    /// Unix seconds after which the handle is refused.
    pub expires: i64,
    /// Seals present after this one, and the plan's length.
    pub present: usize,
    pub required: usize,
    pub contents_pos: usize,
    /// Base64 of the signed attributes' DER and of the prepared file.
    pub signed_attrs: String,
    pub revision: String,
}

impl Pending {
    pub fn decode(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let b = base64::engine::general_purpose::STANDARD;
        let bad = |_| ExternalError::UnknownHandle("(damaged pending file)".into());
        Ok((b.decode(&self.signed_attrs).map_err(bad)?, b.decode(&self.revision).map_err(bad)?))
    }
}

fn dir(home: &Home) -> PathBuf {
    home.dir.join("pending-seals")
}

fn checked(handle: &str) -> Result<&str> {
    if handle.len() == 32 && handle.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(handle)
    } else {
        Err(ExternalError::BadHandle.into())
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Store `p` under a fresh random handle and return the handle.
pub fn store(home: &Home, p: &Pending) -> Result<String> {
    let d = dir(home);
    crate::pki::keys::make_dir(&d, 0o700)?;
    prune(&d);
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| crate::error::PkiError::Sign("no randomness for a handle".into()))?;
    let handle = crate::hex::encode(&bytes);
    let json = serde_json::to_vec(p).map_err(|e| crate::error::ApiError::Internal(e.to_string()))?;
    crate::pki::keys::write_file(&d.join(format!("{handle}.json")), &json, 0o600)?;
    Ok(handle)
}

fn read(path: &Path) -> Result<Pending> {
    let bytes = std::fs::read(path).map_err(io_at(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| ExternalError::UnknownHandle("(damaged pending file)".into()).into())
}

/// The pending seal of `handle`, not spent: unknown, used and expired handles are refused.
pub fn peek(home: &Home, handle: &str) -> Result<Pending> {
    let h = checked(handle)?;
    let path = dir(home).join(format!("{h}.json"));
    if !path.exists() {
        return Err(gone(home, h));
    }
    let p = read(&path)?;
    not_expired(h, &p)?;
    Ok(p)
}

/// Spend `handle` (once only) and return its pending seal, if it has not expired.
pub fn claim(home: &Home, handle: &str) -> Result<Pending> {
    let h = checked(handle)?;
    let d = dir(home);
    let (pending, used) = (d.join(format!("{h}.json")), d.join(format!("{h}.used")));
    if std::fs::rename(&pending, &used).is_err() {
        return Err(gone(home, h));
    }
    let p = read(&used)?;
    // The marker keeps no document bytes.
    let _ = std::fs::write(&used, b"");
    not_expired(h, &p)?;
    Ok(p)
}

fn gone(home: &Home, h: &str) -> crate::error::Error {
    if dir(home).join(format!("{h}.used")).exists() {
        ExternalError::Used(h.into()).into()
    } else {
        ExternalError::UnknownHandle(h.into()).into()
    }
}

fn not_expired(h: &str, p: &Pending) -> Result<()> {
    if now() < p.expires {
        return Ok(());
    }
    let expired = time::OffsetDateTime::from_unix_timestamp(p.expires)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| p.expires.to_string());
    Err(ExternalError::Expired { handle: h.into(), expired }.into())
}

/// Remove pending and spent files older than [`PRUNE_AFTER`] (by modification time).
fn prune(d: &Path) {
    let Ok(entries) = std::fs::read_dir(d) else { return };
    let limit = std::time::Duration::from_secs(PRUNE_AFTER);
    for e in entries.flatten().take(PRUNE_BUDGET) {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a > limit);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
