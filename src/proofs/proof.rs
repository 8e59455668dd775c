//! Proofs on demand: a listed request is answered from the holding department's data with the
//! minimum needed, as (a) a proof PDF sealed by the holding department (the `proof` template,
//! verifiable like a licence) and (b) a compact JWS (profile in `token`). Both are archived and a
//! use record is appended to the archive log; refusals are recorded too. Unknown subjects get a
//! signed "无此记录" answer (a department's "no such record" is evidence as well).

use serde_json::json;

use super::holders::{self, Holders};
use super::uses::UseList;
use crate::archive::{Archive, Metadata};
use crate::config::Home;
use crate::document::{self, RenderInput, Template};
use crate::error::{ProofError, Result};
use crate::pki::SealSigner;

pub use super::token::{sign_jws, verify_jws, TokenCheck};

/// The answer given when the holder has no record of the subject.
pub const NO_RECORD: &str = "无此记录（本部门未查到该主体的相关数据）";

/// A proof request, as the CLI and HTTP API take it.
pub struct Request<'a> {
    /// The asking (handling) department.
    pub by: &'a str,
    pub kind: &'a str,
    /// Raw ID number or USCC: turned into a holder code at once and never stored.
    pub subject: &'a str,
    /// 事项 code.
    pub purpose: &'a str,
    /// Validity of the answer in days.
    pub valid_days: u32,
}

pub enum Outcome {
    Refused { reason: String, record_id: String },
    Answered(Box<Answered>),
}

pub struct Answered {
    pub jti: String,
    pub found: bool,
    pub answer: String,
    pub holder: String,
    pub subject_code: String,
    pub pdf: Vec<u8>,
    pub jws: String,
    pub pdf_record: String,
    pub token_record: String,
    pub use_record: String,
}

/// The `proof` template (the home's copy if customised, else the built-in one).
pub fn template(home: &Home) -> Result<Template> {
    if home.templates_dir().join("proof.toml").exists() {
        return Template::load(home, "proof");
    }
    let text = document::template::BUILTIN
        .iter()
        .find(|(n, _)| *n == "proof")
        .map(|(_, t)| *t)
        .ok_or_else(|| ProofError::Other("no built-in proof template".into()))?;
    Template::parse(text, "proof")
}

/// Answer (or refuse) a request. The archive must not be open elsewhere in this process.
pub fn request(home: &Home, req: &Request<'_>) -> Result<Outcome> {
    let archive = super::open_archive(home)?;
    let holders = Holders::open(home)?;
    request_in(home, &archive, &holders, req)
}

/// [`request`] with the archive and holder database held open by the caller.
pub fn request_in(
    home: &Home,
    archive: &Archive,
    holders_db: &Holders,
    req: &Request<'_>,
) -> Result<Outcome> {
    let trust = crate::trust::TrustStore::from_home(home)?;
    file(home, archive, prepare(home, holders_db, &trust, req)?)
}

/// A request worked out but not yet archived: [`prepare`] makes it without touching the archive
/// (so a service may prepare many at once), [`file`] archives it (callers serialise that).
pub enum Prepared {
    Refused { reason: String, code: String, asker: String, body: serde_json::Value },
    Answer(Box<Draft>),
}

/// An answer ready to archive: the verified proof PDF, the token, and what the records need.
pub struct Draft {
    jti: String,
    found: bool,
    answer: String,
    holder: String,
    asker: String,
    code: String,
    pdf: Vec<u8>,
    pdf_meta: Metadata,
    jws: String,
    token_meta: Metadata,
    use_body: serde_json::Value,
}

/// Phase 1: check the list of uses, look the subject up, render and seal the proof PDF, verify
/// it against `trust` (the archive only takes documents that verify), sign the token.
pub fn prepare(
    home: &Home,
    holders_db: &Holders,
    trust: &crate::trust::TrustStore,
    req: &Request<'_>,
) -> Result<Prepared> {
    prepare_as(home, holders_db, trust, req, None)
}

/// A department of another region asking (跨区域核验): its region id and USCC, as the
/// credential this region issued to it says (`proofs::foreign`).
#[derive(Debug, Clone, Copy)]
pub struct ForeignAsker<'a> {
    pub region: &'a str,
    pub uscc: &'a str,
}

