//! Serialising PDF objects (ISO 32000-1 §7.3) for incremental updates. lopdf parses and builds
//! documents, but its object writer is private, and an incremental update needs exact control
//! of every byte appended, so the few lines that print an object, and the xref section and
//! trailer that end an update, live here.

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{dictionary, Document, Object, ObjectId, StringFormat};

use crate::error::{PdfError, Result};

/// Append the PDF syntax of `o` to `out`. Streams get a correct /Length.
pub fn write_object(out: &mut Vec<u8>, o: &Object) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(real(*r).as_bytes()),
        Object::Name(n) => name(out, n),
        Object::String(s, StringFormat::Hexadecimal) => {
            out.push(b'<');
            for b in s {
                out.extend_from_slice(format!("{b:02X}").as_bytes());
            }
            out.push(b'>');
        }
        Object::String(s, StringFormat::Literal) => {
            out.push(b'(');
            for &b in s {
                match b {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    0x20..=0x7e => out.push(b),
                    _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
                }
            }
            out.push(b')');
        }
        Object::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, x);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => dict(out, d.iter(), None),
        Object::Stream(s) => {
            let len = i64::try_from(s.content.len()).unwrap_or(i64::MAX);
            dict(out, s.dict.iter().filter(|(k, _)| k.as_slice() != b"Length"), Some(len));
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

fn dict<'a>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'a Vec<u8>, &'a Object)>,
    length: Option<i64>,
) {
    out.extend_from_slice(b"<<");
    for (k, v) in entries {
        out.push(b' ');
        name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    if let Some(l) = length {
        out.extend_from_slice(format!(" /Length {l}").as_bytes());
    }
    out.extend_from_slice(b" >>");
}

fn name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        let regular = b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn real(r: f32) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    let s = crate::document::fixed::format(r, 4);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Where an incremental update of a file starts: the parsed document, the offset of its last
/// xref section (the new trailer's /Prev), the catalog's object id and the first free object
/// number (past both the trailer's /Size and the highest object seen).
pub struct Head {
    pub doc: Document,
    pub prev_xref: usize,
    pub root: ObjectId,
    pub next: u32,
}

/// Read `pdf` for an incremental update ([`Head`]): only the objects an update rewrites
/// (`lazy`), or the whole file when only a full parse can say.
pub fn head(pdf: &[u8]) -> Result<Head> {
    if let Some(head) = super::lazy::head(pdf, &mut super::budget::Budget::default())? {
        return Ok(head);
    }
    let doc = super::parse::load(pdf)?;
    let prev_xref = super::parse::last_startxref(pdf).ok_or(PdfError::Missing("startxref"))?;
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Missing("/Root in trailer"))?;
    Ok(head_of(doc, prev_xref, root))
}

/// [`Head`] of a document read either way: the first free object number is past both the
/// trailer's /Size and the highest object number the cross-reference sections name.
pub(super) fn head_of(doc: Document, prev_xref: usize, root: ObjectId) -> Head {
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0);
    let next = size.max(doc.max_id.saturating_add(1));
    Head { doc, prev_xref, root, next }
}

/// Append `objects` to `out` as the body of an incremental update (their offsets go into
/// `offsets`, by object number).
pub fn append_objects(
    out: &mut Vec<u8>,
    objects: &BTreeMap<ObjectId, Object>,
    offsets: &mut BTreeMap<u32, usize>,
) -> Result<()> {
    let io = |e: std::io::Error| PdfError::Parse(e.to_string());
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    for (id, obj) in objects {
        offsets.insert(id.0, out.len());
        writeln!(out, "{} {} obj", id.0, id.1).map_err(io)?;
        write_object(out, obj);
        out.extend_from_slice(b"\nendobj\n");
    }
    Ok(())
}

/// End an incremental update whose objects start at `offsets` (object number → byte offset):
/// the xref section (one subsection per run of numbers), the trailer (/Size at least `next`,
/// /Root, /Prev at the previous `prev_xref`, /Info kept, /ID with the first element kept and a
/// fresh second one), startxref and %%EOF. ISO 32000-1 §7.5.6. Returns where the new xref section
/// starts (the next update's /Prev).
pub fn finish_update(
    out: &mut Vec<u8>,
    offsets: &BTreeMap<u32, usize>,
    doc: &Document,
    root: ObjectId,
    prev_xref: usize,
    next: u32,
) -> Result<usize> {
    let io = |e: std::io::Error| PdfError::Parse(e.to_string());
    let xref_pos = out.len();
    out.extend_from_slice(b"xref\n");
    let ids: Vec<u32> = offsets.keys().copied().collect();
    let mut i = 0;
    while let Some(&start) = ids.get(i) {
        let mut end = i;
        while ids.get(end + 1).is_some_and(|n| ids.get(end).is_some_and(|m| *n == m + 1)) {
            end += 1;
        }
        writeln!(out, "{} {}", start, end - i + 1).map_err(io)?;
        for id in ids.get(i..=end).unwrap_or_default() {
            write!(out, "{:010} 00000 n\r\n", offsets.get(id).copied().unwrap_or(0)).map_err(io)?;
        }
        i = end + 1;
    }
    let old_size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0);
    let size = ids.last().map(|l| l + 1).unwrap_or(next).max(next).max(old_size);
    let mut trailer = dictionary! {
        "Size" => i64::from(size), "Root" => root, "Prev" => i64::try_from(prev_xref).unwrap_or(0),
    };
    if let Ok(info) = doc.trailer.get(b"Info") {
        trailer.set("Info", info.clone());
    }
    let first_id = doc.trailer.get(b"ID").and_then(Object::as_array).ok().and_then(|a| a.first().cloned());
    let new_id =
        Object::String(crate::document::render::random_bytes::<16>()?.to_vec(), StringFormat::Hexadecimal);
    trailer.set("ID", vec![first_id.unwrap_or_else(|| new_id.clone()), new_id]);
    out.extend_from_slice(b"trailer\n");
    write_object(out, &Object::Dictionary(trailer));
    writeln!(out, "\nstartxref\n{xref_pos}\n%%EOF").map_err(io)?;
    Ok(xref_pos)
}

