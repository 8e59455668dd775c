//! CMS SignedData for PAdES (SubFilter ETSI.CAdES.detached): building one with the signed
//! attributes PAdES baseline B-B requires, and reading one back for verification.
//! DER structures come from the RustCrypto `cms`/`der`/`x509-cert` crates; ring signs.
//!
//! RFC 5652 §5; RFC 5035 (signing-certificate-v2); ETSI EN 319 142-1 §6.3 (no signing-time).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Reader, Sequence};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

use super::cms_template::{Parts, Template, Varying};
use crate::error::{CmsError, Result};
use crate::pki::SealSigner;

/// ESSCertIDv2 (RFC 5035 §4): hashAlgorithm omitted because SHA-256 is its DEFAULT.
#[derive(Clone, Debug, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies OPTIONAL }
#[derive(Clone, Debug, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

fn enc(e: der::Error) -> CmsError {
    CmsError::Encode(e.to_string())
}

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(enc)? })
}

/// The certificate `der` decoded, from a memo of the last few (the signer's and its chain's,
/// decoded once per process instead of three times per seal in bulk issuance).
fn certificate(der: &[u8]) -> Result<Certificate> {
    static MEMO: std::sync::Mutex<Vec<(Vec<u8>, Certificate)>> = std::sync::Mutex::new(Vec::new());
    let mut memo = MEMO.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = memo.iter().find(|(d, _)| d.as_slice() == der) {
        return Ok(c.clone());
    }
    let c = Certificate::from_der(der).map_err(enc)?;
    if memo.len() >= 16 {
        memo.remove(0);
    }
    memo.push((der.to_vec(), c.clone()));
    Ok(c)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Build the DER of a detached CMS SignedData over content whose SHA-256 is `digest`: from the
/// signer's template (`cms_template`) when it has one, else from the structures.
pub fn sign_detached(signer: &SealSigner, digest: &[u8; 32]) -> Result<Vec<u8>> {
    if let Some(t) = signer.cms_template.get_or_init(|| template(signer)) {
        let attrs = t.signed_attributes(digest);
        let signature = signer.sign(&attrs)?;
        let token = stamp(signer, &signature)?;
        let v = Varying { econtent: None, signature: &signature, unsigned: token.as_deref() };
        return Ok(t.signed_data(&attrs, v));
    }
    let signed_attrs = signed_attributes(signer, digest)?;
    // The signature covers the DER of the attributes as a SET (tag 0x31), RFC 5652 §5.4.
    let to_sign = signed_attrs.to_der().map_err(enc)?;
    let signature = signer.sign(&to_sign)?;
    assemble(signer, signed_attrs, signature)
}

/// The signed attributes PAdES B-B requires (content-type, message-digest over `digest`,
/// signing-certificate-v2 of the signer's certificate); their DER is what the key signs.
pub fn signed_attributes(signer: &SealSigner, digest: &[u8; 32]) -> Result<SetOfVec<Attribute>> {
    let cert = certificate(&signer.cert)?;
    let cert_hash = sha256(&signer.cert);
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert_hash.to_vec()).map_err(enc)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(cert.tbs_certificate.issuer.clone())],
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let attrs = vec![
        attribute(rfc5911::ID_CONTENT_TYPE, Any::encode_from(&rfc5911::ID_DATA).map_err(enc)?)?,
        attribute(
            rfc5911::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(enc)?).map_err(enc)?,
        )?,
        attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, Any::encode_from(&signing_cert).map_err(enc)?)?,
    ];
    Ok(SetOfVec::try_from(attrs).map_err(enc)?)
}

/// The SignedData around `signed_attrs` and their `signature` (ECDSA, DER): the signer's
/// certificate and chain, and (B-T) a signature timestamp from the home's TSA.
pub fn assemble(
    signer: &SealSigner,
    signed_attrs: SetOfVec<Attribute>,
    signature: Vec<u8>,
) -> Result<Vec<u8>> {
    let token = stamp(signer, &signature)?;
    encode_signed_data(signer, signed_attrs, signature, token.as_deref())
}

/// PAdES B-T (ETSI EN 319 142-1 §6.3): a signature-time-stamp-token over the signature value,
/// from the home's TSA; `None` for homes without one, which seal B-B (`SealSigner::load` warned).
fn stamp(signer: &SealSigner, signature: &[u8]) -> Result<Option<Vec<u8>>> {
    let Some(tsa) = &signer.tsa else { return Ok(None) };
    let stamped = tsa.stamp(&crate::pki::tsa::StampRequest {
        hash: rfc5912::ID_SHA_256,
        digest: &sha256(signature),
        nonce: None,
        cert_req: true,
        requester: &format!("seal {}", signer.department.id),
    })?;
    Ok(Some(stamped.token))
}

