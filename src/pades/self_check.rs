//! A check of a PDF zhengyin has just sealed, from its final bytes and without parsing the PDF:
//! the last seal's /ByteRange and /Contents are found where `sign` writes them, the byte range
//! must start at 0, stay in the file and leave out exactly the /Contents string, the CMS is
//! read (with the `der` crate's reader; certificates compared as bytes, not decoded), its message
//! digest must be the SHA-256 of the byte range, it must name `expected_cert` as its signer (by
//! issuer and serial number, the certificate among its certificates), and, with
//! [`Value::Verify`], its signature value must verify with that certificate's key.
//!
//! What bulk issuance runs on every licence between full verifications (`licence::batch`): it
//! catches bytes changed after signing and a CMS that names another signer. It does not verify
//! the ECDSA value there ([`Value::Trust`]): the key was paired with its certificate when it was
//! loaded (`pki::SealKey::pairs_with`; a token's signatures are verified as they are made), and
//! the value's place in the CMS is proven by `cms_template` against the structures' encoding.
//! What is left is a faulty signing computation: ring verifies its RSA signatures against fault
//! attacks but hedges its ECDSA nonces instead of verifying (`ec/suite_b/ecdsa/signing.rs`).
//! The same pass over the file gives the SHA-256 of the whole file (the archive's fixity
//! value): the bytes before /Contents are hashed once for both. It checks neither the chain,
//! revocation nor the timestamp, nor the PDF's object structure: the full verification of one
//! line in `licence::batch::VERIFY_EVERY` (32) does, and the archive audit re-verifies all.
//!
//! Knows the bytes `sign` writes and the CMS; nothing of trust. ISO 32000-1 §12.8.1; RFC 5652 §5.4.

use cms::signed_data::SignedAttributes;
use const_oid::db::rfc5911;
use der::asn1::{AnyRef, ObjectIdentifier, OctetString, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierRef;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::algorithms::{self, SignatureCheck};
use super::scan;

/// The signature dictionary `sign` writes starts with this.
const SIG_DICT: &[u8] = b"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached ";
/// Most bytes between the signature dictionary's start and its /ByteRange.
const MAX_DICT: usize = 16 * 1024;

/// Whether [`check_own`] verifies the signature value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Verify it with the certificate's key (an ECDSA verification: about 9 % of a bulk
    /// licence's CPU).
    Verify,
    /// Take it as the signer made it: its key is known to pair with the certificate.
    Trust,
}

/// Check the last seal of `pdf` (made by `sign`) against `expected_cert` (DER), its signature
/// value as `value` says: the SHA-256 of the whole of `pdf` when it checks, the reason when it
/// fails.
pub fn check_own(pdf: &[u8], expected_cert: &[u8], value: Value) -> Result<[u8; 32], String> {
    // Backwards from the end, '/' by '/': the ~12,000 hex digits of /Contents, which hold none,
    // are skipped by a vectorised byte search (a reverse substring search walks them slowly).
    let start = memchr::memrchr_iter(b'/', pdf)
        .find(|&i| pdf.get(i..).is_some_and(|t| t.starts_with(SIG_DICT)))
        .ok_or("no signature dictionary written by zhengyin")?;
    let dict = pdf.get(start..).unwrap_or_default();
    let dict = dict.get(..MAX_DICT.min(dict.len())).unwrap_or_default();
    let br = scan::find(dict, b"/ByteRange [").ok_or("no /ByteRange")? + b"/ByteRange [".len();
    let close = scan::find(dict.get(br..).unwrap_or_default(), b"]").ok_or("/ByteRange not closed")?;
    let text =
        std::str::from_utf8(dict.get(br..br + close).unwrap_or_default()).map_err(|e| e.to_string())?;
    let nums: Vec<usize> = text.split_ascii_whitespace().filter_map(|n| n.parse().ok()).collect();
    let [0, a, b, c] = nums.as_slice() else {
        return Err(format!("/ByteRange [{text}] is not 0 a b c"));
    };
    let (a, b, c) = (*a, *b, *c);
    let end =
        b.checked_add(c).filter(|e| *e <= pdf.len() && a + 2 <= b).ok_or("/ByteRange out of the file")?;
    let gap = pdf.get(a..b).unwrap_or_default();
    let hex = match gap {
        [b'<', hex @ .., b'>'] => hex,
        _ => return Err("the byte range's gap is not the /Contents string".into()),
    };
    let contents = crate::hex::decode(cms_digits(hex)).ok_or("/Contents is not hexadecimal")?;
    let own = read_own(&contents)?;
    let expected = expected(expected_cert)?;
    if own.sid != expected.sid.as_slice() || !own.certificates.contains(&expected_cert) {
        return Err("the CMS does not name the seal's certificate as its signer".into());
    }
    // One pass over the bytes before /Contents serves the byte range and the whole file.
    // (Resumed after the bytes this licence shares with the others of its batch: compared, not re-hashed.)
    let mut ctx = super::prefix_hash::context_after(pdf.get(..a).unwrap_or_default());
    let mut whole = ctx.clone();
    ctx.update(pdf.get(b..end).unwrap_or_default());
    if own.message_digest.as_deref() != Some(ctx.finish().as_ref()) {
        return Err("the message digest is not the SHA-256 of the byte range".into());
    }
    whole.update(pdf.get(a..).unwrap_or_default());
    let mut file = [0u8; 32];
    file.copy_from_slice(whole.finish().as_ref());
    if value == Value::Trust {
        return Ok(file);
    }
    match algorithms::verify_signature(
        own.signature_alg,
        own.signature_params.as_deref(),
        own.digest_alg,
        &expected.key,
        &own.signed_attrs,
        own.signature,
    ) {
        SignatureCheck::Valid(_) => Ok(file),
        SignatureCheck::Invalid(s) => Err(format!("the signature value does not verify ({s})")),
        SignatureCheck::Outside(o) => Err(o.0),
    }
}

