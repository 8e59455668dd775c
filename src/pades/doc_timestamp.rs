//! PAdES B-LTA: add a document timestamp to a PDF as one incremental update — an invisible
//! signature field whose value is `/Type /DocTimeStamp /SubFilter /ETSI.RFC3161`, its /Contents
//! an RFC 3161 TimeStampToken over the SHA-256 of the whole file's byte range (everything but the
//! /Contents hex string). Earlier bytes are never rewritten; the revision holds the field, its
//! widget, the page's /Annots and the AcroForm's /Fields, and nothing else the caller does not
//! add through `extra`.
//!
//! The token comes from the caller (`stamp`: digest → DER token), so this module knows nothing of
//! the TSA or of trust. ISO 32000-2 §12.8.5 (document timestamps), ETSI EN 319 142-1 §5.5
//! (B-LTA), RFC 3161.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{dictionary, Document, Object, ObjectId};

use crate::error::{PdfError, Result};

/// Bytes reserved for the token (hex doubles it): a P-256 TSA token with its certificate and
/// ESSCertIDv2 takes about 1.5 KiB.
pub const TOKEN_RESERVED: usize = 4 * 1024;
/// Width of the patched /ByteRange numbers.
const BR_WIDTH: usize = 10;
/// Field names of document timestamps: `DocTS1`, `DocTS2`, …
pub const FIELD_PREFIX: &str = "DocTS";
/// SubFilter of a document timestamp.
pub const SUBFILTER: &str = "ETSI.RFC3161";

/// A document-timestamp revision written but not yet filled: its token goes over `digest`.
pub struct Prepared {
    out: Vec<u8>,
    contents_pos: usize,
    /// SHA-256 state over the bytes before /Contents (shared by the byte range and the whole file).
    prefix: ring::digest::Context,
    /// SHA-256 of the byte range: what the token's message imprint must be.
    pub digest: [u8; 32],
}

/// A file's bytes with the SHA-256 state over its first `len` bytes (e.g. the archive's fixity
/// check of a record), so that a revision appended to them hashes only what it appends.
pub struct Hashed {
    pub bytes: Vec<u8>,
    pub state: ring::digest::Context,
    pub len: usize,
}

impl Prepared {
    /// Put `token` (a TimeStampToken, DER) into /Contents: the finished file.
    pub fn finish(self, token: &[u8]) -> Result<Vec<u8>> {
        self.fill(token).map(|(out, _)| out)
    }

    /// [`finish`](Self::finish), also giving the SHA-256 of the finished file (from the state
    /// over the bytes before /Contents: only the token's slot and what follows are hashed).
    pub fn finish_hashed(self, token: &[u8]) -> Result<(Vec<u8>, [u8; 32])> {
        let from = self.contents_pos;
        let (out, mut ctx) = self.fill(token)?;
        ctx.update(out.get(from..).unwrap_or_default());
        let mut sha = [0u8; 32];
        sha.copy_from_slice(ctx.finish().as_ref());
        Ok((out, sha))
    }

