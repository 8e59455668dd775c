//! BER to DER for the outer structure of a CMS signature. Some signers (NSS, hence poppler's
//! `pdfsig -sign`) write SignedData with indefinite lengths; pyHanko (asn1crypto) reads them, and
//! so do we: the bytes are rewritten with definite lengths (and constructed OCTET STRINGs joined)
//! before the DER decoder sees them. A SET (or a [0]/[1] IMPLICIT SET, as CMS's certificates and
//! CRLs) that holds one element twice keeps one copy: NSS repeats the signer's certificate, and
//! the DER decoder refuses duplicates where asn1crypto does not. The signed attributes are never rewritten in a way that
//! matters: `cms::parse` checks that their DER form occurs verbatim in the original bytes, since
//! that DER form is what the signature covers (RFC 5652 §5.4).
//!
//! Knows only ASN.1 tag-length-value framing (ITU-T X.690 §8.1, §8.7, §10.1); nothing of CMS,
//! PDF or trust. Bounded: nesting depth and output size are limited, the input is a /Contents
//! string of at most a few hundred KiB.

/// Deepest nesting accepted (a CMS SignedData with certificates nests about 12 levels).
const MAX_DEPTH: usize = 64;

/// Why BER could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BerError(pub String);

impl std::fmt::Display for BerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: &str) -> Result<T, BerError> {
    Err(BerError(msg.to_string()))
}

/// Does the first element of `input` use an indefinite length anywhere (or a constructed string)?
/// Cheap pre-check so DER input is decoded as it is.
/// Walks the encoding in place (no copy): true exactly when `to_der` succeeds and differs from the
/// input it consumed.
pub fn needs_normalising(input: &[u8]) -> bool {
    check(input, 0).map(|(_, changed)| changed).unwrap_or(false)
}

/// `element` without writing anything: the input bytes it would consume, and whether its output
/// would differ from them (an indefinite or non-minimal length, a constructed OCTET STRING, a
/// repeated SET element). Fails exactly where `element` fails.
fn check<'a>(input: &'a [u8], depth: usize) -> Result<(usize, bool), BerError> {
    if depth > MAX_DEPTH {
        return err("nested too deeply");
    }
    let (tag, constructed) = identifier(input)?;
    let rest = input.get(tag.len()..).unwrap_or_default();
    let (len, len_len) = length(rest)?;
    let body_start = tag.len() + len_len;
    let body = input.get(body_start..).unwrap_or_default();
    let mut changed = len.is_none_or(|n| len_len != minimal_length_len(n));
    if !constructed {
        let Some(n) = len else { return err("indefinite length on a primitive element") };
        if body.len() < n {
            return err("element longer than its container");
        }
        return Ok((body_start + n, changed));
    }
    let set_like = matches!(tag, [0x31] | [0xa0] | [0xa1]);
    let octets = tag == [0x24];
    changed |= octets;
    let mut seen: Vec<&'a [u8]> = Vec::new();
    let child = |value: &'a [u8]| -> Result<usize, BerError> {
        let (used, child_changed) = check(value, depth + 1)?;
        changed |= child_changed;
        if octets && !matches!(identifier(value)?.0, [0x04] | [0x24]) {
            return err("a constructed OCTET STRING holds something else");
        }
        if set_like {
            // Raw bytes equal means DER forms equal; DER forms equal with raw bytes differing
            // means a child changed, which already marks this element.
            let raw = value.get(..used).unwrap_or_default();
            if seen.contains(&raw) {
                changed = true;
            } else {
                seen.push(raw);
            }
        }
        Ok(used)
    };
    let consumed = each_child(body, len, child)?;
    Ok((body_start + consumed, changed))
}

