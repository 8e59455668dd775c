//! Checking notification-and-commitment records (告知承诺) once they are due: each open
//! commitment's terms, fixed when it was recorded (`commitment`), are compared with the holders'
//! current data; the result (`kept`, `broken`, or `unverifiable` while the holder has no record)
//! is filed as a `commitment-check` event and a new tree head is signed. Decided commitments are
//! never re-checked; those not yet due are listed and left open.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::commitment::{Term, Terms};
use super::holders::Holders;
use crate::archive::Archive;
use crate::config::Home;
use crate::document;
use crate::error::{ProofError, Result};

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub checked_at: String,
    pub kept: usize,
    pub broken: usize,
    pub unverifiable: usize,
    /// Commitments skipped because an earlier check already decided them (kept or broken).
    pub already_decided: usize,
    /// Open commitments whose check is not yet due (`check_due` is after today, China time):
    /// nothing is decided or recorded for them; the holder has until then to make it true.
    pub not_due: Vec<NotDue>,
    pub commitments: Vec<CommitmentResult>,
}

/// An open commitment a check skipped because its period has not ended.
#[derive(Debug, Serialize)]
pub struct NotDue {
    pub id: String,
    pub matter: String,
    pub check_due: String,
}

#[derive(Debug, Serialize)]
pub struct CommitmentResult {
    pub id: String,
    pub matter: String,
    pub by: String,
    pub subject_code: String,
    pub subject_masked: String,
    /// "kept" | "broken" | "unverifiable".
    pub status: String,
    pub check_due: String,
    pub findings: Vec<Finding>,
    /// Archive id of the `commitment-check` event.
    pub record: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub kind: String,
    pub holder: String,
    pub field: String,
    pub expect: String,
    /// The holder's value; `None` when the holder has no record (or the record lacks the field).
    pub found: Option<String>,
    /// "match" | "mismatch" | "no-record".
    pub outcome: String,
}

/// [`check_in`], opening the home's archive and holder database.
pub fn check(home: &Home, only: Option<&str>) -> Result<CheckReport> {
    check_in(home, &super::open_archive(home)?, &Holders::open(home)?, only)
}

/// Compare one term with the holder's data.
fn finding(holders_db: &Holders, subject_code: &str, term: &Term) -> Result<Finding> {
    let rec = holders_db.get(&term.holder, &term.kind, subject_code)?;
    let found = rec.as_ref().and_then(|r| r.fields.get(&term.field).cloned());
    let outcome = match (&rec, &found) {
        (None, _) | (Some(_), None) => "no-record",
        (Some(_), Some(v)) if *v == term.expect => "match",
        _ => "mismatch",
    };
    Ok(Finding {
        kind: term.kind.clone(),
        holder: term.holder.clone(),
        field: term.field.clone(),
        expect: term.expect.clone(),
        found,
        outcome: outcome.into(),
    })
}

/// The overall status from the findings: any mismatch → broken; all match → kept; else unverifiable.
pub fn status_of(findings: &[Finding]) -> &'static str {
    if findings.iter().any(|f| f.outcome == "mismatch") {
        "broken"
    } else if !findings.is_empty() && findings.iter().all(|f| f.outcome == "match") {
        "kept"
    } else {
        "unverifiable"
    }
}

