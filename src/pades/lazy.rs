//! Reading only what an incremental update builds on. A DSS update (`ltv`) or a document
//! timestamp (`doc_timestamp`) rewrites the catalog, the first page's /Annots, the AcroForm and
//! its /Fields and the DSS; it never needs the page content, the fonts or the signatures' /Contents
//! hex (most of a sealed licence's bytes, and most of lopdf's parsing time). [`head`] reads the
//! cross-reference sections and trailer (lopdf's `Reader::read_structure`), then fetches exactly
//! those objects by their offsets into a [`Document`] that holds nothing else, each fetch charged
//! to a [`Budget`]. Whatever it cannot answer exactly as a full parse would (an object missing or
//! in an object stream, an encrypted file, an odd page tree, more fields than it walks), it leaves
//! to the full parse: `Ok(None)`.
//!
//! Knows PDF file structure only; nothing of signatures or trust. ISO 32000-1 §7.5.4–§7.5.8
//! (cross-reference sections and streams, trailer, incremental updates), §7.7.3 (page tree).

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId, Reader};

use super::budget::Budget;
use super::write::Head;
use crate::error::Result;

/// Most page-tree levels followed to the first page, and most entries of one /Fields, /Certs or
/// /CRLs array fetched (more: the full parse decides).
const MAX_DEPTH: usize = 32;
const MAX_ARRAY: usize = super::ltv::MAX_ENTRIES;

/// The objects fetched so far, and the reader that fetches more.
struct Fetch<'a, 'b> {
    reader: Reader<'a>,
    objects: BTreeMap<ObjectId, Object>,
    budget: &'b mut Budget,
}

/// Why the lazy read stops: a budget error (the file is refused) or "ask the full parse".
enum Stop {
    Refused(crate::error::Error),
    FullParse,
}

type Step<T> = std::result::Result<T, Stop>;

impl From<crate::error::PdfError> for Stop {
    fn from(e: crate::error::PdfError) -> Self {
        Stop::Refused(e.into())
    }
}

impl Fetch<'_, '_> {
    /// The object `id` (fetched once), which must itself be direct.
    fn get(&mut self, id: ObjectId) -> Step<&Object> {
        if !self.objects.contains_key(&id) {
            self.budget.visit()?;
            let o = self.reader.get_object(id, &mut HashSet::new()).map_err(|_| Stop::FullParse)?;
            if matches!(o, Object::Reference(_)) {
                return Err(Stop::FullParse);
            }
            self.objects.insert(id, o);
        }
        self.objects.get(&id).ok_or(Stop::FullParse)
    }

    fn dict(&mut self, id: ObjectId) -> Step<Dictionary> {
        match self.get(id)? {
            Object::Dictionary(d) => Ok(d.clone()),
            _ => Err(Stop::FullParse),
        }
    }

    /// The value of `key` in `d` when it is an array: fetched when indirect (none: `[]`).
    fn array(&mut self, d: &Dictionary, key: &[u8]) -> Step<Vec<Object>> {
        let a = match d.get(key) {
            Err(_) => return Ok(Vec::new()),
            Ok(Object::Reference(r)) => match self.get(*r)? {
                Object::Array(a) => a.clone(),
                _ => return Err(Stop::FullParse),
            },
            Ok(Object::Array(a)) => a.clone(),
            Ok(_) => return Err(Stop::FullParse),
        };
        if a.len() > MAX_ARRAY {
            return Err(Stop::FullParse);
        }
        Ok(a)
    }

    /// Fetch every object `arr` refers to.
    fn each(&mut self, arr: &[Object]) -> Step<()> {
        for o in arr {
            if let Object::Reference(r) = o {
                self.get(*r)?;
            }
        }
        Ok(())
    }

    /// The page tree down to the first page, as lopdf's page iterator finds it: the first kid of
    /// each /Pages node, which must be a /Page or /Pages dictionary.
    fn first_page(&mut self, catalog: &Dictionary) -> Step<()> {
        let mut node = catalog.get(b"Pages").and_then(Object::as_reference).map_err(|_| Stop::FullParse)?;
        for _ in 0..MAX_DEPTH {
            let d = self.dict(node)?;
            let kids = self.array(&d, b"Kids")?;
            let kid = kids.first().and_then(|k| k.as_reference().ok()).ok_or(Stop::FullParse)?;
            match self.dict(kid)?.get_type() {
                Ok(b"Page") => {
                    let page = self.dict(kid)?;
                    self.array(&page, b"Annots")?;
                    return Ok(());
                }
                Ok(b"Pages") => node = kid,
                _ => return Err(Stop::FullParse),
            }
        }
        Err(Stop::FullParse)
    }

    /// The AcroForm, its /Fields and each field's dictionary.
    fn form(&mut self, catalog: &Dictionary) -> Step<()> {
        let form = match catalog.get(b"AcroForm") {
            Ok(Object::Reference(r)) => self.dict(*r)?,
            Ok(Object::Dictionary(d)) => d.clone(),
            _ => return Ok(()),
        };
        let fields = self.array(&form, b"Fields")?;
        self.each(&fields)
    }

