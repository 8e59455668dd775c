//! A seal's private key, wherever the department keeps it: a PKCS#8 file in the home (ring), a
//! PKCS#11 token (HSM, cipher machine: `pki::pkcs11`), or outside zhengyin altogether (a UKey on
//! a clerk's PC: two-step signing, `pades::external`). Every kind signs ECDSA P-256 / SHA-256 and
//! answers with the DER ECDSA-Sig-Value CMS carries.
//!
//! Knows nothing of PDF or CMS. RFC 5480 (ECDSA-Sig-Value), FIPS 186-4 (P-256).

use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING,
};

use crate::error::{PkiError, Result};

/// Where a department's seal key is.
pub enum SealKey {
    /// A PKCS#8 key file under the home's pki/private (0600).
    File { key: Box<EcdsaKeyPair>, rng: SystemRandom },
    /// A private key in a PKCS#11 token: C_Sign with CKM_ECDSA over the SHA-256 digest.
    Pkcs11(super::pkcs11::TokenKey),
    /// Outside zhengyin (UKey): nothing here can sign; the signature value arrives later.
    External,
}

impl SealKey {
    /// A file key from its PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> std::result::Result<Self, String> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
            .map_err(|e| e.to_string())?;
        Ok(SealKey::File { key: Box::new(key), rng })
    }

    /// ECDSA P-256 / SHA-256 signature (DER) over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            SealKey::File { key, rng } => {
                let sig =
                    key.sign(rng, message).map_err(|_| PkiError::Sign("ECDSA signing failed".into()))?;
                Ok(sig.as_ref().to_vec())
            }
            SealKey::Pkcs11(key) => {
                let raw = key.sign_digest(ring::digest::digest(&ring::digest::SHA256, message).as_ref())?;
                raw_to_der(&raw)
                    .ok_or_else(|| PkiError::Sign("the token's signature is not r‖s".into()).into())
            }
            SealKey::External => Err(PkiError::Sign(
                "this department's key is outside zhengyin: use two-step signing (seal prepare / complete)"
                    .into(),
            )
            .into()),
        }
    }
}

impl SealKey {
    /// Does this key belong to certificate `cert` (DER)? A file key is compared with the
    /// certificate's subject public key. A token's key cannot be read here: its signatures are
    /// verified as it makes them (`SealSigner::sign`); an outside (UKey) one's when the signature
    /// is completed.
    pub fn pairs_with(&self, cert: &[u8]) -> bool {
        let SealKey::File { key, .. } = self else { return true };
        x509_parser::parse_x509_certificate(cert).is_ok_and(|(_, c)| {
            c.tbs_certificate.subject_pki.subject_public_key.data.as_ref()
                == ring::signature::KeyPair::public_key(key.as_ref()).as_ref()
        })
    }

    /// The same signature as raw r‖s (64 bytes), the form JWS ES256 carries (RFC 7518 §3.4).
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            SealKey::Pkcs11(key) => {
                key.sign_digest(ring::digest::digest(&ring::digest::SHA256, message).as_ref())
            }
            _ => der_to_raw(&self.sign(message)?)
                .ok_or_else(|| PkiError::Sign("the signature is not a P-256 ECDSA-Sig-Value".into()).into()),
        }
    }
}

/// The raw r‖s (64 bytes: JWS ES256, RFC 7518 §3.4) of a DER ECDSA-Sig-Value of P-256; `None`
/// for anything else.
pub fn der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let (&[0x30, len], body) = der.split_at_checked(2)? else { return None };
    if usize::from(len) != body.len() {
        return None;
    }
    let mut rest = body;
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        let (&[0x02, len], tail) = rest.split_at_checked(2)? else { return None };
        let (int, tail) = tail.split_at_checked(usize::from(len))?;
        let int = int.get(int.iter().position(|&b| b != 0).unwrap_or(int.len())..)?;
        out.extend(std::iter::repeat_n(0u8, 32usize.checked_sub(int.len())?));
        out.extend_from_slice(int);
        rest = tail;
    }
    rest.is_empty().then_some(out)
}

/// The DER ECDSA-Sig-Value of a P-256 signature given as raw r‖s (64 bytes, as PKCS#11 and many
/// UKey drivers return it); `None` for any other length.
pub fn raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 64 {
        return None;
    }
    let (r, s) = raw.split_at(32);
    let int = |v: &[u8]| {
        let v = match v.iter().position(|&b| b != 0) {
            Some(i) => v.get(i..).unwrap_or(&[]),
            None => &[0u8][..],
        };
        let mut out = vec![0x02];
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        out.push(u8::try_from(v.len() + usize::from(pad)).unwrap_or(0));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    };
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, u8::try_from(body.len()).ok()?];
    out.extend(body);
    Some(out)
}

/// Does `signature` (DER) verify over `message` under the P-256 key of certificate `cert` (DER)?
pub fn verifies(cert: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok((_, c)) = x509_parser::parse_x509_certificate(cert) else { return false };
    let spki = c.tbs_certificate.subject_pki.subject_public_key.data.as_ref();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki).verify(message, signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw r‖s becomes the DER that verifies like ring's own DER signature.
    #[test]
    fn raw_signature_converts_to_der() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let fixed =
            EcdsaKeyPair::from_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .unwrap();
        let raw = fixed.sign(&rng, b"m").unwrap();
        let der = raw_to_der(raw.as_ref()).unwrap();
        use ring::signature::KeyPair;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, fixed.public_key().as_ref())
            .verify(b"m", &der)
            .unwrap();
        assert!(raw_to_der(&[1; 63]).is_none());
        assert_eq!(der_to_raw(&der).as_deref(), Some(raw.as_ref()));
        assert!(der_to_raw(&der[..der.len() - 1]).is_none());
    }
}