/// Check every open commitment (or only `only`) whose check is due against the holders' data,
/// record each result as a `commitment-check` event, and sign a new tree head. Decided commitments
/// are not re-checked; commitments not yet due are listed in `not_due` and left open.
pub fn check_in(
    home: &Home,
    archive: &Archive,
    holders_db: &Holders,
    only: Option<&str>,
) -> Result<CheckReport> {
    if let Some(id) = only {
        super::fields::identifier("id", id)?;
    }
    let region = home.region()?;
    let mut recorded: Vec<(u64, Terms)> = Vec::new();
    let mut decided = std::collections::BTreeSet::new();
    use crate::archive::index::By;
    let records = archive.find(By::Kind, "commitment-record")?;
    for r in records.into_iter().chain(archive.find(By::Kind, "commitment-check")?) {
        match r.metadata.kind.as_str() {
            "commitment-record" => {
                let t: Terms = serde_json::from_slice(&archive.verified_bytes(&r)?).map_err(|e| {
                    ProofError::Other(format!("archive record {}: not a commitment record: {e}", r.id))
                })?;
                recorded.push((r.leaf_index, t));
            }
            "commitment-check" => {
                let v: serde_json::Value =
                    serde_json::from_slice(&archive.verified_bytes(&r)?).unwrap_or(serde_json::Value::Null);
                if matches!(v.get("status").and_then(|s| s.as_str()), Some("kept" | "broken")) {
                    if let Some(c) = v.get("commitment").and_then(|c| c.as_str()) {
                        decided.insert(c.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    recorded.sort_by_key(|(i, _)| *i);
    if let Some(id) = only {
        if !recorded.iter().any(|(_, t)| t.id == id) {
            return Err(ProofError::Other(format!("no commitment `{id}` in the archive")).into());
        }
    }
    let (now_s, _) = super::now();
    let mut report = CheckReport {
        checked_at: now_s.clone(),
        kept: 0,
        broken: 0,
        unverifiable: 0,
        already_decided: 0,
        not_due: Vec::new(),
        commitments: Vec::new(),
    };
    let today = document::china_date(super::now().1);
    for (_, t) in recorded.into_iter().filter(|(_, t)| only.is_none_or(|o| o == t.id)) {
        if decided.contains(&t.id) {
            report.already_decided += 1;
            continue;
        }
        // `YYYY-MM-DD` strings order as dates do.
        if t.check_due.as_str() > today.as_str() {
            report.not_due.push(NotDue { id: t.id, matter: t.matter, check_due: t.check_due });
            continue;
        }
        let findings = t
            .terms
            .iter()
            .map(|term| finding(holders_db, &t.subject_code, term))
            .collect::<Result<Vec<_>>>()?;
        let status = status_of(&findings);
        let by_name = region.department(&t.by).map(|d| d.name.clone()).unwrap_or_else(|_| t.by.clone());
        let body = json!({
            "type": "commitment-check", "id": super::random_id("CK")?, "at": now_s, "commitment": t.id, "answer_id": t.id,
            "by": t.by, "kind": "commitment", "purpose": t.matter, "subject_code": t.subject_code, "status": status, "findings": findings,
        });
        let rec = super::append_event(archive, "commitment-check", &t.subject_code, &t.id, &by_name, &body)?;
        match status {
            "kept" => report.kept += 1,
            "broken" => report.broken += 1,
            _ => report.unverifiable += 1,
        }
        report.commitments.push(CommitmentResult {
            id: t.id,
            matter: t.matter,
            by: t.by,
            subject_code: t.subject_code,
            subject_masked: t.subject_masked,
            status: status.into(),
            check_due: t.check_due,
            findings,
            record: rec.id,
        });
    }
    if !report.commitments.is_empty() {
        archive.flush()?;
        crate::filing::sign_tree_head(home, archive)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(outcome: &str) -> Finding {
        Finding {
            kind: "k".into(),
            holder: "h".into(),
            field: "f".into(),
            expect: "e".into(),
            found: None,
            outcome: outcome.into(),
        }
    }

    #[test]
    fn any_mismatch_breaks_all_matches_keep_else_unverifiable() {
        assert_eq!(status_of(&[f("match"), f("mismatch")]), "broken");
        assert_eq!(status_of(&[f("no-record"), f("mismatch")]), "broken");
        assert_eq!(status_of(&[f("match"), f("match")]), "kept");
        assert_eq!(status_of(&[f("match"), f("no-record")]), "unverifiable");
        assert_eq!(status_of(&[]), "unverifiable");
    }
}