    fn fill(mut self, token: &[u8]) -> Result<(Vec<u8>, ring::digest::Context)> {
        if token.len() > TOKEN_RESERVED {
            return Err(PdfError::SignatureTooLarge { needed: token.len(), reserved: TOKEN_RESERVED }.into());
        }
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let from = self.contents_pos + 1;
        let slot =
            self.out.get_mut(from..from + 2 * token.len()).ok_or(PdfError::Missing("/Contents slot"))?;
        for (pair, b) in slot.chunks_exact_mut(2).zip(token) {
            pair.copy_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        Ok((self.out, self.prefix))
    }
}

/// Add a document timestamp to `pdf`; `extra` objects are written in the same revision (the
/// caller answers for them). `stamp` turns the byte range's SHA-256 into a token.
pub fn add(
    pdf: &[u8],
    extra: &[(ObjectId, Object)],
    stamp: &mut dyn FnMut(&[u8; 32]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let prepared = prepare(pdf, extra)?;
    let token = stamp(&prepared.digest)?;
    prepared.finish(&token)
}

/// The document-timestamp revision of `pdf` with its /Contents still empty (so that many can be
/// stamped in one batch of tokens).
pub fn prepare(pdf: &[u8], extra: &[(ObjectId, Object)]) -> Result<Prepared> {
    prepare_on(super::write::head(pdf)?, pdf, extra)
}

/// [`prepare`] on `pdf` already read into `head` (e.g. by the DSS update before it,
/// `ltv::append_to`).
pub fn prepare_on(head: super::write::Head, pdf: &[u8], extra: &[(ObjectId, Object)]) -> Result<Prepared> {
    let hashed =
        Hashed { bytes: pdf.to_vec(), state: ring::digest::Context::new(&ring::digest::SHA256), len: 0 };
    prepare_hashed(head, hashed, extra)
}

/// [`prepare_on`], appending the revision to the file's own buffer (no copy) and hashing on from
/// the state the caller holds over its first bytes.
pub fn prepare_hashed(
    head: super::write::Head,
    pdf: Hashed,
    extra: &[(ObjectId, Object)],
) -> Result<Prepared> {
    let super::write::Head { doc, prev_xref, root: root_id, next } = head;
    let page_id = *doc.get_pages().get(&1).ok_or(PdfError::Missing("a page"))?;
    let mut objects: BTreeMap<ObjectId, Object> = extra.iter().cloned().collect();
    let mut next = next.max(objects.keys().map(|k| k.0 + 1).max().unwrap_or(0));
    let mut alloc = |o: Object, objects: &mut BTreeMap<ObjectId, Object>| {
        let id = (next, 0);
        next += 1;
        objects.insert(id, o);
        id
    };
    let sig_id = alloc(Object::Null, &mut objects); // written by hand below
    let name = format!("{FIELD_PREFIX}{}", next_number(&doc));
    let widget = dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Sig",
        "T" => Object::string_literal(name.as_str()), "V" => sig_id, "P" => page_id, "F" => 132,
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
    };
    let widget_id = alloc(Object::Dictionary(widget), &mut objects);

    // The caller's `extra` may already hold a new page or /Annots array: build on those.
    let mut page = match objects.get(&page_id) {
        Some(Object::Dictionary(d)) => d.clone(),
        _ => doc.get_dictionary(page_id).map_err(|_| PdfError::Missing("page dictionary"))?.clone(),
    };
    match page.get(b"Annots") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut arr = match objects.get(&r) {
                Some(Object::Array(a)) => a.clone(),
                _ => doc
                    .get_object(r)
                    .and_then(Object::as_array)
                    .map_err(|_| PdfError::Missing("/Annots array"))?
                    .clone(),
            };
            arr.push(widget_id.into());
            objects.insert(r, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(widget_id.into());
            page.set("Annots", a);
            objects.insert(page_id, Object::Dictionary(page));
        }
        _ => {
            page.set("Annots", vec![widget_id.into()]);
            objects.insert(page_id, Object::Dictionary(page));
        }
    }
    let mut catalog = match objects.get(&root_id) {
        Some(Object::Dictionary(d)) => d.clone(),
        _ => doc.get_dictionary(root_id).map_err(|_| PdfError::Missing("catalog"))?.clone(),
    };
    let mut catalog_changed = false;
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut form =
                doc.get_dictionary(r).map_err(|_| PdfError::Missing("/AcroForm dictionary"))?.clone();
            super::sign::add_field(&doc, &mut form, widget_id, &mut objects)?;
            objects.insert(r, Object::Dictionary(form));
        }
        Ok(Object::Dictionary(f)) => {
            let mut form = f.clone();
            super::sign::add_field(&doc, &mut form, widget_id, &mut objects)?;
            catalog.set("AcroForm", form);
            catalog_changed = true;
        }
        _ => {
            let form = alloc(
                Object::Dictionary(dictionary! { "Fields" => vec![widget_id.into()], "SigFlags" => 3 }),
                &mut objects,
            );
            catalog.set("AcroForm", form);
            catalog_changed = true;
        }
    }
    if catalog_changed {
        objects.insert(root_id, Object::Dictionary(catalog));
    }
    write(pdf, &doc, objects, sig_id, root_id, prev_xref, next)
}