/// The [`Head`] of a file just extended by an update (`objects` appended, its xref section at
/// `xref_pos`, object numbers below `next` taken), without parsing it again: `doc` with the
/// update's objects in place. Only as faithful as `objects`: the caller passes what it wrote.
pub fn head_after(
    mut doc: Document,
    objects: BTreeMap<ObjectId, Object>,
    root: ObjectId,
    xref_pos: usize,
    next: u32,
) -> Head {
    let old_size = doc.trailer.get(b"Size").and_then(Object::as_i64).ok().unwrap_or(0);
    let top = objects.keys().map(|id| id.0).max().unwrap_or(0);
    doc.objects.extend(objects);
    doc.max_id = doc.max_id.max(top);
    let next = next.max(top + 1).max(doc.max_id + 1);
    doc.trailer.set("Size", i64::from(next).max(old_size));
    Head { doc, prev_xref: xref_pos, root, next }
}

/// Whether [`save_new`] can write `doc`: object numbers 1..=max_id all present, generation 0,
/// and a /Root in the trailer.
pub fn numbered_densely(doc: &Document) -> bool {
    let dense =
        doc.objects.keys().enumerate().all(|(i, id)| usize::try_from(id.0).ok() == Some(i + 1) && id.1 == 0);
    dense
        && !doc.objects.is_empty()
        && usize::try_from(doc.max_id).ok() == Some(doc.objects.len())
        && doc.trailer.get(b"Root").and_then(Object::as_reference).is_ok()
}

/// Write a document built in memory (`document::render_doc`'s) as a complete PDF with a
/// cross-reference table, and return its [`Head`], so that the first seal is added without
/// parsing the file back. Refused unless [`numbered_densely`]. ISO 32000-1 §7.5.
pub fn save_new(doc: Document) -> Result<(Vec<u8>, Head)> {
    let io = |e: std::io::Error| PdfError::Parse(e.to_string());
    if !numbered_densely(&doc) {
        return Err(PdfError::Parse("the document's object numbers have gaps".into()).into());
    }
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Missing("/Root in trailer"))?;
    let count = u32::try_from(doc.objects.len()).map_err(|_| PdfError::Parse("too many objects".into()))?;
    // The comment of four bytes over 127 marks the file binary (ISO 19005-2 §6.1.2).
    let mut out = format!("%PDF-{}\n", doc.version).into_bytes();
    out.extend_from_slice(b"%\xE2\xE3\xCF\xD3\n");
    let mut offsets = BTreeMap::new();
    append_objects(&mut out, &doc.objects, &mut offsets)?;
    let next = count + 1;
    let xref_pos = out.len();
    write!(out, "xref\n0 {next}\n0000000000 65535 f\r\n").map_err(io)?;
    for off in offsets.values() {
        write!(out, "{off:010} 00000 n\r\n").map_err(io)?;
    }
    let mut trailer = dictionary! { "Size" => i64::from(next), "Root" => root };
    for key in [&b"Info"[..], b"ID"] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    out.extend_from_slice(b"trailer\n");
    write_object(&mut out, &Object::Dictionary(trailer.clone()));
    writeln!(out, "\nstartxref\n{xref_pos}\n%%EOF").map_err(io)?;
    let mut doc = doc;
    doc.trailer = trailer;
    doc.max_id = next - 1;
    Ok((out, Head { doc, prev_xref: xref_pos, root, next }))
}

/// The serialised bytes of `o` (used to compare objects across revisions).
pub fn to_bytes(o: &Object) -> Vec<u8> {
    let mut v = Vec::new();
    write_object(&mut v, o);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Delimiters in names and strings are escaped so a value can never break out of its object.
    #[test]
    fn escapes_delimiters() {
        assert_eq!(to_bytes(&Object::Name(b"A B/C".to_vec())), b"/A#20B#2FC");
        assert_eq!(to_bytes(&Object::string_literal("a(b)\\")), b"(a\\(b\\)\\\\)");
        assert_eq!(to_bytes(&Object::Real(1.5)), b"1.5");
        assert_eq!(to_bytes(&Object::Real(119.0)), b"119");
    }
}
