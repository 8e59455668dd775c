//! Reading an annotated copy's items (加注件: maker, time, purpose, using department, validity end)
//! from the `/ZYAnnotation` entry of the signature in the reserved annotation field, and telling
//! whether the copy's use period has ended. The items count only when that signature is valid:
//! the report shows them beside its verdict, and a verifier must not trust an invalid one.

use lopdf::Document;
use serde::Serialize;

use crate::document::metadata::decode_text;
use crate::document::watermark::ANNOTATION_FIELD;
use crate::pades::parse::deref;

/// The annotated-copy items as the report shows them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnnotatedCopy {
    pub maker: String,
    pub time: String,
    pub purpose: String,
    pub purpose_name: String,
    pub user: String,
    pub valid_until: String,
    /// The validity end is before the validation day.
    pub expired: bool,
}

/// The items of the signed annotation field, if the document is an annotated copy. `today` is
/// the validation day as YYYY-MM-DD (China Standard Time).
pub fn read(doc: &Document, today: &str) -> Option<AnnotatedCopy> {
    let form = deref(doc, doc.catalog().ok()?.get(b"AcroForm").ok()?)?.as_dict().ok()?;
    let fields = deref(doc, form.get(b"Fields").ok()?)?.as_array().ok()?;
    let widget = fields.iter().filter_map(|f| deref(doc, f)?.as_dict().ok()).find(|d| d.get(b"T").ok().and_then(decode_text).as_deref() == Some(ANNOTATION_FIELD))?;
    let sig = deref(doc, widget.get(b"V").ok()?)?.as_dict().ok()?;
    let items = deref(doc, sig.get(b"ZYAnnotation").ok()?)?.as_dict().ok()?;
    let text = |k: &[u8]| items.get(k).ok().and_then(decode_text).unwrap_or_default();
    let valid_until = text(b"ValidUntil");
    Some(AnnotatedCopy {
        maker: text(b"Maker"),
        time: text(b"Time"),
        purpose: text(b"Purpose"),
        purpose_name: text(b"PurposeName"),
        user: text(b"User"),
        expired: !valid_until.is_empty() && valid_until.as_str() < today,
        valid_until,
    })
}