/// One more than the highest `DocTS<n>` field number in the AcroForm.
fn next_number(doc: &Document) -> usize {
    let Some(catalog) = doc.catalog().ok() else { return 1 };
    let form = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => doc.get_dictionary(*r).ok(),
        Ok(Object::Dictionary(d)) => Some(d),
        _ => None,
    };
    let fields = match form.and_then(|f| f.get(b"Fields").ok()) {
        Some(Object::Reference(r)) => doc.get_object(*r).ok().and_then(|o| o.as_array().ok()),
        Some(Object::Array(a)) => Some(a),
        _ => None,
    };
    fields
        .map(|a| {
            a.iter()
                .take(super::ltv::MAX_ENTRIES)
                .filter_map(|f| f.as_reference().ok())
                .filter_map(|id| doc.get_dictionary(id).ok())
                .filter_map(|d| d.get(b"T").ok().and_then(|t| t.as_str().ok()))
                .filter_map(|t| {
                    std::str::from_utf8(t).ok()?.strip_prefix(FIELD_PREFIX)?.parse::<usize>().ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
        + 1
}

/// Serialise the revision and patch /ByteRange; the digest of the byte range is what the token
/// must be over.
fn write(
    pdf: Hashed,
    doc: &Document,
    mut objects: BTreeMap<ObjectId, Object>,
    sig_id: ObjectId,
    root: ObjectId,
    prev_xref: usize,
    next: u32,
) -> Result<Prepared> {
    let io = |e: std::io::Error| PdfError::Parse(e.to_string());
    objects.remove(&sig_id);
    let Hashed { bytes: mut out, state: ctx, len: hashed } = pdf;
    let mut offsets = BTreeMap::new();
    super::write::append_objects(&mut out, &objects, &mut offsets)?;
    offsets.insert(sig_id.0, out.len());
    writeln!(out, "{} {} obj", sig_id.0, sig_id.1).map_err(io)?;
    out.extend_from_slice(
        b"<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [",
    );
    let br_pos = out.len();
    out.extend_from_slice(format!("{:<w$}", "0 0 0 0", w = 4 * (BR_WIDTH + 1)).as_bytes());
    out.extend_from_slice(b"] /Contents ");
    let contents_pos = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', TOKEN_RESERVED * 2));
    out.extend_from_slice(b"> >>\nendobj\n");
    super::write::finish_update(&mut out, &offsets, doc, root, prev_xref, next)?;

    let gap_end = contents_pos + 2 + TOKEN_RESERVED * 2;
    let br = format!("0 {contents_pos} {gap_end} {}", out.len() - gap_end);
    let slot = out.get_mut(br_pos..br_pos + 4 * (BR_WIDTH + 1)).ok_or(PdfError::Missing("ByteRange slot"))?;
    slot.fill(b' ');
    slot.get_mut(..br.len()).ok_or(PdfError::Missing("ByteRange slot"))?.copy_from_slice(br.as_bytes());
    // The bytes the caller hashed are a prefix of `out` (updates only append).
    let (mut ctx, hashed) = if hashed <= contents_pos {
        (ctx, hashed)
    } else {
        (ring::digest::Context::new(&ring::digest::SHA256), 0)
    };
    ctx.update(out.get(hashed..contents_pos).unwrap_or_default());
    let prefix = ctx.clone();
    ctx.update(out.get(gap_end..).unwrap_or_default());
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ctx.finish().as_ref());
    Ok(Prepared { out, contents_pos, prefix, digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashing on from the caller's state over the file's first bytes gives the byte range's
    /// digest and the finished file's SHA-256 that hashing from scratch gives.
    #[test]
    fn hashing_on_from_a_prefix_state() {
        let mut doc = Document::with_version("1.7");
        let pages = doc.new_object_id();
        let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages });
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        let mut state = ring::digest::Context::new(&ring::digest::SHA256);
        state.update(&pdf);
        let len = pdf.len();
        let head = super::super::write::head(&pdf).unwrap();
        let prepared = prepare_hashed(head, Hashed { bytes: pdf, state, len }, &[]).unwrap();
        let digest = prepared.digest;
        let (out, sha) = prepared.finish_hashed(&[0x30, 0x03, 1, 2, 3]).unwrap();
        assert_eq!(sha, crate::pades::cms::sha256(&out));
        let contents = out.windows(11).position(|w| w == b"/Contents <").unwrap() + 10;
        let gap_end = contents + 2 + 2 * TOKEN_RESERVED;
        assert_eq!(digest, crate::pades::cms::sha256(&[&out[..contents], &out[gap_end..]].concat()));
    }
}