/// Walk the children in `body` of a constructed element of length `len` (`None`: indefinite, up
/// to its end-of-contents), calling `child` on the rest of the body at each one; `child` returns
/// the bytes that child took. Returns the body bytes consumed (end-of-contents included).
fn each_child<'a>(
    body: &'a [u8],
    len: Option<usize>,
    mut child: impl FnMut(&'a [u8]) -> Result<usize, BerError>,
) -> Result<usize, BerError> {
    match len {
        Some(n) => {
            let Some(mut value) = body.get(..n) else { return err("element longer than its container") };
            while !value.is_empty() {
                let used = child(value)?;
                value = value.get(used..).unwrap_or_default();
            }
            Ok(n)
        }
        None => {
            let mut at = 0;
            loop {
                let value = body.get(at..).unwrap_or_default();
                if value.starts_with(&[0, 0]) {
                    return Ok(at + 2);
                }
                if value.is_empty() {
                    return err("indefinite length without end-of-contents");
                }
                at += child(value)?;
            }
        }
    }
}

/// How many bytes `push_length` writes for `len`.
fn minimal_length_len(len: usize) -> usize {
    if len < 0x80 {
        return 1;
    }
    1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
}

/// The DER form of the first element of `input`, and how many input bytes it took.
pub fn to_der(input: &[u8]) -> Result<(Vec<u8>, usize), BerError> {
    let mut out = Vec::with_capacity(input.len());
    let used = element(input, 0, &mut out)?;
    Ok((out, used))
}

/// The identifier octets at the start of `input`: (their bytes, constructed?).
fn identifier(input: &[u8]) -> Result<(&[u8], bool), BerError> {
    let Some(&first) = input.first() else { return err("truncated: missing tag") };
    let mut len = 1;
    if first & 0x1f == 0x1f {
        // High tag number: base-128 continuation bytes (at most 4 accepted).
        loop {
            let Some(&b) = input.get(len) else { return err("truncated tag") };
            len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if len > 5 {
                return err("tag number too long");
            }
        }
    }
    Ok((input.get(..len).unwrap_or_default(), first & 0x20 != 0))
}

/// The length octets at `input`: `Some(n)` definite, `None` indefinite; and how many bytes they took.
fn length(input: &[u8]) -> Result<(Option<usize>, usize), BerError> {
    let Some(&first) = input.first() else { return err("truncated: missing length") };
    if first < 0x80 {
        return Ok((Some(usize::from(first)), 1));
    }
    if first == 0x80 {
        return Ok((None, 1));
    }
    let n = usize::from(first & 0x7f);
    if n > 4 {
        return err("length too long");
    }
    let mut v: usize = 0;
    for i in 0..n {
        let Some(&b) = input.get(1 + i) else { return err("truncated length") };
        v = (v << 8) | usize::from(b);
    }
    Ok((Some(v), 1 + n))
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let sig = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | sig.len() as u8);
    out.extend_from_slice(sig);
}

/// Normalise one element at the start of `input` into `out`; returns the input bytes consumed.
fn element(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return err("nested too deeply");
    }
    let (tag, constructed) = identifier(input)?;
    let rest = input.get(tag.len()..).unwrap_or_default();
    let (len, len_len) = length(rest)?;
    let body_start = tag.len() + len_len;
    let body = input.get(body_start..).unwrap_or_default();
    if !constructed {
        let Some(n) = len else { return err("indefinite length on a primitive element") };
        let Some(value) = body.get(..n) else { return err("element longer than its container") };
        out.extend_from_slice(tag);
        push_length(out, n);
        out.extend_from_slice(value);
        return Ok(body_start + n);
    }
    // Constructed: normalise the children into a buffer, then frame them with a definite length.
    let set_like = matches!(tag, [0x31] | [0xa0] | [0xa1]);
    let mut children: Vec<Vec<u8>> = Vec::new();
    let consumed = each_child(body, len, |value| {
        let mut one = Vec::new();
        let used = element(value, depth + 1, &mut one)?;
        if !(set_like && children.contains(&one)) {
            children.push(one);
        }
        Ok(used)
    })?;
    let inner = children.concat();
    if tag == [0x24] {
        // A constructed OCTET STRING (BER only): DER holds the concatenated segments, primitive.
        let joined = octet_segments(&inner)?;
        out.push(0x04);
        push_length(out, joined.len());
        out.extend_from_slice(&joined);
    } else {
        out.extend_from_slice(tag);
        push_length(out, inner.len());
        out.extend_from_slice(&inner);
    }
    Ok(body_start + consumed)
}

