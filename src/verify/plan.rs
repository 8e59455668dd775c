//! The seal plan: which departments' seals a licence requires, in what order (the template's
//! plan, recorded in the document's Info dictionary at rendering), against the valid seals
//! actually present.
//!
//! Knows the report's signatures and departments; not how each was checked.

use super::report::{Indication, SealPlanStatus, SignatureReport};

/// Compare the plan written in the document (`Info /ZYSealPlan`) with the valid seals.
pub fn status(doc: &lopdf::Document, reports: &[SignatureReport]) -> Option<SealPlanStatus> {
    let plan = super::info_dict(doc)
        .and_then(|i| i.get(crate::document::render::SEAL_PLAN_KEY.as_bytes()).ok())
        .and_then(crate::document::metadata::decode_text)?;
    let required: Vec<String> =
        plan.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    // Seals of the plan only: annotated-copy seals (加注件, fields `Annot…`) come after it.
    // A seal counts as present only when its signature is valid.
    let present: Vec<String> = reports
        .iter()
        .filter(|r| !r.field.starts_with("Annot") && r.indication == Indication::TotalPassed)
        .filter_map(|r| r.department.as_ref().map(|d| d.id.clone()))
        .collect();
    let in_order =
        required.iter().zip(present.iter()).all(|(a, b)| a == b) && present.len() <= required.len();
    Some(SealPlanStatus {
        complete: in_order && present.len() == required.len(),
        required,
        present,
        in_order,
    })
}
