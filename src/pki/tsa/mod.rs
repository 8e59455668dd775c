//! The region's time-stamping authority (TSA): it answers RFC 3161 requests with time-stamp
//! tokens signed by a key whose certificate the region root issued (critical EKU
//! id-kp-timeStamping), and records every token it issues in an append-only ledger.
//!
//! Knows the home layout, its key and certificate, and RFC 3161 structures (RustCrypto
//! `x509-tsp`, `cms`); knows nothing of PDF, HTTP or how tokens are verified (that is
//! `trust::timestamp`). RFC 3161 §2.4 (request, response, TSTInfo), RFC 5816 (ESSCertIDv2 in the
//! token's signed attributes), ETSI EN 319 422 (profile).
//!
//! Files: `tsa/tsa.crt.pem` (public), `pki/private/tsa.key.pem` (0600), `tsa/ledger.jsonl`.

mod create;
pub mod ledger;
pub mod reply;
mod token;

pub use create::{add, issue_under, TSA_KEY_USE_YEARS};
pub use ledger::Entry;

use cmpv2::status::PkiStatus;
use const_oid::db::rfc5912;
use der::asn1::{GeneralizedTime, Int, OctetString, Uint};
use der::{Decode, Tagged};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use spki::ObjectIdentifier;
use x509_cert::Certificate;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion, TstInfo};

use reply::FailureInfo;

use crate::config::Home;
use crate::error::{CmsError, PkiError, Result, TsaError};

use super::keys;

/// The TSA policy under which tokens are issued: an arc of the private enterprise number that
/// RFC 5612 reserves for documentation, because this is a test region's TSA, not a qualified one.
pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");
/// id-ct-TSTInfo, the eContentType of a time-stamp token (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signatureTimeStampToken: the unsigned attribute of a PAdES B-T signature (RFC 3161
/// Appendix A, ETSI EN 319 122-1 §5.3).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// Largest request accepted: a SHA-512 request with a 64-byte nonce and a policy is ~150 bytes.
pub const MAX_QUERY: usize = 4096;
/// Longest nonce echoed (RFC 3161 asks for "large random numbers"; 64 bytes is 512 bits).
const MAX_NONCE: usize = 64;

/// A digest a request may name: SHA-2 of at least 256 bits (ETSI TS 119 312), by OID and length.
const DIGESTS: &[(ObjectIdentifier, usize, &str)] = &[
    (rfc5912::ID_SHA_256, 32, "SHA-256"),
    (rfc5912::ID_SHA_384, 48, "SHA-384"),
    (rfc5912::ID_SHA_512, 64, "SHA-512"),
];

/// The TSA, loaded from a home: key, certificate, ledger.
pub struct Tsa {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The TSA certificate (DER).
    pub cert: Vec<u8>,
    parsed: Certificate,
    ledger: ledger::Ledger,
    /// The DER template of this TSA's tokens (`token::build`), made at its first token; `None`
    /// inside when it did not match the structures' encoding.
    template: std::sync::OnceLock<Option<crate::pades::cms_template::Template>>,
}

/// What to time-stamp.
#[derive(Debug, Clone)]
pub struct StampRequest<'a> {
    /// Digest algorithm of `digest` (SHA-256, SHA-384 or SHA-512).
    pub hash: ObjectIdentifier,
    pub digest: &'a [u8],
    /// Echoed in the token when present.
    pub nonce: Option<Int>,
    /// Put the TSA certificate in the token (RFC 3161 certReq). PAdES tokens always carry it.
    pub cert_req: bool,
    /// Who asked, for the ledger ("seal scjg", "http 127.0.0.1").
    pub requester: &'a str,
}

/// An issued token.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// The TimeStampToken: a CMS ContentInfo (DER).
    pub token: Vec<u8>,
    pub serial: u64,
    /// genTime, Unix seconds.
    pub gen_time: i64,
}

/// An RFC 3161 response, and whether it grants a token.
#[derive(Debug, Clone)]
pub struct Reply {
    /// TimeStampResp (DER).
    pub der: Vec<u8>,
    pub granted: bool,
    /// Why not, when refused.
    pub refusal: Option<String>,
}