/// The contents of the (already normalised, primitive) OCTET STRING segments in `inner`.
fn octet_segments(mut inner: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut joined = Vec::new();
    while !inner.is_empty() {
        let (tag, _) = identifier(inner)?;
        if tag != [0x04] {
            return err("a constructed OCTET STRING holds something else");
        }
        let (Some(n), len_len) = length(inner.get(1..).unwrap_or_default())? else {
            return err("indefinite length on a primitive element");
        };
        let Some(v) = inner.get(1 + len_len..1 + len_len + n) else { return err("truncated segment") };
        joined.extend_from_slice(v);
        inner = inner.get(1 + len_len + n..).unwrap_or_default();
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER input comes back unchanged.
    #[test]
    fn der_is_unchanged() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xaa];
        assert_eq!(to_der(&der).unwrap(), (der.to_vec(), der.len()));
        assert!(!needs_normalising(&der));
    }

    /// Indefinite lengths become definite, constructed OCTET STRINGs primitive.
    #[test]
    fn indefinite_becomes_definite() {
        let ber = [0x30, 0x80, 0x02, 0x01, 0x01, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x01, 0xbb, 0, 0, 0, 0];
        let (der, used) = to_der(&ber).unwrap();
        assert_eq!(der, vec![0x30, 0x07, 0x02, 0x01, 0x01, 0x04, 0x02, 0xaa, 0xbb]);
        assert_eq!(used, ber.len());
        assert!(needs_normalising(&ber));
    }

    /// A SET holding the same element twice keeps one copy.
    #[test]
    fn duplicate_set_elements_collapse() {
        let ber = [0x31, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0, 0];
        assert_eq!(to_der(&ber).unwrap().0, vec![0x31, 0x03, 0x02, 0x01, 0x01]);
    }

    /// The in-place check agrees with normalising and comparing, on every prefix and one-byte
    /// change of a few DER and BER inputs (non-minimal lengths, nested constructed strings,
    /// repeated SET elements, truncations).
    #[test]
    fn check_agrees_with_normalising() {
        let reference = |input: &[u8]| {
            to_der(input)
                .map(|(der, used)| der.as_slice() != input.get(..used).unwrap_or_default())
                .unwrap_or(false)
        };
        let seeds: [&[u8]; 7] = [
            &[0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xaa],
            &[0x30, 0x80, 0x02, 0x01, 0x01, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x01, 0xbb, 0, 0, 0, 0],
            &[0x31, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0, 0],
            &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
            &[0xa0, 0x81, 0x07, 0x02, 0x01, 0x01, 0x02, 0x82, 0x00, 0x01, 0x01],
            &[0x24, 0x08, 0x24, 0x03, 0x04, 0x01, 0xaa, 0x04, 0x01, 0xbb],
            &[0x24, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0xbb],
        ];
        for seed in seeds {
            for end in 0..=seed.len() {
                let prefix = &seed[..end];
                assert_eq!(needs_normalising(prefix), reference(prefix), "{prefix:02x?}");
            }
            for at in 0..seed.len() {
                for b in [0x00, 0x01, 0x04, 0x24, 0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0xa0, 0xff] {
                    let mut v = seed.to_vec();
                    v[at] = b;
                    assert_eq!(needs_normalising(&v), reference(&v), "{v:02x?}");
                }
            }
        }
        assert!(needs_normalising(&[0x02, 0x81, 0x01, 0x05]));
        assert!(needs_normalising(&[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
        assert!(!needs_normalising(&[0x02, 0x81, 0x80]));
    }

    /// Truncated, unterminated and over-deep inputs are refused, never panic.
    #[test]
    fn bad_input_is_refused() {
        assert!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x01]).is_err());
        assert!(to_der(&[0x30, 0x05, 0x02]).is_err());
        assert!(to_der(&[0x02, 0x80, 0, 0]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert!(to_der(&deep).is_err());
        assert!(to_der(&[]).is_err());
    }
}
