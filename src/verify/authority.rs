//! The authority half of the DEPARTMENT check: may this seal's department seal this licence type,
//! in this position of its seal plan? A 营业执照 sealed by 人社局 with its real key is a valid
//! signature by the wrong authority, so the check fails (INDETERMINATE / SIG_CONSTRAINTS_FAILURE,
//! ETSI EN 319 102-1: the signature does not meet the validation constraints) and names the rule.
//!
//! The licence type is read from the GB/T 36903 metadata (ZZLXDM) and the GB/T 36904 identifier
//! (ZZBS), which must agree; the issuing seal must also be the department the identifier names
//! and the document must record the type's seal plan. The rules live in config/authority.rs; the
//! department comes from `department_check` (this module reads no certificate). Without a region
//! (`--trust` only) nothing is decided here and DEPARTMENT stays a warning.

use lopdf::Document;

use super::report::{fail, Check, Department, Indication, Status};
use crate::document::identifier::LicenceId;
use crate::document::metadata::{decode_text, LicenceMetadata};
use crate::document::render::SEAL_PLAN_KEY;
use crate::document::watermark::ANNOTATION_FIELD;
use crate::pades::ParsedSignature;
use crate::trust::TrustStore;

/// Amend the DEPARTMENT check just pushed onto `checks` with the region's authority rules.
pub fn apply(
    checks: &mut [Check],
    dept: Option<&Department>,
    sig: &ParsedSignature,
    all: &[ParsedSignature],
    doc: &Document,
    trust: &TrustStore,
) {
    let Some(check) = checks.iter_mut().rev().find(|c| c.name == "DEPARTMENT") else { return };
    let Some(authority) = trust.authority.as_ref() else {
        if check.status == Status::Warning {
            check.detail.push_str("; its authority for this licence type is not checked");
        }
        return;
    };
    let Some(dept) = dept.filter(|_| matches!(check.status, Status::Passed | Status::Warning)) else {
        return;
    };
    // Seals before this one, not counting annotated-copy seals (加注件, made by the platform).
    let position = all
        .iter()
        .filter(|s| s.signed_end() < sig.signed_end() && s.field_name != ANNOTATION_FIELD)
        // A document timestamp (B-LTA, added at filing) is no seal of the plan.
        .filter(|s| !super::doc_timestamps::is_doc_timestamp(s))
        .count();
    // Another region's department: its own region's table decides what it may issue; here only
    // what any region can check — the issuing seal is the issuer the identifier names.
    let home = trust.region.as_ref().map(|r| r.region.id.as_str());
    if let Some(region) = dept.region.as_deref().filter(|r| Some(*r) != home) {
        match foreign_rule(dept, position, doc) {
            Ok(()) => check.detail.push_str(&format!(
                "; its authority for this licence type is {region}'s to decide (that region's table is not published)"
            )),
            Err(reason) => {
                *check = fail(
                    "DEPARTMENT",
                    Status::Failed,
                    Indication::Indeterminate,
                    "SIG_CONSTRAINTS_FAILURE",
                    format!("seal of {} ({region}/{}) is not authorised: {reason}", dept.name, dept.id),
                )
            }
        }
        return;
    }
    if sig.field_name == ANNOTATION_FIELD && dept.id == crate::proofs::annotate::PLATFORM && position > 0 {
        return; // the annotated copy's own rules apply (verify/annotation.rs)
    }
    match rule(authority, &dept.id, position, doc) {
        Ok(note) => check.detail.push_str(&format!("; {note}")),
        Err(reason) => {
            *check = fail(
                "DEPARTMENT",
                Status::Failed,
                Indication::Indeterminate,
                "SIG_CONSTRAINTS_FAILURE",
                format!("seal of {} ({}) is not authorised: {reason}", dept.name, dept.id),
            )
        }
    }
}

/// For another region's department: an issuing seal must be the issuer (USCC) the GB/T 36904
/// identifier and the GB/T 36903 metadata name.
fn foreign_rule(dept: &Department, position: usize, doc: &Document) -> Result<(), String> {
    if position > 0 {
        return Ok(());
    }
    let info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|i| i.as_reference().ok())
        .and_then(|r| doc.get_dictionary(r).ok());
    let Some(meta) = info.and_then(LicenceMetadata::from_info) else {
        return Err("the document names no licence type (GB/T 36903 ZZLXDM)".into());
    };
    let id: LicenceId = meta
        .zzbs
        .parse()
        .map_err(|e| format!("its licence identifier is not a GB/T 36904 identifier ({e})"))?;
    let uscc = dept.uscc.as_deref().unwrap_or_default();
    if id.issuer_code != uscc || meta.zzbfjgdm != uscc {
        return Err(format!(
            "the identifier names issuer {} (metadata {}), but the issuing seal is {}'s ({uscc})",
            id.issuer_code, meta.zzbfjgdm, dept.name
        ));
    }
    Ok(())
}

fn rule(
    authority: &crate::config::authority::Authority,
    dept: &str,
    position: usize,
    doc: &Document,
) -> Result<String, String> {
    let info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|i| i.as_reference().ok())
        .and_then(|r| doc.get_dictionary(r).ok());
    let Some(meta) = info.and_then(LicenceMetadata::from_info) else {
        return Err("the document names no licence type (GB/T 36903 ZZLXDM), so no department of the region may seal it".into());
    };
    let id: LicenceId = meta
        .zzbs
        .parse()
        .map_err(|e| format!("its licence identifier is not a GB/T 36904 identifier ({e})"))?;
    if id.type_code != meta.zzlxdm {
        return Err(format!(
            "the identifier's licence type {} differs from the metadata's {}",
            id.type_code, meta.zzlxdm
        ));
    }
    let note = authority.may_seal(&id.type_code, position, dept)?;
    if position > 0 {
        return Ok(note);
    }
    let uscc = authority.uscc(dept).unwrap_or_default();
    if id.issuer_code != uscc || meta.zzbfjgdm != uscc {
        return Err(format!(
            "the identifier names issuer {} (metadata {}), but the issuing seal is {dept}'s ({uscc})",
            id.issuer_code, meta.zzbfjgdm
        ));
    }
    let recorded: Option<Vec<String>> = info
        .and_then(|i| i.get(SEAL_PLAN_KEY.as_bytes()).ok())
        .and_then(decode_text)
        .map(|p| p.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let want = authority.plan(&id.type_code, dept).unwrap_or_default();
    if recorded.as_ref() != Some(&want) {
        return Err(format!(
            "the document records seal plan {}, but {} issued by {dept} must record {}",
            recorded.map(|p| p.join(",")).unwrap_or_else(|| "(none)".into()),
            meta.zzmc,
            want.join(",")
        ));
    }
    Ok(note)
}
