//! The seal plan: which departments' seals a licence requires, in what order (the template's
//! plan, recorded in the document's Info dictionary at rendering), against the valid seals
//! actually present.
//!
//! Documents record the plan twice: by local id (`/ZYSealPlan`, for the issuing region's CLI) and
//! by region and USCC (`/ZYSealPlanIds`, `taian/11370900MB28570021`). When the second is present
//! it decides: a seal counts for an entry only if its department was bound (by `department`) to
//! that region and USCC, so Jinan's 市场监督管理局 never stands in for Tai'an's. Older documents
//! fall back to local ids, which only this home's own departments can match.
//!
//! Knows the report's signatures and departments; not how each was checked.

use super::report::{Indication, SealPlanStatus, SignatureReport};

fn info_list(doc: &lopdf::Document, key: &str) -> Option<Vec<String>> {
    let text = super::info_dict(doc)
        .and_then(|i| i.get(key.as_bytes()).ok())
        .and_then(crate::document::metadata::decode_text)?;
    Some(text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
}

/// Compare the plan written in the document with the valid seals.
pub fn status(
    doc: &lopdf::Document,
    reports: &[SignatureReport],
    home_region: Option<&str>,
) -> Option<SealPlanStatus> {
    let required = info_list(doc, crate::document::render::SEAL_PLAN_KEY)?;
    let required_ids = info_list(doc, crate::document::render::SEAL_PLAN_IDS_KEY).unwrap_or_default();
    // Seals of the plan only: annotated-copy seals (加注件, fields `Annot…`) come after it.
    // A seal counts as present only when its signature is valid.
    let valid: Vec<&super::report::Department> = reports
        .iter()
        .filter(|r| !r.field.starts_with("Annot") && r.indication == Indication::TotalPassed)
        .filter_map(|r| r.department.as_ref())
        .collect();
    let (present, present_ids, in_order, complete) =
        if required_ids.len() == required.len() && !required_ids.is_empty() {
            // A department named only by its certificate (`--trust`, no region) matches by USCC, or
            // (no USCC in the certificate) by local id.
            let present_ids: Vec<String> = valid
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let want = required_ids.get(i).map(String::as_str).unwrap_or_default();
                    if d.fills(want, required.get(i).map(String::as_str)) {
                        want.to_string()
                    } else {
                        d.plan_key()
                    }
                })
                .collect();
            let in_order = required_ids.iter().zip(present_ids.iter()).all(|(a, b)| a == b)
                && present_ids.len() <= required_ids.len();
            // Local ids for the CLI: the plan's own where the seal matched it.
            let present = present_ids
                .iter()
                .enumerate()
                .map(|(i, id)| match (required_ids.get(i), required.get(i)) {
                    (Some(want), Some(local)) if want == id => local.clone(),
                    _ => id.clone(),
                })
                .collect();
            let complete = in_order && present_ids.len() == required_ids.len();
            (present, present_ids, in_order, complete)
        } else {
            // A plan of local ids only: the home's own departments (or, with `--trust` only, the
            // certificate's unit) can match; another region's department is named region/id.
            let present: Vec<String> = valid
                .iter()
                .map(|d| match (&d.region, home_region) {
                    (Some(r), Some(h)) if r != h => format!("{r}/{}", d.id),
                    _ => d.id.clone(),
                })
                .collect();
            let in_order =
                required.iter().zip(present.iter()).all(|(a, b)| a == b) && present.len() <= required.len();
            let complete = in_order && present.len() == required.len();
            (present, Vec::new(), in_order, complete)
        };
    Some(SealPlanStatus { required, present, required_ids, present_ids, in_order, complete })
}
