//! Building a time-stamp token: a CMS SignedData (version 3) whose encapsulated content is the
//! DER TSTInfo, signed by the TSA key over the signed attributes content-type (id-ct-TSTInfo),
//! message-digest and signing-certificate-v2 (ESSCertIDv2 with SHA-256, RFC 5816 §2.2.1).
//!
//! Knows the token's CMS shape only; the TSTInfo comes from the caller. RFC 3161 §2.4.2,
//! RFC 5652 §5 (SignedData; version 3 because eContentType is not id-data), RFC 5035 §3.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_tsp::TstInfo;

use super::{enc, Tsa, ID_CT_TST_INFO};
use crate::error::Result;
use crate::pades::cms::{sha256, EssCertIdV2, IssuerSerial, SigningCertificateV2};
use crate::pades::cms_template::{Parts, Template, Varying};

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(enc)? })
}

/// The TimeStampToken (ContentInfo DER) for `tst`; `with_cert` puts the TSA certificate in it.
/// With the certificate (every PAdES token), from the TSA's template (`cms_template`) when it
/// has one.
pub(super) fn build(tsa: &Tsa, tst: &TstInfo, with_cert: bool) -> Result<Vec<u8>> {
    let econtent = tst.to_der().map_err(enc)?;
    if with_cert {
        if let Some(t) = tsa.template.get_or_init(|| template(tsa)) {
            let attrs = t.signed_attributes(&sha256(&econtent));
            let signature = tsa.sign(&attrs)?;
            let v = Varying { econtent: Some(&econtent), signature: &signature, unsigned: None };
            return Ok(t.signed_data(&attrs, v));
        }
    }
    let signed_attrs = signed_attributes(tsa, &sha256(&econtent))?;
    // RFC 5652 §5.4: the signature covers the attributes' DER as a SET OF (tag 0x31).
    let signature = tsa.sign(&signed_attrs.to_der().map_err(enc)?)?;
    encode(tsa, &econtent, signed_attrs, signature, with_cert)
}

/// The TSA's [`Template`] (certificate included): the fixed parts as [`encode`] encodes them,
/// checked against it; `None` when anything differs.
pub(super) fn template(tsa: &Tsa) -> Option<Template> {
    let set = SetOfVec::try_from(vec![CertificateChoices::Certificate(tsa.parsed.clone())]).ok()?;
    let parts = Parts::encode(CmsVersion::V3, ID_CT_TST_INFO, true, CertificateSet(set), sid(tsa), None)?;
    Template::new(parts, &|d| signed_attributes(tsa, d).ok()?.to_der().ok(), &|attrs, v| {
        let attrs = SetOfVec::<Attribute>::from_der(attrs).ok()?;
        encode(tsa, v.econtent?, attrs, v.signature.to_vec(), true).ok()
    })
}

/// The TSA's identifier in the token: its certificate's issuer and serial number.
fn sid(tsa: &Tsa) -> SignerIdentifier {
    let cert = &tsa.parsed.tbs_certificate;
    SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: cert.issuer.clone(),
        serial_number: cert.serial_number.clone(),
    })
}

/// The token's signed attributes: content-type id-ct-TSTInfo, message-digest `digest` (of the
/// TSTInfo's DER), signing-certificate-v2 of the TSA certificate.
fn signed_attributes(tsa: &Tsa, digest: &[u8; 32]) -> Result<SetOfVec<Attribute>> {
    let cert = &tsa.parsed;
    let issuer = &cert.tbs_certificate.issuer;
    let serial = &cert.tbs_certificate.serial_number;
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None, // SHA-256, the DEFAULT (RFC 5035 §4)
            cert_hash: OctetString::new(sha256(&tsa.cert).to_vec()).map_err(enc)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(issuer.clone())],
                serial_number: serial.clone(),
            }),
        }],
    };
    let attrs = vec![
        attribute(rfc5911::ID_CONTENT_TYPE, Any::encode_from(&ID_CT_TST_INFO).map_err(enc)?)?,
        attribute(
            rfc5911::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(enc)?).map_err(enc)?,
        )?,
        attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, Any::encode_from(&signing_cert).map_err(enc)?)?,
    ];
    SetOfVec::try_from(attrs).map_err(enc)
}

/// The token (ContentInfo DER) around `econtent` (a TSTInfo's DER), its `signed_attrs` and
/// their `signature`, encoded by the RustCrypto structures.
fn encode(
    tsa: &Tsa,
    econtent: &[u8],
    signed_attrs: SetOfVec<Attribute>,
    signature: Vec<u8>,
    with_cert: bool,
) -> Result<Vec<u8>> {
    let cert = &tsa.parsed;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: sid(tsa),
        digest_alg: alg(rfc5912::ID_SHA_256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg(rfc5912::ECDSA_WITH_SHA_256),
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs: None,
    };
    let certificates = if with_cert {
        let set = SetOfVec::try_from(vec![CertificateChoices::Certificate(cert.clone())]).map_err(enc)?;
        Some(CertificateSet(set))
    } else {
        None
    };
    let signed_data = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![alg(rfc5912::ID_SHA_256)]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(
                Any::encode_from(&OctetString::new(econtent.to_vec()).map_err(enc)?).map_err(enc)?,
            ),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
    };
    let ci = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(enc)?,
    };
    ci.to_der().map_err(enc)
}