/// [`prepare`] for a department of this region (`foreign` None; `req.by` names it) or of another
/// region (`req.by` is ignored): the list of uses decides by `by`, or by region and USCC.
pub fn prepare_as(
    home: &Home,
    holders_db: &Holders,
    trust: &crate::trust::TrustStore,
    req: &Request<'_>,
    foreign: Option<ForeignAsker<'_>>,
) -> Result<Prepared> {
    if foreign.is_none() {
        super::fields::ident("by", req.by)?;
    }
    super::fields::ident("kind", req.kind)?;
    super::fields::matter("purpose", req.purpose)?;
    super::fields::subject("subject", req.subject)?;
    let region = home.region()?;
    // The asker: (id as records and `aud` name it, name, extra record fields).
    let (by_id, by_name, by_extra) = match foreign {
        None => {
            let d = region.department(req.by)?;
            (d.id.clone(), d.name.clone(), json!({}))
        }
        Some(f) => (
            format!("{}:{}", f.region, f.uscc),
            format!("{} 区域 {}", f.uscc, f.region),
            json!({"by_region": f.region, "by_uscc": f.uscc}),
        ),
    };
    let list = UseList::load(home)?;
    let secret = holders::region_key(home)?;
    let id = holders::normalise_id(req.subject).ok_or_else(|| {
        ProofError::Data(
            "the subject is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)".into(),
        )
    })?;
    let code = holders::holder_code(&secret, &id);
    let (now_s, now) = super::now();
    let allowed = match foreign {
        None => list.allow(req.by, req.kind, req.purpose).map(|(k, u)| (k, u, by_name.clone())),
        Some(f) => list.allow_foreign(f.region, f.uscc, req.kind, req.purpose).map(|(k, u, d)| {
            let name =
                if d.name.is_empty() { by_name.clone() } else { format!("{}（{}）", d.name, f.region) };
            (k, u, name)
        }),
    };
    let (kind, use_, by_name) = match allowed {
        Ok(x) => x,
        Err(e) => {
            let reason = match e {
                ProofError::Refused(r) => r,
                other => other.to_string(),
            };
            let mut body = json!({"type": "use-refusal", "id": super::random_id("RF")?, "at": now_s, "by": by_id, "kind": req.kind, "purpose": req.purpose, "subject_code": code, "reason": reason});
            merge(&mut body, &by_extra);
            return Ok(Prepared::Refused { reason, code, asker: by_name, body });
        }
    };
    let holder = region.department(&kind.holder)?.clone();
    let record = holders_db.get(&holder.id, &kind.id, &code)?;
    let answer = match &record {
        Some(r) => kind
            .answer
            .iter()
            .map(|a| format!("{}：{}", a.label, r.fields.get(&a.field).map(String::as_str).unwrap_or("—")))
            .collect::<Vec<_>>()
            .join("；"),
        None => NO_RECORD.to_string(),
    };
    let jti = super::random_id("ZM")?;
    let exp = now + i64::from(req.valid_days.max(1)) * 86_400;
    let issued = document::china_date(now);

    // (a) the sealed proof PDF, verified as the archive requires.
    let t = template(home)?;
    let data = t.check(&json!({
        "proof_no": jti,
        "subject": record.as_ref().map(|r| r.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| "（未查到）".into()),
        "subject_id": holders::mask(&id),
        "subject_code": code,
        "proof_kind": kind.name,
        "requester": by_name,
        "matter": format!("{} {}", use_.matter, use_.name),
        "answer": answer,
        "issued": issued,
        "valid_until": document::china_date(exp),
    }))?;
    let signer = SealSigner::load(home, &holder.id)?;
    let serial = format!("{}{}", issued.replace('-', ""), &jti[2..]);
    let input = RenderInput {
        template: &t,
        data: &data,
        issuer: &holder,
        region: &region.region,
        issue_date: issued.clone(),
        serial,
        version: 1,
        plan: vec![holder.clone()],
    };
    let (pdf, rendered) =
        crate::licence::render_and_seal(&input, &signer, format!("{}出具{}", holder.name, kind.name))?;
    let pdf_meta = crate::filing::verified_metadata(&format!("{jti}.pdf"), &pdf, trust, "proof")?;

    // (b) the JWS.
    let claims = json!({
        "iss": holder.id, "iss_name": holder.name, "sub": code, "kind": kind.id, "purpose": use_.matter,
        "aud": by_id, "answer": answer, "found": record.is_some(), "iat": now, "exp": exp, "jti": jti,
        "licence": rendered.id.to_string(),
    });
    let jws = sign_jws(&signer, &claims)?;
    let token_meta = Metadata {
        kind: "proof-token".into(),
        title: format!("{} {}", kind.name, jti),
        identifier: jti.clone(),
        holder: String::new(),
        holder_code: code.clone(),
        issuer: holder.name.clone(),
        issue_date: issued.clone(),
        valid_until: document::china_date(exp),
        retention: "永久".into(),
        format: "JWS".into(),
        format_version: "RFC 7515 compact, ES256".into(),
        signers: vec![holder.id.clone()],
        verification: "TOTAL-PASSED".into(),
        ..Default::default()
    };
    let mut use_body = json!({
        "type": "use-record", "id": super::random_id("UR")?, "at": now_s, "by": by_id, "by_name": by_name,
        "kind": kind.id, "holder": holder.id, "purpose": use_.matter, "purpose_name": use_.name,
        "subject_code": code, "answer_id": jti, "found": record.is_some(),
    });
    merge(&mut use_body, &by_extra);
    Ok(Prepared::Answer(Box::new(Draft {
        jti,
        found: record.is_some(),
        answer,
        holder: holder.id,
        asker: by_name,
        code,
        pdf,
        pdf_meta,
        jws,
        token_meta,
        use_body,
    })))
}

