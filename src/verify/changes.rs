//! Difference analysis: what later revisions changed after a signature, judged by a whitelist
//! (as pyHanko does). Allowed: a new signature field, its widget and appearance (with the objects
//! only they reference), the page's /Annots and the AcroForm's /Fields growing by exactly those
//! fields, and the catalog gaining or updating its /AcroForm (and declaring /Extensions or /Version).
//! Everything else is reported.
//!
//! Works on two lopdf documents (the signed revision and the whole file); never touches trust.
//! Every object walked is charged to the document's work budget (`pades::budget`).

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::error::PdfError;
use crate::pades::budget::Budget;

/// Most objects walked when collecting what a new signature field references.
const MAX_WALK: usize = 10_000;

pub(super) fn bytes_of(o: &Object) -> Vec<u8> {
    crate::pades::write::to_bytes(o)
}

/// Are two objects the same, byte for byte as written?
pub(super) fn same(a: &Object, b: &Object) -> bool {
    identical(a, b) || bytes_of(a) == bytes_of(b)
}

/// The same value built the same way (dictionary entries in the same order, reals bit for bit):
/// enough for `same` without writing either out (most objects of a later revision are the signed
/// revision's own). Not `PartialEq`, which ignores the order of dictionary entries.
fn identical(a: &Object, b: &Object) -> bool {
    let dicts = |x: &Dictionary, y: &Dictionary| {
        x.len() == y.len() && x.iter().zip(y.iter()).all(|((k, v), (l, w))| k == l && identical(v, w))
    };
    match (a, b) {
        (Object::Real(x), Object::Real(y)) => x.to_bits() == y.to_bits(),
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| identical(v, w))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => dicts(x, y),
        (Object::Stream(x), Object::Stream(y)) => x.content == y.content && dicts(&x.dict, &y.dict),
        (Object::Null, Object::Null) => true,
        (Object::Boolean(_), Object::Boolean(_))
        | (Object::Integer(_), Object::Integer(_))
        | (Object::Name(_), Object::Name(_))
        | (Object::String(..), Object::String(..))
        | (Object::Reference(_), Object::Reference(_)) => a == b,
        _ => false,
    }
}

fn is_sig_widget(d: &Dictionary) -> bool {
    d.get(b"FT").and_then(Object::as_name).map(|n| n == b"Sig").unwrap_or(false)
}

/// Collect every object reachable from `start` (bounded).
fn reach(
    doc: &Document,
    start: ObjectId,
    out: &mut BTreeSet<ObjectId>,
    budget: &mut Budget,
) -> Result<(), PdfError> {
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        budget.visit()?;
        if out.len() > MAX_WALK || !out.insert(id) {
            continue;
        }
        let Ok(o) = doc.get_object(id) else { continue };
        let mut refs = Vec::new();
        collect_refs(o, &mut refs, 0, budget)?;
        // A widget's /P points back at the page: the page is judged on its own.
        if let Ok(d) = o.as_dict() {
            if let Ok(Object::Reference(p)) = d.get(b"P") {
                refs.retain(|r| r != p);
            }
        }
        stack.extend(refs);
    }
    Ok(())
}

/// The references inside `o` (not followed), one budget visit per array or dictionary.
pub(crate) fn collect_refs(
    o: &Object,
    out: &mut Vec<ObjectId>,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), PdfError> {
    if depth > 32 {
        return Ok(());
    }
    let items: Box<dyn Iterator<Item = &Object>> = match o {
        Object::Reference(r) => {
            out.push(*r);
            return Ok(());
        }
        Object::Array(a) => Box::new(a.iter()),
        Object::Dictionary(d) => Box::new(d.iter().map(|(_, x)| x)),
        Object::Stream(s) => Box::new(s.dict.iter().map(|(_, x)| x)),
        _ => return Ok(()),
    };
    budget.visit()?;
    for x in items {
        collect_refs(x, out, depth + 1, budget)?;
    }
    Ok(())
}

/// Does `new` equal `old` except that array `key` grew by references in `allowed` (and keys in `free`)?
fn only_grew(
    old: &Dictionary,
    new: &Dictionary,
    key: &[u8],
    allowed: &BTreeSet<ObjectId>,
    free: &[&[u8]],
) -> bool {
    let keys: BTreeSet<&[u8]> = old.iter().chain(new.iter()).map(|(k, _)| k.as_slice()).collect();
    keys.into_iter().all(|k| {
        if free.contains(&k) {
            return true;
        }
        let (o, n) = (old.get(k).ok(), new.get(k).ok());
        if k == key {
            return array_grew(o, n, allowed);
        }
        match (o, n) {
            (Some(o), Some(n)) => same(o, n),
            (o, n) => o.is_none() && n.is_none(),
        }
    })
}