    /// The DSS dictionary, its /Certs and /CRLs arrays and their streams.
    fn dss(&mut self, catalog: &Dictionary) -> Step<()> {
        let dss = match catalog.get(b"DSS") {
            Ok(Object::Reference(r)) => self.dict(*r)?,
            Ok(Object::Dictionary(d)) => d.clone(),
            _ => return Ok(()),
        };
        for key in [&b"Certs"[..], &b"CRLs"[..]] {
            let arr = self.array(&dss, key)?;
            self.each(&arr)?;
        }
        Ok(())
    }
}

/// [`Head`] of `pdf` from its cross-reference sections and the few objects an update rewrites;
/// `Ok(None)` when only a full parse can say. The size and inflation limits of a full parse
/// apply (lopdf inflates xref streams, `ltv::update` filtered DSS entries). The whole-file
/// nesting pre-scan does not run here: it guards a parse of every object, while this parses a
/// dozen, each within the vendored lopdf's own nesting limit (`lopdf::parser::MAX_NESTING`, 256
/// levels, about 0.6 MiB of stack: any thread's stack holds it); a file nested deeper than that
/// goes to the full parse, whose pre-scan refuses it.
pub fn head(pdf: &[u8], budget: &mut Budget) -> Result<Option<Head>> {
    super::parse::check_header(pdf)?;
    super::scan::check_inflation(pdf)?;
    if !pdf.starts_with(b"%PDF-") {
        return Ok(None); // lopdf would shift every offset: leave it to the full parse
    }
    let mut reader = Reader {
        buffer: pdf,
        document: Document::new(),
        encryption_state: None,
        raw_objects: BTreeMap::new(),
    };
    if reader.read_structure().is_err() || reader.document.trailer.get(b"Encrypt").is_ok() {
        return Ok(None);
    }
    let mut fetch = Fetch { reader, objects: BTreeMap::new(), budget };
    let read = (|| -> Step<ObjectId> {
        let root = fetch.reader.document.trailer.get(b"Root").and_then(Object::as_reference);
        let root = root.map_err(|_| Stop::FullParse)?;
        let catalog = fetch.dict(root)?;
        fetch.first_page(&catalog)?;
        fetch.form(&catalog)?;
        fetch.dss(&catalog)?;
        Ok(root)
    })();
    let root = match read {
        Ok(root) => root,
        Err(Stop::FullParse) => return Ok(None),
        Err(Stop::Refused(e)) => return Err(e),
    };
    let Fetch { reader, objects, .. } = fetch;
    let mut doc = reader.document;
    doc.objects = objects;
    let prev_xref = super::parse::last_startxref(pdf).ok_or(crate::error::PdfError::Missing("startxref"))?;
    Ok(Some(super::write::head_of(doc, prev_xref, root)))
}

#[cfg(test)]
pub(crate) mod tests {
    use lopdf::{dictionary, Document, Object, Stream};

    use super::*;

    /// A one-page PDF with a font stream, an AcroForm holding one field and a DSS, saved with
    /// object streams when `modern`.
    pub(crate) fn sample(modern: bool) -> Vec<u8> {
        let mut doc = Document::with_version("1.7");
        let font = doc.add_object(Stream::new(dictionary! {}, vec![7u8; 4096]));
        let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
        let pages = doc.new_object_id();
        let field = doc.add_object(dictionary! { "FT" => "Sig", "T" => Object::string_literal("DocTS4") });
        let annots = doc.add_object(vec![field.into()]);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content, "Annots" => annots,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let fields = doc.add_object(vec![field.into()]);
        let form = doc.add_object(dictionary! { "Fields" => fields });
        let cert = doc.add_object(Stream::new(dictionary! {}, b"old cert".to_vec()));
        let dss = doc.add_object(dictionary! { "Certs" => vec![cert.into()] });
        let catalog = doc.add_object(
            dictionary! { "Type" => "Catalog", "Pages" => pages, "AcroForm" => form, "DSS" => dss },
        );
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        if modern {
            doc.save_modern(&mut out).unwrap()
        } else {
            doc.save_to(&mut out).unwrap()
        }
        out
    }

    /// Each object the lazy read fetched is the one a full parse finds, and the update starts at the
    /// same place (/Prev, /Root, first free number).
    fn same_as_full_parse(pdf: &[u8]) {
        let lazy = head(pdf, &mut Budget::default()).unwrap().expect("read lazily");
        let full = crate::pades::parse::load(pdf).unwrap();
        assert!(lazy.doc.objects.len() < full.objects.len());
        for (id, o) in &lazy.doc.objects {
            assert_eq!(Some(o), full.objects.get(id), "object {id:?}");
        }
        let root = full.trailer.get(b"Root").unwrap().as_reference().unwrap();
        let fallback = super::super::write::head_of(full, lazy.prev_xref, root);
        assert_eq!((lazy.root, lazy.next), (fallback.root, fallback.next));
        assert_eq!(Some(lazy.prev_xref), crate::pades::parse::last_startxref(pdf));
        assert_eq!(lazy.doc.trailer, fallback.doc.trailer);
    }