/// Add `extra`'s fields to the JSON object `body`.
fn merge(body: &mut serde_json::Value, extra: &serde_json::Value) {
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// Phase 2: archive the refusal, or the PDF, the token and the use record naming both; one
/// flush and one signed tree head for all of it.
pub fn file(home: &Home, archive: &Archive, p: Prepared) -> Result<Outcome> {
    let d = match p {
        Prepared::Refused { reason, code, asker, body } => {
            let rid = body.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let rec = super::append_event(archive, "use-refusal", &code, &rid, &asker, &body)?;
            archive.flush()?;
            crate::filing::sign_tree_head(home, archive)?;
            return Ok(Outcome::Refused { reason, record_id: rec.id });
        }
        Prepared::Answer(d) => *d,
    };
    let filed = crate::filing::append_verified(
        home,
        archive,
        vec![(d.pdf.as_slice(), d.pdf_meta), (d.jws.as_bytes(), d.token_meta)],
    )?;
    let pdf_record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    let token_record = filed.get(1).map(|f| f.record.id.clone()).unwrap_or_default();
    let mut body = d.use_body;
    if let Some(o) = body.as_object_mut() {
        o.insert("pdf_record".into(), json!(pdf_record));
        o.insert("token_record".into(), json!(token_record));
    }
    let use_record = super::append_event(archive, "use-record", &d.code, &d.jti, &d.asker, &body)?.id;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    Ok(Outcome::Answered(Box::new(Answered {
        jti: d.jti,
        found: d.found,
        answer: d.answer,
        holder: d.holder,
        subject_code: d.code,
        pdf: d.pdf,
        jws: d.jws,
        pdf_record,
        token_record,
        use_record,
    })))
}

/// Every use record and refusal about the subject, oldest first (the subject's right to know).
pub fn uses_of(home: &Home, archive: &Archive, subject: &str) -> Result<Vec<serde_json::Value>> {
    super::fields::subject("subject", subject)?;
    let secret = holders::region_key(home)?;
    let id = holders::normalise_id(subject).ok_or_else(|| {
        ProofError::Data("the subject is neither a valid ID number nor a valid USCC".into())
    })?;
    let code = holders::holder_code(&secret, &id);
    let recs: Vec<_> = archive
        .find(crate::archive::index::By::Holder, &code)?
        .into_iter()
        .filter(|r| matches!(r.metadata.kind.as_str(), "use-record" | "use-refusal" | "commitment-check"))
        .collect();
    let mut out = Vec::new();
    for r in recs {
        let bytes = archive.verified_bytes(&r)?;
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("archive_record".into(), json!(r.id));
            o.insert("leaf_index".into(), json!(r.leaf_index));
        }
        out.push(v);
    }
    Ok(out)
}
