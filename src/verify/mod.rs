//! Verification of signed PDFs: for every signature, in order — format, integrity of its byte
//! range, the CMS signature, signing-certificate binding, key usage, chain to a trusted root,
//! revocation, department binding, coverage and what changed after it — then one verdict.
//!
//! Reads PDFs only through `pades::parse`; trust decisions come from `trust`. ETSI EN 319 102-1
//! (validation model and indications), ETSI EN 319 142-1 (PAdES), ISO 32000-1 §12.8.
//!
//! The checks of one signature run in `signature` (the pipeline) and its sibling modules, one per
//! check; this module runs them for every signature and derives the document's verdict.

pub mod annotation;
pub mod authority;
pub mod chain;
pub mod changes;
pub mod department;
pub mod doc_timestamps;
pub mod ltv;
pub mod modifications;
pub mod plan;
pub mod poe;
pub mod report;
pub mod revisions;
pub mod signature;
pub mod signer_updates;
pub mod status;
pub mod timestamp;
pub mod validity;
pub mod verdict;

use std::time::SystemTime;

use rustls_pki_types::UnixTime;

use crate::document::LicenceMetadata;
use crate::error::Result;
use crate::pades::budget::Budget;
use crate::pades::{cms, parse};
use crate::trust::TrustStore;
use report::{fail, Indication, Report, SignatureReport, Status};
use signature::{empty_report, Context};

use Indication::{Indeterminate, TotalFailed};

/// Verify `pdf` against `trust` at time `at`. Errors only when the bytes are not a readable PDF
/// (or reading them takes more work than one document may: `pades::budget`).
pub fn verify(pdf: &[u8], trust: &TrustStore, at: SystemTime) -> Result<Report> {
    verify_with(pdf, trust, at, &mut Budget::default())
}

/// [`verify`] charging every parse and object walk to `budget`, which also carries the job's
/// cancellation.
pub fn verify_with(pdf: &[u8], trust: &TrustStore, at: SystemTime, budget: &mut Budget) -> Result<Report> {
    verify_full(pdf, trust, at, &Options::default(), budget)
}

/// What a caller may add to a verification.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Checked archive evidence records: proof of existence (`poe`).
    pub evidence: Vec<crate::archive::evidence::Proven>,
}

/// [`verify`] with [`Options`] (proof of existence from evidence records).
pub fn verify_opts(pdf: &[u8], trust: &TrustStore, at: SystemTime, options: &Options) -> Result<Report> {
    verify_full(pdf, trust, at, options, &mut Budget::default())
}