fn array_grew(old: Option<&Object>, new: Option<&Object>, allowed: &BTreeSet<ObjectId>) -> bool {
    let empty = Vec::new();
    let o = old.and_then(|o| o.as_array().ok()).unwrap_or(&empty);
    let Some(n) = new.and_then(|n| n.as_array().ok()) else { return old.is_none() && new.is_none() };
    n.len() >= o.len()
        && n.iter().zip(o.iter()).all(|(a, b)| bytes_of(a) == bytes_of(b))
        && n.iter().skip(o.len()).all(|x| x.as_reference().map(|r| allowed.contains(&r)).unwrap_or(false))
}

/// The changes between the signed revision `old` and the final document `new` that no rule
/// allows; `Err` when the budget runs out (or the job is cancelled) first.
pub fn disallowed_changes(
    old: &Document,
    new: &Document,
    budget: &mut Budget,
) -> Result<Vec<String>, PdfError> {
    // New signature fields and everything only they bring in.
    // New signature fields, and empty ones that were signed since (their /V appeared).
    let mut new_fields = BTreeSet::new();
    let mut filled = BTreeSet::new();
    for (id, o) in &new.objects {
        budget.visit()?;
        let Ok(d) = o.as_dict() else { continue };
        if !is_sig_widget(d) {
            continue;
        }
        match old.objects.get(id).and_then(|o| o.as_dict().ok()) {
            // Only signed new fields are signature additions; an unsigned one is just an annotation.
            None if d.get(b"V").is_ok() => {
                new_fields.insert(*id);
            }
            Some(before) if before.get(b"V").is_err() && d.get(b"V").is_ok() => {
                filled.insert(*id);
            }
            _ => {}
        }
    }
    let mut allowed = BTreeSet::new();
    for f in new_fields.iter().chain(filled.iter()) {
        reach(new, *f, &mut allowed, budget)?;
    }
    let catalog_id = new.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let old_catalog = old.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let form_id = catalog_id
        .and_then(|c| new.get_dictionary(c).ok())
        .and_then(|c| c.get(b"AcroForm").and_then(Object::as_reference).ok());

    // PAdES B-LT: the DSS dictionary and its arrays may be rewritten (verify/ltv.rs).
    let dss_parts = super::ltv::rewritable_parts(old, new, budget)?;
    let mut problems = Vec::new();
    if catalog_id != old_catalog {
        problems.push("the document catalog was replaced".to_string());
    }
    // What a standard signer refreshes when it signs (`signer_updates`): XMP and /Info bookkeeping.
    let metadata = super::signer_updates::metadata_update(old, new);
    let info = super::signer_updates::info_update(old, new);
    let signer_owned: Vec<ObjectId> =
        [&metadata, &info].into_iter().filter_map(|v| v.as_ref().ok().copied().flatten()).collect();
    problems.extend([&metadata, &info].into_iter().filter_map(|v| v.as_ref().err().cloned()));
    let catalog_free: &[&[u8]] = if metadata.is_ok() {
        &[b"AcroForm", b"Extensions", b"Version", b"Metadata", b"DSS"]
    } else {
        &[b"AcroForm", b"Extensions", b"Version", b"DSS"]
    };
    for (id, old_obj) in &old.objects {
        budget.visit()?;
        let Some(new_obj) = new.objects.get(id) else {
            problems.push(format!("object {} {} was deleted", id.0, id.1));
            continue;
        };
        if same(old_obj, new_obj) || signer_owned.contains(id) || dss_parts.contains(id) {
            continue;
        }
        let ok = match (old_obj, new_obj) {
            (Object::Dictionary(o), Object::Dictionary(n)) if Some(*id) == catalog_id => {
                only_grew(o, n, b"__none__", &allowed, catalog_free)
                    && catalog_form_ok(o, n, &allowed)
                    && super::ltv::catalog_dss_ok(old, o, new, n)
                    && declarations_ok(n, budget)?
            }
            (Object::Dictionary(o), Object::Dictionary(n)) if Some(*id) == form_id => {
                only_grew(o, n, b"Fields", &new_fields, &[b"SigFlags"])
            }
            (Object::Dictionary(o), Object::Dictionary(n)) if is_page(n) => {
                only_grew(o, n, b"Annots", &new_fields, &[])
            }
            (Object::Dictionary(o), Object::Dictionary(n)) if filled.contains(id) => {
                match field_filled(old, o, n, budget)? {
                    None => true,
                    Some(key) => {
                        problems.push(format!(
                            "object {} {} (signature field): /{key} changed when the field was signed \
                             (a signer may set only /V, /AP and /AS)",
                            id.0, id.1
                        ));
                        continue;
                    }
                }
            }
            (Object::Array(_), Object::Array(_)) => array_grew(Some(old_obj), Some(new_obj), &new_fields),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "object {} {} ({}) was changed after signing",
                id.0,
                id.1,
                describe(new_obj)
            ));
        }
    }
    Ok(problems)
}

