//! PAdES B-LT: the Document Security Store (/DSS) a sealed PDF carries so that it can be validated
//! offline — the certificates of the seal's chain (root included) and a CRL of every CA on that
//! path. The DSS is written in its own incremental update right after the sealing revision
//! ([`append`]), because its CRLs must be issued after the signature timestamp: revocation data
//! older than the signing time cannot show that the certificate was not revoked when it signed
//! (ETSI EN 319 102-1 §5.2.5.4 and the past-validation time slide, §5.6.2.1; pyHanko's
//! adesverify applies it). A later seal adds its department's material to the same dictionary
//! (earlier entries are kept, identical blobs are not repeated). [`read`] gives a verifier the
//! CRLs and certificates of the final DSS; the verifier's difference analysis lets a DSS update
//! change the DSS and nothing else (`verify::ltv`).
//!
//! No /VRI: EN 319 142-1 makes VRI optional and validators (pyHanko, DSS) use the DSS-wide /Certs
//! and /CRLs. VRI entries that a later tool wrote are kept.
//!
//! Knows PDF objects only: the DER blobs come from the caller (`pki::SealSigner`); nothing here
//! parses certificates or decides trust. ISO 32000-2 §12.8.4.3 (DSS), ETSI EN 319 142-1 §5.4.2
//! and §6.3 (B-LT), ETSI TS 102 778-4.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::write::Head;
use crate::pades::budget::Budget;

/// Entries read from or kept in one DSS array, at most (a hostile DSS cannot make sealing or
/// verifying walk more).
pub const MAX_ENTRIES: usize = 1000;

/// Keys a /DSS dictionary may hold (ISO 32000-2 Table 261).
pub const DSS_KEYS: &[&[u8]] = &[b"Type", b"Certs", b"CRLs", b"OCSPs", b"VRI"];

/// The validation material of the final DSS (DER).
#[derive(Debug, Clone, Default)]
pub struct Dss {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

/// The document's /DSS dictionary and its object id when indirect.
pub fn dss_dict<'a>(
    doc: &'a Document,
    catalog: &'a Dictionary,
) -> Option<(Option<ObjectId>, &'a Dictionary)> {
    match catalog.get(b"DSS").ok()? {
        Object::Reference(r) => doc.get_dictionary(*r).ok().map(|d| (Some(*r), d)),
        Object::Dictionary(d) => Some((None, d)),
        _ => None,
    }
}

/// The array under `key` of a DSS dictionary (direct or by reference), bounded.
fn entries<'a>(doc: &'a Document, dss: &'a Dictionary, key: &[u8]) -> Vec<&'a Object> {
    let arr = match dss.get(key) {
        Ok(Object::Array(a)) => Some(a),
        Ok(Object::Reference(r)) => doc.get_object(*r).ok().and_then(|o| o.as_array().ok()),
        _ => None,
    };
    arr.map(|a| a.iter().take(MAX_ENTRIES).collect()).unwrap_or_default()
}

/// The bytes of a DSS stream entry (decoded when filtered; unreadable entries are skipped).
fn stream_bytes(doc: &Document, o: &Object) -> Option<Vec<u8>> {
    let s = match o {
        Object::Reference(r) => doc.get_object(*r).ok()?.as_stream().ok()?,
        Object::Stream(s) => s,
        _ => return None,
    };
    if s.dict.get(b"Filter").is_ok() {
        s.decompressed_content().ok()
    } else {
        Some(s.content.clone())
    }
}

