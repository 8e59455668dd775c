//! The signature algorithm policy: which digests, keys and signature schemes a seal may use, as
//! one table ([`SUITES`], [`DIGESTS`]), and the one function that checks a CMS signature value
//! with the key type and curve of the signer's certificate and the digest the SignerInfo names.
//!
//! Knows nothing of PDF, trust or reports: it gets OIDs, the signer's SubjectPublicKeyInfo and
//! bytes, and answers valid / invalid / outside the policy. Reference: ETSI TS 119 312
//! (cryptographic suites); RFC 5753 and RFC 5754 (algorithms in CMS), RFC 8017 (RSA), FIPS 186-4
//! (ECDSA curves); ETSI EN 319 102-1 §5.2.8 (an algorithm outside the policy is INDETERMINATE /
//! CRYPTO_CONSTRAINTS_FAILURE, not a proven failure).

use const_oid::db::rfc5912 as oid;
use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Sequence};
use ring::signature as rs;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoRef};

/// A digest the policy accepts (ETSI TS 119 312 §5.2: SHA-2 with at least 256 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }

    fn ring(self) -> &'static ring::digest::Algorithm {
        match self {
            Hash::Sha256 => &ring::digest::SHA256,
            Hash::Sha384 => &ring::digest::SHA384,
            Hash::Sha512 => &ring::digest::SHA512,
        }
    }

    /// The digest of `parts`, concatenated (a signature's two byte ranges).
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = ring::digest::Context::new(self.ring());
        for p in parts {
            ctx.update(p);
        }
        ctx.finish().as_ref().to_vec()
    }

    /// The digest a `digestAlgorithm` OID names, or why it is outside the policy.
    pub fn from_oid(o: ObjectIdentifier) -> Result<Hash, Outside> {
        DIGESTS.iter().find(|(d, _)| *d == o).map(|(_, h)| *h).ok_or_else(|| {
            Outside(format!(
                "digest algorithm {} is not accepted by the policy (SHA-256, SHA-384 or SHA-512)",
                name_of(o)
            ))
        })
    }
}

/// The digests accepted for the message-digest attribute and the signature.
pub const DIGESTS: &[(ObjectIdentifier, Hash)] =
    &[(oid::ID_SHA_256, Hash::Sha256), (oid::ID_SHA_384, Hash::Sha384), (oid::ID_SHA_512, Hash::Sha512)];

/// A curve the policy accepts (ETSI TS 119 312 §6: NIST P-256, P-384, P-521).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

/// The key type of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ecdsa(Curve),
    /// RSA, PKCS#1 v1.5 padding (RFC 8017 §8.2).
    RsaPkcs1,
    /// RSA, PSS padding (RFC 8017 §8.1) with MGF1 of the same digest and a salt as long as it.
    RsaPss,
}

/// Who checks the signature value of a suite.
#[derive(Clone, Copy)]
enum Verifier {
    Ring(&'static dyn rs::VerificationAlgorithm),
    /// RustCrypto `p521` (ring has no P-521).
    P521,
}

/// One accepted combination of key type and digest.
pub struct Suite {
    pub key: KeyType,
    pub hash: Hash,
    /// Smallest key accepted, in bits.
    pub min_bits: usize,
    verifier: Verifier,
}

const fn ring(key: KeyType, hash: Hash, min_bits: usize, v: &'static dyn rs::VerificationAlgorithm) -> Suite {
    Suite { key, hash, min_bits, verifier: Verifier::Ring(v) }
}

/// The policy: every suite a seal's signature may use. Anything else is outside the policy.
/// RSA keys from 2048 to 8192 bits (ring's bounds; TS 119 312 recommends 3072 for new keys).
/// P-521 with SHA-256 is left out: the digest is shorter than half the curve (FIPS 186-4 §6.4).
pub static SUITES: &[Suite] = &[
    ring(KeyType::Ecdsa(Curve::P256), Hash::Sha256, 256, &rs::ECDSA_P256_SHA256_ASN1),
    ring(KeyType::Ecdsa(Curve::P256), Hash::Sha384, 256, &rs::ECDSA_P256_SHA384_ASN1),
    ring(KeyType::Ecdsa(Curve::P384), Hash::Sha256, 384, &rs::ECDSA_P384_SHA256_ASN1),
    ring(KeyType::Ecdsa(Curve::P384), Hash::Sha384, 384, &rs::ECDSA_P384_SHA384_ASN1),
    Suite { key: KeyType::Ecdsa(Curve::P521), hash: Hash::Sha384, min_bits: 521, verifier: Verifier::P521 },
    Suite { key: KeyType::Ecdsa(Curve::P521), hash: Hash::Sha512, min_bits: 521, verifier: Verifier::P521 },
    ring(KeyType::RsaPkcs1, Hash::Sha256, 2048, &rs::RSA_PKCS1_2048_8192_SHA256),
    ring(KeyType::RsaPkcs1, Hash::Sha384, 2048, &rs::RSA_PKCS1_2048_8192_SHA384),
    ring(KeyType::RsaPkcs1, Hash::Sha512, 2048, &rs::RSA_PKCS1_2048_8192_SHA512),
    ring(KeyType::RsaPss, Hash::Sha256, 2048, &rs::RSA_PSS_2048_8192_SHA256),
    ring(KeyType::RsaPss, Hash::Sha384, 2048, &rs::RSA_PSS_2048_8192_SHA384),
    ring(KeyType::RsaPss, Hash::Sha512, 2048, &rs::RSA_PSS_2048_8192_SHA512),
];

/// Largest RSA modulus ring verifies.
const MAX_RSA_BITS: usize = 8192;

/// Why a signature was not checked: an algorithm or key outside the policy (INDETERMINATE /
/// CRYPTO_CONSTRAINTS_FAILURE), with a sentence naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside(pub String);

/// The outcome of checking a signature value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Valid, made with this suite (e.g. "ECDSA P-384 with SHA-384").
    Valid(String),
    /// The algorithms are in the policy and the value does not verify.
    Invalid(String),
    Outside(Outside),
}

