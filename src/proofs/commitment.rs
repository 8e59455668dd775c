//! Notification-and-commitment (告知承诺): instead of a proof, the applicant commits that a
//! condition holds; the handling department records the commitment as a PDF sealed with its own
//! seal (the built-in `commitment` template) and later checks it against the holders' data.
//!
//! Boundary: the list of uses decides which matters accept commitments (kinds listing the matter
//! with a `commitment = {field, expect}` rule) and who may take them; refusals are recorded like
//! proof refusals. The raw ID becomes a holder code at once and is shown only masked. Everything
//! lives in the archive: the sealed PDF (kind `commitment`), a JSON `commitment-record` with the
//! terms to check, and one JSON `commitment-check` per check. `kept`/`broken` are final;
//! `unverifiable` (no holder record) stays open for a later check.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::holders;
use super::uses::UseList;
use crate::archive::Archive;
use crate::config::Home;
use crate::document::{self, RenderInput, Template};
use crate::error::{ProofError, Result};
use crate::pki::SealSigner;

pub use super::commitment_check::{
    check, check_in, status_of, CheckReport, CommitmentResult, Finding, NotDue,
};

/// Longest statement accepted, in characters: the template's per-field limit, which also keeps
/// the statement (about 26 CJK characters a line) on the one page the renderer draws.
pub const MAX_STATEMENT_CHARS: usize = document::template::MAX_FIELD_CHARS;
/// Longest allowed check period, in days.
pub const MAX_CHECK_DAYS: u32 = 3650;

/// A commitment to record, as the CLI and HTTP API take it.
pub struct CommitRequest<'a> {
    /// The handling department (records and seals the commitment).
    pub by: &'a str,
    /// Raw ID number or USCC: turned into a holder code at once and never stored.
    pub subject: &'a str,
    /// 事项 code.
    pub matter: &'a str,
    /// The commitment text (UTF-8; line breaks are joined).
    pub statement: &'a str,
    /// Days until the check is due.
    pub check_days: u32,
}

pub enum CommitOutcome {
    Refused { reason: String, record_id: String },
    Recorded(Box<Recorded>),
}

pub struct Recorded {
    /// Commitment number (`CN` + 16 hex).
    pub id: String,
    pub subject_code: String,
    /// The sealed commitment PDF.
    pub pdf: Vec<u8>,
    /// Archive record id of the PDF.
    pub record: String,
    /// The proof kinds whose rules the check applies.
    pub kinds: Vec<String>,
    /// `YYYY-MM-DD` (China Standard Time).
    pub check_due: String,
    /// Archive record id of the JSON `commitment-record` entry.
    pub terms_record: String,
}

/// One condition to check, fixed when the commitment is recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Term {
    pub kind: String,
    pub holder: String,
    pub field: String,
    pub expect: String,
}

/// The JSON `commitment-record` archived next to the PDF.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Terms {
    pub(super) id: String,
    pub(super) at: String,
    pub(super) by: String,
    pub(super) matter: String,
    pub(super) subject_code: String,
    pub(super) subject_masked: String,
    pub(super) check_due: String,
    pub(super) terms: Vec<Term>,
}

/// The `commitment` template (the home's copy if present, else the built-in one).
pub fn template(home: &Home) -> Result<Template> {
    if home.templates_dir().join("commitment.toml").exists() {
        return Template::load(home, "commitment");
    }
    let text = document::template::BUILTIN
        .iter()
        .find(|(n, _)| *n == "commitment")
        .map(|(_, t)| *t)
        .ok_or_else(|| ProofError::Other("no built-in commitment template".into()))?;
    Template::parse(text, "commitment")
}

/// Check and tidy a statement: line breaks joined (a space only between two ASCII words), tabs
/// become spaces; empty, too long or control characters are refused.
pub fn normalise_statement(text: &str) -> std::result::Result<String, ProofError> {
    let mut out = String::new();
    for line in text.trim_start_matches('\u{feff}').lines().map(str::trim).filter(|l| !l.is_empty()) {
        let ascii_join = out.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
            && line.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ascii_join {
            out.push(' ');
        }
        out.push_str(&line.replace('\t', " "));
    }
    if out.is_empty() {
        return Err(ProofError::Other(
            "the statement is empty: write the commitment text (UTF-8) in the file".into(),
        ));
    }
    let n = out.chars().count();
    if n > MAX_STATEMENT_CHARS {
        return Err(ProofError::Other(format!("the statement has {n} characters; at most {MAX_STATEMENT_CHARS} fit on the sealed commitment page")));
    }
    if out.chars().any(char::is_control) {
        return Err(ProofError::Other("the statement contains control characters".into()));
    }
    Ok(out)
}

/// Record (or refuse) a commitment, opening the home's archive. The archive must not be open
/// elsewhere in this process (else use [`commit_in`]).
pub fn commit(home: &Home, req: &CommitRequest<'_>) -> Result<CommitOutcome> {
    commit_in(home, &super::open_archive(home)?, req)
}