/// Add `certs` and `crls` (DER) to the DSS of the catalog `catalog` of `doc`: returns the new
/// catalog and the new objects, numbered from `next_id` up (the DSS dictionary keeps its object
/// number when it had one).
pub fn update(
    doc: &Document,
    mut catalog: Dictionary,
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
    next_id: u32,
) -> (Dictionary, Vec<(ObjectId, Object)>) {
    let mut next = next_id;
    let mut objects = Vec::new();
    let mut alloc = |o: Object, objects: &mut Vec<(ObjectId, Object)>| {
        let id = (next, 0);
        next += 1;
        objects.push((id, o));
        id
    };
    let (old_id, old) = match dss_dict(doc, &catalog) {
        Some((id, d)) => (id, d.clone()),
        None => (None, Dictionary::new()),
    };
    let mut dss = Dictionary::new();
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    for (key, blobs) in [(&b"Certs"[..], certs), (&b"CRLs"[..], crls)] {
        let kept: Vec<&Object> = entries(doc, &old, key);
        let have: Vec<Vec<u8>> = kept.iter().filter_map(|o| stream_bytes(doc, o)).collect();
        let mut arr: Vec<Object> = kept.into_iter().cloned().collect();
        for der in blobs {
            if have.iter().any(|h| h == der) || arr.len() >= MAX_ENTRIES {
                continue;
            }
            let id = alloc(Object::Stream(Stream::new(Dictionary::new(), der.clone())), &mut objects);
            arr.push(Object::Reference(id));
        }
        dss.set(key, Object::Array(arr));
    }
    // Whatever else an earlier tool put there (OCSP responses, VRI) stays as it was.
    for key in [&b"OCSPs"[..], &b"VRI"[..]] {
        if let Ok(v) = old.get(key) {
            dss.set(key, v.clone());
        }
    }
    let dss_id = old_id.unwrap_or_else(|| alloc(Object::Null, &mut objects));
    match objects.iter_mut().find(|(id, _)| *id == dss_id) {
        Some(slot) => slot.1 = Object::Dictionary(dss),
        None => objects.push((dss_id, Object::Dictionary(dss))),
    }
    catalog.set("DSS", Object::Reference(dss_id));
    (catalog, objects)
}

/// Append one incremental update to `pdf` that adds `certs` and `crls` (DER) to its DSS: the
/// catalog, the DSS dictionary and the new streams, nothing else. Returns the new file.
pub fn append(pdf: &[u8], certs: &[Vec<u8>], crls: &[Vec<u8>]) -> crate::error::Result<Vec<u8>> {
    append_from(pdf.to_vec(), super::write::head(pdf)?, certs, crls)
}

/// [`append`] to a file whose head the caller holds (one it has just written).
pub fn append_from(
    pdf: Vec<u8>,
    head: Head,
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> crate::error::Result<Vec<u8>> {
    append_to(pdf, head, certs, crls).map(|(out, _)| out)
}

/// [`append_from`], also giving the [`Head`] of the new file (the same document with the objects
/// this update wrote), so that a following update needs no second read.
pub fn append_to(
    pdf: Vec<u8>,
    head: Head,
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> crate::error::Result<(Vec<u8>, Head)> {
    use crate::error::PdfError;
    let Head { doc, prev_xref, root, next } = head;
    let catalog = doc.get_dictionary(root).map_err(|_| PdfError::Missing("catalog"))?.clone();
    let (catalog, objects) = update(&doc, catalog, certs, crls, next);
    let mut all: BTreeMap<ObjectId, Object> = objects.into_iter().collect();
    all.insert(root, Object::Dictionary(catalog));
    let next = all.keys().map(|id| id.0 + 1).max().unwrap_or(next).max(next);
    let mut out = pdf;
    let mut offsets = BTreeMap::new();
    super::write::append_objects(&mut out, &all, &mut offsets)?;
    let xref_pos = super::write::finish_update(&mut out, &offsets, &doc, root, prev_xref, next)?;
    Ok((out, super::write::head_after(doc, all, root, xref_pos, next)))
}

/// The certificates and CRLs of the document's DSS (empty when it has none), each entry charged
/// to `budget`.
pub fn read(doc: &Document, budget: &mut Budget) -> Result<Dss, crate::error::PdfError> {
    let mut out = Dss::default();
    let Some(catalog) = doc.catalog().ok() else { return Ok(out) };
    let Some((_, dss)) = dss_dict(doc, catalog) else { return Ok(out) };
    for (key, into) in [(&b"Certs"[..], &mut out.certs), (&b"CRLs"[..], &mut out.crls)] {
        for o in entries(doc, dss, key) {
            budget.visit()?;
            if let Some(b) = stream_bytes(doc, o) {
                into.push(b);
            }
        }
    }
    Ok(out)
}

/// Object ids of the DSS dictionary and its arrays in `doc` (those a DSS update may rewrite).
pub fn parts(doc: &Document) -> BTreeMap<ObjectId, &'static str> {
    let mut out = BTreeMap::new();
    let Some(catalog) = doc.catalog().ok() else { return out };
    if let Ok(Object::Reference(r)) = catalog.get(b"DSS") {
        out.insert(*r, "DSS");
    }
    if let Some((_, dss)) = dss_dict(doc, catalog) {
        for key in [&b"Certs"[..], &b"CRLs"[..], &b"OCSPs"[..], &b"VRI"[..]] {
            if let Ok(Object::Reference(r)) = dss.get(key) {
                out.insert(*r, "DSS entry");
            }
        }
    }
    out
}
