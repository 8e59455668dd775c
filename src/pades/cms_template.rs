//! A CMS SignedData with one signer written from DER prepared once per signer: in bulk sealing
//! only the message digest, the signature value, the encapsulated content (a timestamp's
//! TSTInfo) and the unsigned attribute (a seal's timestamp token) change from one signature to
//! the next, while the RustCrypto structures (`cms::assemble`, `pki::tsa::token`) decode, clone
//! and re-encode the certificates each time. The fixed parts are encoded by those structures, and
//! a template is only used once the first SignedData written from it equals, byte for byte, the
//! one the structures encode for the same values ([`Template::new`]); otherwise the caller keeps
//! the structures.
//!
//! Knows DER lengths and the order of SignedData's fields; nothing of keys, PDF or trust.
//! RFC 5652 §5.1 (SignedData), §5.3 (SignerInfo); X.690 §8.1.3 and §10.1 (definite lengths).

use cms::content_info::CmsVersion;
use cms::signed_data::{CertificateSet, SignerIdentifier};
use const_oid::db::rfc5912;
use der::asn1::SetOfVec;
use der::Encode;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};

/// DER pieces of a SignedData with one signer, and where the message digest sits in the signed
/// attributes.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Parts,
    /// The signed attributes as a SET (DER), with the message digest at `digest_at..+32`.
    attrs: Vec<u8>,
    digest_at: usize,
}

/// The fixed DER parts of a template, as the structures encode them.
#[derive(Debug, Clone)]
pub struct Parts {
    /// Whether the SignedData encapsulates its content (a timestamp token) or is detached.
    pub encapsulates: bool,
    /// SignedData's version and digestAlgorithms (TLVs).
    pub head: Vec<u8>,
    /// eContentType (OID TLV).
    pub econtent_type: Vec<u8>,
    /// The certificates field ([0] IMPLICIT SET OF, TLV); empty when the SignedData has none.
    pub certs: Vec<u8>,
    /// SignerInfo's version, sid and digestAlgorithm (TLVs).
    pub signer_head: Vec<u8>,
    /// signatureAlgorithm (TLV).
    pub sig_alg: Vec<u8>,
    /// The type of the one unsigned attribute (OID TLV), when the signer has one.
    pub unsigned_type: Option<Vec<u8>>,
}

impl Parts {
    /// The parts of a SignedData of `version` with digest and signature algorithms SHA-256 and
    /// ECDSA with SHA-256, encoded by the RustCrypto structures.
    pub fn encode(
        version: CmsVersion,
        econtent_type: ObjectIdentifier,
        encapsulates: bool,
        certs: CertificateSet,
        sid: SignerIdentifier,
        unsigned_type: Option<ObjectIdentifier>,
    ) -> Option<Parts> {
        let alg = |oid| AlgorithmIdentifierOwned { oid, parameters: None };
        let mut certs = certs.to_der().ok()?;
        // [0] IMPLICIT SET OF: the SET's tag becomes context-specific constructed 0.
        *certs.first_mut()? = 0xa0;
        Some(Parts {
            encapsulates,
            head: [
                version.to_der().ok()?,
                SetOfVec::try_from(vec![alg(rfc5912::ID_SHA_256)]).ok()?.to_der().ok()?,
            ]
            .concat(),
            econtent_type: econtent_type.to_der().ok()?,
            certs,
            signer_head: [
                CmsVersion::V1.to_der().ok()?,
                sid.to_der().ok()?,
                alg(rfc5912::ID_SHA_256).to_der().ok()?,
            ]
            .concat(),
            sig_alg: alg(rfc5912::ECDSA_WITH_SHA_256).to_der().ok()?,
            unsigned_type: match unsigned_type {
                Some(oid) => Some(oid.to_der().ok()?),
                None => None,
            },
        })
    }
}

/// What varies from one SignedData to the next, besides the message digest.
#[derive(Clone, Copy)]
pub struct Varying<'a> {
    /// The encapsulated content (DER of a TSTInfo), or `None` (detached).
    pub econtent: Option<&'a [u8]>,
    pub signature: &'a [u8],
    /// The value of the unsigned attribute (a DER element: a timestamp token).
    pub unsigned: Option<&'a [u8]>,
}

