//! Annotated copies (加注件) of sealed licences: the licence bytes unchanged plus one incremental
//! update sealed by the platform department (`dsjzx`), whose signature records the use purpose,
//! the using department, the time and the copy's validity end (in /Reason, and in the use record
//! appended to the archive log). The original seal stays valid: only a new signature field and
//! its appearance are added (DocMDP P=2 allows signatures).
//!
//! Missing: the watermark text is not yet drawn into the new widget's appearance (that needs an
//! appearance hook in pades::sign); the visible mark is the dsjzx seal. See docs/proofs.md.

use serde_json::json;

use crate::archive::Archive;
use crate::config::Home;
use crate::error::{ProofError, Result};
use crate::pades::{self, SealRequest};
use crate::pki::SealSigner;

/// The platform department that seals annotated copies.
pub const PLATFORM: &str = "dsjzx";

pub struct Annotated {
    pub pdf: Vec<u8>,
    pub note: String,
    pub identifier: String,
    pub record: String,
    pub use_record: String,
}

/// The licence with `identifier` from the archive (latest record), or None.
pub fn find_licence(archive: &Archive, identifier: &str) -> Result<Option<Vec<u8>>> {
    let mut recs: Vec<_> = archive.list().into_iter().filter_map(|r| r.ok()).filter(|r| r.metadata.identifier == identifier && r.metadata.format.starts_with("PDF")).collect();
    recs.sort_by_key(|r| r.leaf_index);
    match recs.last() {
        Some(r) => Ok(Some(archive.bytes(r)?)),
        None => Ok(None),
    }
}

/// Make an annotated copy of `licence` for `by` and matter `purpose`, valid until `valid_until`.
pub fn annotate(home: &Home, archive: &Archive, licence: &[u8], by: &str, purpose: &str, valid_until: &str) -> Result<Annotated> {
    let region = home.region()?;
    let dept = region.department(by)?.clone();
    let list = super::uses::UseList::load(home)?;
    if list.matter(purpose).iter().all(|(_, u)| !u.by.iter().any(|d| d == by)) {
        return Err(ProofError::Refused(format!("matter `{purpose}` is not a listed use for department `{by}`")).into());
    }
    let trust = crate::trust::TrustStore::from_home(home)?;
    let report = crate::verify::verify(licence, &trust, std::time::SystemTime::now())?;
    if !report.passed() {
        return Err(ProofError::Other(format!("the licence does not verify ({})", report.indication.as_str())).into());
    }
    let lic = report.licence.clone().unwrap_or_default();
    let n = report.signatures.len();
    let (now_s, _) = super::now();
    let note = format!("加注件：用证事由 {purpose}；用证部门 {}；加注时间 {now_s}；有效期至 {valid_until}；加注机构 {}", dept.name, region.department(PLATFORM)?.name);
    let signer = SealSigner::load(home, PLATFORM)?;
    let pdf = pades::seal(
        licence,
        &SealRequest {
            signer: &signer,
            rect: crate::document::seal_slot(n),
            field_name: format!("Annot{}_{}", n + 1, PLATFORM),
            reason: note.clone(),
            location: region.region.name.clone(),
            certify: false,
            lock: false,
        },
    )?;
    let filed = crate::filing::file_batch_in(home, archive, &[(format!("{}-annotated.pdf", lic.zzbs), pdf.clone())], "annotated-copy", &mut |_, _| {})?;
    let record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    // Use records name the holder by its pseudonymous code, never the raw ID / USCC.
    let secret = super::holders::region_key(home)?;
    let subject_code = super::holders::normalise_id(&lic.czztdm).map(|id| super::holders::holder_code(&secret, &id)).unwrap_or_default();
    let body = json!({
        "type": "use-record", "id": super::random_id("UR")?, "at": now_s, "by": by, "by_name": dept.name,
        "kind": "licence", "purpose": purpose, "licence": lic.zzbs, "annotated_copy": record, "valid_until": valid_until,
        "maker": PLATFORM, "subject_code": subject_code,
    });
    let use_record = super::append_event(archive, "use-record", &subject_code, &lic.zzbs, &dept.name, &body)?.id;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    Ok(Annotated { pdf, note, identifier: lic.zzbs, record, use_record })
}