/// The signer's key as its certificate states it.
struct Key<'a> {
    /// SEC 1 point (ECDSA) or RSAPublicKey DER (RSA).
    bits: &'a [u8],
    kind: KeyKind,
    size: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Ec(Curve),
    Rsa,
}

/// RSASSA-PSS-params (RFC 8017 Appendix A.2.3); absent fields take their SHA-1 defaults.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mgf: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A readable name for an OID (from const-oid's database), or its dotted form.
pub fn name_of(o: ObjectIdentifier) -> String {
    match o {
        o if o == oid::ID_SHA_1 => "SHA-1".into(),
        o if o == oid::ID_MD_5 => "MD5".into(),
        o if o.to_string() == "1.2.156.10197.1.401" => {
            "SM3 (GB/T 32905; not supported here, see docs/standards.md)".into()
        }
        o if o.to_string() == "1.2.156.10197.1.501" => {
            "SM2 with SM3 (GB/T 38540; not supported here, see docs/standards.md)".into()
        }
        o => const_oid::db::DB.by_oid(&o).map(|n| format!("{n} ({o})")).unwrap_or_else(|| o.to_string()),
    }
}

fn key_of(spki_der: &[u8]) -> Result<Key<'_>, Outside> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| Outside(format!("the signer's public key cannot be read: {e}")))?;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Outside("the signer's public key is not a whole number of bytes".into()))?;
    let alg = spki.algorithm.oid;
    if alg == oid::ID_EC_PUBLIC_KEY {
        let curve_oid = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(|| Outside("the signer's EC key names no curve (namedCurve)".into()))?;
        let (curve, size) = match curve_oid {
            c if c == oid::SECP_256_R_1 => (Curve::P256, 256),
            c if c == oid::SECP_384_R_1 => (Curve::P384, 384),
            c if c == oid::SECP_521_R_1 => (Curve::P521, 521),
            c => {
                return Err(Outside(format!(
                    "the signer's key is on curve {}, which the policy does not accept (P-256, P-384, P-521)",
                    name_of(c)
                )))
            }
        };
        return Ok(Key { bits, kind: KeyKind::Ec(curve), size });
    }
    if alg == oid::RSA_ENCRYPTION {
        let k = RsaPublicKey::from_der(bits)
            .map_err(|e| Outside(format!("the signer's RSA key cannot be read: {e}")))?;
        let m = k.modulus.as_bytes();
        let size =
            m.first().map(|b| m.len() * 8 - usize::try_from(b.leading_zeros()).unwrap_or(0)).unwrap_or(0);
        return Ok(Key { bits, kind: KeyKind::Rsa, size });
    }
    Err(Outside(format!(
        "the signer's key type {} is not accepted by the policy (ECDSA or RSA)",
        name_of(alg)
    )))
}