/// A signature field was signed: only /V and /AP changed, both pointing at objects the signed
/// revision did not have, and /AS (as pyHanko's SigFieldModificationRule allows). `Some(key)`
/// names the first key changed otherwise.
fn field_filled(
    old: &Document,
    before: &Dictionary,
    after: &Dictionary,
    budget: &mut Budget,
) -> Result<Option<String>, PdfError> {
    let mut fresh = |o: Option<&Object>| -> Result<bool, PdfError> {
        let mut refs = Vec::new();
        if let Some(o) = o {
            collect_refs(o, &mut refs, 0, budget)?;
        }
        Ok(!refs.is_empty() && refs.iter().all(|r| !old.objects.contains_key(r)))
    };
    let keys: BTreeSet<&[u8]> = before.iter().chain(after.iter()).map(|(k, _)| k.as_slice()).collect();
    for k in keys {
        let same = match k {
            b"V" | b"AP" => fresh(after.get(k).ok())?,
            b"AS" => after.get(k).map(|v| v.as_name().is_ok()).unwrap_or(true),
            _ => before.get(k).ok().map(bytes_of) == after.get(k).ok().map(bytes_of),
        };
        if !same {
            return Ok(Some(String::from_utf8_lossy(k).into_owned()));
        }
    }
    Ok(None)
}

fn is_page(d: &Dictionary) -> bool {
    d.get(b"Type").and_then(Object::as_name).map(|n| n == b"Page").unwrap_or(false)
}

/// A signer may declare what its signature needs (ISO 32000-2 §7.12 developer extensions, e.g.
/// ISO/TS 32001 for SHA-384, ISO/TS 32002 for ECDSA curves, and /Version): /Extensions only as a
/// direct dictionary with no references, /Version only as a name. pyHanko adds both.
fn declarations_ok(catalog: &Dictionary, budget: &mut Budget) -> Result<bool, PdfError> {
    let ext_ok = match catalog.get(b"Extensions").ok() {
        None => true,
        Some(e @ Object::Dictionary(_)) => {
            let mut refs = Vec::new();
            collect_refs(e, &mut refs, 0, budget)?;
            refs.is_empty()
        }
        Some(_) => false,
    };
    Ok(ext_ok && catalog.get(b"Version").map(|v| v.as_name().is_ok()).unwrap_or(true))
}

/// The catalog may gain an /AcroForm (by reference or inline) holding only new signature fields.
fn catalog_form_ok(old: &Dictionary, new: &Dictionary, fields: &BTreeSet<ObjectId>) -> bool {
    match (old.get(b"AcroForm").ok(), new.get(b"AcroForm").ok()) {
        (a, b) if a.map(bytes_of) == b.map(bytes_of) => true,
        (None, Some(Object::Reference(_))) => true,
        (Some(Object::Dictionary(o)), Some(Object::Dictionary(n))) => {
            only_grew(o, n, b"Fields", fields, &[b"SigFlags"])
        }
        (None, Some(Object::Dictionary(n))) => {
            only_grew(&Dictionary::new(), n, b"Fields", fields, &[b"SigFlags"])
        }
        _ => false,
    }
}

fn describe(o: &Object) -> String {
    let d = match o {
        Object::Dictionary(d) => d,
        Object::Stream(s) => &s.dict,
        Object::Array(_) => return "array".into(),
        _ => return "value".into(),
    };
    let name =
        |k: &[u8]| d.get(k).and_then(Object::as_name).ok().map(|n| String::from_utf8_lossy(n).into_owned());
    match (name(b"Type"), name(b"Subtype")) {
        (Some(t), Some(s)) => format!("{t}/{s}"),
        (Some(t), None) => t,
        (None, Some(s)) => s,
        (None, None) if matches!(o, Object::Stream(_)) => "stream".into(),
        _ => "dictionary".into(),
    }
}
