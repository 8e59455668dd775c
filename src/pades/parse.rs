//! Reading signatures back from untrusted PDF bytes: signature fields, their /ByteRange and
//! /Contents, and the file's revision boundaries (byte-level scans in `scan`, re-exported here).
//! A [`ParsedSignature`] exists only once its byte range has been checked against the raw bytes
//! (starts at 0, in bounds, gap exactly the /Contents hex string); integrity, CMS and diff code
//! never see a raw /ByteRange.
//!
//! Knows nothing of trust or HTTP. ISO 32000-1 §12.8.1; ETSI EN 319 142-1 §5.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::budget::Budget;
use super::scan::{self, Blanked};
use crate::document::metadata::decode_text;
use crate::error::{PdfError, Result};

pub use super::scan::{check_inflation, max_nesting, revision_ends, MAX_STREAM_INFLATED, MAX_TOTAL_INFLATED};

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

/// A signature whose byte range has been checked against the file.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    pub field_name: String,
    pub object: ObjectId,
    /// [0, a, b, c]: signed bytes are [0, a) and [b, b + c).
    pub byte_range: [usize; 4],
    /// The CMS bytes (decoded /Contents, zero padding included).
    pub contents: Vec<u8>,
    pub sub_filter: String,
    /// /M as written (claimed signing time, not proof of time).
    pub signing_time: Option<String>,
    pub name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// DocMDP permission level when this signature certifies the document.
    pub docmdp: Option<i64>,
    /// The field's /Lock asks that nothing change after it (P = 1, Action All, or Action Exclude)
    /// except filling the fields in `lock_exclude`.
    pub locks: bool,
    pub lock_exclude: Vec<String>,
}

impl ParsedSignature {
    /// End of the revision this signature covers.
    pub fn signed_end(&self) -> usize {
        self.byte_range[2] + self.byte_range[3]
    }
}

/// A signature field that could not be turned into a [`ParsedSignature`], with the reason.
#[derive(Debug, Clone)]
pub struct BadSignature {
    pub field_name: String,
    pub reason: String,
}

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

/// Every signature field with a value, in the order of the revisions they sign.
pub fn signatures(pdf: &[u8], doc: &Document) -> Result<(Vec<ParsedSignature>, Vec<BadSignature>)> {
    signatures_of(pdf, doc, &Blanked::none(pdf), &mut Budget::default())
}

/// [`signatures`] of a document from [`load_for_verify`], the walk charged to `budget`.
pub fn signatures_loaded(
    pdf: &[u8],
    loaded: &Loaded<'_>,
    budget: &mut Budget,
) -> Result<(Vec<ParsedSignature>, Vec<BadSignature>)> {
    signatures_of(pdf, &loaded.doc, &loaded.blanked, budget)
}

fn signatures_of(
    pdf: &[u8],
    doc: &Document,
    blanked: &Blanked<'_>,
    budget: &mut Budget,
) -> Result<(Vec<ParsedSignature>, Vec<BadSignature>)> {
    let mut fields = Vec::new();
    if let Ok(catalog) = doc.catalog() {
        let form = catalog.get(b"AcroForm").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_dict().ok());
        if let Some(list) = form
            .and_then(|f| f.get(b"Fields").ok())
            .and_then(|o| deref(doc, o))
            .and_then(|o| o.as_array().ok())
        {
            let mut walk = FieldWalk { doc, seen: BTreeSet::new(), budget, out: &mut fields };
            for f in list {
                walk.collect(f, "", 0)?;
            }
        }
    }
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for (name, sig_ref, lock) in fields.into_iter().take(MAX_SIGNATURES) {
        match check_signature(pdf, doc, blanked, &name, &sig_ref) {
            Ok(s) => good.push(ParsedSignature {
                locks: lock.is_some(),
                lock_exclude: lock.unwrap_or_default(),
                ..s
            }),
            Err(reason) => bad.push(BadSignature { field_name: name, reason }),
        }
    }
    good.sort_by_key(|s| s.signed_end());
    Ok((good, bad))
}