/// The key type and signature digest a `signatureAlgorithm` means for `key`. Algorithms that
/// name no digest (id-ecPublicKey, rsaEncryption) take the SignerInfo's `digestAlgorithm`.
fn scheme(
    sig_alg: ObjectIdentifier,
    params: Option<&[u8]>,
    digest: Hash,
    key: KeyKind,
) -> Result<(KeyType, Hash), Outside> {
    let named = |h: Hash| {
        if h == digest {
            Ok(h)
        } else {
            Err(Outside(format!(
                "signatureAlgorithm {} names {} but digestAlgorithm is {}",
                name_of(sig_alg),
                h.name(),
                digest.name()
            )))
        }
    };
    let (kind, hash) = match (sig_alg, key) {
        (a, KeyKind::Ec(c)) if a == oid::ECDSA_WITH_SHA_256 => (KeyType::Ecdsa(c), named(Hash::Sha256)?),
        (a, KeyKind::Ec(c)) if a == oid::ECDSA_WITH_SHA_384 => (KeyType::Ecdsa(c), named(Hash::Sha384)?),
        (a, KeyKind::Ec(c)) if a == oid::ECDSA_WITH_SHA_512 => (KeyType::Ecdsa(c), named(Hash::Sha512)?),
        (a, KeyKind::Ec(c)) if a == oid::ID_EC_PUBLIC_KEY => (KeyType::Ecdsa(c), digest),
        (a, KeyKind::Rsa) if a == oid::SHA_256_WITH_RSA_ENCRYPTION => {
            (KeyType::RsaPkcs1, named(Hash::Sha256)?)
        }
        (a, KeyKind::Rsa) if a == oid::SHA_384_WITH_RSA_ENCRYPTION => {
            (KeyType::RsaPkcs1, named(Hash::Sha384)?)
        }
        (a, KeyKind::Rsa) if a == oid::SHA_512_WITH_RSA_ENCRYPTION => {
            (KeyType::RsaPkcs1, named(Hash::Sha512)?)
        }
        (a, KeyKind::Rsa) if a == oid::RSA_ENCRYPTION => (KeyType::RsaPkcs1, digest),
        (a, KeyKind::Rsa) if a == oid::ID_RSASSA_PSS => (KeyType::RsaPss, pss_hash(params, digest)?),
        (a, _) => {
            return Err(Outside(format!(
                "signature algorithm {} is not accepted by the policy for this key",
                name_of(a)
            )))
        }
    };
    Ok((kind, hash))
}

/// The digest of RSASSA-PSS parameters that the policy accepts: MGF1 with the same digest, a
/// salt as long as the digest, trailer 1 (what ring verifies).
fn pss_hash(params: Option<&[u8]>, digest: Hash) -> Result<Hash, Outside> {
    let p = params
        .and_then(|b| PssParams::from_der(b).ok())
        .ok_or_else(|| Outside("RSASSA-PSS parameters are missing or unreadable".into()))?;
    let hash_oid = p.hash.as_ref().map(|a| a.oid).unwrap_or(oid::ID_SHA_1);
    let hash = Hash::from_oid(hash_oid)?;
    let mgf_hash = p
        .mgf
        .as_ref()
        .filter(|m| m.oid == oid::ID_MGF_1)
        .and_then(|m| m.parameters.as_ref())
        .and_then(|a| a.decode_as::<AlgorithmIdentifierOwned>().ok())
        .map(|a| a.oid);
    let salt = p.salt_length.unwrap_or(20);
    let want_salt = u32::try_from(hash.ring().output_len()).unwrap_or(0);
    if hash != digest || mgf_hash != Some(hash_oid) || salt != want_salt || p.trailer_field.unwrap_or(1) != 1
    {
        return Err(Outside(format!("RSASSA-PSS parameters outside the policy: {} with MGF1 of the same digest, salt {want_salt} bytes, digestAlgorithm {}", hash.name(), digest.name())));
    }
    Ok(hash)
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ecdsa(Curve::P256) => "ECDSA P-256",
            KeyType::Ecdsa(Curve::P384) => "ECDSA P-384",
            KeyType::Ecdsa(Curve::P521) => "ECDSA P-521",
            KeyType::RsaPkcs1 => "RSA PKCS#1 v1.5",
            KeyType::RsaPss => "RSA-PSS",
        }
    }
}

