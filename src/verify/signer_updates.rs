//! What a standard signer (pyHanko, Acrobat, another region's vendor) legitimately changes
//! besides the signature itself when it adds one, as rules for the difference analysis
//! (`changes`): a well-formed XMP metadata update, and the /Info dictionary's bookkeeping entries.
//! Modelled on pyHanko's MetadataUpdateRule and DocInfoRule (`pyhanko/sign/diff_analysis/rules/
//! metadata_rules.py`), stricter where a licence needs it: the GB/T 36903 items and the
//! identifier, in XMP and in /Info, and the seal plan must stay exactly as signed.
//!
//! Each rule looks at the signed revision and the whole file and answers which changed objects
//! it accounts for, or why it refuses. Knows nothing of trust, reports or HTTP. XMP: ISO 16684-1;
//! the XML is parsed by roxmltree with no DTD (a DOCTYPE is refused, as pyHanko refuses entities).

use std::collections::BTreeMap;
use std::io::Read;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Largest XMP packet read (decompressed); licence packets are about 2 KiB.
const MAX_XMP: u64 = 1 << 20;

const XMP_META_NS: &str = "adobe:ns:meta/";
const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// /Info entries a signer may update: which program wrote the file, and when.
const INFO_BOOKKEEPING: [&[u8]; 2] = [b"Producer", b"ModDate"];

/// A rule's answer: `Ok(Some(id))` accounts for a change to object `id`, `Ok(None)` nothing to
/// account for, `Err(why)` refused.
pub type Verdict = Result<Option<ObjectId>, String>;

fn catalog(doc: &Document) -> Option<&Dictionary> {
    doc.trailer.get(b"Root").and_then(Object::as_reference).ok().and_then(|r| doc.get_dictionary(r).ok())
}

/// The catalog's /Metadata: `Ok(None)` absent, `Err` when not an indirect reference.
fn metadata_ref(doc: &Document) -> Result<Option<ObjectId>, String> {
    match catalog(doc).and_then(|c| c.get(b"Metadata").ok()) {
        None => Ok(None),
        Some(Object::Reference(r)) => Ok(Some(*r)),
        Some(_) => Err("/Metadata is not an indirect reference to a stream".into()),
    }
}

/// MetadataUpdateRule: the catalog's /Metadata may point at a new or overridden stream when
/// the new packet is well-formed XMP and carries the licence items unchanged. Returns the object
/// the update may override (the metadata stream's id) when the rule allows it.
pub fn metadata_update(old: &Document, new: &Document) -> Verdict {
    let (before, after) = (metadata_ref(old)?, metadata_ref(new)?);
    if before == after && before.map(|r| same_object(old, new, r)).unwrap_or(true) {
        return Ok(None);
    }
    let Some(after) = after else {
        return Err("the XMP metadata was removed from the catalog".into());
    };
    let new_props = xmp_properties(new, after).map_err(|e| format!("the new XMP metadata {e}"))?;
    if let Some(before) = before {
        let old_props = xmp_properties(old, before).map_err(|e| format!("the signed XMP metadata {e}"))?;
        for (key, value) in old_props.iter().filter(|(k, _)| licence_item(k)) {
            if new_props.get(key) != Some(value) {
                return Err(format!(
                    "the XMP metadata changed the licence item {} (signed as {value:?})",
                    key.1
                ));
            }
        }
        if let Some((key, _)) = new_props.iter().find(|(k, _)| licence_item(k) && !old_props.contains_key(*k))
        {
            return Err(format!("the XMP metadata added the licence item {}", key.1));
        }
    }
    Ok(Some(after))
}

fn same_object(old: &Document, new: &Document, id: ObjectId) -> bool {
    match (old.objects.get(&id), new.objects.get(&id)) {
        (Some(a), Some(b)) => super::changes::same(a, b),
        _ => false,
    }
}

/// The GB/T 36903 items (our namespace) and dc:identifier, dc:title, dc:creator: what the licence says.
fn licence_item(key: &(String, String)) -> bool {
    key.0 == crate::document::metadata::XMP_NS
        || (key.0 == DC_NS && matches!(key.1.as_str(), "identifier" | "title" | "creator"))
}

