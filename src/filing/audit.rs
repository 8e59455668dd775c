//! The archivist's integrity audit (DA/T 70: authentic, intact, usable, secure) run over a
//! home's archive: each record's bytes re-verified against the home's trust (with the log's own
//! proof of existence when a seal no longer verifies today), each PDF checked for pages and text,
//! the log checked against every tree head the log key is known to have signed, and the licence
//! status index against the log.
//!
//! Knows what a record must pass (its checks are `verify`'s, `proofs`' and the archive's own);
//! the walk over the records, with its budget and report, is `archive::audit`.

use std::time::SystemTime;

use super::log::{archive_poe, tree_head};
use super::{log_state_path, open_archive};
use crate::archive::{audit, checkpoint, highwater, merkle, Archive};
use crate::config::Home;
use crate::error::{ArchiveError, Result};
use crate::trust::TrustStore;

/// Run the DA/T 70 audit with signature re-verification and PDF usability checks.
pub fn run_audit(
    home: &Home,
    sample: Option<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<audit::AuditReport> {
    let archive = open_archive(home)?;
    run_audit_in(home, &archive, sample, progress)
}

/// [`run_audit`] on an archive the caller holds open.
pub fn run_audit_in(
    home: &Home,
    archive: &Archive,
    sample: Option<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<audit::AuditReport> {
    crate::pki::crl::refresh_due(home);
    let trust = TrustStore::from_home(home)?;
    let signed = match tree_head(home, archive) {
        Ok((note, vkey)) if !note.is_empty() => checkpoint::open(&note, &vkey).ok().map(|c| (c.size, c.root)),
        _ => None,
    };
    let vkey = tree_head(home, archive).ok().map(|(_, k)| k);
    let check = |bytes: &[u8]| -> (std::result::Result<(), String>, std::result::Result<(), String>) {
        // Tokens and JSON log entries of the no-proof workflows (src/proofs) are not PDFs.
        if let Some(r) = crate::proofs::audit_check(bytes, &trust) {
            return r;
        }
        let usable = match crate::pades::parse::load(bytes) {
            Ok(doc) if doc.get_pages().is_empty() => Err("the PDF has no pages".to_string()),
            Ok(doc) => match doc.extract_text(&[1]) {
                Ok(t) if !t.trim().is_empty() => Ok(()),
                _ => Err("no text can be extracted from page 1".to_string()),
            },
            Err(e) => Err(format!("the PDF does not parse: {e}")),
        };
        // The archive's own log is proof of existence for its records (ETSI EN 319 102-1 §5.6):
        // a seal whose certificate has since expired or was revoked later still verifies.
        // Looked up only when the seals do not verify today (most records need no past validation).
        let verified = crate::verify::verify(bytes, &trust, SystemTime::now()).and_then(|r| {
            match vkey.as_deref().filter(|_| !r.passed()).and_then(|k| archive_poe(archive, k, bytes)) {
                Some(poe) => {
                    let options = crate::verify::Options { evidence: vec![poe] };
                    crate::verify::verify_opts(bytes, &trust, SystemTime::now(), &options)
                }
                None => Ok(r),
            }
        });
        let authentic = match verified {
            Ok(r) if r.passed() => Ok(()),
            Ok(r) => Err(format!(
                "signatures no longer verify: {}{}",
                r.indication.as_str(),
                r.sub_indication.map(|s| format!(" / {s}")).unwrap_or_default()
            )),
            Err(e) => Err(format!("cannot verify: {e}")),
        };
        (authentic, usable)
    };
    let (published, unreadable) = published_heads(home, archive)?;
    let mut report = audit::audit(archive, signed, &published, &check, sample, progress);
    for reason in unreadable {
        report.problems.push(audit::Problem { record: "log".into(), property: "secure", reason });
    }
    // Every lifecycle transition has its sealed version, and the status index says what the log says.
    for (record, reason) in crate::licence::status_audit::audit(archive) {
        report.problems.push(audit::Problem { record, property: "intact", reason });
    }
    report.clean = report.problems.is_empty();
    Ok(report)
}

/// A note whose signature lines are not exactly the log key's signature and, when present, its
/// valid clock cosignature: a line was altered (the time a proof of existence rests on) or added.
fn clock_broken(note: &str, vkey: &str) -> bool {
    let lines = note.split_once("\n\n").map(|(_, sigs)| sigs.lines().filter(|l| !l.is_empty()).count());
    let expected = 1 + usize::from(checkpoint::cosigned_time(note, vkey).is_some());
    lines.is_some_and(|n| n != expected)
}

/// Published tree heads (source, size, root).
type Heads = Vec<(String, u64, merkle::Hash)>;

/// Every tree head the log key is known to have signed: each kept checkpoint (its signature
/// checked), the latest one, and the key's high-water mark (outside the archive, so a restored
/// copy cannot hide it). Second: reasons for kept checkpoints that do not verify.
fn published_heads(home: &Home, archive: &Archive) -> Result<(Heads, Vec<String>)> {
    let (latest, vkey) = tree_head(home, archive)?;
    let (mut heads, mut bad) = (Vec::new(), Vec::new());
    let kept = archive.checkpoints.iter().map(|kv| {
        kv.map(|(k, v)| {
            (
                k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(u64::MAX, u64::from_be_bytes),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
    });
    for kv in kept {
        let (size, note) = kv.map_err(|e| ArchiveError::Store(e.to_string()))?;
        match checkpoint::open(&note, &vkey) {
            Ok(_) if clock_broken(&note, &vkey) => {
                bad.push(format!("kept tree head of size {size}: its clock cosignature does not verify"))
            }
            Ok(c) if c.size == size => {
                heads.push((format!("published tree head of size {size}"), c.size, c.root))
            }
            Ok(c) => bad.push(format!("kept tree head filed under size {size} says size {}", c.size)),
            Err(e) => bad.push(format!("kept tree head of size {size} does not verify: {e}")),
        }
    }
    if let Ok(c) = checkpoint::open(&latest, &vkey) {
        heads.push(("the latest signed tree head".into(), c.size, c.root));
    }
    if clock_broken(&latest, &vkey) {
        bad.push("the latest signed tree head: its clock cosignature does not verify".into());
    }
    match highwater::load(&log_state_path(home)) {
        Ok(Some(m)) => heads.push(("the log key's newest signature (log.state)".into(), m.size, m.root)),
        Ok(None) => {}
        Err(e) => bad.push(e.to_string()),
    }
    Ok((heads, bad))
}