/// Check `signature` over `message` (a SignerInfo's signed attributes) with the key in
/// `spki_der` (the signer certificate's SubjectPublicKeyInfo), by the policy.
pub fn verify_signature(
    sig_alg: ObjectIdentifier,
    sig_params: Option<&[u8]>,
    digest_alg: ObjectIdentifier,
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> SignatureCheck {
    let outcome = (|| {
        let digest = Hash::from_oid(digest_alg)?;
        let key = key_of(spki_der)?;
        let (kind, hash) = scheme(sig_alg, sig_params, digest, key.kind)?;
        let suite = SUITES.iter().find(|s| s.key == kind && s.hash == hash).ok_or_else(|| {
            Outside(format!("{} with {} is not a suite the policy accepts", kind.name(), hash.name()))
        })?;
        if key.size < suite.min_bits || (key.kind == KeyKind::Rsa && key.size > MAX_RSA_BITS) {
            return Err(Outside(format!(
                "{}-bit {} key: the policy accepts {} to {MAX_RSA_BITS} bits",
                key.size,
                kind.name(),
                suite.min_bits
            )));
        }
        Ok((suite, key))
    })();
    let (suite, key) = match outcome {
        Ok(x) => x,
        Err(o) => return SignatureCheck::Outside(o),
    };
    let name = format!("{} with {}", suite.key.name(), suite.hash.name());
    let ok = match suite.verifier {
        Verifier::Ring(alg) => rs::UnparsedPublicKey::new(alg, key.bits).verify(message, signature).is_ok(),
        Verifier::P521 => p521_verify(key.bits, &suite.hash.digest(&[message]), signature),
    };
    if ok {
        SignatureCheck::Valid(name)
    } else {
        SignatureCheck::Invalid(name)
    }
}

/// ECDSA P-521 over a precomputed digest, DER signature (RustCrypto `p521`).
fn p521_verify(point: &[u8], prehash: &[u8], signature: &[u8]) -> bool {
    use p521::ecdsa::signature::hazmat::PrehashVerifier;
    let Ok(key) = p521::ecdsa::VerifyingKey::from_sec1_bytes(point) else { return false };
    let Ok(sig) = p521::ecdsa::Signature::from_der(signature) else { return false };
    key.verify_prehash(prehash, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Digests outside the policy are named, not guessed at.
    #[test]
    fn weak_digests_are_outside() {
        for (o, word) in [(oid::ID_SHA_1, "SHA-1"), (oid::ID_MD_5, "MD5"), (oid::ID_SHA_224, "sha224")] {
            let e = Hash::from_oid(o).expect_err("outside");
            assert!(e.0.to_lowercase().contains(&word.to_lowercase()), "{e:?}");
        }
        assert_eq!(Hash::from_oid(oid::ID_SHA_384), Ok(Hash::Sha384));
    }

    /// The curve comes from the key, the digest from the SignerInfo; a mismatch between the
    /// digest the signature algorithm names and digestAlgorithm is outside the policy.
    #[test]
    fn curve_comes_from_the_key() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = rs::EcdsaKeyPair::generate_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("key");
        let kp = rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let sig = kp.sign(&rng, b"attrs").expect("sign");
        // SubjectPublicKeyInfo for P-256: the fixed prefix + the point.
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
            0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        spki.extend_from_slice(rs::KeyPair::public_key(&kp).as_ref());
        let check = |m: &[u8]| {
            verify_signature(oid::ECDSA_WITH_SHA_256, None, oid::ID_SHA_256, &spki, m, sig.as_ref())
        };
        assert_eq!(check(b"attrs"), SignatureCheck::Valid("ECDSA P-256 with SHA-256".into()));
        assert!(matches!(check(b"other"), SignatureCheck::Invalid(_)));
        let plain =
            verify_signature(oid::ID_EC_PUBLIC_KEY, None, oid::ID_SHA_256, &spki, b"attrs", sig.as_ref());
        assert_eq!(plain, SignatureCheck::Valid("ECDSA P-256 with SHA-256".into()));
        let mismatch =
            verify_signature(oid::ECDSA_WITH_SHA_256, None, oid::ID_SHA_384, &spki, b"attrs", sig.as_ref());
        assert!(matches!(mismatch, SignatureCheck::Outside(_)), "{mismatch:?}");
        let sha1 =
            verify_signature(oid::ECDSA_WITH_SHA_256, None, oid::ID_SHA_1, &spki, b"attrs", sig.as_ref());
        assert!(matches!(sha1, SignatureCheck::Outside(_)), "{sha1:?}");
    }
}
