//! Every revision of a file parsed once, each from the one before. Verification needs the whole
//! document and, for the difference analysis, each signed revision on its own; parsing each prefix
//! from scratch parsed the same objects again for every revision (a sealed licence: twice, a
//! three-seal one: six times). Here each revision reads its own cross-reference sections and
//! trailer (lopdf's `Reader::read_structure`), takes every object whose entry did not change from
//! the revision before, and parses only the objects its update wrote (the first revision: all of
//! them), each with lopdf's own object parser (`Reader::get_object`).
//!
//! The result must be exactly what `load_mem` of the prefix gives, or nothing (the caller then
//! parses the prefix in full). An object is taken over only when a parse of it is the same in
//! every longer prefix: an object whose header names the number and generation of its
//! cross-reference entry (so no two entries collide on one key, and lopdf keys it the same way),
//! that the shorter prefix already parsed completely, that followed no reference while it was
//! parsed (an indirect /Length could resolve differently later), and that is no stream lopdf reads
//! again after the load (an unreadable /Length) and no object stream (lopdf unpacks those). Anything else — compressed entries, an encrypted trailer,
//! an object that fails to parse, more revisions than [`MAX_CHAIN`] — ends the chain. Each parse
//! is charged to the document's [`Budget`].
//!
//! Knows PDF file structure only; nothing of signatures. Runs lopdf on the parser thread
//! (`parser_thread`). ISO 32000-1 §7.5.4–§7.5.6 (cross-reference sections, incremental updates).

use std::collections::{BTreeMap, HashSet};

use lopdf::xref::XrefEntry;
use lopdf::{Document, Object, Reader};

use super::budget::Budget;
use crate::error::Result;

/// Most revisions parsed as a chain: each one reads every cross-reference section before it, so
/// the work grows with the square of the count. Files with more are parsed revision by revision.
pub const MAX_CHAIN: usize = 32;

/// The revisions of a file: `(end, document)` for each revision the chain reached, in order, and
/// the whole file's document when the chain reached the end.
pub struct Chain {
    pub revisions: Vec<(usize, Document)>,
    pub whole: Option<Document>,
}

/// Parse the revisions of `bytes` that end at `ends` (ascending offsets just past each %%EOF,
/// `scan::revision_ends`), then the whole of `bytes`, as a chain. `Err` only when the budget
/// refuses; where the chain stops, the caller parses in full.
pub fn parse(bytes: &[u8], ends: &[usize], budget: &mut Budget) -> Result<Chain> {
    let mut chain = Chain { revisions: Vec::new(), whole: None };
    let mut targets: Vec<usize> = ends.iter().copied().filter(|e| *e > 0 && *e <= bytes.len()).collect();
    if targets.last() != Some(&bytes.len()) {
        targets.push(bytes.len());
    }
    let Some((&first, rest)) = targets.split_first() else { return Ok(chain) };
    if targets.len() > MAX_CHAIN || rest.is_empty() {
        return Ok(chain);
    }
    // The first revision builds on an empty document: every object is parsed.
    let mut prev = (0, Document::new());
    for &end in std::iter::once(&first).chain(rest) {
        let Some(prefix) = bytes.get(..end) else { break };
        budget.parse(end.saturating_sub(prev.0))?;
        let Some(doc) = derive(&prev.1, prefix, budget)? else { break };
        let done = std::mem::replace(&mut prev, (end, doc));
        if done.0 > 0 {
            chain.revisions.push(done);
        }
    }
    if prev.0 == bytes.len() {
        chain.whole = Some(prev.1);
    } else if prev.0 > 0 {
        chain.revisions.push(prev);
    }
    Ok(chain)
}

/// The revision `bytes` built on `prev` (the revision before it); `None` where only a full parse
/// can say.
fn derive(prev: &Document, bytes: &[u8], budget: &mut Budget) -> Result<Option<Document>> {
    let mut reader = Reader {
        buffer: bytes,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    };
    if !bytes.starts_with(b"%PDF-")
        || reader.read_structure().is_err()
        || reader.document.trailer.get(b"Encrypt").is_ok()
    {
        return Ok(None);
    }
    let mut objects = BTreeMap::new();
    let mut fresh = Vec::new();
    for (&n, entry) in &reader.document.reference_table.entries {
        budget.visit()?;
        match *entry {
            XrefEntry::Normal { offset, generation } => {
                if header_at(bytes, offset) != Some((n, generation)) {
                    return Ok(None);
                }
                let id = (n, generation);
                let kept = matches!(prev.reference_table.get(n),
                    Some(XrefEntry::Normal { offset: o, generation: g }) if *o == offset && *g == generation);
                match prev.objects.get(&id).filter(|_| kept) {
                    Some(o) => {
                        objects.insert(id, o.clone());
                    }
                    None => fresh.push(id),
                }
            }
            XrefEntry::Compressed { .. } => return Ok(None),
            XrefEntry::Free | XrefEntry::UnusableFree => {}
        }
    }
    let parsed = super::parser_thread::run(|| {
        fresh
            .iter()
            .map(|id| {
                // `seen` gains every object the parse followed: more than this one means an
                // indirect /Length, whose value a later revision may change.
                let mut seen = HashSet::new();
                let o = reader.get_object(*id, &mut seen).ok()?;
                (seen.len() == 1 && settled(&o)).then_some((*id, o))
            })
            .collect::<Option<Vec<_>>>()
    })?;
    let Some(parsed) = parsed else { return Ok(None) };
    objects.extend(parsed);
    if objects.len() > super::parse::MAX_OBJECTS {
        return Ok(None);
    }
    let mut doc = reader.document;
    doc.objects = objects;
    Ok(Some(doc))
}