    /// The lazy read matches a full parse on a file and on its DSS and document-timestamp updates,
    /// and leaves the font and page content unread.
    #[test]
    fn fetches_what_a_full_parse_finds() {
        let pdf = sample(false);
        same_as_full_parse(&pdf);
        let with_dss = crate::pades::ltv::append(&pdf, &[b"new cert".to_vec()], &[b"crl".to_vec()]).unwrap();
        same_as_full_parse(&with_dss);
        let stamped =
            crate::pades::doc_timestamp::prepare(&with_dss, &[]).unwrap().finish(&[0x30, 0]).unwrap();
        same_as_full_parse(&stamped);
        let doc = crate::pades::parse::load(&stamped).unwrap();
        let names: Vec<_> = crate::pades::parse::signatures(&stamped, &doc)
            .unwrap()
            .0
            .into_iter()
            .map(|s| s.field_name)
            .collect();
        assert_eq!(names, ["DocTS5"]);
        let dss = crate::pades::ltv::read(&doc, &mut Budget::default()).unwrap();
        assert_eq!(dss.certs, [b"old cert".to_vec(), b"new cert".to_vec()]);
    }

    /// The trailers' /ID arrays blanked (their second element is random per update).
    fn without_ids(pdf: &[u8]) -> Vec<u8> {
        let mut out = pdf.to_vec();
        let mut at = 0;
        while let Some(p) = out.get(at..).and_then(|t| t.windows(5).position(|w| w == b"/ID [")) {
            let start = at + p;
            let end = start + out[start..].iter().position(|&b| b == b']').unwrap();
            out[start..end].fill(b' ');
            at = end;
        }
        out
    }

    /// A DSS update and a document timestamp built on one read give the bytes two reads give.
    #[test]
    fn one_read_for_both_updates() {
        let pdf = sample(false);
        let (certs, crls) = (vec![b"new cert".to_vec()], vec![b"crl".to_vec()]);
        let two = crate::pades::ltv::append(&pdf, &certs, &crls).unwrap();
        let two = crate::pades::doc_timestamp::prepare(&two, &[]).unwrap().finish(&[0x30, 0]).unwrap();
        let head = crate::pades::write::head(&pdf).unwrap();
        let (one, head) = crate::pades::ltv::append_to(pdf.clone(), head, &certs, &crls).unwrap();
        let one =
            crate::pades::doc_timestamp::prepare_on(head, &one, &[]).unwrap().finish(&[0x30, 0]).unwrap();
        assert_eq!(without_ids(&one), without_ids(&two));
    }

    /// Objects inside object streams are left to the full parse.
    #[test]
    fn object_streams_go_to_the_full_parse() {
        let pdf = sample(true);
        assert!(head(&pdf, &mut Budget::default()).unwrap().is_none());
        assert!(super::super::write::head(&pdf).is_ok());
    }

    /// A catalog nested far deeper than lopdf's limit, read on a thread with Rust's default 2 MiB
    /// stack: the lazy read leaves it to the full parse, which refuses it; nothing overflows.
    #[test]
    fn deep_nesting_goes_to_the_full_parse() {
        let pdf = sample(false);
        // The catalog again, in an update, with 20,000 nested arrays under /Deep.
        let pdf = {
            let mut doc = crate::pades::parse::load(&pdf).unwrap();
            let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
            let prev = crate::pades::parse::last_startxref(&pdf).unwrap();
            let mut out = pdf.clone();
            let mut offsets = BTreeMap::new();
            offsets.insert(root.0, out.len());
            let catalog = crate::pades::write::to_bytes(doc.get_object(root).unwrap());
            let body = [
                format!("{} 0 obj\n", root.0).into_bytes(),
                catalog[..catalog.len() - 2].to_vec(),
                b" /Deep ".to_vec(),
                vec![b'['; 20_000],
                vec![b']'; 20_000],
                b">>\nendobj\n".to_vec(),
            ]
            .concat();
            out.extend_from_slice(&body);
            doc.max_id = doc.max_id.max(root.0);
            crate::pades::write::finish_update(&mut out, &offsets, &doc, root, prev, doc.max_id + 1).unwrap();
            out
        };
        let lazy = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let lazy = head(&pdf, &mut Budget::default()).map(|h| h.is_none());
                (lazy, crate::pades::write::head(&pdf).is_err())
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(matches!(lazy, (Ok(true), true)), "lazy: falls back; full parse: refuses");
    }

    /// A spent budget refuses the file instead of reading on.
    #[test]
    fn spent_budget_refuses() {
        let pdf = sample(false);
        let cancel = crate::pades::budget::Cancel::default();
        cancel.cancel();
        assert!(head(&pdf, &mut Budget::new(cancel)).is_err());
    }
}
