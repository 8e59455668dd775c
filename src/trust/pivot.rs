//! Root rotation with pivots (after ETSI TS 119 612's pivot LOTLs): when a region replaces its
//! root, the old root key signs a short statement "region R's new root is this certificate". A
//! verifier that pinned the old root follows the pivot to the new one without a new manual pin;
//! a root that no pinned (or already followed) root announced is refused.
//!
//! Knows certificates and signatures only; which roots are pinned is the caller's (`trust::list`),
//! where pivots are kept is the home's (`pki::rotate`). Signature: ECDSA P-256 / SHA-256 (ASN.1)
//! over the canonical JSON (sorted keys, no spaces) of every field but `signature`.

use base64::Engine;
use ring::signature::{
    EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING,
};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::error::{PkiError, Result};

/// "Region `region`'s root with SHA-256 `from` hands over to the root certificate `to`".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pivot {
    pub region: String,
    /// SHA-256 (hex) of the old root certificate, whose key signs this pivot.
    pub from: String,
    /// The new root certificate, PEM.
    pub to: String,
    /// RFC 3339.
    pub issued_at: String,
    /// Base64 signature by the old root's key.
    #[serde(default)]
    pub signature: String,
}

fn bad(m: impl Into<String>) -> crate::Error {
    PkiError::TrustList(m.into()).into()
}

/// Canonical JSON of a serialisable value without its top-level `signature` field.
pub fn canonical<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    let mut v = serde_json::to_value(v).map_err(|e| bad(e.to_string()))?;
    canonical_value(&mut v)
}

/// Canonical JSON of a parsed value without its top-level `signature` field (unknown fields
/// included: what was signed is what was received).
pub fn canonical_value(v: &mut serde_json::Value) -> Result<Vec<u8>> {
    if let Some(o) = v.as_object_mut() {
        o.remove("signature");
    }
    serde_json::to_vec(v).map_err(|e| bad(e.to_string()))
}

/// Sign `message` with a PKCS#8 ECDSA P-256 key; base64 of the ASN.1 signature.
pub fn sign_with(key_pkcs8: &[u8], message: &[u8]) -> Result<String> {
    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, key_pkcs8, &rng)
        .map_err(|e| PkiError::Sign(format!("root key unusable: {e}")))?;
    let sig = key.sign(&rng, message).map_err(|_| PkiError::Sign("signing failed".into()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig.as_ref()))
}

/// Whether `cert_der`'s key made `signature` (base64) over `message`.
pub fn verify_with(cert_der: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature.as_bytes()) else {
        return false;
    };
    let Ok((_, cert)) = X509Certificate::from_der(cert_der) else { return false };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, cert.public_key().subject_public_key.data.as_ref())
        .verify(message, &sig)
        .is_ok()
}

/// Make a pivot: the old root key (`old_key`, PKCS#8) announces `new_root_pem`.
pub fn make(
    region: &str,
    old_root_der: &[u8],
    old_key: &[u8],
    new_root_pem: &str,
    now: i64,
) -> Result<Pivot> {
    let mut p = Pivot {
        region: region.to_string(),
        from: super::list::fingerprint(old_root_der),
        to: new_root_pem.to_string(),
        issued_at: super::rfc3339(now),
        signature: String::new(),
    };
    p.signature = sign_with(old_key, &canonical(&p)?)?;
    Ok(p)
}

/// The new root (DER) a pivot announces, if `old_root_der` is the root it names and its key
/// signed it for `region`.
pub fn follow(p: &Pivot, region: &str, old_root_der: &[u8]) -> Option<Vec<u8>> {
    if p.region != region || p.from != super::list::fingerprint(old_root_der) {
        return None;
    }
    let msg = canonical(p).ok()?;
    if !verify_with(old_root_der, &msg, &p.signature) {
        return None;
    }
    crate::pki::keys::pem_certs(p.to.as_bytes()).ok()?.into_iter().next()
}