/// A parsed object lopdf's load would not touch again: no stream whose /Length it could not read
/// while parsing (`start_position` set: read again after the load) and no object stream
/// (unpacked after the load).
fn settled(o: &Object) -> bool {
    match o {
        Object::Stream(s) => s.start_position.is_none() && !is_object_stream(o),
        _ => true,
    }
}

fn is_object_stream(o: &Object) -> bool {
    matches!(o, Object::Stream(s) if s.dict.has_type(b"ObjStm"))
}

/// The object number and generation of the header at `offset` (`12 0 obj`), read strictly:
/// optional white space, digits, white space, digits, white space, `obj`. lopdf reads the same
/// header the same way (and more headers besides, which end the chain here).
fn header_at(bytes: &[u8], offset: u32) -> Option<(u32, u16)> {
    let mut rest = bytes.get(usize::try_from(offset).ok()?..)?;
    let white = |b: &u8| b" \t\n\r\0\x0C".contains(b);
    let skip = |r: &mut &[u8], min: usize| -> Option<()> {
        let k = r.iter().take_while(|b| white(b)).count();
        *r = r.get(k..)?;
        (k >= min).then_some(())
    };
    let digits = |r: &mut &[u8]| -> Option<String> {
        let k = r.iter().take_while(|b| b.is_ascii_digit()).count();
        let d = std::str::from_utf8(r.get(..k)?).ok()?.to_string();
        *r = r.get(k..)?;
        (k > 0).then_some(d)
    };
    skip(&mut rest, 0)?;
    let n = digits(&mut rest)?.parse().ok()?;
    skip(&mut rest, 1)?;
    let g = digits(&mut rest)?.parse().ok()?;
    skip(&mut rest, 1)?;
    rest.starts_with(b"obj").then_some((n, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The headers the chain accepts, and those it leaves to lopdf.
    #[test]
    fn headers() {
        assert_eq!(header_at(b"12 0 obj\n<<>>", 0), Some((12, 0)));
        assert_eq!(header_at(b"xx\n 7  3\tobj", 2), Some((7, 3)));
        assert_eq!(header_at(b"12 0obj", 0), None);
        assert_eq!(header_at(b"%c\n12 0 obj", 0), None);
        assert_eq!(header_at(b"12 99999 obj", 0), None);
        assert_eq!(header_at(b"12 0 obj", 99), None);
    }

    /// Each revision of a file with a DSS update and a document timestamp is exactly what a full
    /// parse of its prefix gives, and the chain reaches the whole file.
    #[test]
    fn same_as_parsing_each_prefix() {
        let pdf = crate::pades::lazy::tests::sample(false);
        let pdf = crate::pades::ltv::append(&pdf, &[b"new cert".to_vec()], &[b"crl".to_vec()]).unwrap();
        let pdf = crate::pades::doc_timestamp::prepare(&pdf, &[]).unwrap().finish(&[0x30, 0]).unwrap();
        let ends = crate::pades::parse::revision_ends(&pdf);
        assert_eq!(ends.len(), 3);
        let chain = parse(&pdf, &ends, &mut Budget::default()).unwrap();
        let same = |a: &Document, b: &Document| {
            assert_eq!(a.objects, b.objects);
            assert_eq!(a.trailer, b.trailer);
            assert_eq!((a.max_id, a.xref_start, &a.version), (b.max_id, b.xref_start, &b.version));
        };
        same(chain.whole.as_ref().expect("reaches the end"), &crate::pades::parse::load(&pdf).unwrap());
        let ends_parsed: Vec<usize> = chain.revisions.iter().map(|(e, _)| *e).collect();
        assert_eq!(ends_parsed, ends[..2]);
        for (end, doc) in &chain.revisions {
            same(doc, &crate::pades::parse::load_revision(&pdf[..*end], &mut Budget::default()).unwrap());
        }
    }

    /// An update that rewrites a stream with an indirect /Length ends the chain (its parse could
    /// differ); files with object streams are not chained at all.
    #[test]
    fn unsettled_objects_end_the_chain() {
        let pdf = crate::pades::lazy::tests::sample(true);
        let ends = crate::pades::parse::revision_ends(&pdf);
        let chain = parse(&pdf, &ends, &mut Budget::default()).unwrap();
        assert!(chain.whole.is_none() && chain.revisions.is_empty());
        let mut pdf = crate::pades::lazy::tests::sample(false);
        let prev = crate::pades::parse::last_startxref(&pdf).unwrap();
        pdf.push(b'\n');
        let first = pdf.len();
        pdf.extend_from_slice(b"90 0 obj\n<< /Length 91 0 R >>\nstream\nabc\nendstream\nendobj\n");
        let second = pdf.len();
        pdf.extend_from_slice(b"91 0 obj\n3\nendobj\n");
        let xref = pdf.len();
        let root = crate::pades::parse::load(&pdf[..first]).unwrap().trailer.get(b"Root").unwrap().clone();
        let Object::Reference((r, _)) = root else { panic!("root") };
        pdf.extend_from_slice(
            format!(
                "xref\n90 2\n{first:010} 00000 n \n{second:010} 00000 n \ntrailer\n<< /Size 92 /Root {r} 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let ends = crate::pades::parse::revision_ends(&pdf);
        let chain = parse(&pdf, &ends, &mut Budget::default()).unwrap();
        assert!(chain.whole.is_none());
        assert_eq!(chain.revisions.len(), 1);
    }
}
