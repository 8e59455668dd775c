//! A check of a PDF zhengyin has just sealed, from its final bytes and without parsing the PDF:
//! the last seal's /ByteRange and /Contents are found where `sign` writes them, the byte range
//! must start at 0, stay in the file and leave out exactly the /Contents string, the CMS is
//! parsed, its message digest must be the SHA-256 of the byte range, it must name
//! `expected_cert` as its signer, and its signature value must verify with that certificate's key.
//!
//! What bulk issuance runs on every licence between full verifications (`licence::batch`): it
//! catches a key that does not match its certificate and bytes changed after signing. It checks
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

/// Check the last seal of `pdf` (made by `sign`) against `expected_cert` (DER). The reason
/// when it fails.
pub fn check_own(pdf: &[u8], expected_cert: &[u8]) -> Result<(), String> {
    let start = last(pdf, SIG_DICT).ok_or("no signature dictionary written by zhengyin")?;
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
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(pdf.get(..a).unwrap_or_default());
    ctx.update(pdf.get(b..end).unwrap_or_default());
    if parsed.message_digest.as_deref() != Some(ctx.finish().as_ref()) {
        return Err("the message digest is not the SHA-256 of the byte range".into());
    }
    let key = public_key(expected_cert)?;
    match algorithms::verify_signature(
        parsed.signature_alg,
        parsed.signature_params.as_deref(),
        parsed.digest_alg,
        &key,
        &parsed.signed_attrs,
        &parsed.signature,
    ) {
        SignatureCheck::Valid(_) => Ok(()),
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

/// Offset of the last occurrence of `needle` in `hay`, searched from the end (the last seal's
/// dictionary is near it, before only the DSS update).
fn last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let top = hay.len().checked_sub(needle.len())?;
    (0..=top).rev().find(|&i| hay.get(i) == Some(&first) && hay.get(i..i + needle.len()) == Some(needle))
}

fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    let digit = |d: u8| char::from(d).to_digit(16).and_then(|v| u8::try_from(v).ok());
    hex.chunks(2).map(|p| Some(digit(*p.first()?)? << 4 | digit(*p.get(1)?)?)).collect()
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
}