/// The signer's identifier: the issuer and serial number of its certificate.
fn sid(cert: &Certificate) -> SignerIdentifier {
    SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

/// The certificates field: the signer's certificate and its chain.
fn certificate_set(signer: &SealSigner) -> Result<CertificateSet> {
    let mut certs = vec![CertificateChoices::Certificate(certificate(&signer.cert)?)];
    for der in &signer.chain {
        certs.push(CertificateChoices::Certificate(certificate(der)?));
    }
    Ok(CertificateSet(SetOfVec::try_from(certs).map_err(enc)?))
}

/// The ContentInfo (DER) of the SignedData around `signed_attrs`, their `signature` and, for
/// B-T, the signature timestamp `token`, encoded by the RustCrypto structures.
fn encode_signed_data(
    signer: &SealSigner,
    signed_attrs: SetOfVec<Attribute>,
    signature: Vec<u8>,
    token: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let cert = certificate(&signer.cert)?;
    let unsigned_attrs = match token {
        Some(token) => {
            let token = Any::from_der(token).map_err(enc)?;
            let attr = attribute(crate::pki::tsa::ID_AA_SIGNATURE_TIME_STAMP_TOKEN, token)?;
            Some(SetOfVec::try_from(vec![attr]).map_err(enc)?)
        }
        None => None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: sid(&cert),
        digest_alg: alg(rfc5912::ID_SHA_256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg(rfc5912::ECDSA_WITH_SHA_256),
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![alg(rfc5912::ID_SHA_256)]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: rfc5911::ID_DATA, econtent: None },
        certificates: Some(certificate_set(signer)?),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
    };
    let ci = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(enc)?,
    };
    Ok(ci.to_der().map_err(enc)?)
}

/// The signer's [`Template`]: the fixed parts as [`encode_signed_data`] encodes them, checked
/// against it; `None` when anything differs (the structures are used).
pub fn template(signer: &SealSigner) -> Option<Template> {
    let parts = Parts::encode(
        CmsVersion::V1,
        rfc5911::ID_DATA,
        false,
        certificate_set(signer).ok()?,
        sid(&certificate(&signer.cert).ok()?),
        signer.tsa.as_ref().map(|_| crate::pki::tsa::ID_AA_SIGNATURE_TIME_STAMP_TOKEN),
    )?;
    Template::new(parts, &|d| signed_attributes(signer, d).ok()?.to_der().ok(), &|attrs, v| {
        let attrs = SetOfVec::<Attribute>::from_der(attrs).ok()?;
        encode_signed_data(signer, attrs, v.signature.to_vec(), v.unsigned).ok()
    })
}

/// A CMS SignedData read back from a signature's /Contents, ready for checking.
#[derive(Debug, Clone)]
pub struct ParsedCms {
    /// Every certificate carried (DER), signer's included.
    pub certificates: Vec<Vec<u8>>,
    /// Index into `certificates` of the one matching the SignerInfo's sid, if any.
    pub signer: Option<usize>,
    pub digest_alg: ObjectIdentifier,
    pub signature_alg: ObjectIdentifier,
    /// DER of the signatureAlgorithm's parameters, if any (RSASSA-PSS needs them).
    pub signature_params: Option<Vec<u8>>,
    /// DER of the signed attributes as a SET: the bytes the signature covers.
    pub signed_attrs: Vec<u8>,
    pub message_digest: Option<Vec<u8>>,
    pub content_type_is_data: bool,
    /// ESSCertIDv2 hashes from signing-certificate-v2 (SHA-256 only), if present.
    pub signing_cert_hashes: Vec<Vec<u8>>,
    pub has_signing_time: bool,
    pub signature: Vec<u8>,
    /// The signature-time-stamp-token unsigned attribute (a TimeStampToken DER), if present:
    /// PAdES B-T. Only the first value of the first such attribute.
    pub signature_timestamp: Option<Vec<u8>>,
    /// The outer structure was BER (indefinite lengths) and was read as its DER form.
    pub ber: bool,
}

/// The DER structure at the start of /Contents without its zero padding (a document timestamp's
/// TimeStampToken); `None` when its header is unreadable or non-zero bytes follow it.
pub fn strip_padding(contents: &[u8]) -> Option<&[u8]> {
    let mut reader = der::SliceReader::new(contents).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    let header_len = usize::try_from(u32::from(reader.position())).ok()?;
    let end = header_len.checked_add(usize::try_from(u32::from(header.length)).ok()?)?;
    let (body, rest) = (contents.get(..end)?, contents.get(end..)?);
    rest.iter().all(|&b| b == 0).then_some(body)
}

