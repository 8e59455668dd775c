//! Reading signatures back from untrusted PDF bytes: signature fields, their /ByteRange and
//! /Contents (`signatures`), and the file's revision boundaries (byte-level scans in `scan`);
//! both re-exported here.
//! A [`ParsedSignature`] exists only once its byte range has been checked against the raw bytes
//! (starts at 0, in bounds, gap exactly the /Contents hex string); integrity, CMS and diff code
//! never see a raw /ByteRange.
//!
//! Knows nothing of trust or HTTP. ISO 32000-1 §12.8.1; ETSI EN 319 142-1 §5.

mod signatures;

use lopdf::{Document, Object};

use super::budget::Budget;
use super::scan::{self, Blanked};
use crate::error::{PdfError, Result};

pub use super::scan::{check_inflation, max_nesting, revision_ends, MAX_STREAM_INFLATED, MAX_TOTAL_INFLATED};

pub use signatures::{signatures, signatures_loaded, BadSignature, ParsedSignature};

/// Largest PDF accepted for verification or sealing (64 MiB: licences are ~100 KiB).
pub const MAX_PDF_SIZE: usize = 64 * 1024 * 1024;
/// Most signature fields examined (a licence has a handful).
pub const MAX_SIGNATURES: usize = 64;
/// Deepest /Kids nesting followed in the field tree.
pub const MAX_FIELD_DEPTH: usize = 16;
/// Most objects a file may hold.
pub const MAX_OBJECTS: usize = 200_000;
/// Deepest nesting of arrays and dictionaries accepted. lopdf's parser recurses on nesting, so
/// deeper input could exhaust the stack; real documents stay below 20.
pub const MAX_NESTING: usize = 100;

pub fn check_header(pdf: &[u8]) -> Result<()> {
    if pdf.is_empty() {
        return Err(PdfError::Empty.into());
    }
    if pdf.len() > MAX_PDF_SIZE {
        return Err(PdfError::TooLarge { size: pdf.len(), limit: MAX_PDF_SIZE }.into());
    }
    // ISO 32000 allows the header within the first 1024 bytes.
    let head = pdf.get(..pdf.len().min(1024)).unwrap_or(pdf);
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::NotPdf.into());
    }
    Ok(())
}

/// Offset named by the last `startxref` in the file.
pub fn last_startxref(pdf: &[u8]) -> Option<usize> {
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = pdf.get(tail_start..)?;
    let pos = tail.windows(9).rposition(|w| w == b"startxref")?;
    let rest = tail.get(pos + 9..)?;
    let digits: String = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().ok()
}

/// Load the document structure (the last revision) with the size and object limits applied.
pub fn load(pdf: &[u8]) -> Result<Document> {
    checked_scan(pdf)?;
    parse_checked(pdf, &mut Budget::default())
}

/// A document parsed for verification: long /Contents hex strings were replaced by markers
/// before parsing (see [`Blanked`]); [`signatures_loaded`] reads their values from the original
/// bytes.
pub struct Loaded<'a> {
    pub doc: Document,
    pub blanked: Blanked<'a>,
    /// Earlier revisions parsed on the way (`revision_chain`), by the offset where each ends:
    /// each is what [`load_revision`] of its prefix of `blanked` gives.
    pub earlier: std::collections::BTreeMap<usize, Document>,
}

/// [`load`] for verification: the same limits, without lopdf reading the signatures' hex; the
/// parse is charged to `budget`. The revisions ending at `ends` are parsed on the way, each from
/// the one before (`revision_chain`), when the file allows it.
pub fn load_for_verify<'a>(pdf: &'a [u8], ends: &[usize], budget: &mut Budget) -> Result<Loaded<'a>> {
    let s = checked_scan(pdf)?;
    budget.check_cancel()?;
    let blanked = Blanked::new(pdf, s.contents)?;
    let chain = super::revision_chain::parse(blanked.bytes(), ends, budget)?;
    let doc = match chain.whole {
        Some(doc) => doc,
        None => parse_checked(blanked.bytes(), budget)?,
    };
    Ok(Loaded { doc, blanked, earlier: chain.revisions.into_iter().collect() })
}

/// Parse a signed revision (a prefix of bytes already checked by [`load_for_verify`]) on its own,
/// charged to `budget`.
pub fn load_revision(bytes: &[u8], budget: &mut Budget) -> Result<Document> {
    parse_checked(bytes, budget)
}

