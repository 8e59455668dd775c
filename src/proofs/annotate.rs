//! Annotated copies (加注件) of sealed licences: the licence bytes unchanged plus one incremental
//! update in which the platform department (`dsjzx`) signs the annotation field every licence
//! reserves at issue ([`ANNOTATION_FIELD`]). Its appearance is a translucent watermark naming the
//! using department, the matter and the copy's validity end, with the platform seal; the signature
//! dictionary carries the annotated-copy items (maker, time, purpose, user, validity end) as
//! `/ZYAnnotation`, so they are signed. The original seals stay valid: filling a field that the
//! certification and the joint-seal lock leave open is an allowed change (DocMDP P=2), which
//! pyHanko accepts too. A use record naming the subject by its code goes to the archive log.

use lopdf::dictionary;
use serde_json::json;

use crate::archive::Archive;
use crate::config::Home;
use crate::document::metadata::text_object;
use crate::document::watermark::{ANNOTATION_FIELD, ANNOTATION_RECT};
use crate::error::{ProofError, Result};
use crate::pades::{self, Appearance, SealRequest};
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

/// The licence with `identifier` from the archive (latest sealed licence, never an annotated
/// copy), or None.
pub fn find_licence(archive: &Archive, identifier: &str) -> Result<Option<Vec<u8>>> {
    let recs: Vec<_> = archive
        .find(crate::archive::index::By::Identifier, identifier)?
        .into_iter()
        .filter(|r| r.metadata.format.starts_with("PDF") && r.metadata.kind != KIND)
        .collect();
    match recs.last() {
        Some(r) => Ok(Some(archive.bytes(r)?)),
        None => Ok(None),
    }
}

/// Archive kind of annotated copies.
pub const KIND: &str = "annotated-copy";

/// Days an annotated copy stays usable when its maker names no validity end.
pub const DEFAULT_VALID_DAYS: i64 = 30;