fn enc(e: der::Error) -> crate::error::Error {
    CmsError::Encode(e.to_string()).into()
}

impl Tsa {
    /// Load the home's TSA; an error naming `init --add-tsa` when it has none.
    pub fn load(home: &Home) -> Result<Self> {
        Self::load_optional(home)?.ok_or_else(|| TsaError::NotConfigured { home: home.dir.clone() }.into())
    }

    /// Load the home's TSA, or `None` for a home made before the TSA existed.
    pub fn load_optional(home: &Home) -> Result<Option<Self>> {
        let (cert_path, key_path) = (home.tsa_cert(), home.tsa_key());
        if !cert_path.exists() || !key_path.exists() {
            return Ok(None);
        }
        let der = keys::read_key_der(&key_path)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der, &rng)
            .map_err(|e| PkiError::BadKey { path: key_path.clone(), message: e.to_string() })?;
        let cert = keys::read_certs_der(&cert_path)?.remove(0);
        let parsed = Certificate::from_der(&cert)
            .map_err(|e| PkiError::BadCertificate { path: cert_path.clone(), message: e.to_string() })?;
        Ok(Some(Tsa {
            key,
            rng,
            cert,
            parsed,
            ledger: ledger::Ledger::new(home.tsa_ledger()),
            template: Default::default(),
        }))
    }

    /// The TSA certificate's subject (RFC 4514 form).
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }

    /// Issue a token over `req.digest`, record it in the ledger (durably, before returning it).
    pub fn stamp(&self, req: &StampRequest<'_>) -> Result<Stamped> {
        self.ledger.append(|serial, now| self.issue(req, serial, now))
    }

    /// Whether tokens that carry the TSA certificate are written from the DER template
    /// (`pades::cms_template`): it matched the structures' own encoding.
    pub fn writes_from_template(&self) -> bool {
        self.template.get_or_init(|| token::template(self)).is_some()
    }

    /// Write ledger lines without syncing each until [`Tsa::sync_ledger`]: for a caller that
    /// hands no token out before it has called that (bulk issuance, once per durable group).
    pub fn defer_ledger_sync(&self) {
        self.ledger.defer_sync();
    }

    /// Make every ledger line written so far durable.
    pub fn sync_ledger(&self) -> Result<()> {
        self.ledger.sync()
    }

    /// Issue one token per request, recorded with one ledger sync for the whole batch
    /// (`archive renew`); in the order of `reqs`.
    pub fn stamp_many(&self, reqs: &[StampRequest<'_>]) -> Result<Vec<Stamped>> {
        let mut it = reqs.iter();
        self.ledger.append_many(reqs.len(), |serial, now| match it.next() {
            Some(req) => self.issue(req, serial, now),
            None => Err(TsaError::Refused("batch exhausted".into()).into()),
        })
    }

    /// The token and ledger entry for `req` with `serial` at `now`.
    fn issue(&self, req: &StampRequest<'_>, serial: u64, now: i64) -> Result<(Stamped, Entry)> {
        let name = digest_name(req.hash, req.digest.len()).map_err(TsaError::Refused)?;
        let hashed_message = OctetString::new(req.digest.to_vec()).map_err(enc)?;
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: POLICY,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier { oid: req.hash, parameters: None },
                hashed_message: hashed_message.clone(),
            },
            serial_number: Int::from(Uint::new(&serial.to_be_bytes()).map_err(enc)?),
            gen_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                u64::try_from(now).unwrap_or(0),
            ))
            .map_err(enc)?,
            accuracy: Some(x509_tsp::Accuracy { seconds: Some(1), millis: None, micros: None }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: Some(x509_cert::ext::pkix::name::GeneralName::DirectoryName(
                self.parsed.tbs_certificate.subject.clone(),
            )),
            extensions: None,
        };
        let token = token::build(self, &tst, req.cert_req)?;
        let entry = Entry {
            serial,
            gen_time: crate::trust::rfc3339(now),
            hash: name.to_string(),
            imprint: crate::hex::encode(req.digest),
            nonce: req.nonce.as_ref().map(|n| crate::hex::encode(n.as_bytes())),
            requester: req.requester.to_string(),
            token_sha256: crate::hex::encode(&super::super::pades::cms::sha256(&token)),
            prev: String::new(),
        };
        Ok((Stamped { token, serial, gen_time: now }, entry))
    }

    /// Answer an RFC 3161 request (DER): a granted response with a token, or a rejection with the
    /// PKIFailureInfo RFC 3161 §2.4.2 names. Never an error: a failure to sign is `systemFailure`.
    pub fn respond(&self, query: &[u8], requester: &str) -> Reply {
        let refuse = |info: FailureInfo, why: String| answer(PkiStatus::Rejection, Some(info), None, why);
        if query.len() > MAX_QUERY {
            return refuse(FailureInfo::BadDataFormat, format!("request over {MAX_QUERY} bytes"));
        }
        let Ok(req) = TimeStampReq::from_der(query) else {
            return refuse(FailureInfo::BadDataFormat, "not a DER TimeStampReq".into());
        };
        let imprint = &req.message_imprint;
        if imprint.hash_algorithm.parameters.as_ref().is_some_and(|p| p.tag() != der::Tag::Null) {
            return refuse(FailureInfo::BadAlg, "digest algorithm parameters must be absent or NULL".into());
        }
        if let Err(why) = digest_name(imprint.hash_algorithm.oid, imprint.hashed_message.as_bytes().len()) {
            return refuse(FailureInfo::BadAlg, why);
        }
        if req.req_policy.is_some_and(|p| p != POLICY) {
            return refuse(
                FailureInfo::UnacceptedPolicy,
                format!("this TSA issues under policy {POLICY} only"),
            );
        }
        if req.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return refuse(FailureInfo::UnacceptedExtension, "request extensions are not supported".into());
        }
        if req.nonce.as_ref().is_some_and(|n| n.as_bytes().len() > MAX_NONCE) {
            return refuse(FailureInfo::BadRequest, format!("nonce over {MAX_NONCE} bytes"));
        }
        let stamp = StampRequest {
            hash: imprint.hash_algorithm.oid,
            digest: imprint.hashed_message.as_bytes(),
            nonce: req.nonce.clone(),
            cert_req: req.cert_req,
            requester,
        };
        match self.stamp(&stamp).and_then(|s| x509_tsp::TimeStampToken::from_der(&s.token).map_err(enc)) {
            Ok(token) => answer(PkiStatus::Accepted, None, Some(token), String::new()),
            Err(e) => {
                tracing::error!(error = %e, "time-stamp token not issued");
                refuse(FailureInfo::SystemFailure, "the TSA could not issue a token".into())
            }
        }
    }

    /// ECDSA P-256 / SHA-256 signature (ASN.1 DER) over `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig =
            self.key.sign(&self.rng, message).map_err(|_| PkiError::Sign("TSA signing failed".into()))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// A response and whether it grants a token.
fn answer(
    status: PkiStatus,
    info: Option<FailureInfo>,
    token: Option<x509_tsp::TimeStampToken>,
    why: String,
) -> Reply {
    let granted = status == PkiStatus::Accepted;
    Reply { der: reply::encode(status, info, token, &why), granted, refusal: (!granted).then_some(why) }
}

/// The name of an accepted digest, or why it is refused.
fn digest_name(oid: ObjectIdentifier, len: usize) -> std::result::Result<&'static str, String> {
    match DIGESTS.iter().find(|(o, _, _)| *o == oid) {
        Some((_, want, name)) if *want == len => Ok(name),
        Some((_, want, name)) => Err(format!("a {name} digest is {want} bytes, not {len}")),
        None => Err(format!(
            "digest algorithm {} is not accepted (SHA-256, SHA-384 or SHA-512)",
            crate::pades::algorithms::name_of(oid)
        )),
    }
}