/// The structures' SignedData (ContentInfo DER) for signed attributes (DER) and varying parts.
pub type Encoder<'a> = dyn Fn(&[u8], Varying<'_>) -> Option<Vec<u8>> + 'a;

impl Template {
    /// A template from `parts` and the signed attributes `attrs(digest)` encode, checked against
    /// `encode`, the structures' own SignedData for the same values: `None` when the signed
    /// attributes do not differ in exactly one 32-byte run between two digests, or the bytes
    /// differ.
    pub fn new(
        parts: Parts,
        attrs: &dyn Fn(&[u8; 32]) -> Option<Vec<u8>>,
        encode: &Encoder<'_>,
    ) -> Option<Template> {
        let (zero, ones) = (attrs(&[0u8; 32])?, attrs(&[0xffu8; 32])?);
        if zero.len() != ones.len() {
            return None;
        }
        let first = zero.iter().zip(&ones).position(|(a, b)| a != b)?;
        let last = zero.iter().zip(&ones).rposition(|(a, b)| a != b)?;
        if last + 1 - first != 32 || zero.get(first..=last)?.iter().any(|b| *b != 0) {
            return None;
        }
        let t = Template { parts, attrs: zero, digest_at: first };
        // Lengths of both forms the varying parts take: a 72-byte signature (short form), a
        // 300-byte econtent and unsigned value (long form).
        let probe =
            [0x30u8, 0x82, 0x01, 0x28].into_iter().chain(std::iter::repeat_n(0x5a, 296)).collect::<Vec<u8>>();
        let signature = [0x30u8, 70].into_iter().chain(std::iter::repeat_n(0x11, 70)).collect::<Vec<u8>>();
        let digest = [0x42u8; 32];
        let signed = t.signed_attributes(&digest);
        let v = Varying {
            econtent: t.parts.encapsulates.then_some(probe.as_slice()),
            signature: &signature,
            unsigned: t.parts.unsigned_type.as_ref().map(|_| probe.as_slice()),
        };
        (encode(&signed, v)? == t.signed_data(&signed, v)).then_some(t)
    }

    /// The signed attributes (a SET, DER: what the signature covers) for message digest `digest`.
    pub fn signed_attributes(&self, digest: &[u8; 32]) -> Vec<u8> {
        let mut out = self.attrs.clone();
        if let Some(slot) = out.get_mut(self.digest_at..self.digest_at + 32) {
            slot.copy_from_slice(digest);
        }
        out
    }

    /// The ContentInfo (DER) of the SignedData with `signed_attrs` (from
    /// [`Self::signed_attributes`]) and the varying parts. An unsigned value is left out when
    /// the template has no unsigned attribute type.
    pub fn signed_data(&self, signed_attrs: &[u8], v: Varying<'_>) -> Vec<u8> {
        let mut si =
            Vec::with_capacity(self.parts.signer_head.len() + signed_attrs.len() + v.signature.len() + 64);
        si.extend_from_slice(&self.parts.signer_head);
        // [0] IMPLICIT: the SET's tag becomes context-specific constructed 0.
        tlv(&mut si, 0xa0, &[signed_attrs.get(header_len(signed_attrs)..).unwrap_or_default()]);
        si.extend_from_slice(&self.parts.sig_alg);
        tlv(&mut si, 0x04, &[v.signature]);
        if let (Some(oid), Some(value)) = (&self.parts.unsigned_type, v.unsigned) {
            let mut values = Vec::with_capacity(value.len() + 8);
            tlv(&mut values, 0x31, &[value]);
            let mut attr = Vec::with_capacity(values.len() + oid.len() + 8);
            tlv(&mut attr, 0x30, &[oid, &values]);
            tlv(&mut si, 0xa1, &[&attr]);
        }
        let mut signer_info = Vec::with_capacity(si.len() + 4);
        tlv(&mut signer_info, 0x30, &[&si]);
        let mut encap = Vec::new();
        match v.econtent {
            Some(content) => {
                let mut octets = Vec::with_capacity(content.len() + 4);
                tlv(&mut octets, 0x04, &[content]);
                let mut explicit = Vec::with_capacity(octets.len() + 4);
                tlv(&mut explicit, 0xa0, &[&octets]);
                tlv(&mut encap, 0x30, &[&self.parts.econtent_type, &explicit]);
            }
            None => tlv(&mut encap, 0x30, &[&self.parts.econtent_type]),
        }
        let mut infos = Vec::with_capacity(signer_info.len() + 4);
        tlv(&mut infos, 0x31, &[&signer_info]);
        let mut sd = Vec::with_capacity(
            self.parts.head.len() + encap.len() + self.parts.certs.len() + infos.len() + 8,
        );
        tlv(&mut sd, 0x30, &[&self.parts.head, &encap, &self.parts.certs, &infos]);
        let mut explicit = Vec::with_capacity(sd.len() + 4);
        tlv(&mut explicit, 0xa0, &[&sd]);
        let mut out = Vec::with_capacity(explicit.len() + 16);
        tlv(&mut out, 0x30, &[SIGNED_DATA_OID, &explicit]);
        out
    }
}