/// [`verify_opts`] charging `budget`.
pub fn verify_full(
    pdf: &[u8],
    trust: &TrustStore,
    at: SystemTime,
    options: &Options,
    budget: &mut Budget,
) -> Result<Report> {
    parse::check_header(pdf)?;
    let revisions = parse::revision_ends(pdf);
    let mut loaded = parse::load_for_verify(pdf, &revisions, budget)?;
    let chained = std::mem::take(&mut loaded.earlier);
    let (sigs, bad) = parse::signatures_loaded(pdf, &loaded, budget)?;
    let doc = &loaded.doc;
    let licence = info_dict(doc).and_then(LicenceMetadata::from_info);
    let unix = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default());
    let now = i64::try_from(unix.as_secs()).unwrap_or(i64::MAX);
    let mut poes = poe::from_evidence(pdf, &revisions, &options.evidence, now);
    // PAdES B-LTA: document timestamps are POEs of their own, not signatures of the document.
    let (document_timestamps, doc_poes) = doc_timestamps::check(pdf, &sigs, trust, now, &poes);
    poes.extend(doc_poes);

    let embedded_crls = ltv::embedded_crls(doc, budget)?;
    let earlier = revisions::Revisions::new(loaded.blanked.bytes(), doc, chained);
    let mut reports = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    let regular: Vec<parse::ParsedSignature> =
        sigs.iter().filter(|s| !doc_timestamps::is_doc_timestamp(s)).cloned().collect();
    for (i, sig) in regular.iter().enumerate() {
        if let Some(first) = seen.iter().position(|e| *e == sig.signed_end()) {
            let mut r = empty_report(i + 1, &sig.field_name);
            r.checks.push(fail(
                "FORMAT",
                Status::Failed,
                TotalFailed,
                "FORMAT_FAILURE",
                format!("claims the same revision as signature {} (a copied signature)", first + 1),
            ));
            r.conclude();
            reports.push(r);
            continue;
        }
        seen.push(sig.signed_end());
        budget.check_cancel()?;
        let ctx = Context {
            index: i + 1,
            sig,
            pdf,
            parsed_bytes: loaded.blanked.bytes(),
            doc,
            revisions: &revisions,
            earlier: &earlier,
            all: &sigs,
            trust,
            embedded_crls: &embedded_crls,
            at: unix,
            poes: &poes,
        };
        reports.push(signature::verify_one(&ctx, budget)?);
    }
    for b in bad {
        let mut r = empty_report(reports.len() + 1, &b.field_name);
        r.checks.push(fail("FORMAT", Status::Failed, TotalFailed, "FORMAT_FAILURE", b.reason));
        r.conclude();
        reports.push(r);
    }
    annotation::bind(&mut reports, &regular, doc, trust);
    let seal_plan = plan::status(doc, &reports, trust.region.as_ref().map(|r| r.region.id.as_str()));
    let (mut indication, mut sub, mut summary) = overall(&reports);
    // A document timestamp proven wrong (over other bytes, a bad signature) fails the document.
    if let Some(bad) = document_timestamps.iter().find(|t| t.status == "FAILED") {
        if indication != TotalFailed {
            (indication, sub) = (TotalFailed, bad.sub_indication);
        }
        summary.push_str(&format!("; document timestamp {} is not valid", bad.field));
    }
    if !document_timestamps.is_empty() {
        let ok = document_timestamps.iter().filter(|t| t.status == "PASSED").count();
        summary.push_str(&format!("; {ok} of {} document timestamps valid", document_timestamps.len()));
    }
    if let Some(p) = &seal_plan {
        summary.push_str(&format!(
            "; seal plan {} of {} present{}",
            p.present.len(),
            p.required.len(),
            if p.complete { "" } else { " (incomplete)" }
        ));
    }
    let today = crate::document::china_date(i64::try_from(unix.as_secs()).unwrap_or(0));
    let annotated_copy = annotation::read(doc, &today, budget)?;
    if let Some(a) = annotated_copy.as_ref().filter(|a| a.expired) {
        summary.push_str(&format!("; annotated copy expired on {}", a.valid_until));
    }
    let validity = validity::of(licence.as_ref(), annotated_copy.as_ref(), &today, trust);
    if let Some(v) = validity.as_ref().filter(|v| v.document == "proof" && v.expired) {
        summary.push_str(&format!("; proof expired: 有效期至 {}", v.valid_until));
    }
    let mut report = Report {
        report_version: report::REPORT_VERSION,
        validation_time: crate::trust::rfc3339(i64::try_from(unix.as_secs()).unwrap_or(0)),
        file: report::FileInfo {
            sha256: crate::hex::encode(&cms::sha256(pdf)),
            size: pdf.len(),
            revisions: revisions.len(),
        },
        licence,
        signatures: reports,
        document_timestamps,
        seal_plan,
        annotated_copy,
        validity,
        indication,
        sub_indication: sub,
        summary,
        licence_status: None,
        verdict: verdict::Verdict::default(),
    };
    report.verdict = verdict::decide(&report);
    Ok(report)
}

fn overall(reports: &[SignatureReport]) -> (Indication, Option<&'static str>, String) {
    if reports.is_empty() {
        return (Indeterminate, Some("SIGNED_DATA_NOT_FOUND"), "the document carries no signatures".into());
    }
    let passed = reports.iter().filter(|r| r.indication == Indication::TotalPassed).count();
    // The first signature with the worst indication leads (max_by_key keeps the last maximum).
    let worst = reports
        .iter()
        .rev()
        .max_by_key(|r| r.indication)
        .map(|r| (r.indication, r.sub_indication))
        .unwrap_or((Indeterminate, None));
    let summary = format!("{passed} of {} signatures valid", reports.len());
    (worst.0, worst.1, summary)
}

fn info_dict(doc: &lopdf::Document) -> Option<&lopdf::Dictionary> {
    doc.trailer.get(b"Info").ok().and_then(|i| i.as_reference().ok()).and_then(|r| doc.get_dictionary(r).ok())
}
