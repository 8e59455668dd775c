//! A check of a PDF zhengyin has just sealed, from its final bytes and without parsing the PDF:
//! the last seal's /ByteRange and /Contents are found where `sign` writes them, the byte range
//! must start at 0, stay in the file and leave out exactly the /Contents string, the CMS is
//! parsed, its message digest must be the SHA-256 of the byte range, it must name
//! `expected_cert` as its signer, and its signature value must verify with that certificate's key.
//!
//! What bulk issuance runs on every licence between full verifications (`licence::batch`): it
//! catches a key that does not match its certificate and bytes changed after signing. The same
//! pass over the file gives the SHA-256 of the whole file (the archive's fixity value): the
//! bytes before /Contents are hashed once for both. It checks
//! neither the chain, revocation nor the timestamp, nor the PDF's object structure: the full
//! verification of the first licence of every group does, and the archive audit re-verifies all.
//!
//! Knows the bytes `sign` writes and the CMS; nothing of trust. ISO 32000-1 §12.8.1; RFC 5652 §5.4.

use x509_parser::prelude::{FromDer, X509Certificate};

use super::algorithms::{self, SignatureCheck};
use super::{cms, scan};

/// The signature dictionary `sign` writes starts with this.
const SIG_DICT: &[u8] = b"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached ";
/// Most bytes between the signature dictionary's start and its /ByteRange.
const MAX_DICT: usize = 16 * 1024;

/// Check the last seal of `pdf` (made by `sign`) against `expected_cert` (DER): the SHA-256 of
/// the whole of `pdf` when it checks, the reason when it fails.
pub fn check_own(pdf: &[u8], expected_cert: &[u8]) -> Result<[u8; 32], String> {
    let start = memchr::memmem::rfind(pdf, SIG_DICT).ok_or("no signature dictionary written by zhengyin")?;
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
    let contents = unhex(hex).ok_or("/Contents is not hexadecimal")?;
    // Written by `cms` as DER: read as DER only (a BER form would be refused, not normalised).
    let parsed = cms::parse_der(&contents)?;
    let signer = parsed.signer.and_then(|i| parsed.certificates.get(i));
    if signer.map(Vec::as_slice) != Some(expected_cert) {
        return Err("the CMS does not name the seal's certificate as its signer".into());
    }
    // One pass over the bytes before /Contents serves the byte range and the whole file.
    // (Resumed after the bytes this licence shares with the others of its batch: compared, not re-hashed.)
    let mut ctx = super::prefix_hash::context_after(pdf.get(..a).unwrap_or_default());
    let mut whole = ctx.clone();
    ctx.update(pdf.get(b..end).unwrap_or_default());
    if parsed.message_digest.as_deref() != Some(ctx.finish().as_ref()) {
        return Err("the message digest is not the SHA-256 of the byte range".into());
    }
    whole.update(pdf.get(a..).unwrap_or_default());
    let mut file = [0u8; 32];
    file.copy_from_slice(whole.finish().as_ref());
    let key = public_key(expected_cert)?;
    match algorithms::verify_signature(
        parsed.signature_alg,
        parsed.signature_params.as_deref(),
        parsed.digest_alg,
        &key,
        &parsed.signed_attrs,
        &parsed.signature,
    ) {
        SignatureCheck::Valid(_) => Ok(file),
        SignatureCheck::Invalid(s) => Err(format!("the signature value does not verify ({s})")),
        SignatureCheck::Outside(o) => Err(o.0),
    }
}

/// The SubjectPublicKeyInfo of certificate `der`, from a memo of the last one (bulk issuance
/// checks every licence against the same certificate).
fn public_key(der: &[u8]) -> Result<Vec<u8>, String> {
    static LAST: std::sync::Mutex<Option<(Vec<u8>, Vec<u8>)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, key)) = last.as_ref().filter(|(c, _)| c.as_slice() == der) {
        return Ok(key.clone());
    }
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let key = cert.public_key().raw.to_vec();
    *last = Some((der.to_vec(), key.clone()));
    Ok(key)
}

/// Each byte's value as a hex digit, 0xFF for a byte that is not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The bytes of a hex string (even length, digits only), or `None`: a table lookup per digit,
/// with no branch per pair (the /Contents of every bulk-issued licence, ~12,000 digits).
fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut bad = 0u8;
    for pair in hex.chunks_exact(2) {
        let [h, l] = pair else { return None };
        let (h, l) = (HEX_VALUE[usize::from(*h)], HEX_VALUE[usize::from(*l)]);
        bad |= h | l;
        out.push(h << 4 | l & 0x0F);
    }
    (bad & 0xF0 == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes without a zhengyin signature dictionary are refused with a reason, not a panic.
    #[test]
    fn refuses_unsigned_and_malformed_bytes() {
        assert!(check_own(b"%PDF-1.7\n", b"cert").is_err());
        let bad = [SIG_DICT, b"/ByteRange [0 99999 5 5] /Contents <00> >>"].concat();
        assert!(check_own(&bad, b"cert").is_err());
        let odd = [SIG_DICT, b"/ByteRange [0 1 2]"].concat();
        assert!(check_own(&odd, b"cert").is_err());
    }

    /// Hex in either case decodes; an odd length or a non-hex digit is refused.
    #[test]
    fn unhex_reads_both_cases_and_refuses_the_rest() {
        assert_eq!(unhex(b"00fFa9"), Some(vec![0x00, 0xff, 0xa9]));
        assert_eq!(unhex(b""), Some(vec![]));
        assert_eq!(unhex(b"abc"), None);
        assert_eq!(unhex(b"0g"), None);
        assert_eq!(unhex(b"g0"), None);
        assert_eq!(
            unhex(b"0123456789abcdefABCDEF"),
            Some(vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef])
        );
        for b in (0..=255u8).filter(|b| !b.is_ascii_hexdigit()) {
            assert_eq!(unhex(&[b'0', b]), None, "{b:#04x}");
        }
    }
}