/// The digits of the DER structure at the start of the /Contents digits `hex`, when every digit
/// after it is `0` (the zero padding; `read_own` then finds nothing after the structure): about
/// half of the ~12,000 digits are padding, scanned here instead of decoded. Otherwise all of
/// `hex`, for `read_own` to report what is wrong.
fn cms_digits(hex: &[u8]) -> &[u8] {
    let byte = |i: usize| crate::hex::decode(hex.get(2 * i..2 * i + 2)?)?.first().copied();
    let total = || -> Option<usize> {
        let first = byte(1)?;
        if first < 0x80 {
            return Some(2 + usize::from(first));
        }
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 3 {
            return None;
        }
        let len = (0..n).try_fold(0usize, |acc, i| Some(acc << 8 | usize::from(byte(2 + i)?)))?;
        Some(2 + n + len)
    };
    match total().and_then(|t| t.checked_mul(2)).and_then(|d| Some((hex.get(..d)?, hex.get(d..)?))) {
        Some((cms, padding)) if padding.iter().all(|&b| b == b'0') => cms,
        _ => hex,
    }
}

/// What the signer's certificate says of it: its key, and the IssuerAndSerialNumber that names it.
#[derive(Clone)]
struct Expected {
    /// SubjectPublicKeyInfo (DER).
    key: Vec<u8>,
    /// The contents of IssuerAndSerialNumber (RFC 5652 §10.2.4): issuer Name and serial INTEGER, as DER.
    sid: Vec<u8>,
}

/// [`Expected`] of certificate `der`, from a memo of the last one (bulk issuance checks every
/// licence against the same certificate).
fn expected(der: &[u8]) -> Result<Expected, String> {
    static LAST: std::sync::Mutex<Option<(Vec<u8>, Expected)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, e)) = last.as_ref().filter(|(c, _)| c.as_slice() == der) {
        return Ok(e.clone());
    }
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let serial = der::asn1::IntRef::new(cert.tbs_certificate.raw_serial()).and_then(|i| i.to_der());
    let mut sid = cert.tbs_certificate.issuer.as_raw().to_vec();
    sid.extend(serial.map_err(|e| e.to_string())?);
    let e = Expected { key: cert.public_key().raw.to_vec(), sid };
    *last = Some((der.to_vec(), e.clone()));
    Ok(e)
}

/// What the check reads of zhengyin's own CMS.
struct OwnCms<'a> {
    /// Each certificate of the SignedData, as DER.
    certificates: Vec<&'a [u8]>,
    /// The contents of the signer's IssuerAndSerialNumber.
    sid: &'a [u8],
    digest_alg: ObjectIdentifier,
    /// The signed attributes as signed: DER with the SET tag (RFC 5652 §5.4).
    signed_attrs: Vec<u8>,
    message_digest: Option<Vec<u8>>,
    signature_alg: ObjectIdentifier,
    signature_params: Option<Vec<u8>>,
    signature: &'a [u8],
}