/// id-signedData (1.2.840.113549.1.7.2) as an OID TLV.
const SIGNED_DATA_OID: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// Append the TLV of `tag` around the concatenation of `parts` (definite length, DER form).
fn tlv(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
    }
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// Length of the tag and length octets of the DER element `der` starts with (one-byte tags).
fn header_len(der: &[u8]) -> usize {
    match der.get(1) {
        Some(l) if *l & 0x80 != 0 => 2 + usize::from(*l & 0x7f),
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Parts {
        Parts {
            encapsulates: false,
            head: vec![0x02, 0x01, 0x01],
            econtent_type: vec![0x06, 0x01, 0x01],
            certs: Vec::new(),
            signer_head: vec![0x02, 0x01, 0x01],
            sig_alg: vec![0x30, 0x00],
            unsigned_type: None,
        }
    }

    /// Signed attributes whose digest does not sit in one 32-byte run, or a SignedData that
    /// differs from the structures' encoding, give no template.
    #[test]
    fn no_template_unless_it_matches() {
        let attrs = |d: &[u8; 32]| Some([&[0x31u8, 0x22, 0x04, 0x20][..], d].concat());
        let same = |attrs: &[u8], v: Varying<'_>| Some(probe(attrs, v));
        let t = Template::new(parts(), &attrs, &same).expect("the template of matching parts");
        let signed = t.signed_attributes(&[7; 32]);
        assert_eq!(signed, attrs(&[7; 32]).unwrap());
        assert!(Template::new(parts(), &attrs, &|a, v| same(a, v).map(|mut b| {
            b.push(0);
            b
        }))
        .is_none());
        assert!(Template::new(parts(), &|_| Some(vec![0x31, 0x00]), &same).is_none());
        let split = |d: &[u8; 32]| Some([&d[..16], &[0u8; 4][..], &d[16..]].concat());
        assert!(Template::new(parts(), &split, &same).is_none());
    }

    /// The SignedData of [`parts`] written out by hand.
    fn probe(attrs: &[u8], v: Varying<'_>) -> Vec<u8> {
        let mut si = vec![0x02, 0x01, 0x01];
        tlv(&mut si, 0xa0, &[&attrs[2..]]);
        si.extend_from_slice(&[0x30, 0x00]);
        tlv(&mut si, 0x04, &[v.signature]);
        let mut info = Vec::new();
        tlv(&mut info, 0x30, &[&si]);
        let mut infos = Vec::new();
        tlv(&mut infos, 0x31, &[&info]);
        let mut sd = Vec::new();
        tlv(&mut sd, 0x30, &[&[0x02, 0x01, 0x01], &[0x30, 0x03, 0x06, 0x01, 0x01], &infos]);
        let mut ex = Vec::new();
        tlv(&mut ex, 0xa0, &[&sd]);
        let mut out = Vec::new();
        tlv(&mut out, 0x30, &[SIGNED_DATA_OID, &ex]);
        out
    }

    /// Lengths take the short form below 128 and the shortest long form above, as DER requires.
    #[test]
    fn lengths_in_der_form() {
        for (len, head) in [
            (0usize, vec![0x04, 0]),
            (127, vec![0x04, 127]),
            (128, vec![0x04, 0x81, 128]),
            (300, vec![0x04, 0x82, 0x01, 0x2c]),
        ] {
            let mut out = Vec::new();
            tlv(&mut out, 0x04, &[&vec![7u8; len]]);
            assert_eq!(out.get(..head.len()), Some(head.as_slice()), "{len}");
            assert_eq!(out.len(), head.len() + len);
            assert_eq!(header_len(&out), head.len());
        }
    }
}
