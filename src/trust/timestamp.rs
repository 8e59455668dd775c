//! Verifying an RFC 3161 time-stamp token (from any TSA): its CMS signature, the ESS
//! signing-certificate binding (RFC 5816 ESSCertIDv2, or RFC 2634 ESSCertID), the TSA
//! certificate's critical EKU id-kp-timeStamping, its chain to a trusted root, and the message
//! imprint against what the caller expects. The result carries the verified genTime, which later
//! steps use as proof of existence.
//!
//! Knows CMS and X.509; nothing of PDF (callers give the imprinted bytes or digest) or of the
//! report. RFC 3161 §2.3, §2.4.2; RFC 5652 §5.4–5.6; ETSI EN 319 102-1 §5.4 (time-stamp
//! validation).

use std::time::SystemTime;

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};
use rustls_pki_types::UnixTime;
use serde::Serialize;
use spki::ObjectIdentifier;
use x509_cert::Certificate;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_tsp::TstInfo;

use super::{ChainOutcome, Purpose, Revocation, TrustStore};
use crate::pades::algorithms::{self, Hash, SignatureCheck};
use crate::pades::cms::SigningCertificateV2;
use crate::pki::tsa::ID_CT_TST_INFO;

/// Largest token accepted: ours are ~1.5 KiB; a token with a long chain stays well under 64 KiB.
pub const MAX_TOKEN: usize = 64 * 1024;
/// Most certificates a token may carry (a TSA certificate and its intermediates).
pub const MAX_TOKEN_CERTS: usize = 16;

/// What the token must be over.
#[derive(Debug, Clone, Copy)]
pub enum Imprint<'a> {
    /// The bytes time-stamped, in parts (hashed with the token's own digest algorithm): for a
    /// signature timestamp, the SignerInfo's signature value (RFC 3161 Appendix A).
    Data(&'a [&'a [u8]]),
    /// A digest computed by the caller.
    Digest { hash: ObjectIdentifier, digest: &'a [u8] },
}

/// A verified token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// genTime, Unix seconds.
    pub gen_time: i64,
    /// genTime, RFC 3339.
    pub gen_time_rfc3339: String,
    /// serialNumber, lowercase hex.
    pub serial: String,
    pub policy: String,
    /// Digest algorithm of the message imprint.
    pub hash: &'static str,
    /// The TSA certificate's subject.
    pub tsa_subject: String,
    #[serde(skip)]
    pub tsa_cert_der: Vec<u8>,
    /// Subjects from the TSA certificate to the trust anchor.
    pub chain: Vec<String>,
    /// Where the anchor came from ("region root", …).
    pub anchor: String,
    pub revocation: Revocation,
}

/// Why a token was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    #[error("the time-stamp token is {size} bytes, over the limit of {MAX_TOKEN}")]
    TooLarge { size: usize },
    #[error("the time-stamp token is malformed: {0}")]
    Malformed(String),
    /// The token is over other data than expected (RFC 3161 §2.4.2 messageImprint).
    #[error("the time-stamp token's message imprint does not match the time-stamped data")]
    ImprintMismatch,
    #[error("the time-stamp token's message-digest attribute does not match its TSTInfo")]
    ContentDigest,
    #[error("the time-stamp token's signature does not verify ({0})")]
    Signature(String),
    #[error(
        "the time-stamp token's signing-certificate attribute does not name its signer certificate: {0}"
    )]
    SigningCertificate(String),
    /// RFC 3161 §2.3: only a certificate with critical EKU id-kp-timeStamping may sign tokens.
    #[error("the token's signer is not a time-stamping authority: {0}")]
    NotTsa(String),
    #[error("the time-stamp token uses {0}")]
    Outside(String),
    #[error("the TSA certificate does not validate: {reason}")]
    Chain { sub_indication: &'static str, reason: String },
}

impl TokenError {
    /// The ETSI EN 319 102-1 sub-indication of a signature whose timestamp fails this way.
    pub fn sub_indication(&self) -> &'static str {
        match self {
            TokenError::TooLarge { .. } | TokenError::Malformed(_) => "FORMAT_FAILURE",
            TokenError::ImprintMismatch | TokenError::ContentDigest => "HASH_FAILURE",
            TokenError::Signature(_) | TokenError::SigningCertificate(_) => "SIG_CRYPTO_FAILURE",
            TokenError::NotTsa(_) => "CHAIN_CONSTRAINTS_FAILURE",
            TokenError::Outside(_) => "CRYPTO_CONSTRAINTS_FAILURE",
            TokenError::Chain { sub_indication, .. } => sub_indication,
        }
    }

    /// Whether the token is proven wrong (TOTAL-FAILED) rather than unverifiable here
    /// (INDETERMINATE: an unknown TSA, an algorithm outside the policy, an expired chain).
    pub fn is_proven(&self) -> bool {
        !matches!(self, TokenError::Outside(_) | TokenError::Chain { .. })
    }
}

