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
    let s = format!("{r:.4}");
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

/// Parse `pdf` for an incremental update ([`Head`]).
pub fn head(pdf: &[u8]) -> Result<Head> {
    let doc = super::parse::load(pdf)?;
    let prev_xref = super::parse::last_startxref(pdf).ok_or(PdfError::Missing("startxref"))?;
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Missing("/Root in trailer"))?;
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0);
    let next = size.max(doc.max_id + 1);
    Ok(Head { doc, prev_xref, root, next })
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
/// fresh second one), startxref and %%EOF. ISO 32000-1 §7.5.6.
pub fn finish_update(
    out: &mut Vec<u8>,
    offsets: &BTreeMap<u32, usize>,
    doc: &Document,
    root: ObjectId,
    prev_xref: usize,
    next: u32,
) -> Result<()> {
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
    Ok(())
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
