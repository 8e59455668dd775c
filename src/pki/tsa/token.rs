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
use der::{Any, Encode};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_tsp::TstInfo;

use super::{enc, Tsa, ID_CT_TST_INFO};
use crate::error::Result;
use crate::pades::cms::{sha256, EssCertIdV2, IssuerSerial, SigningCertificateV2};

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(enc)? })
}

/// The TimeStampToken (ContentInfo DER) for `tst`; `with_cert` puts the TSA certificate in it.
pub(super) fn build(tsa: &Tsa, tst: &TstInfo, with_cert: bool) -> Result<Vec<u8>> {
    let econtent = tst.to_der().map_err(enc)?;
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
            Any::encode_from(&OctetString::new(sha256(&econtent).to_vec()).map_err(enc)?).map_err(enc)?,
        )?,
        attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, Any::encode_from(&signing_cert).map_err(enc)?)?,
    ];
    let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(attrs).map_err(enc)?;
    // RFC 5652 §5.4: the signature covers the attributes' DER as a SET OF (tag 0x31).
    let signature = tsa.sign(&signed_attrs.to_der().map_err(enc)?)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: issuer.clone(),
            serial_number: serial.clone(),
        }),
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
            econtent: Some(Any::encode_from(&OctetString::new(econtent).map_err(enc)?).map_err(enc)?),
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
