//! Two-step (external) sealing for departments whose key is in a UKey on a clerk's PC: prepare
//! (check the seal plan, write the revision, hand out the digest to sign and a handle), then
//! complete (spend the handle, assemble the CMS, verify the whole document, hand it back for
//! filing). Nothing is filed unless the completed document verifies.
//!
//! The CLI (`seal prepare|complete`) and HTTP (`/v1/licences/{id}/seals/prepare|complete`) call
//! it; filing stays with them as for `add_seal`. Models: pyHanko's interrupted signing, DSS's
//! getDataToSign / signDocument.

use base64::Engine;

use super::handles::{self, Pending};
use super::Added;
use crate::config::Home;
use crate::error::{ExternalError, Result};
use crate::pades::external::{self, Prepared};
use crate::pki::key::SealKey;
use crate::pki::SealSigner;
use crate::trust::TrustStore;
use crate::verify::report::Indication;

pub use handles::{DEFAULT_TTL, MAX_TTL};

/// What the signer is handed.
pub struct Started {
    pub handle: String,
    pub dept: String,
    /// SHA-256 of `signed_attrs`: what the UKey signs (ECDSA P-256 over this digest).
    pub digest: [u8; 32],
    /// DER of the CMS signed attributes, for signers that sign the message themselves.
    pub signed_attrs: Vec<u8>,
    /// Unix seconds.
    pub expires: i64,
    /// The department's seal certificate (DER): the key that must sign.
    pub certificate: Vec<u8>,
}

/// A completed, verified seal, ready to file.
pub struct Completed {
    pub added: Added,
    pub dept: String,
    /// The archive record it was prepared on (HTTP), if any.
    pub origin: Option<String>,
}

/// Prepare `dept`'s next seal on `pdf` for signing outside zhengyin; the handle lives `ttl` s.
pub fn prepare(home: &Home, pdf: &[u8], dept: &str, ttl: u64, origin: Option<String>) -> Result<Started> {
    if ttl == 0 || ttl > MAX_TTL {
        return Err(ExternalError::Ttl { ttl, max: MAX_TTL }.into());
    }
    let next = super::next_seal(home, pdf, dept)?;
    let signer = SealSigner::load_with_key(home, dept, SealKey::External)?;
    let prepared = external::prepare(pdf, &next.request(&signer))?;
    let digest = prepared.digest_to_sign();
    let shape = next.added(Vec::new());
    let expires =
        time::OffsetDateTime::now_utc().unix_timestamp().saturating_add(i64::try_from(ttl).unwrap_or(0));
    let b = base64::engine::general_purpose::STANDARD;
    let pending = Pending {
        dept: dept.into(),
        origin,
        expires,
        present: shape.present,
        required: shape.required,
        contents_pos: prepared.contents_pos,
        signed_attrs: b.encode(&prepared.signed_attrs),
        revision: b.encode(&prepared.revision),
    };
    let handle = handles::store(home, &pending)?;
    Ok(Started {
        handle,
        dept: dept.into(),
        digest,
        signed_attrs: prepared.signed_attrs,
        expires,
        certificate: signer.cert.clone(),
    })
}

/// The department a handle was prepared for, and the archive record it was prepared on
/// (unknown, used and expired handles are refused; the handle is not spent).
pub fn owner(home: &Home, handle: &str) -> Result<(String, Option<String>)> {
    let p = handles::peek(home, handle)?;
    Ok((p.dept, p.origin))
}

/// Complete the seal of `handle` with what the signer `sent` (signature value or SignerInfo).
/// `dept`, when given, must be the department the handle was prepared for (checked before the
/// handle is spent). The handle is spent by any attempt past that check.
pub fn complete(home: &Home, handle: &str, sent: &[u8], dept: Option<&str>) -> Result<Completed> {
    let (owner, _) = owner(home, handle)?;
    if let Some(d) = dept.filter(|d| *d != owner) {
        return Err(ExternalError::OtherDepartment { handle: handle.into(), owner, dept: d.into() }.into());
    }
    let p = handles::claim(home, handle)?;
    let (signed_attrs, revision) = p.decode()?;
    let prepared = Prepared { revision, contents_pos: p.contents_pos, signed_attrs };
    let signer = SealSigner::load_with_key(home, &p.dept, SealKey::External)?;
    let signature =
        external::signature_value(sent, &prepared.signed_attrs).map_err(ExternalError::BadSignature)?;
    if !crate::pki::key::verifies(&signer.cert, &prepared.signed_attrs, &signature) {
        return Err(ExternalError::BadSignature(format!(
            "it does not verify under the seal certificate of `{}` over the prepared attributes",
            p.dept
        ))
        .into());
    }
    let pdf = external::complete(&prepared, &signer, signature)?;
    // The whole document, every signature, before anything is filed.
    let trust = TrustStore::from_home(home)?;
    let report = crate::verify::verify(&pdf, &trust, std::time::SystemTime::now())?;
    let present = report.seal_plan.as_ref().map(|s| s.present.len());
    if let Some(bad) = report.signatures.iter().find(|s| s.indication != Indication::TotalPassed) {
        return Err(ExternalError::BadSignature(format!(
            "the completed document does not verify: signature {} [{}] is {}",
            bad.index,
            bad.field,
            bad.indication.as_str()
        ))
        .into());
    }
    if present != Some(p.present) {
        return Err(ExternalError::BadSignature(
            "the completed document does not carry the prepared seal".into(),
        )
        .into());
    }
    let added = Added { pdf, present: p.present, required: p.required, locked: p.present == p.required };
    Ok(Completed { added, dept: p.dept, origin: p.origin })
}