/// Header, size, nesting and decompression limits, checked on the raw bytes.
pub(super) fn checked_scan(pdf: &[u8]) -> Result<scan::Scan> {
    check_header(pdf)?;
    let s = scan::scan(pdf);
    if s.max_nesting > MAX_NESTING {
        let depth = s.max_nesting;
        return Err(PdfError::Parse(format!(
            "arrays/dictionaries nested {depth} deep, over the limit of {MAX_NESTING}"
        ))
        .into());
    }
    check_inflation(pdf)?;
    Ok(s)
}

fn parse_checked(bytes: &[u8], budget: &mut Budget) -> Result<Document> {
    budget.parse(bytes.len())?;
    let doc = super::parser_thread::load_mem(bytes)?;
    if doc.objects.len() > MAX_OBJECTS {
        return Err(PdfError::Parse(format!(
            "{} objects, over the limit of {MAX_OBJECTS}",
            doc.objects.len()
        ))
        .into());
    }
    if doc.trailer.get(b"Encrypt").is_ok() {
        return Err(PdfError::Encrypted.into());
    }
    Ok(doc)
}

/// `o` itself, or the object it refers to.
pub(crate) fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(r) => doc.get_object(*r).ok(),
        other => Some(other),
    }
}

/// Object numbers marked free in the classic xref sections of `tail` (a file's later revisions).
/// Read line by line as text (a line break is never part of a multi-byte character, so each line
/// reads as it would in the whole text); lines outside a section are read only when they hold
/// `xref`, so the binary stream data between sections is never converted.
pub fn freed_objects(tail: &[u8]) -> Vec<u32> {
    let mut freed = Vec::new();
    let mut lines = tail.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).peekable();
    let text = |l: &[u8]| String::from_utf8_lossy(l).trim().to_string();
    while let Some(line) = lines.next() {
        if !line.windows(4).any(|w| w == b"xref") || text(line) != "xref" {
            continue;
        }
        // Subsections: "start count", then count entries "offset gen n|f".
        while let Some(head) = lines.peek().copied() {
            let nums: Vec<u32> = text(head).split_whitespace().filter_map(|t| t.parse().ok()).collect();
            let [start, count] = nums.as_slice() else { break };
            let (start, count) = (*start, *count);
            lines.next();
            for k in 0..count.min(100_000) {
                let Some(entry) = lines.next() else { break };
                if text(entry).ends_with('f') && start + k != 0 {
                    freed.push(start + k);
                }
            }
        }
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deep nesting is refused before the recursive parser sees it; strings and streams don't count.
    #[test]
    fn nesting_limit() {
        let mut deep = b"%PDF-1.7\n1 0 obj\n".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 100_000));
        assert!(load(&deep).is_err());
        assert_eq!(max_nesting(b"<< /A [1 [2]] /B (([[[[)) >>"), 3);
        assert_eq!(max_nesting(b"<< /Length 3 >>\nstream\n[[[\nendstream"), 1);
    }

    /// Unterminated streams and strings hide nothing after them (issue 10: a bare `stream`
    /// keyword used to end the scan).
    #[test]
    fn unterminated_tokens_hide_nothing() {
        assert_eq!(max_nesting(b"<< >>\nstream\n[[[["), 4);
        assert_eq!(max_nesting(b"(abc [[[["), 4);
        assert_eq!(max_nesting(b"(a) (b [[ (c) [["), 4);
        assert_eq!(max_nesting(b"<4142 [[[["), 4);
        let mut deep = b"%PDF-1.7\n1 0 obj\n<< >>\nstream\n".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 5_000));
        assert!(load(&deep).unwrap_err().to_string().contains("nested 5000 deep"));
    }

    /// A Flate stream that inflates past the limit is refused; a normal one passes.
    #[test]
    fn inflation_limit() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; usize::try_from(MAX_STREAM_INFLATED).unwrap() + 10]).unwrap();
        let bomb = z.finish().unwrap();
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Length 1 /Filter /FlateDecode >>\nstream\n".to_vec();
        pdf.extend_from_slice(&bomb);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        assert!(check_inflation(&pdf).unwrap_err().to_string().contains("inflates beyond"));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(b"BT ET").unwrap();
        let mut ok = b"%PDF-1.7\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\n".to_vec();
        ok.extend_from_slice(&z.finish().unwrap());
        ok.extend_from_slice(b"\nendstream\nendobj\n");
        assert!(check_inflation(&ok).is_ok());
    }
}
