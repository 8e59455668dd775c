//! The document's earlier revisions, each parsed at most once per verification. The difference
//! analysis (`modifications`) and the lock rule's DSS test (`ltv::is_dss_update`) read the same
//! prefixes again for every signature: a three-seal licence asked for fifteen parses where six
//! distinct revisions exist. The revision that ends at the end of the file is the document already
//! parsed (the same bytes through the same parser), not a second parse, and those the revision
//! chain parsed on the way to it (`pades::revision_chain`) are taken as they are.
//!
//! Knows PDF revisions only (prefixes of the parsed bytes); nothing of signatures or trust. Every
//! parse is charged to the verification's budget (`pades::budget`); a refused budget is an error,
//! an unreadable revision is remembered as unreadable. ISO 32000-1 §7.5.6 (incremental updates).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;

use lopdf::Document;

use crate::error::{Error, PdfError, Result};
use crate::pades::budget::Budget;
use crate::pades::parse;

/// The revisions of one document read so far, by the offset where each ends.
pub struct Revisions<'a> {
    bytes: &'a [u8],
    whole: &'a Document,
    parsed: RefCell<BTreeMap<usize, Option<Rc<Document>>>>,
}

/// One revision: the whole document, or an earlier one parsed on its own.
pub enum Revision<'a> {
    Whole(&'a Document),
    Earlier(Rc<Document>),
}

impl Deref for Revision<'_> {
    type Target = Document;
    fn deref(&self) -> &Document {
        match self {
            Revision::Whole(d) => d,
            Revision::Earlier(d) => d,
        }
    }
}

impl<'a> Revisions<'a> {
    /// The revisions of `bytes` (the bytes `whole` was parsed from), with those already parsed
    /// (`pades::revision_chain`, each what a parse of its prefix gives) by the offset where each ends.
    pub fn new(bytes: &'a [u8], whole: &'a Document, parsed: BTreeMap<usize, Document>) -> Self {
        let parsed = parsed.into_iter().map(|(end, doc)| (end, Some(Rc::new(doc)))).collect();
        Revisions { bytes, whole, parsed: RefCell::new(parsed) }
    }

    /// The revision that ends at `end`, parsed on first use; `Ok(None)` when it cannot be read on
    /// its own (or `end` is past the file). `Err` only when the budget refuses the parse.
    pub fn at(&self, end: usize, budget: &mut Budget) -> Result<Option<Revision<'a>>> {
        if end == self.bytes.len() {
            return Ok(Some(Revision::Whole(self.whole)));
        }
        if let Some(known) = self.parsed.borrow().get(&end) {
            return Ok(known.clone().map(Revision::Earlier));
        }
        let doc = match self.bytes.get(..end) {
            Some(prefix) => match parse::load_revision(prefix, budget) {
                Ok(doc) => Some(Rc::new(doc)),
                Err(Error::Pdf(e @ (PdfError::WorkLimit { .. } | PdfError::Cancelled))) => {
                    return Err(e.into())
                }
                Err(_) => None,
            },
            None => None,
        };
        self.parsed.borrow_mut().insert(end, doc.clone());
        Ok(doc.map(Revision::Earlier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-object PDF followed by an incremental update that rewrites the object.
    fn two_revisions() -> (Vec<u8>, usize) {
        let mut doc = Document::with_version("1.7");
        let id = doc.add_object(lopdf::dictionary! { "Type" => "Catalog", "N" => 1 });
        doc.trailer.set("Root", id);
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        let first = pdf.len();
        let offset = pdf.len();
        pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /N 2 >>\nendobj\n");
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!(
                "xref\n1 1\n{offset:010} 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R /Prev {} >>\nstartxref\n{xref}\n%%EOF\n",
                parse::last_startxref(&pdf[..first]).unwrap()
            )
            .as_bytes(),
        );
        (pdf, first)
    }

    /// Each revision is the one a parse of its prefix gives, parsed once; the last is the whole
    /// document itself; a cut inside the file is unreadable, not an error.
    #[test]
    fn each_revision_once() {
        let (pdf, first) = two_revisions();
        let whole = parse::load(&pdf).unwrap();
        let revs = Revisions::new(&pdf, &whole, BTreeMap::new());
        let mut budget = Budget::default();
        let old = revs.at(first, &mut budget).unwrap().unwrap();
        assert_eq!(old.objects, parse::load(&pdf[..first]).unwrap().objects);
        assert_eq!(old.get_dictionary((1, 0)).unwrap().get(b"N").unwrap().as_i64().unwrap(), 1);
        let again = revs.at(first, &mut budget).unwrap().unwrap();
        assert!(matches!((&old, &again), (Revision::Earlier(a), Revision::Earlier(b)) if Rc::ptr_eq(a, b)));
        assert!(matches!(revs.at(pdf.len(), &mut budget).unwrap(), Some(Revision::Whole(_))));
        assert!(revs.at(10, &mut budget).unwrap().is_none());
        assert!(revs.at(pdf.len() + 1, &mut budget).unwrap().is_none());
    }

    /// A spent budget refuses the parse instead of reading on.
    #[test]
    fn spent_budget_refuses() {
        let (pdf, first) = two_revisions();
        let whole = parse::load(&pdf).unwrap();
        let cancel = crate::pades::budget::Cancel::default();
        cancel.cancel();
        assert!(Revisions::new(&pdf, &whole, BTreeMap::new()).at(first, &mut Budget::new(cancel)).is_err());
    }
}