/// [`commit`] with the archive held open by the caller.
pub fn commit_in(home: &Home, archive: &Archive, req: &CommitRequest<'_>) -> Result<CommitOutcome> {
    super::fields::ident("by", req.by)?;
    super::fields::matter("matter", req.matter)?;
    super::fields::subject("subject", req.subject)?;
    super::fields::statement("statement", req.statement)?;
    let region = home.region()?;
    let by = region.department(req.by)?.clone();
    let list = UseList::load(home)?;
    let secret = holders::region_key(home)?;
    let id = holders::normalise_id(req.subject).ok_or_else(|| {
        ProofError::Data(
            "the subject is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)".into(),
        )
    })?;
    let code = holders::holder_code(&secret, &id);
    let statement = normalise_statement(req.statement)?;
    if let Some(what) = super::idscan::find(&statement) {
        return Err(ProofError::Other(format!("the statement must not contain an ID number or USCC (it holds what looks like {what}; the subject is shown masked on the page, and nobody else's number belongs in it)")).into());
    }
    if req.check_days == 0 || req.check_days > MAX_CHECK_DAYS {
        return Err(ProofError::Other(format!("the check period must be 1..={MAX_CHECK_DAYS} days")).into());
    }
    let (now_s, now) = super::now();

    // Which kinds check this matter, and may `by` take the commitment?
    let listed: Vec<_> =
        list.matter(req.matter).into_iter().filter(|(k, _)| k.commitment.is_some()).collect();
    let refusal = if listed.is_empty() {
        Some(format!(
            "matter `{}` accepts no commitment (告知承诺): no proof kind with a commitment rule lists it",
            req.matter
        ))
    } else if !listed.iter().any(|(_, u)| u.by.iter().any(|d| d == req.by)) {
        let mut allowed: Vec<&str> =
            listed.iter().flat_map(|(_, u)| u.by.iter().map(String::as_str)).collect();
        allowed.sort_unstable();
        allowed.dedup();
        Some(format!(
            "department `{}` may not take commitments for matter `{}` (allowed: {})",
            req.by,
            req.matter,
            allowed.join(", ")
        ))
    } else {
        None
    };
    if let Some(reason) = refusal {
        let rid = super::random_id("RF")?;
        let body = json!({"type": "use-refusal", "id": rid, "at": now_s, "by": req.by, "kind": "commitment", "purpose": req.matter, "subject_code": code, "reason": reason});
        let rec = super::append_event(archive, "use-refusal", &code, &rid, &by.name, &body)?;
        archive.flush()?;
        crate::filing::sign_tree_head(home, archive)?;
        return Ok(CommitOutcome::Refused { reason, record_id: rec.id });
    }
    let terms: Vec<Term> = listed
        .iter()
        .filter_map(|(k, _)| {
            k.commitment.as_ref().map(|r| Term {
                kind: k.id.clone(),
                holder: k.holder.clone(),
                field: r.field.clone(),
                expect: r.expect.clone(),
            })
        })
        .collect();
    let matter_name = listed.first().map(|(_, u)| u.name.clone()).unwrap_or_default();

    let cid = super::random_id("CN")?;
    let committed = document::china_date(now);
    let check_due = document::china_date(now.saturating_add(i64::from(req.check_days) * 86_400));
    let t = template(home)?;
    let data = t.check(&json!({
        "commitment_no": cid,
        "subject_id": holders::mask(&id),
        "subject_code": code,
        "matter": format!("{} {}", req.matter, matter_name),
        "handler": by.name,
        "statement": statement,
        "committed": committed,
        "check_due": check_due,
    }))?;
    let signer = SealSigner::load(home, &by.id)?;
    let serial = format!("{}{}", committed.replace('-', ""), cid.get(2..).unwrap_or(""));
    let input = RenderInput {
        template: &t,
        data: &data,
        issuer: &by,
        region: &region.region,
        issue_date: committed.clone(),
        serial,
        version: 1,
        plan: vec![by.clone()],
    };
    let (pdf, _) = crate::licence::render_and_seal(&input, &signer, format!("{}受理告知承诺", by.name))?;

    let trust = crate::trust::TrustStore::from_home(home)?;
    let meta = crate::filing::verified_metadata(&format!("{cid}.pdf"), &pdf, &trust, "commitment")?;
    let filed = crate::filing::append_verified(home, archive, vec![(pdf.as_slice(), meta)])?;
    let record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    let terms_json = Terms {
        id: cid.clone(),
        at: now_s,
        by: by.id.clone(),
        matter: req.matter.to_string(),
        subject_code: code.clone(),
        subject_masked: holders::mask(&id),
        check_due: check_due.clone(),
        terms: terms.clone(),
    };
    let mut body = serde_json::to_value(&terms_json).map_err(|e| ProofError::Other(e.to_string()))?;
    if let Some(o) = body.as_object_mut() {
        o.insert("type".into(), json!("commitment-record"));
        o.insert("pdf_record".into(), json!(record));
    }
    let terms_record = super::append_event(archive, "commitment-record", &code, &cid, &by.name, &body)?.id;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    Ok(CommitOutcome::Recorded(Box::new(Recorded {
        id: cid,
        subject_code: code,
        pdf,
        record,
        kinds: terms.into_iter().map(|t| t.kind).collect(),
        check_due,
        terms_record,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_lines_are_joined_and_limits_hold() {
        assert_eq!(
            normalise_statement("\u{feff}本人承诺\n  参保正常。\n").ok().as_deref(),
            Some("本人承诺参保正常。")
        );
        assert_eq!(
            normalise_statement("I commit\nto this\tnow").ok().as_deref(),
            Some("I commit to this now")
        );
        assert!(normalise_statement(" \n\n").is_err());
        assert!(normalise_statement(&"承".repeat(MAX_STATEMENT_CHARS)).is_ok());
        assert!(normalise_statement(&"承".repeat(MAX_STATEMENT_CHARS + 1)).is_err());
        assert!(normalise_statement("a\u{7}b").is_err());
    }
}