/// `o` itself, or the object it refers to.
pub(crate) fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(r) => doc.get_object(*r).ok(),
        other => Some(other),
    }
}

/// A /Lock that locks the document: `Some(fields left open)` for P = 1 or Action All (none open)
/// and for Action Exclude (the listed fields open); `None` for Action Include (only some fields).
fn lock_of(doc: &Document, l: &Dictionary) -> Option<Vec<String>> {
    let action = l.get(b"Action").ok().and_then(|a| a.as_name().ok());
    if l.get(b"P").ok().and_then(|p| p.as_i64().ok()) == Some(1) || action == Some(b"All") {
        return Some(Vec::new());
    }
    if action != Some(b"Exclude") {
        return None;
    }
    let fields = l.get(b"Fields").ok().and_then(|f| deref(doc, f)).and_then(|f| f.as_array().ok());
    Some(fields.map(|a| a.iter().filter_map(decode_text).collect()).unwrap_or_default())
}

/// A signature field found in the form: full name, /V, and its lock's open fields.
type FoundField = (String, Object, Option<Vec<String>>);

/// One walk of the form-field tree (ISO 32000-1 §12.7.3.1): every node is visited once (a node
/// listed twice is refused: a field has one /Parent, so the fields form a tree), and every visit
/// is charged to the document's budget.
struct FieldWalk<'d, 'b> {
    doc: &'d Document,
    seen: BTreeSet<ObjectId>,
    budget: &'b mut Budget,
    out: &'b mut Vec<FoundField>,
}

impl FieldWalk<'_, '_> {
    fn collect(&mut self, f: &Object, parent: &str, depth: usize) -> Result<()> {
        if depth > MAX_FIELD_DEPTH || self.out.len() > MAX_SIGNATURES {
            return Ok(());
        }
        self.budget.visit()?;
        if let Object::Reference(id) = f {
            if !self.seen.insert(*id) {
                return Err(PdfError::Parse(format!(
                    "the form field tree lists object {} {} more than once (each field has one parent)",
                    id.0, id.1
                ))
                .into());
            }
        }
        let doc = self.doc;
        let Some(dict) = deref(doc, f).and_then(|o| o.as_dict().ok()) else { return Ok(()) };
        let part = dict.get(b"T").ok().and_then(decode_text).unwrap_or_default();
        let name = if parent.is_empty() { part } else { format!("{parent}.{part}") };
        if let Ok(kids) = dict.get(b"Kids").and_then(Object::as_array) {
            for k in kids {
                self.collect(k, &name, depth + 1)?;
            }
        }
        let is_sig = dict.get(b"FT").and_then(Object::as_name).map(|n| n == b"Sig").unwrap_or(false);
        if is_sig {
            if let Ok(v) = dict.get(b"V") {
                self.budget.visit()?;
                let lock = dict
                    .get(b"Lock")
                    .ok()
                    .and_then(|l| deref(doc, l))
                    .and_then(|l| l.as_dict().ok())
                    .and_then(|l| lock_of(doc, l));
                self.out.push((name, v.clone(), lock));
            }
        }
        Ok(())
    }
}