/// ESSCertID (RFC 2634 §5.4.1): the SHA-1 form older TSAs use.
#[derive(Clone, Debug, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<crate::pades::cms::IssuerSerial>,
}

/// SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies OPTIONAL }
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV1 {
    certs: Vec<EssCertId>,
}

fn bad(m: impl std::fmt::Display) -> TokenError {
    TokenError::Malformed(m.to_string())
}

/// Verify `token` (a TimeStampToken, ContentInfo DER) over `expected`, with its TSA chain
/// validated against `trust` at `at`.
pub fn verify_token(
    token: &[u8],
    expected: Imprint<'_>,
    trust: &TrustStore,
    at: SystemTime,
) -> Result<TokenInfo, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::TooLarge { size: token.len() });
    }
    let ci = ContentInfo::from_der(token).map_err(|e| bad(format!("not a CMS ContentInfo: {e}")))?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(bad(format!("content type {} is not signed-data", ci.content_type)));
    }
    let sd: SignedData = ci.content.decode_as().map_err(|e| bad(format!("bad SignedData: {e}")))?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("the encapsulated content is not a TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| bad("no encapsulated TSTInfo"))?
        .decode_as::<OctetString>()
        .map_err(|e| bad(format!("eContent is not an OCTET STRING: {e}")))?;
    let tst = TstInfo::from_der(econtent.as_bytes()).map_err(|e| bad(format!("bad TSTInfo: {e}")))?;
    let infos: Vec<_> = sd.signer_infos.0.iter().collect();
    let [si] = infos.as_slice() else {
        return Err(bad(format!("expected exactly one SignerInfo, found {}", infos.len())));
    };

    // Certificates: at most MAX_TOKEN_CERTS; the signer found by its sid.
    let certs: Vec<&Certificate> = sd
        .certificates
        .iter()
        .flat_map(|c| c.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    if certs.len() > MAX_TOKEN_CERTS {
        return Err(bad(format!("{} certificates, over the limit of {MAX_TOKEN_CERTS}", certs.len())));
    }
    let ders: Vec<Vec<u8>> = certs.iter().map(|c| c.to_der()).collect::<Result<_, _>>().map_err(bad)?;
    let signer = certs
        .iter()
        .zip(&ders)
        .position(|(c, der)| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == c.tbs_certificate.issuer && ias.serial_number == c.tbs_certificate.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => X509Certificate::from_der(der)
                .ok()
                .and_then(|(_, x)| {
                    x.iter_extensions().find_map(|e| match e.parsed_extension() {
                        x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => {
                            Some(k.0.to_vec())
                        }
                        _ => None,
                    })
                })
                .is_some_and(|k| k == ski.0.as_bytes()),
        })
        .ok_or_else(|| bad("the token does not carry its signer's certificate"))?;
    let signer_der = ders.get(signer).ok_or_else(|| bad("signer index"))?;
    let (_, x509) =
        X509Certificate::from_der(signer_der).map_err(|e| bad(format!("TSA certificate: {e}")))?;

    // Signed attributes: content-type, message-digest, signing certificate (RFC 3161 §2.4.2).
    let attrs = si.signed_attrs.as_ref().ok_or_else(|| bad("no signed attributes"))?;
    let digest_hash = Hash::from_oid(si.digest_alg.oid).map_err(|o| TokenError::Outside(o.0))?;
    let (mut content_type, mut message_digest, mut cert_ids) = (None, None, None);
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else { continue };
        if a.oid == rfc5911::ID_CONTENT_TYPE {
            content_type = v.decode_as::<ObjectIdentifier>().ok();
        } else if a.oid == rfc5911::ID_MESSAGE_DIGEST {
            message_digest = v.decode_as::<OctetString>().ok().map(|o| o.as_bytes().to_vec());
        } else if a.oid == rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2 {
            let sc = v
                .decode_as::<SigningCertificateV2>()
                .map_err(|e| bad(format!("signing-certificate-v2: {e}")))?;
            let first = sc.certs.first().ok_or_else(|| bad("signing-certificate-v2 names no certificate"))?;
            let oid = first.hash_algorithm.as_ref().map(|a| a.oid).unwrap_or(rfc5912::ID_SHA_256);
            let h = Hash::from_oid(oid).map_err(|o| TokenError::Outside(o.0))?;
            cert_ids = Some((
                h.digest(&[signer_der]),
                first.cert_hash.as_bytes().to_vec(),
                first.issuer_serial.clone(),
            ));
        } else if a.oid == const_oid::db::rfc5911::ID_AA_SIGNING_CERTIFICATE && cert_ids.is_none() {
            let sc = v
                .decode_as::<SigningCertificateV1>()
                .map_err(|e| bad(format!("signing-certificate: {e}")))?;
            let first = sc.certs.first().ok_or_else(|| bad("signing-certificate names no certificate"))?;
            let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, signer_der);
            cert_ids = Some((
                sha1.as_ref().to_vec(),
                first.cert_hash.as_bytes().to_vec(),
                first.issuer_serial.clone(),
            ));
        }
    }
    if content_type != Some(ID_CT_TST_INFO) {
        return Err(bad("the content-type attribute is not id-ct-TSTInfo"));
    }
    if message_digest.as_deref() != Some(digest_hash.digest(&[econtent.as_bytes()]).as_slice()) {
        return Err(TokenError::ContentDigest);
    }
    let (want, got, issuer_serial) =
        cert_ids.ok_or_else(|| TokenError::SigningCertificate("no signing-certificate attribute".into()))?;
    if want != got {
        return Err(TokenError::SigningCertificate("certificate hash differs".into()));
    }
    if let Some(is) = issuer_serial {
        let c = certs.get(signer).ok_or_else(|| bad("signer index"))?;
        if is.serial_number != c.tbs_certificate.serial_number {
            return Err(TokenError::SigningCertificate("issuer serial differs".into()));
        }
    }
    let signed = attrs.to_der().map_err(bad)?;
    match algorithms::verify_signature(
        si.signature_algorithm.oid,
        si.signature_algorithm.parameters.as_ref().and_then(|p| p.to_der().ok()).as_deref(),
        si.digest_alg.oid,
        x509.public_key().raw,
        &signed,
        si.signature.as_bytes(),
    ) {
        SignatureCheck::Valid(_) => {}
        SignatureCheck::Invalid(name) => return Err(TokenError::Signature(name)),
        SignatureCheck::Outside(o) => return Err(TokenError::Outside(o.0)),
    }

    // RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, critical.
    match x509.extended_key_usage() {
        Ok(Some(eku)) => {
            let v = eku.value;
            let only_ts = v.time_stamping
                && !(v.any
                    || v.server_auth
                    || v.client_auth
                    || v.code_signing
                    || v.email_protection
                    || v.ocsp_signing)
                && v.other.is_empty();
            if !only_ts {
                return Err(TokenError::NotTsa(
                    "its extended key usage is not id-kp-timeStamping alone".into(),
                ));
            }
            if !eku.critical {
                return Err(TokenError::NotTsa("its extended key usage is not marked critical".into()));
            }
        }
        _ => return Err(TokenError::NotTsa("its certificate has no extended key usage".into())),
    }

    // The imprint.
    let imprint_hash =
        Hash::from_oid(tst.message_imprint.hash_algorithm.oid).map_err(|o| TokenError::Outside(o.0))?;
    let ok = match expected {
        Imprint::Data(parts) => imprint_hash.digest(parts) == tst.message_imprint.hashed_message.as_bytes(),
        Imprint::Digest { hash, digest } => {
            hash == tst.message_imprint.hash_algorithm.oid
                && digest == tst.message_imprint.hashed_message.as_bytes()
        }
    };
    if !ok {
        return Err(TokenError::ImprintMismatch);
    }

    // genTime inside the TSA certificate's validity; the chain at `at`.
    let gen_time = i64::try_from(tst.gen_time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let validity = x509.validity();
    if gen_time < validity.not_before.timestamp() || gen_time > validity.not_after.timestamp() {
        return Err(TokenError::Chain {
            sub_indication: "OUT_OF_BOUNDS_NO_POE",
            reason: "the token was made outside its TSA certificate's validity".into(),
        });
    }
    let intermediates: Vec<Vec<u8>> =
        ders.iter().enumerate().filter(|(i, _)| *i != signer).map(|(_, d)| d.clone()).collect();
    let unix = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default());
    let (outcome, revocation) = trust.validate_for(signer_der, &intermediates, unix, Purpose::TimeStamping);
    let (chain, anchor) = match outcome {
        ChainOutcome::Trusted { path, anchor, .. } => (path, anchor),
        ChainOutcome::Failed { sub_indication, reason } => {
            return Err(TokenError::Chain { sub_indication, reason })
        }
    };
    Ok(TokenInfo {
        gen_time,
        gen_time_rfc3339: super::rfc3339(gen_time),
        serial: {
            let h = crate::hex::encode(tst.serial_number.as_bytes());
            let t = h.trim_start_matches("00");
            if t.is_empty() {
                "00".into()
            } else {
                t.to_string()
            }
        },
        policy: tst.policy.to_string(),
        hash: imprint_hash.name(),
        tsa_subject: x509.subject().to_string(),
        tsa_cert_der: signer_der.clone(),
        chain,
        anchor,
        revocation,
    })
}
