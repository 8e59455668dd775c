//! No-proof workflows (无证明城市): departments' holder data keyed by pseudonymous codes, the list
//! of uses (用证清单), proofs on demand (sealed PDF + ES256 JWS), use records in the archive log,
//! annotated copies of licences (加注件), and notification-and-commitment (告知承诺).
//!
//! Raw ID numbers never leave the caller: they are turned into holder codes (HMAC-SHA-256 with the
//! region secret) at the door, and shown only masked. See docs/proofs.md.

pub mod annotate;
pub mod commitment;
pub mod commitment_check;
pub mod fields;
pub mod foreign;
pub mod holders;
pub mod idscan;
pub mod proof;
pub mod token;
pub mod uses;

use crate::archive::{Archive, Metadata};
use crate::config::Home;
use crate::error::Result;

/// Now as RFC 3339 (UTC) and as Unix seconds.
pub fn now() -> (String, i64) {
    let t = time::OffsetDateTime::now_utc().unix_timestamp();
    (crate::trust::rfc3339(t), t)
}

/// A random id: prefix + 16 upper-case hex characters.
pub fn random_id(prefix: &str) -> Result<String> {
    let b = crate::document::render::random_bytes::<8>()?;
    Ok(format!("{prefix}{}", crate::hex::encode(&b).to_uppercase()))
}

/// Append a small JSON log entry (use record, refusal, commitment check) to the archive.
/// The bytes carry a random id and a time, so identical events stay distinct leaves.
pub fn append_event(
    archive: &Archive,
    kind: &str,
    holder_code: &str,
    identifier: &str,
    issuer: &str,
    body: &serde_json::Value,
) -> Result<crate::archive::Record> {
    let bytes = serde_json::to_vec(body).map_err(|e| crate::error::ProofError::Other(e.to_string()))?;
    let (t, _) = now();
    let meta = Metadata {
        kind: kind.to_string(),
        title: format!("{kind} {identifier}"),
        identifier: identifier.to_string(),
        holder: String::new(),
        holder_code: holder_code.to_string(),
        issuer: issuer.to_string(),
        issue_date: t.get(..10).unwrap_or("").to_string(),
        valid_until: String::new(),
        retention: "永久".into(),
        format: "JSON".into(),
        format_version: "zhengyin-proofs/v1".into(),
        signers: Vec::new(),
        verification: "N/A".into(),
        ..Default::default()
    };
    Ok(archive.append(&bytes, meta)?.0)
}

/// Open the home's archive (with the log key's signed floor: `filing::open_archive`).
pub fn open_archive(home: &Home) -> Result<Archive> {
    crate::filing::open_archive(home)
}

/// The audit's document check for records that are not PDFs: a JWS must still verify (signature
/// and chain; an expired token is still authentic evidence), a JSON log entry must parse.
/// `None` for PDFs (the caller's checks apply).
pub fn audit_check(
    bytes: &[u8],
    trust: &crate::trust::TrustStore,
) -> Option<(std::result::Result<(), String>, std::result::Result<(), String>)> {
    if bytes.starts_with(b"%PDF") {
        return None;
    }
    if bytes.starts_with(b"{") {
        let usable = serde_json::from_slice::<serde_json::Value>(bytes)
            .map(|_| ())
            .map_err(|e| format!("the JSON entry does not parse: {e}"));
        return Some((Ok(()), usable));
    }
    if bytes.starts_with(b"eyJ") {
        let text = String::from_utf8_lossy(bytes);
        return Some(match proof::verify_jws(&text, trust, std::time::SystemTime::now()) {
            Ok(c) => {
                let real: Vec<&String> = c.problems.iter().filter(|p| !p.starts_with("expired")).collect();
                (
                    if real.is_empty() {
                        Ok(())
                    } else {
                        Err(format!(
                            "token no longer verifies: {}",
                            real.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
                        ))
                    },
                    Ok(()),
                )
            }
            Err(e) => (Err(e.to_string()), Err(e.to_string())),
        });
    }
    None
}
