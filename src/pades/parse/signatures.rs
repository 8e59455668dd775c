//! Signature fields read from a parsed PDF: the form-field tree walked once (every node charged
//! to the budget, a node listed twice refused), each signed field's /Lock, and each /V turned
//! into a [`ParsedSignature`] only after its /ByteRange is checked against the raw bytes (starts
//! at 0, in bounds, the gap inside the signature's own object and exactly its /Contents hex
//! string); anything else is a [`BadSignature`] with the reason.
//!
//! Knows lopdf's objects and the file's bytes (loading and the limits are `parse`'s); nothing of
//! trust or HTTP. ISO 32000-1 §12.7.3.1 (field tree) and §12.8.1; ETSI EN 319 142-1 §5.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{deref, Loaded, MAX_FIELD_DEPTH, MAX_SIGNATURES};
use crate::document::metadata::decode_text;
use crate::error::{PdfError, Result};
use crate::pades::budget::Budget;
use crate::pades::scan::{self, Blanked};

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

/// Every signature field with a value, in the order of the revisions they sign.
pub fn signatures(pdf: &[u8], doc: &Document) -> Result<(Vec<ParsedSignature>, Vec<BadSignature>)> {
    signatures_of(pdf, doc, &Blanked::none(pdf), &mut Budget::default())
}

/// [`signatures`] of a document from [`load_for_verify`](super::load_for_verify), the walk
/// charged to `budget`.
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
