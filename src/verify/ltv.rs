//! Long-term validation in the verifier (PAdES B-LT): which revocation data the document itself
//! carries (its /DSS CRLs, for `trust::revocation`), and the one difference-analysis rule that
//! lets a later revision add to the DSS — the DSS dictionary and its arrays may change, nothing
//! else (every other change is judged by `changes` as before, so a DSS update that also touches a
//! page, an annotation or a form value is still refused).
//!
//! Reads PDF objects through `pades::ltv`; decides nothing about trust. ISO 32000-2 §12.8.4.3,
//! ETSI EN 319 142-1 §5.4 (DSS updates are allowed after any signature, DocMDP included).

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::error::PdfError;
use crate::pades::budget::Budget;
use crate::pades::ltv;

/// The CRLs (DER) of the document's DSS.
pub fn embedded_crls(doc: &Document, budget: &mut Budget) -> Result<Vec<Vec<u8>>, PdfError> {
    Ok(ltv::read(doc, budget)?.crls)
}

/// The catalog's /DSS entry may appear or change when it names a DSS dictionary (keys from
/// ISO 32000-2 Table 261 only) that is either the signed revision's own DSS object or a new one.
pub fn catalog_dss_ok(old_doc: &Document, old: &Dictionary, new_doc: &Document, new: &Dictionary) -> bool {
    let (o, n) = (old.get(b"DSS").ok(), new.get(b"DSS").ok());
    if o.map(crate::pades::write::to_bytes) == n.map(crate::pades::write::to_bytes) {
        return true;
    }
    match n {
        None => false,
        Some(Object::Dictionary(d)) => dss_keys_ok(d),
        Some(Object::Reference(r)) => {
            let fresh = !old_doc.objects.contains_key(r);
            let same = matches!(o, Some(Object::Reference(x)) if x == r);
            (fresh || same) && new_doc.get_dictionary(*r).map(dss_keys_ok).unwrap_or(false)
        }
        Some(_) => false,
    }
}

fn dss_keys_ok(d: &Dictionary) -> bool {
    d.iter().all(|(k, _)| ltv::DSS_KEYS.contains(&k.as_slice()))
        && d.get(b"Type").map(|t| t.as_name().map(|n| n == b"DSS").unwrap_or(false)).unwrap_or(true)
}

/// The objects of the signed revision's DSS (its dictionary and arrays) that a later revision
/// rewrote and was allowed to: those that are still DSS parts of the same kind in the final document and that
/// nothing but the catalog and the DSS refers to (so rewriting one cannot change a page).
pub fn rewritable_parts(
    old: &Document,
    new: &Document,
    budget: &mut Budget,
) -> Result<BTreeSet<ObjectId>, PdfError> {
    let (o, n) = (ltv::parts(old), ltv::parts(new));
    let mut out: BTreeSet<ObjectId> = o
        .into_iter()
        .filter(|(id, kind)| {
            n.get(id) == Some(kind)
                && match (old.objects.get(id), new.objects.get(id)) {
                    (Some(Object::Dictionary(_)), Some(Object::Dictionary(d))) => {
                        *kind != "DSS" || dss_keys_ok(d)
                    }
                    (Some(Object::Array(_)), Some(Object::Array(_))) => true,
                    _ => false,
                }
                && old.objects.get(id).map(crate::pades::write::to_bytes)
                    != new.objects.get(id).map(crate::pades::write::to_bytes)
        })
        .map(|(id, _)| id)
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let catalog = new.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let dss_id = n.iter().find(|(_, k)| **k == "DSS").map(|(id, _)| *id);
    for (id, obj) in &new.objects {
        budget.visit()?;
        if Some(*id) == catalog || Some(*id) == dss_id {
            continue;
        }
        let mut refs = Vec::new();
        super::changes::collect_refs(obj, &mut refs, 0, budget)?;
        out.retain(|p| !refs.contains(p));
        if out.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// Whether the revision ending at `end` (after the one ending at `prev`) changed the document's
/// DSS: its catalog entry, dictionary or arrays. Both revisions come from `revisions` (parsed from
/// the bytes of the whole file once per document), charged to `budget`.
pub fn is_dss_update(
    revisions: &super::revisions::Revisions<'_>,
    prev: usize,
    end: usize,
    budget: &mut Budget,
) -> crate::error::Result<bool> {
    let (Some(before), Some(after)) = (revisions.at(prev, budget)?, revisions.at(end, budget)?) else {
        return Ok(false);
    };
    Ok(dss_fingerprint(&before) != dss_fingerprint(&after))
}

/// The serialised DSS of a document: the catalog's entry and every DSS part.
fn dss_fingerprint(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(d) = doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()) {
        out.extend(crate::pades::write::to_bytes(d));
    }
    for id in ltv::parts(doc).keys() {
        if let Some(o) = doc.objects.get(id) {
            out.extend(crate::pades::write::to_bytes(o));
        }
    }
    out
}
