//! Two-step (external) signing: the seal's revision is written with /Contents left zeroed, the
//! signer is handed the SHA-256 of the CMS signed attributes (what a UKey signs), and the
//! signature value that comes back is assembled into the CMS and written into the same bytes.
//! The models are pyHanko's interrupted signing and DSS's getDataToSign / signDocument.
//!
//! Knows PDF and CMS; knows nothing of handles, expiry or the archive (`licence::external`).
//! RFC 5652 §5.4 (what the signature covers), ETSI EN 319 142-1 (PAdES B-B/B-T/B-LT).

use cms::signed_data::SignerInfo;
use der::asn1::SetOfVec;
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use super::sign::{self, SealRequest};
use crate::error::{CmsError, Result};
use crate::pki::SealSigner;

/// A seal revision waiting for its signature value.
pub struct Prepared {
    /// The file with the sealing revision, /Contents still zeroed.
    pub revision: Vec<u8>,
    /// Offset of the `<` that opens /Contents.
    pub contents_pos: usize,
    /// DER (a SET, tag 0x31) of the CMS signed attributes: the bytes the key signs.
    pub signed_attrs: Vec<u8>,
}

impl Prepared {
    /// SHA-256 of the signed attributes: the digest a UKey signs (ECDSA over a digest).
    pub fn digest_to_sign(&self) -> [u8; 32] {
        super::cms::sha256(&self.signed_attrs)
    }
}

/// Write `req`'s sealing revision over `pdf` and compute the attributes to sign, without signing.
pub fn prepare(pdf: &[u8], req: &SealRequest<'_>) -> Result<Prepared> {
    let mut signed_attrs = None;
    let (revision, contents_pos) = sign::seal_revision(pdf, req, &mut |digest| {
        let attrs = super::cms::signed_attributes(req.signer, digest)?;
        signed_attrs = Some(attrs.to_der().map_err(|e| CmsError::Encode(e.to_string()))?);
        Ok(Vec::new())
    })?;
    let signed_attrs =
        signed_attrs.ok_or_else(|| CmsError::Encode("no signed attributes were made".into()))?;
    Ok(Prepared { revision, contents_pos, signed_attrs })
}

/// The ECDSA signature value (DER) in what a signer sent back: a DER ECDSA-Sig-Value, raw r‖s
/// (64 bytes), or a CMS SignerInfo whose signed attributes must be exactly `signed_attrs`.
pub fn signature_value(sent: &[u8], signed_attrs: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if let Some(der) = crate::pki::key::raw_to_der(sent) {
        return Ok(der);
    }
    if let Ok(si) = SignerInfo::from_der(sent) {
        let theirs = si
            .signed_attrs
            .as_ref()
            .ok_or("the SignerInfo has no signed attributes")?
            .to_der()
            .map_err(|e| e.to_string())?;
        if theirs != signed_attrs {
            return Err("the SignerInfo signs other attributes than the prepared ones".into());
        }
        return Ok(si.signature.as_bytes().to_vec());
    }
    // A DER SEQUENCE of two INTEGERs; anything else is refused here, before the TSA is asked.
    EcdsaSigValue::from_der(sent).map(|_| sent.to_vec()).map_err(|_| {
        "not an ECDSA signature (DER ECDSA-Sig-Value or 64-byte r||s) nor a CMS SignerInfo".into()
    })
}

/// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 §2.2.3).
#[derive(der::Sequence)]
struct EcdsaSigValue {
    r: der::asn1::Int,
    s: der::asn1::Int,
}

/// Assemble the CMS around `signature` (DER), write it into the prepared revision and add the
/// validation data (B-LT). The caller verifies the result before it files anything.
pub fn complete(prepared: &Prepared, signer: &SealSigner, signature: Vec<u8>) -> Result<Vec<u8>> {
    let enc = |e: der::Error| CmsError::Encode(e.to_string());
    let attrs = SetOfVec::<Attribute>::from_der(&prepared.signed_attrs).map_err(enc)?;
    let cms = super::cms::assemble(signer, attrs, signature)?;
    let mut out = prepared.revision.clone();
    sign::fill_contents(&mut out, prepared.contents_pos, &cms)?;
    sign::add_validation_data(&out, signer)
}
