//! COVERAGE and MODIFICATIONS: how much of the file a signature covers, and what changed in the
//! revisions after it (ISO 32000-1 §12.8.1 byte ranges; the allowed changes are those of
//! `changes`, after pyHanko's difference analysis). A document locked by a signature (DocMDP P=1
//! or a FieldMDP lock) admits only the signatures its lock left open, and document timestamps.
//!
//! Reads the signed revision from the parsed bytes (once per document: `revisions`), charging the budget.

use super::changes;
use super::report::Indication::TotalFailed;
use super::report::{check, fail, Coverage, SignatureReport, Status};
use super::signature::Context;
use crate::error::Result;
use crate::pades::budget::Budget;
use crate::pades::parse;

/// Record the signature's coverage and every disallowed change after it.
pub fn run(ctx: &Context<'_>, r: &mut SignatureReport, budget: &mut Budget) -> Result<()> {
    let (sig, pdf, revisions) = (ctx.sig, ctx.pdf, ctx.revisions);
    let end = sig.signed_end();
    r.bytes_after = pdf.len().saturating_sub(end);
    let coverage = if end == pdf.len() {
        Coverage::EntireFile
    } else if revisions.contains(&end) {
        Coverage::EntireRevision
    } else {
        Coverage::Partial
    };
    r.coverage = Some(coverage);
    match coverage {
        Coverage::EntireFile => {
            r.checks.push(check("COVERAGE", Status::Passed, "the signature covers the whole file"));
            r.checks.push(check("MODIFICATIONS", Status::Passed, "nothing was added after this signature"));
            return Ok(());
        }
        Coverage::Partial => {
            r.checks.push(fail(
                "COVERAGE",
                Status::Failed,
                TotalFailed,
                "FORMAT_FAILURE",
                format!("the byte range ends at {end}, not at the end of a revision"),
            ));
            return Ok(());
        }
        Coverage::EntireRevision => {
            let after = revisions.iter().filter(|e| **e > end).count();
            r.checks.push(check(
                "COVERAGE",
                Status::Passed,
                format!("covers its revision; {} bytes in {after} later revision(s) follow", r.bytes_after),
            ));
        }
    }
    if let Some(field) = lock_broken(ctx, budget)? {
        r.checks.push(fail(
            "MODIFICATIONS",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            format!("signature {field} locked the document, yet later revisions follow"),
        ));
        return Ok(());
    }
    let changes = changes_after(ctx, end, budget)?;
    if changes.is_empty() {
        r.checks.push(check(
            "MODIFICATIONS",
            Status::Passed,
            "later revisions only add signatures and validation data (DSS)",
        ));
    } else {
        r.checks.push(fail(
            "MODIFICATIONS",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            format!("changed after signing: {}", changes.join("; ")),
        ));
    }
    r.changes_after = changes;
    Ok(())
}

/// The lock's field, when this signature locked the document and a later revision is not one of
/// the signatures the lock left open (the reserved annotation field of a 加注件).
fn lock_broken(ctx: &Context<'_>, budget: &mut Budget) -> Result<Option<String>> {
    let sig = ctx.sig;
    let end = sig.signed_end();
    if !(sig.locks || sig.docmdp == Some(1)) {
        return Ok(None);
    }
    let may_sign = sig.docmdp != Some(1) && !sig.lock_exclude.is_empty();
    let mut prev = end;
    for e in ctx.revisions.iter().copied().filter(|e| *e > end) {
        let signed_here: Vec<_> = ctx.all.iter().filter(|o| o.signed_end() == e).collect();
        let ok = if signed_here.is_empty() {
            // No signature ends here: allowed only as a validation-data (DSS) update; what else it
            // changed is judged by `changes` like any later revision.
            super::ltv::is_dss_update(ctx.earlier, prev, e, budget)?
        } else {
            // A document timestamp (B-LTA) may follow any lock: it fills no field of the document
            // (ETSI EN 319 142-1 §5.5); what its revision changed is still judged by `changes`.
            signed_here.iter().all(|o| {
                o.sub_filter == "ETSI.RFC3161" || (may_sign && sig.lock_exclude.contains(&o.field_name))
            })
        };
        if !ok {
            return Ok(Some(sig.field_name.clone()));
        }
        prev = e;
    }
    Ok(None)
}

/// Every disallowed change between the revision ending at `end` and the whole document.
fn changes_after(ctx: &Context<'_>, end: usize, budget: &mut Budget) -> Result<Vec<String>> {
    let pdf = ctx.pdf;
    // The signed revision alone, from the same bytes as `doc` (offsets and markers agree).
    let old = ctx.earlier.at(end, budget)?;
    let mut changes = match old {
        Some(old) => changes::disallowed_changes(&old, ctx.doc, budget)?,
        None => vec!["the signed revision cannot be read on its own".to_string()],
    };
    for n in parse::freed_objects(pdf.get(end..).unwrap_or_default()) {
        changes.push(format!("object {n} was freed (deleted) after signing"));
    }
    let last = ctx.revisions.last().copied().unwrap_or(pdf.len());
    if pdf.get(last..).map(|t| t.iter().any(|b| !b.is_ascii_whitespace())).unwrap_or(false) {
        changes.push(format!("{} bytes after the last %%EOF are not a PDF revision", pdf.len() - last));
    }
    Ok(changes)
}