/// Read a CMS SignedData with one signer, written as DER by zhengyin, with the `der` crate's
/// reader: the certificates are compared as bytes, not decoded (the verifier's reader,
/// `cms::parse_der`, decodes and re-encodes each of them and the timestamp token: ~6 % of bulk
/// issuance). Trailing bytes must be zeros (the rest of the reserved /Contents).
fn read_own(contents: &[u8]) -> Result<OwnCms<'_>, String> {
    let bad = |what: &'static str| move |e: der::Error| format!("{what}: {e}");
    let mut top = SliceReader::new(contents).map_err(bad("CMS"))?;
    let info = AnyRef::decode(&mut top).map_err(bad("not a CMS ContentInfo"))?;
    let used = usize::try_from(u32::from(top.position())).map_err(|e| e.to_string())?;
    if contents.get(used..).is_none_or(|rest| rest.iter().any(|&b| b != 0)) {
        return Err("non-zero bytes after the CMS structure in /Contents".into());
    }
    let mut r = SliceReader::new(info.value()).map_err(bad("ContentInfo"))?;
    if ObjectIdentifier::decode(&mut r).map_err(bad("ContentInfo"))? != rfc5911::ID_SIGNED_DATA {
        return Err("CMS content type is not signed-data".into());
    }
    let explicit = AnyRef::decode(&mut r).map_err(bad("ContentInfo"))?;
    let signed_data = AnyRef::from_der(explicit.value()).map_err(bad("SignedData"))?;
    let mut r = SliceReader::new(signed_data.value()).map_err(bad("SignedData"))?;
    // version, digestAlgorithms, encapContentInfo
    for _ in 0..3 {
        AnyRef::decode(&mut r).map_err(bad("SignedData"))?;
    }
    let mut next = AnyRef::decode(&mut r).map_err(bad("SignedData"))?;
    let mut certificates = Vec::new();
    if next.tag() == context(0) {
        let mut c = SliceReader::new(next.value()).map_err(bad("certificates"))?;
        while !c.is_finished() {
            certificates.push(c.tlv_bytes().map_err(bad("certificates"))?);
        }
        next = AnyRef::decode(&mut r).map_err(bad("SignedData"))?;
    }
    if next.tag() == context(1) {
        next = AnyRef::decode(&mut r).map_err(bad("SignedData"))?;
    }
    let mut infos = SliceReader::new(next.value()).map_err(bad("signerInfos"))?;
    let info = AnyRef::decode(&mut infos).map_err(bad("SignerInfo"))?;
    if next.tag() != Tag::Set || !infos.is_finished() || !r.is_finished() {
        return Err("expected exactly one SignerInfo, last in the SignedData".into());
    }
    let mut r = SliceReader::new(info.value()).map_err(bad("SignerInfo"))?;
    AnyRef::decode(&mut r).map_err(bad("SignerInfo version"))?;
    let sid = AnyRef::decode(&mut r).map_err(bad("SignerInfo sid"))?;
    let digest_alg = AlgorithmIdentifierRef::decode(&mut r).map_err(bad("SignerInfo digest"))?.oid;
    let attrs = AnyRef::decode(&mut r).map_err(bad("SignerInfo signed attributes"))?;
    let signature_alg = AlgorithmIdentifierRef::decode(&mut r).map_err(bad("SignerInfo algorithm"))?;
    let signature = OctetStringRef::decode(&mut r).map_err(bad("SignerInfo signature"))?;
    if sid.tag() != Tag::Sequence || attrs.tag() != context(0) {
        return Err("SignerInfo has no IssuerAndSerialNumber or no signed attributes".into());
    }
    let signed_attrs =
        AnyRef::new(Tag::Set, attrs.value()).and_then(|a| a.to_der()).map_err(bad("signed attributes"))?;
    let message_digest = SignedAttributes::from_der(&signed_attrs)
        .map_err(bad("signed attributes"))?
        .iter()
        .find(|a| a.oid == rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next()?.decode_as::<OctetString>().ok())
        .map(|o| o.as_bytes().to_vec());
    Ok(OwnCms {
        certificates,
        sid: sid.value(),
        digest_alg,
        signed_attrs,
        message_digest,
        signature_alg: signature_alg.oid,
        signature_params: signature_alg
            .parameters
            .map(|p| p.to_der())
            .transpose()
            .map_err(bad("algorithm"))?,
        signature: signature.as_bytes(),
    })
}

/// The tag of a constructed, context-specific `[n]` field.
fn context(n: u8) -> Tag {
    Tag::ContextSpecific { constructed: true, number: TagNumber::new(n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes without a zhengyin signature dictionary are refused with a reason, not a panic.
    #[test]
    fn refuses_unsigned_and_malformed_bytes() {
        assert!(check_own(b"%PDF-1.7\n", b"cert", Value::Verify).is_err());
        let bad = [SIG_DICT, b"/ByteRange [0 99999 5 5] /Contents <00> >>"].concat();
        assert!(check_own(&bad, b"cert", Value::Verify).is_err());
        let odd = [SIG_DICT, b"/ByteRange [0 1 2]"].concat();
        assert!(check_own(&odd, b"cert", Value::Verify).is_err());
    }

    /// Only the structure's digits are decoded when the rest is zero padding, including a
    /// structure that ends in zero bytes; anything else is left whole for `read_own` to refuse.
    #[test]
    fn decodes_the_structure_not_the_padding() {
        assert_eq!(cms_digits(b"3003020100000000"), b"3003020100");
        assert_eq!(cms_digits(b"3082000302010000"), b"30820003020100");
        let whole: &[&[u8]] = &[b"3003020100000001", b"30FF0000", b"3084000000010000", b"30", b"zz", b""];
        for hex in whole {
            assert_eq!(cms_digits(hex), *hex);
        }
        let contents = crate::hex::decode(cms_digits(b"3003020100000001")).unwrap();
        assert!(read_own(&contents).err().is_some_and(|e| e.contains("non-zero bytes after")));
    }
}
