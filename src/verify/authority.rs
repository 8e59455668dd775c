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
use crate::config::authority::Authority;
use crate::config::Region;
use crate::document::identifier::LicenceId;
use crate::document::metadata::{decode_text, LicenceMetadata};
use crate::document::render::{SEAL_PLAN_IDS_KEY, SEAL_PLAN_KEY};
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
    if sig.field_name == ANNOTATION_FIELD && dept.id == crate::proofs::annotate::PLATFORM && position > 0 {
        return; // the annotated copy's own rules apply (verify/annotation.rs)
    }
    let home = trust.region.as_ref().map(|r| &r.region);
    match rule(authority, home, dept, position, doc) {
        Ok(note) => check.detail.push_str(&format!("; {note}")),
        Err(reason) => {
            let who = match (&dept.region, home) {
                (Some(r), Some(h)) if *r != h.id => format!("{r}/{}", dept.id),
                _ => dept.id.clone(),
            };
            *check = fail(
                "DEPARTMENT",
                Status::Failed,
                Indication::Indeterminate,
                "SIG_CONSTRAINTS_FAILURE",
                format!("seal of {} ({who}) is not authorised: {reason}", dept.name),
            )
        }
    }
}

/// What a document says about itself: its metadata, identifier and recorded seal plans.
struct Claims<'a> {
    meta: LicenceMetadata,
    id: LicenceId,
    info: &'a lopdf::Dictionary,
}

impl Claims<'_> {
    fn list(&self, key: &str) -> Option<Vec<String>> {
        self.info
            .get(key.as_bytes())
            .ok()
            .and_then(decode_text)
            .map(|p| p.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    }
}

fn claims(doc: &Document) -> Result<Claims<'_>, String> {
    let info = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|i| i.as_reference().ok())
        .and_then(|r| doc.get_dictionary(r).ok())
        .ok_or("the document has no Info dictionary, so it names no licence type (GB/T 36903 ZZLXDM)")?;
    let meta = LicenceMetadata::from_info(info)
        .ok_or("the document names no licence type (GB/T 36903 ZZLXDM), so no department may seal it")?;
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
    Ok(Claims { meta, id, info })
}

/// May `dept` make seal `position` (0 = the issuing seal) of this document? One rule for every
/// region's departments:
/// - the plan by region and USCC (`/ZYSealPlanIds`), when recorded, names this very department
///   at this position: a department is its region and USCC, never a local id, so Jinan's `scjg`
///   never stands for Tai'an's;
/// - the issuing seal is the issuer (USCC) the GB/T 36904 identifier and the metadata name;
/// - a home department on a home licence also follows the home's catalogue (`may_seal`, the plan
///   recorded at issue); another region's licence follows that region's table, not published.
fn rule(
    authority: &Authority,
    home: Option<&Region>,
    dept: &Department,
    position: usize,
    doc: &Document,
) -> Result<String, String> {
    let c = claims(doc)?;
    let recorded = c.list(SEAL_PLAN_KEY);
    // As `plan::status` reads it: the ids count when they name every entry of the plan.
    let plan_ids = c
        .list(SEAL_PLAN_IDS_KEY)
        .filter(|ids| !ids.is_empty() && Some(ids.len()) == recorded.as_ref().map(Vec::len));
    let home_id = home.map(|h| h.id.as_str());
    let foreign = dept.region.as_deref().filter(|r| Some(*r) != home_id);
    // Which region issued the document: the plan's first entry (or, for older documents, the
    // home's when its own department seals).
    let issuer_entry = plan_ids.as_ref().and_then(|p| p.first());
    let issued_here =
        issuer_entry.is_none_or(|first| home_id.is_some() && first.split('/').next() == home_id);
    // The home's own catalogue first: its refusal names the rule.
    let note = match foreign {
        None if issued_here => Some(authority.may_seal(&c.id.type_code, position, &dept.id)?),
        _ => None,
    };
    let key = dept.plan_key();
    if let Some(ids) = &plan_ids {
        let local = recorded.as_ref().and_then(|r| r.get(position)).map(String::as_str);
        match ids.get(position) {
            Some(want) if dept.fills(want, local) => {}
            Some(want) => {
                return Err(format!(
                    "the document's seal plan names {want} for seal {}, but this seal is {key}",
                    position + 1
                ))
            }
            None => {
                return Err(format!(
                    "the document's seal plan has {} seal(s); this is seal {} ({key})",
                    ids.len(),
                    position + 1
                ))
            }
        }
    }
    let uscc = dept.uscc.as_deref().unwrap_or_default();
    if position == 0 && (c.id.issuer_code != uscc || c.meta.zzbfjgdm != uscc) {
        return Err(format!(
            "the identifier names issuer {} (metadata {}), but the issuing seal is {}'s ({uscc})",
            c.id.issuer_code, c.meta.zzbfjgdm, dept.name
        ));
    }
    let Some(note) = note else {
        return Ok(match foreign {
            Some(region) => format!(
                "its authority for this licence type is {region}'s to decide (that region's table is not published)"
            ),
            None => format!(
                "seal {} of the seal plan recorded by {}",
                position + 1,
                issuer_entry.and_then(|e| e.split('/').next()).unwrap_or("another region")
            ),
        });
    };
    if position > 0 {
        return Ok(note);
    }
    let want = authority.plan(&c.id.type_code, &dept.id).unwrap_or_default();
    let want_ids = home.map(|h| h.plan_ids(&want));
    if recorded.as_ref() != Some(&want) || (plan_ids.is_some() && plan_ids != want_ids) {
        return Err(format!(
            "the document records seal plan {}, but {} issued by {} must record {}",
            recorded.map(|p| p.join(",")).unwrap_or_else(|| "(none)".into()),
            c.meta.zzmc,
            dept.id,
            want.join(",")
        ));
    }
    Ok(note)
}