/// The properties of an XMP packet, by (namespace, name): attributes of rdf:Description and its
/// child elements (ISO 16684-1 §7.9.2), an array's value being the text of its items joined by
/// newlines (so `dc:title` compares by its text whichever form a writer chose). Refuses anything that is not a
/// stream of well-formed XML with an x:xmpmeta root and no DOCTYPE.
fn xmp_properties(doc: &Document, id: ObjectId) -> Result<BTreeMap<(String, String), String>, String> {
    let Ok(Object::Stream(stream)) = doc.get_object(id) else {
        return Err("is not a stream".into());
    };
    let raw = stream.content.as_slice();
    let filter = stream.dict.get(b"Filter").ok();
    let bytes = match filter {
        None => raw.to_vec(),
        Some(f) if is_flate(f) => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(raw)
                .take(MAX_XMP + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("cannot be decompressed: {e}"))?;
            out
        }
        Some(_) => return Err("uses a filter other than FlateDecode".into()),
    };
    if bytes.len() as u64 > MAX_XMP {
        return Err(format!("is larger than {MAX_XMP} bytes"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err("declares a DOCTYPE or entities".into());
    }
    let xml = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() },
    )
    .map_err(|e| format!("is not well-formed XML: {e}"))?;
    let root = xml.root_element();
    if root.tag_name().namespace() != Some(XMP_META_NS) || root.tag_name().name() != "xmpmeta" {
        return Err("does not look like XMP (no x:xmpmeta root)".into());
    }
    let mut props = BTreeMap::new();
    let descriptions = root
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(RDF_NS) && n.tag_name().name() == "Description");
    for d in descriptions {
        for a in d.attributes() {
            if let Some(ns) = a.namespace().filter(|ns| *ns != RDF_NS) {
                props.insert((ns.to_string(), a.name().to_string()), a.value().to_string());
            }
        }
        for child in d.children().filter(|c| c.is_element()) {
            let Some(ns) = child.tag_name().namespace() else { continue };
            let text: Vec<&str> = child
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            props.insert((ns.to_string(), child.tag_name().name().to_string()), text.join("\n"));
        }
    }
    Ok(props)
}

fn is_flate(f: &Object) -> bool {
    match f {
        Object::Name(n) => n == b"FlateDecode",
        Object::Array(a) => matches!(a.as_slice(), [Object::Name(n)] if n == b"FlateDecode"),
        _ => false,
    }
}

/// Equal values, a string's bytes compared whatever its notation (literal or hex): signers
/// rewrite /Info in their own notation.
fn same_value(a: Option<&Object>, b: Option<&Object>) -> bool {
    match (a, b) {
        (Some(Object::String(x, _)), Some(Object::String(y, _))) => x == y,
        (a, b) => a.map(super::changes::bytes_of) == b.map(super::changes::bytes_of),
    }
}

fn info(doc: &Document) -> (Option<ObjectId>, Option<&Dictionary>) {
    let r = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
    (r, r.and_then(|r| doc.get_dictionary(r).ok()))
}

/// DocInfoRule, narrowed: the /Info dictionary (in place or as a new object) may change only its
/// /Producer and /ModDate, which pyHanko and other signers refresh; every licence item and the seal
/// plan stay as signed. Returns the /Info object the update may override.
pub fn info_update(old: &Document, new: &Document) -> Verdict {
    let ((old_ref, old_info), (new_ref, new_info)) = (info(old), info(new));
    let raw = |d: &Document| d.trailer.get(b"Info").ok().map(super::changes::bytes_of);
    if old_ref.is_none() && raw(old) != raw(new) {
        return Err("the document information dictionary (licence metadata) was replaced".into());
    }
    let (Some(o), Some(n)) = (old_info, new_info) else {
        return if old_info.is_none() && new_info.is_none() && raw(old) == raw(new) {
            Ok(None)
        } else {
            Err("the document information dictionary (licence metadata) was replaced or removed".into())
        };
    };
    let keys: std::collections::BTreeSet<&[u8]> =
        o.iter().chain(n.iter()).map(|(k, _)| k.as_slice()).collect();
    for k in keys {
        let (a, b) = (o.get(k).ok(), n.get(k).ok());
        if INFO_BOOKKEEPING.contains(&k) {
            if b.map(|v| v.as_str().is_ok()).unwrap_or(true) {
                continue;
            }
            return Err(format!("/Info /{} is not a string", String::from_utf8_lossy(k)));
        }
        if !same_value(a, b) {
            return Err(format!(
                "the document information dictionary entry /{} (licence metadata) was changed",
                String::from_utf8_lossy(k)
            ));
        }
    }
    Ok(new_ref.filter(|r| Some(*r) == old_ref))
}