/// Parse the CMS in /Contents (trailing zero padding allowed, nothing else). DER, or BER with
/// indefinite lengths in the outer structure as NSS writes it (`pades::ber`); the signed
/// attributes must be DER in the original bytes, since their DER form is what was signed.
pub fn parse(contents: &[u8]) -> std::result::Result<ParsedCms, String> {
    if !crate::pades::ber::needs_normalising(contents) {
        return parse_der(contents);
    }
    let (der, used) =
        crate::pades::ber::to_der(contents).map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    if contents.get(used..).map(|rest| rest.iter().any(|&b| b != 0)).unwrap_or(true) {
        return Err("non-zero bytes after the CMS structure in /Contents".into());
    }
    let mut parsed = parse_der(&der)?;
    // The [0] IMPLICIT form of the signed attributes must occur as it is in what the signer wrote.
    let mut implicit = parsed.signed_attrs.clone();
    if let Some(t) = implicit.first_mut() {
        *t = 0xa0;
    }
    if !contents.windows(implicit.len().max(1)).any(|w| w == implicit.as_slice()) {
        return Err("the signed attributes are not DER-encoded (their DER form is what is signed)".into());
    }
    parsed.ber = true;
    Ok(parsed)
}

/// [`parse`] of a CMS known to be DER (zhengyin's own, `self_check`): no BER pre-pass.
pub fn parse_der(contents: &[u8]) -> std::result::Result<ParsedCms, String> {
    let mut reader = der::SliceReader::new(contents).map_err(|e| e.to_string())?;
    let ci = ContentInfo::decode(&mut reader).map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    let consumed = usize::try_from(u32::from(reader.position())).map_err(|e| e.to_string())?;
    if contents.get(consumed..).map(|rest| rest.iter().any(|&b| b != 0)).unwrap_or(true) {
        return Err("non-zero bytes after the CMS structure in /Contents".into());
    }
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(format!("CMS content type is {}, not signed-data", ci.content_type));
    }
    let sd: SignedData = ci.content.decode_as().map_err(|e| format!("bad SignedData: {e}"))?;
    if sd.encap_content_info.econtent.is_some() {
        return Err("SignedData is not detached (it carries eContent)".into());
    }
    let infos: Vec<&SignerInfo> = sd.signer_infos.0.iter().collect();
    let [si] = infos.as_slice() else {
        return Err(format!("expected exactly one SignerInfo, found {}", infos.len()));
    };
    let mut certificates = Vec::new();
    let mut signer = None;
    for choice in sd.certificates.iter().flat_map(|c| c.0.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            if let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid {
                if ias.issuer == c.tbs_certificate.issuer
                    && ias.serial_number == c.tbs_certificate.serial_number
                {
                    signer = Some(certificates.len());
                }
            }
            certificates.push(c.to_der().map_err(|e| e.to_string())?);
        }
    }
    let attrs =
        si.signed_attrs.as_ref().ok_or("SignerInfo has no signed attributes (PAdES requires them)")?;
    let mut message_digest = None;
    let mut content_type_is_data = false;
    let mut signing_cert_hashes = Vec::new();
    let mut has_signing_time = false;
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else { continue };
        if a.oid == rfc5911::ID_MESSAGE_DIGEST {
            message_digest = v.decode_as::<OctetString>().ok().map(|o| o.as_bytes().to_vec());
        } else if a.oid == rfc5911::ID_CONTENT_TYPE {
            content_type_is_data =
                v.decode_as::<ObjectIdentifier>().map(|o| o == rfc5911::ID_DATA).unwrap_or(false);
        } else if a.oid == rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2 {
            if let Ok(sc) = v.decode_as::<SigningCertificateV2>() {
                signing_cert_hashes = sc
                    .certs
                    .iter()
                    .filter(|c| {
                        c.hash_algorithm.as_ref().map(|a| a.oid == rfc5912::ID_SHA_256).unwrap_or(true)
                    })
                    .map(|c| c.cert_hash.as_bytes().to_vec())
                    .collect();
            }
        } else if a.oid == rfc5911::ID_SIGNING_TIME {
            has_signing_time = true;
        }
    }
    let signature_timestamp = si
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == crate::pki::tsa::ID_AA_SIGNATURE_TIME_STAMP_TOKEN)
        .and_then(|a| a.values.iter().next())
        .map(|v| v.to_der().map_err(|e| e.to_string()))
        .transpose()?;
    Ok(ParsedCms {
        signature_timestamp,
        certificates,
        signer,
        digest_alg: si.digest_alg.oid,
        signature_alg: si.signature_algorithm.oid,
        signature_params: si.signature_algorithm.parameters.as_ref().and_then(|p| p.to_der().ok()),
        signed_attrs: attrs.to_der().map_err(|e| e.to_string())?,
        message_digest,
        content_type_is_data,
        signing_cert_hashes,
        has_signing_time,
        signature: si.signature.as_bytes().to_vec(),
        ber: false,
    })
}