fn check_signature(
    pdf: &[u8],
    doc: &Document,
    blanked: &Blanked<'_>,
    name: &str,
    v: &Object,
) -> std::result::Result<ParsedSignature, String> {
    let object = v.as_reference().map_err(|_| "signature value is not an indirect object".to_string())?;
    let sig = doc.get_dictionary(object).map_err(|_| "signature value is not a dictionary".to_string())?;
    let text = |k: &[u8]| sig.get(k).ok().and_then(decode_text);
    let sub_filter = sig
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .map_err(|_| "missing /SubFilter".to_string())?;
    let br = sig
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map_err(|_| "missing or malformed /ByteRange".to_string())?;
    let nums: Vec<usize> =
        br.iter().filter_map(|o| o.as_i64().ok()).filter_map(|n| usize::try_from(n).ok()).collect();
    let [a0, a1, b0, b1] = <[usize; 4]>::try_from(nums.as_slice())
        .map_err(|_| "/ByteRange is not four non-negative integers".to_string())?;
    if a0 != 0 {
        return Err(format!("/ByteRange starts at {a0}, not 0"));
    }
    let end = b0.checked_add(b1).ok_or("/ByteRange overflows")?;
    if a1 == 0 || b0 <= a1 || end > pdf.len() {
        return Err(format!(
            "/ByteRange [0 {a1} {b0} {b1}] is out of order or past the end of the file ({} bytes)",
            pdf.len()
        ));
    }
    // The gap must sit inside this signature dictionary's own object, not in some other object
    // (signature wrapping: signed bytes relocated, a copied dictionary pointing at another gap).
    if let Some(lopdf::xref::XrefEntry::Normal { offset, .. }) = doc.reference_table.get(object.0) {
        let start = usize::try_from(*offset).unwrap_or(usize::MAX);
        let inside =
            start < a1 && pdf.get(start..a1).map(|s| !s.windows(6).any(|w| w == b"endobj")).unwrap_or(false);
        if !inside {
            return Err(
                "the /ByteRange gap is not inside this signature's dictionary (signed bytes were moved)"
                    .into(),
            );
        }
    }
    let parsed =
        sig.get(b"Contents").and_then(Object::as_str).map_err(|_| "missing /Contents".to_string())?;
    // A marker from `load_for_verify` stands for the hex string that was at its place.
    let original = blanked.original(parsed);
    let contents = original.as_deref().unwrap_or(parsed);
    if contents.is_empty() || contents.iter().all(|&b| b == 0) {
        return Err("/Contents is empty".into());
    }
    // The gap must be exactly the /Contents hex string: '<' hex '>' and nothing else.
    let gap = pdf.get(a1..b0).ok_or("/ByteRange gap out of bounds")?;
    let inner = gap
        .strip_prefix(b"<")
        .and_then(|g| g.strip_suffix(b">"))
        .ok_or("the /ByteRange gap is not a hex string")?;
    let hex: Vec<u8> = inner.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if !hex.len().is_multiple_of(2) || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Err("the /ByteRange gap contains non-hex bytes".into());
    }
    let decoded = scan::decode_hex(&hex);
    if decoded != contents {
        return Err("the /ByteRange gap is not this signature's /Contents (signed bytes were moved)".into());
    }
    let docmdp = sig
        .get(b"Reference")
        .and_then(Object::as_array)
        .ok()
        .and_then(|refs| {
            refs.iter().filter_map(|r| deref(doc, r)?.as_dict().ok()).find(|r| {
                r.get(b"TransformMethod").and_then(Object::as_name).map(|n| n == b"DocMDP").unwrap_or(false)
            })
        })
        .map(|r| {
            r.get(b"TransformParams")
                .ok()
                .and_then(|p| deref(doc, p))
                .and_then(|p| p.as_dict().ok())
                .and_then(|p| p.get(b"P").ok())
                .and_then(|p| p.as_i64().ok())
                .unwrap_or(2)
        });
    Ok(ParsedSignature {
        field_name: name.to_string(),
        object,
        byte_range: [a0, a1, b0, b1],
        contents: contents.to_vec(),
        sub_filter,
        signing_time: text(b"M"),
        // poppler's pdfsig writes /Name as UTF-8 without the BOM PDF 2.0 asks for (§7.9.2.2);
        // bytes that are valid multi-byte UTF-8 are read as such (PDFDocEncoding text rarely is).
        name: sig.get(b"Name").ok().and_then(|o| {
            let raw = o.as_str().ok()?;
            match std::str::from_utf8(raw) {
                Ok(t) if !raw.is_ascii() && !raw.starts_with(&[0xfe, 0xff]) => Some(t.to_string()),
                _ => decode_text(o),
            }
        }),
        reason: text(b"Reason"),
        location: text(b"Location"),
        docmdp,
        locks: false,
        lock_exclude: Vec::new(),
    })
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
