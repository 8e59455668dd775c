//! Reading an annotated copy's items (加注件: maker, time, purpose, using department, validity end)
//! from the `/ZYAnnotation` entry of the signature in the reserved annotation field, and telling
//! whether the copy's use period has ended. The items count only when that signature is valid:
//! the report shows them beside its verdict, and a verifier must not trust an invalid one.
//!
//! [`bind`] adds an ANNOTATION check to every annotation signature (the reserved field, or any
//! signature carrying `/ZYAnnotation`): the signer is the platform department of the home's own
//! region through its configured CA (`trust::department`), the maker named in the items is that
//! signer, and the using department + purpose form a listed use (uses.toml). Otherwise the
//! signature, and so the copy, does not pass (SIG_CONSTRAINTS_FAILURE).

use lopdf::{Dictionary, Document};
use serde::Serialize;

use super::report::{check, fail, Indication, SignatureReport, Status};
use crate::document::metadata::decode_text;
use crate::document::watermark::ANNOTATION_FIELD;
use crate::error::PdfError;
use crate::pades::budget::Budget;
use crate::pades::parse::deref;
use crate::pades::{cms, ParsedSignature};
use crate::trust::TrustStore;

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
/// the validation day as YYYY-MM-DD (China Standard Time). Each field looked at is charged to
/// `budget`.
pub fn read(doc: &Document, today: &str, budget: &mut Budget) -> Result<Option<AnnotatedCopy>, PdfError> {
    let Some(fields) = form_fields(doc) else { return Ok(None) };
    let mut widget = None;
    for f in fields {
        budget.visit()?;
        if let Some(d) = deref(doc, f)
            .and_then(|o| o.as_dict().ok())
            .filter(|d| d.get(b"T").ok().and_then(decode_text).as_deref() == Some(ANNOTATION_FIELD))
        {
            widget = Some(d);
            break;
        }
    }
    Ok(widget.and_then(|w| items(doc, w, today)))
}

/// The top-level fields of the document's form.
fn form_fields(doc: &Document) -> Option<&Vec<lopdf::Object>> {
    let form = deref(doc, doc.catalog().ok()?.get(b"AcroForm").ok()?)?.as_dict().ok()?;
    deref(doc, form.get(b"Fields").ok()?)?.as_array().ok()
}

/// The items of the annotation field's signature (a fixed number of single-step lookups).
fn items(doc: &Document, widget: &lopdf::Dictionary, today: &str) -> Option<AnnotatedCopy> {
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

/// Add the ANNOTATION binding check to each annotation signature's report (`reports[i]` is the
/// report of `sigs[i]`) and conclude it again.
pub fn bind(reports: &mut [SignatureReport], sigs: &[ParsedSignature], doc: &Document, trust: &TrustStore) {
    for (r, sig) in reports.iter_mut().zip(sigs) {
        let items = doc
            .get_dictionary(sig.object)
            .ok()
            .and_then(|d| d.get(b"ZYAnnotation").ok())
            .and_then(|o| deref(doc, o))
            .and_then(|o| o.as_dict().ok());
        if sig.field_name != ANNOTATION_FIELD && items.is_none() {
            continue;
        }
        r.checks.push(match binding(sig, items, trust) {
            Ok(ok) => check("ANNOTATION", Status::Passed, ok),
            Err(why) => {
                fail("ANNOTATION", Status::Failed, Indication::Indeterminate, "SIG_CONSTRAINTS_FAILURE", why)
            }
        });
        r.conclude();
    }
}

/// Why this annotation signature is (not) the platform's annotation of a listed use.
fn binding(sig: &ParsedSignature, items: Option<&Dictionary>, trust: &TrustStore) -> Result<String, String> {
    let platform = crate::proofs::annotate::PLATFORM;
    let items = items.ok_or("the annotation signature carries no annotated-copy items (/ZYAnnotation)")?;
    let text = |k: &[u8]| items.get(k).ok().and_then(decode_text).unwrap_or_default();
    let parsed =
        cms::parse(&sig.contents).map_err(|e| format!("the annotation signature cannot be read: {e}"))?;
    let signer = parsed
        .signer
        .and_then(|i| parsed.certificates.get(i))
        .ok_or("the annotation signature carries no signer certificate")?;
    let dept = crate::trust::department::department_of(trust, signer)
        .map_err(|e| format!("annotated copies are made by the platform `{platform}`: {e}"))?;
    if dept.id != platform {
        return Err(format!(
            "the annotation is signed by `{}` ({}), not by the platform `{platform}`",
            dept.id, dept.name
        ));
    }
    let (maker, maker_id) = (text(b"Maker"), text(b"MakerId"));
    if maker != dept.name || maker_id != dept.id {
        return Err(format!(
            "the items name the maker {} ({}), but {} ({}) signed",
            clip(&maker),
            clip(&maker_id),
            dept.name,
            dept.id
        ));
    }
    let (purpose, user_id, user) = (text(b"Purpose"), text(b"UserId"), text(b"User"));
    let region = trust.region.as_ref().ok_or("no region configuration")?;
    let user_dept = region.department(&user_id).map_err(|_| {
        format!(
            "the using department `{}` is not a department of region {}",
            clip(&user_id),
            region.region.id
        )
    })?;
    if user_dept.name != user {
        return Err(format!(
            "the items name the user {} but `{}` is {}",
            clip(&user),
            user_dept.id,
            user_dept.name
        ));
    }
    let list = trust.uses.as_ref().ok_or("no list of uses to check the purpose against")?;
    if !list.matter(&purpose).iter().any(|(_, u)| u.by.contains(&user_id)) {
        return Err(format!("purpose `{}` is not a listed use for `{}`", clip(&purpose), user_dept.id));
    }
    Ok(format!(
        "annotated by the platform {} for {} ({}), purpose {purpose}",
        dept.name, user_dept.name, user_dept.id
    ))
}

/// At most 40 characters of an item, for messages.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}