/// The validity end of a copy made now with no `--valid-until`: today (UTC) plus
/// [`DEFAULT_VALID_DAYS`], as `YYYY-MM-DD`.
pub fn default_valid_until() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(DEFAULT_VALID_DAYS);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Make an annotated copy of `licence` for `by` and matter `purpose`, valid until `valid_until`.
pub fn annotate(
    home: &Home,
    archive: &Archive,
    licence: &[u8],
    by: &str,
    purpose: &str,
    valid_until: &str,
) -> Result<Annotated> {
    super::fields::ident("by", by)?;
    super::fields::matter("purpose", purpose)?;
    let (now_s, now) = super::now();
    let today = crate::document::china_date(now);
    let day = |d: &str| {
        d.len() == 10
            && time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
    };
    if !day(valid_until) {
        return Err(
            ProofError::Data(format!("--valid-until `{valid_until}` is not a date (YYYY-MM-DD)")).into()
        );
    }
    if valid_until < today.as_str() {
        return Err(ProofError::Data(format!(
            "--valid-until {valid_until} is already past; an annotated copy must be usable at least today"
        ))
        .into());
    }
    let region = home.region()?;
    let dept = region.department(by)?.clone();
    let list = super::uses::UseList::load(home)?;
    if list.matter(purpose).iter().all(|(_, u)| !u.by.iter().any(|d| d == by)) {
        return Err(ProofError::Refused(format!(
            "matter `{purpose}` is not a listed use for department `{by}`"
        ))
        .into());
    }
    crate::pki::crl::refresh_due(home);
    let trust = crate::trust::TrustStore::from_home(home)?;
    let report = crate::verify::verify(licence, &trust, std::time::SystemTime::now())?;
    if !report.passed() {
        return Err(ProofError::Other(format!(
            "the licence does not verify ({})",
            report.indication.as_str()
        ))
        .into());
    }
    let lic = report.licence.clone().unwrap_or_default();
    if let Some(plan) = report.seal_plan.as_ref().filter(|p| !p.complete) {
        return Err(ProofError::Other(format!("the licence is not complete yet ({} of {} planned seals); annotate it once every department has sealed", plan.present.len(), plan.required.len())).into());
    }
    // A licence no longer in force (superseded, cancelled, revoked, suspended, past its validity)
    // gets no copy to use for a matter: its seals are intact, but it is not a valid licence.
    if let Some(v) = crate::licence::status::current(archive, &lic.zzbs)?.filter(|v| !v.in_force) {
        let current = if v.current_version == lic.zzbs {
            String::new()
        } else {
            format!("; the current version is {}", v.current_version)
        };
        let state = if v.expired && v.status.in_force() { "expired" } else { v.status.as_str() };
        return Err(ProofError::Refused(format!(
            "licence {} is {state}{current}; no annotated copy is made of a licence not in force",
            lic.zzbs
        ))
        .into());
    }
    if report.signatures.iter().any(|s| s.field == ANNOTATION_FIELD) {
        return Err(ProofError::Other(
            "this PDF is already an annotated copy; annotate the original licence".into(),
        )
        .into());
    }
    let doc = pades::sign::load(licence)?;
    if pades::sign::empty_field(&doc, ANNOTATION_FIELD).is_none() {
        return Err(ProofError::Other(format!("the licence has no reserved `{ANNOTATION_FIELD}` field (issued by an older version?); re-issue it to make annotated copies")).into());
    }
    let matter_name = list.matter(purpose).first().map(|(_, u)| u.name.clone()).unwrap_or_default();
    let platform = region.department(PLATFORM)?.clone();
    let t = crate::document::china_time(now);
    let cst = format!("{today} {:02}:{:02}", t.hour(), t.minute());
    let note = format!("加注件：用证事由 {purpose} {matter_name}；用证部门 {}；加注时间 {cst}；有效期至 {valid_until}；加注机构 {}", dept.name, platform.name);
    let headline =
        format!("仅供{}办理{}使用", dept.name, if matter_name.is_empty() { purpose } else { &matter_name });
    let detail = format!("{purpose} · 有效期至 {valid_until} · 加注 {cst} · {}加注", platform.name);
    let items = dictionary! {
        "Type" => "ZYAnnotatedCopy",
        "Maker" => text_object(&platform.name), "MakerId" => text_object(&platform.id),
        "Time" => text_object(&now_s),
        "Purpose" => text_object(purpose), "PurposeName" => text_object(&matter_name),
        "User" => text_object(&dept.name), "UserId" => text_object(&dept.id),
        "ValidUntil" => text_object(valid_until),
        "Licence" => text_object(&lic.zzbs),
    };
    let signer = SealSigner::load(home, PLATFORM)?;
    let pdf = pades::seal(
        licence,
        &SealRequest {
            signer: &signer,
            rect: ANNOTATION_RECT,
            field_name: ANNOTATION_FIELD.to_string(),
            reason: note.clone(),
            location: region.region.name.clone(),
            certify: false,
            lock: false,
            appearance: Appearance::Watermark { headline: &headline, detail: &detail },
            extra: vec![("ZYAnnotation", lopdf::Object::Dictionary(items))],
        },
    )?;
    let meta = crate::filing::verified_metadata(&format!("{}-annotated.pdf", lic.zzbs), &pdf, &trust, KIND)?;
    let filed = crate::filing::append_verified(home, archive, vec![(pdf.as_slice(), meta)])?;
    let record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    // Use records name the holder by its pseudonymous code, never the raw ID / USCC.
    let secret = super::holders::region_key(home)?;
    let subject_code = super::holders::normalise_id(&lic.czztdm)
        .map(|id| super::holders::holder_code(&secret, &id))
        .unwrap_or_default();
    let body = json!({
        "type": "use-record", "id": super::random_id("UR")?, "at": now_s, "by": by, "by_name": dept.name,
        "kind": "licence", "purpose": purpose, "licence": lic.zzbs, "annotated_copy": record, "valid_until": valid_until,
        "maker": PLATFORM, "subject_code": subject_code,
    });
    let use_record =
        super::append_event(archive, "use-record", &subject_code, &lic.zzbs, &dept.name, &body)?.id;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    Ok(Annotated { pdf, note, identifier: lic.zzbs, record, use_record })
}
